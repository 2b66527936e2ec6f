package faults

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/freqd/freqd/internal/testserver"
	"github.com/freqd/freqd/resp"
)

// Timeouts the hostile scenario runs with, short so that slow clients are
// cut off within the test's few seconds.
const (
	readTimeout  = time.Second
	writeTimeout = time.Second
)

// hostile is one kind of misbehaving client. run returns a note for the
// summary and reports what went wrong through t.
type hostile struct {
	name string
	run  func(t *testing.T, s *testserver.Server) string
}

// TestHostileClients sends misbehaving clients at a server one kind after
// another while well-behaved TCP and unix clients are served throughout.
// Each hostile client must be answered with an error or cut off within the
// protocol's bounds and the timeouts; the well-behaved clients must see no
// failure at all, no worker may die, and no worker's memory may grow with
// what a hostile client sends.
func TestHostileClients(t *testing.T) {
	cases := []hostile{
		{"garbage bytes", garbage},
		{"line over MaxInlineLen", longLine},
		{"endless lines ×8", endlessLines},
		{"huge announced lengths", hugeLengths},
		{"slow-loris ×10", slowLoris},
		{"2000 idle connections", idleConnections},
		{"pipeline never read", neverReads},
	}
	const workers = 2
	s := start(t, "fdpass", workers, "--read-timeout", readTimeout.String(), "--write-timeout", writeTimeout.String())
	ws := s.Workers()
	stop := make(chan struct{})
	tcp := load(s, "tcp", testserver.Subtlex().Check, stop)
	unix := load(s, "unix", testserver.Subtlex().Check, stop)
	time.Sleep(300 * time.Millisecond)

	var notes []string
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			note := c.run(t, s)
			if t.Failed() {
				note = "FAILED " + note
			}
			notes = append(notes, fmt.Sprintf("%s: %s", c.name, note))
			if now := s.Workers(); !sameSet(now, ws) {
				t.Fatalf("case %d (%s): workers changed from %v to %v: one died", i, c.name, ws, now)
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	close(stop)
	tcp.Wait()
	unix.Wait()

	record(t, strings.Join(notes, "; "), tcp, unix)
	for _, r := range []*testserver.Load{tcp, unix} {
		if r.Failed.Load() != 0 || r.Refused.Load() != 0 {
			t.Errorf("well-behaved clients failed beside the hostile ones: %s", r)
		}
	}
}

// peakRSS returns the largest resident-set high-water mark among s's
// workers.
func peakRSS(t *testing.T, s *testserver.Server) int64 {
	t.Helper()
	var peak int64
	for _, p := range s.Workers() {
		n, err := testserver.PeakRSS(p)
		if err != nil {
			t.Fatal(err)
		}
		peak = max(peak, n)
	}
	return peak
}

// dial connects to s over TCP, failing the test if it cannot.
func dial(t *testing.T, s *testserver.Server) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", s.TCP, testserver.RequestTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readToEnd reads what c receives until the server closes it. end is nil
// for an orderly close, the error for a reset, and a timeout error if the
// connection is still open after within.
func readToEnd(c net.Conn, within time.Duration) (got []byte, end error) {
	c.SetReadDeadline(time.Now().Add(within))
	got, err := io.ReadAll(c)
	return got, err
}

// closed says whether end (from readToEnd) means the server closed the
// connection, orderly or by reset, rather than leaving it open.
func closed(end error) bool {
	return end == nil || errors.Is(end, syscall.ECONNRESET)
}

// garbage sends random bytes and closes its sending side: every reply is
// an error, and the server closes the connection.
func garbage(t *testing.T, s *testserver.Server) string {
	c := dial(t, s)
	junk := make([]byte, 64<<10)
	rng := rand.New(rand.NewPCG(7, 11))
	for i := range junk {
		junk[i] = byte(rng.Uint32())
	}
	c.SetWriteDeadline(time.Now().Add(testserver.RequestTimeout))
	c.Write(junk) // the server may close before reading it all
	c.(*net.TCPConn).CloseWrite()
	got, end := readToEnd(c, testserver.RequestTimeout)
	if !closed(end) {
		t.Errorf("connection not closed after garbage: %v", end)
	}
	if !bytes.HasPrefix(got, []byte("-ERR ")) {
		t.Errorf("reply to garbage: %.80q, want an error", got)
	}
	return fmt.Sprintf("%d error replies, closed", bytes.Count(got, []byte("\r\n-ERR "))+1)
}

// tooBigInline is the reply to an inline line longer than MaxInlineLen.
const tooBigInline = "-ERR Protocol error: too big inline request\r\n"

// longLine sends a line just over resp.DefaultMaxInlineLen without a
// newline: a protocol error, then the connection is closed.
func longLine(t *testing.T, s *testserver.Server) string {
	c := dial(t, s)
	c.SetWriteDeadline(time.Now().Add(testserver.RequestTimeout))
	if _, err := c.Write(bytes.Repeat([]byte("x"), resp.DefaultMaxInlineLen+100)); err != nil {
		t.Fatalf("write: %v", err)
	}
	got, end := readToEnd(c, testserver.RequestTimeout)
	if string(got) != tooBigInline || !closed(end) {
		t.Errorf("reply %q, end %v; want %q and a closed connection", got, end, tooBigInline)
	}
	return "protocol error, closed"
}

// endlessLines has eight clients each send up to 64 MiB without a newline.
// The server must stop reading each after MaxInlineLen and close it, so the
// clients' writes fail long before 64 MiB are taken, and no worker's memory
// grows with what they send.
func endlessLines(t *testing.T, s *testserver.Server) string {
	const clients, limit = 8, 64 << 20
	// A worker's read buffer is bounded by the request limits; far less
	// than one client's 64 MiB may show in its peak memory.
	const maxGrowth = 16 << 20
	peakBefore := peakRSS(t, s)
	chunk := bytes.Repeat([]byte("y"), 64<<10)
	sent := make([]int, clients)
	var wg sync.WaitGroup
	for i := range clients {
		c := dial(t, s)
		wg.Go(func() {
			c.SetWriteDeadline(time.Now().Add(2 * testserver.RequestTimeout))
			for sent[i] < limit {
				n, err := c.Write(chunk)
				sent[i] += n
				if err != nil {
					if errors.Is(err, os.ErrDeadlineExceeded) {
						t.Errorf("client %d: the server neither read nor closed after %d bytes", i, sent[i])
					}
					return
				}
			}
			t.Errorf("client %d: the server took all %d MiB of one line", i, limit>>20)
		})
	}
	wg.Wait()
	growth := peakRSS(t, s) - peakBefore
	if growth > maxGrowth {
		t.Errorf("a worker's peak RSS grew by %d MiB; want under %d MiB", growth>>20, maxGrowth>>20)
	}
	return fmt.Sprintf("cut off after at most %d KiB of %d MiB; worker peak RSS +%d MiB", slices.Max(sent)>>10, limit>>20, growth>>20)
}

// hugeLengths announces arrays and strings no server should allocate for.
// Each is a protocol error, answered as Redis answers it, and the
// connection is closed; a bare $-line is an inline command (Redis's
// reading too) and the stream goes on.
func hugeLengths(t *testing.T, s *testserver.Server) string {
	const (
		badMultibulk = "-ERR Protocol error: invalid multibulk length\r\n"
		badBulk      = "-ERR Protocol error: invalid bulk length\r\n"
	)
	cases := []struct {
		name, req, want string
		open            bool // the connection stays open: a PING after it is answered
	}{
		{"a billion arguments", "*1000000000\r\n", badMultibulk, false},
		{"argument count overflowing int64", "*99999999999999999999999\r\n", badMultibulk, false},
		{"bulk of MaxInt64 bytes", "*1\r\n$9223372036854775807\r\n", badBulk, false},
		{"bulk of -2 bytes", "*1\r\n$-2\r\n", badBulk, false},
		{"bulk one byte over MaxBulkLen", fmt.Sprintf("*2\r\n$3\r\nGET\r\n$%d\r\n", resp.DefaultMaxBulkLen+1), badBulk, false},
		{"bare $MaxInt64 line", "$9223372036854775807\r\n",
			"-ERR unknown command '$9223372036854775807', with args beginning with: \r\n", true},
	}
	for i, tc := range cases {
		c := dial(t, s)
		req := tc.req
		if tc.open {
			req += "PING\r\nQUIT\r\n"
		}
		c.SetWriteDeadline(time.Now().Add(testserver.RequestTimeout))
		if _, err := c.Write([]byte(req)); err != nil {
			t.Errorf("case %d (%s): write: %v", i, tc.name, err)
			continue
		}
		want := tc.want
		if tc.open {
			want += "+PONG\r\n+OK\r\n"
		}
		if got, end := readToEnd(c, testserver.RequestTimeout); string(got) != want || !closed(end) {
			t.Errorf("case %d (%s): reply %q, end %v; want %q, then the connection closed", i, tc.name, got, end, want)
		}
	}
	return fmt.Sprintf("%d kinds refused", len(cases))
}

// slowLoris has ten clients trickle a request one byte per 100 ms, so that
// none completes within --read-timeout: each is dropped unanswered once the
// read timeout passes, and the worker says why.
func slowLoris(t *testing.T, s *testserver.Server) string {
	const clients = 10
	req := []byte("ECHO " + strings.Repeat("slow", 10) + "\r\n") // 4.7 s at 10 bytes/s
	var mu sync.Mutex
	var slowest time.Duration
	var wg sync.WaitGroup
	for i := range clients {
		c := dial(t, s)
		wg.Go(func() {
			begin := time.Now()
			go func() {
				for _, b := range req {
					if _, err := c.Write([]byte{b}); err != nil {
						return
					}
					time.Sleep(100 * time.Millisecond)
				}
			}()
			got, end := readToEnd(c, 5*readTimeout)
			took := time.Since(begin)
			if len(got) != 0 || !closed(end) || took < readTimeout || took > 3*readTimeout {
				t.Errorf("client %d: got %q, end %v after %v; want nothing, and a close after the %v read timeout",
					i, got, end, took.Round(time.Millisecond), readTimeout)
			}
			mu.Lock()
			slowest = max(slowest, took)
			mu.Unlock()
			if !dropped(s, c, "read timeout") {
				t.Errorf("client %d: no log line says its connection ended for the read timeout", i)
			}
		})
	}
	wg.Wait()
	return fmt.Sprintf("all dropped within %v", slowest.Round(100*time.Millisecond))
}

// dropped waits briefly for the worker's log line saying why it ended c.
func dropped(s *testserver.Server, c net.Conn, why string) bool {
	me := `"remote":"` + c.LocalAddr().String() + `"`
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		for _, line := range strings.Split(s.Log.String(), "\n") {
			if strings.Contains(line, me) && strings.Contains(line, why) {
				return true
			}
		}
	}
	return false
}

// idleConnections opens 2000 connections that send nothing. The server
// must hold them all and still answer a new client at once, and the idle
// ones must still be served when they speak.
func idleConnections(t *testing.T, s *testserver.Server) string {
	const idle = 2000
	raiseFileLimit(t, idle+1000)
	peakBefore := peakRSS(t, s)
	conns := make([]net.Conn, 0, idle)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range idle {
		c, err := net.DialTimeout("tcp", s.TCP, testserver.RequestTimeout)
		if err != nil {
			t.Fatalf("idle connection %d: %v", len(conns), err)
		}
		conns = append(conns, c)
	}
	begin := time.Now()
	if got, err := command(s, "GET the"); err != nil || got != fmt.Sprint(testserver.Subtlex()["the"]) {
		t.Errorf("new client beside %d idle connections: GET the = %q, %v", idle, got, err)
	}
	took := time.Since(begin)
	// Every 100th idle connection speaks: it was held, not dropped.
	for i := 0; i < idle; i += 100 {
		c := conns[i]
		c.SetDeadline(time.Now().Add(testserver.RequestTimeout))
		buf := make([]byte, 7)
		if _, err := c.Write([]byte("PING\r\n")); err != nil {
			t.Errorf("idle connection %d: %v", i, err)
			continue
		}
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "+PONG\r\n" {
			t.Errorf("idle connection %d: PING got %q, %v", i, buf, err)
		}
	}
	return fmt.Sprintf("held (worker peak RSS +%d MiB); a new client answered in %v", (peakRSS(t, s)-peakBefore)>>20, took.Round(time.Millisecond))
}

// raiseFileLimit lifts this process's soft RLIMIT_NOFILE to at least need
// (up to the hard limit). Setting it explicitly also makes the servers this
// test starts inherit it: Go otherwise restores the original soft limit
// in child processes.
func raiseFileLimit(t *testing.T, need uint64) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur >= need {
		return
	}
	if lim.Max < need {
		t.Skipf("RLIMIT_NOFILE hard limit %d is below the %d descriptors this case needs", lim.Max, need)
	}
	lim.Cur = need
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
}

// neverReads pipelines GETs and never reads a reply, with a small receive
// buffer so the server's replies back up at once: after --write-timeout
// the server drops the connection, and the client's writes fail.
func neverReads(t *testing.T, s *testserver.Server) string {
	c := dial(t, s)
	c.(*net.TCPConn).SetReadBuffer(4096)
	batch := bytes.Repeat([]byte("GET the\r\n"), 4096)
	begin := time.Now()
	c.SetWriteDeadline(time.Now().Add(5 * testserver.RequestTimeout))
	sent := 0
	var err error
	for err == nil {
		var n int
		n, err = c.Write(batch)
		sent += n
	}
	took := time.Since(begin)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("still connected %v after the server stopped taking requests (%d KiB sent)", took.Round(time.Millisecond), sent>>10)
	}
	if !dropped(s, c, "write timeout") {
		t.Errorf("no log line says the connection ended for the write timeout (the client saw %v)", err)
	}
	return fmt.Sprintf("dropped after %v, %d KiB of requests sent", took.Round(100*time.Millisecond), sent>>10)
}
