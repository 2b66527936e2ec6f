package master_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/freqd/freqd/ingest"
	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/loadgen"
	"github.com/freqd/freqd/resp"
	"github.com/freqd/freqd/shm/freqfile"
)

var datagramNetworks = []string{"udp", "unixgram"}

// startDatagramServer is startServer with a UDP and a unix datagram
// listener besides the stream ones.
func startDatagramServer(t *testing.T, mode mode.Mode, workers int, extra ...string) *server {
	t.Helper()
	path := filepath.Join(t.TempDir(), "d.sock")
	s := startServer(t, mode, workers, append([]string{"--listen", "udp:127.0.0.1:0", "--listen", "unixgram:" + path}, extra...)...)
	if s.udp == "" || s.dgram != path {
		t.Fatalf("ready line names udp %q and unixgram %q; want a bound port and %s", s.udp, s.dgram, path)
	}
	return s
}

var clientSockets atomic.Uint64

// dialDatagram opens a socket connected to the server's datagram listener.
// A unix one is bound to an abstract name, or the server could not answer.
func dialDatagram(t *testing.T, s *server, network string) net.Conn {
	t.Helper()
	var c net.Conn
	var err error
	if network == "udp" {
		c, err = net.Dial("udp", s.udp)
	} else {
		local := &net.UnixAddr{Net: "unixgram", Name: fmt.Sprintf("@freqd-master-test-%d-%d", os.Getpid(), clientSockets.Add(1))}
		c, err = net.DialUnix("unixgram", local, &net.UnixAddr{Net: "unixgram", Name: s.dgram})
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// ask sends one request datagram and returns the reply datagram. Loopback
// loses nothing unless a buffer overflows, so one resend is plenty.
func ask(t *testing.T, c net.Conn, req string) string {
	t.Helper()
	buf := make([]byte, 70000)
	for try := 0; try < 3; try++ {
		if _, err := c.Write([]byte(req)); err != nil {
			t.Fatalf("send %.40q: %v", req, err)
		}
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := c.Read(buf)
		if err == nil {
			return string(buf[:n])
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("reply to %.40q: %v", req, err)
		}
	}
	t.Fatalf("no reply to %.40q after 3 tries", req)
	return ""
}

func mb(args ...string) string {
	b := resp.AppendArrayLen(nil, len(args))
	for _, a := range args {
		b = resp.AppendBulkString(b, a)
	}
	return string(b)
}

func dgBulk(s string) string  { return string(resp.AppendBulkString(nil, s)) }
func dgCount(w string) string { return dgBulk(strconv.FormatUint(folded[w], 10)) }
func dgInt(n int64) string    { return string(resp.AppendInt(nil, n)) }
func dgArray(e ...string) string {
	return string(resp.AppendArrayLen(nil, len(e))) + strings.Join(e, "")
}

// askStream sends req on a fresh stream connection and reads exactly want
// bytes back, for replies (TAG) whose exact text the datagram path must
// match but this test does not recompute.
func askStream(t *testing.T, s *server, req string, want int) string {
	t.Helper()
	c, err := net.Dial("tcp", s.tcp)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, want)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("stream reply to %.40q: %v", req, err)
	}
	return string(b)
}

// TestDatagramCommandsEveryMode asks every read command over UDP and a unix
// datagram socket, one per datagram and all in one, in every pre-forked
// mode.
func TestDatagramCommandsEveryMode(t *testing.T) {
	cases := []struct{ req, want string }{
		{mb("GET", "the"), dgCount("the")},
		{"GET The\r\n", dgCount("the")},
		{mb("GET", "zzqxjw"), "$-1\r\n"},
		{mb("MGET", "you", "zzqxjw", "monday"), dgArray(dgCount("you"), "$-1\r\n", dgCount("monday"))},
		{mb("EXISTS", "you", "zzqxjw", "the"), dgInt(2)},
		{"FREQ i zzqxjw", dgArray(dgInt(int64(folded["i"])), dgInt(0))},
		{mb("RANK", "monday"), dgInt(rankOf("monday"))},
		{mb("RANK", "zzqxjw"), "$-1\r\n"},
		{mb("DBSIZE"), dgInt(int64(len(folded)))},
		{mb("PING"), "+PONG\r\n"},
		{mb("ECHO", "hi there"), dgBulk("hi there")},
		{mb("QUIT"), "+OK\r\n"},
	}
	tag := mb("TAG", "LIMIT", "3", "The ship sailed through the archipelago at dusk")
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			s := startDatagramServer(t, mode, 2)
			for _, network := range datagramNetworks {
				c := dialDatagram(t, s, network)
				var all, allWant string
				for i, tc := range cases {
					if got := ask(t, c, tc.req); got != tc.want {
						t.Errorf("%s case %d (%.30q): reply %q, want %q", network, i, tc.req, got, tc.want)
					}
					if !strings.Contains(tc.req, "QUIT") {
						all, allWant = all+tc.req+"\r\n", allWant+tc.want
					}
				}
				if got := ask(t, c, all); got != allWant {
					t.Errorf("%s: one datagram of %d commands: reply %q, want %q", network, len(cases)-1, got, allWant)
				}
				got := ask(t, c, tag)
				if want := askStream(t, s, tag, len(got)); !strings.HasPrefix(got, "*6\r\n$11\r\narchipelago\r\n") || got != want {
					t.Errorf("%s: TAG reply %q, over TCP %q", network, got, want)
				}
				// Padded with blank lines: over UDP, a reply to a request
				// without AUTH may be at most 3 times the request.
				info := ask(t, c, mb("INFO")+strings.Repeat("\r\n", 1500))
				if !strings.HasPrefix(info, "$") || !strings.Contains(info, "# Workers") || !strings.Contains(info, "mode:"+string(mode)) {
					t.Errorf("%s: INFO reply %.200q, want a bulk string with the Workers section", network, info)
				}
			}
		})
	}
}

// TestDatagramErrors: replies too large for a datagram and malformed
// datagrams get exactly one error reply, and the server keeps serving.
func TestDatagramErrors(t *testing.T) {
	s := startDatagramServer(t, "accept", 2)
	many := []string{"MGET"}
	for len(many) < 7000 {
		many = append(many, "the")
	}
	const tooLarge = "-ERR reply too large for a datagram; use a TCP or unix stream connection\r\n"
	const incomplete = "-ERR Protocol error: the datagram ends inside a command; a datagram must hold whole commands\r\n"
	cases := []struct{ name, req, want string }{
		{"MGET of 7000 words", mb(many...), tooLarge},
		{"7000 inline GETs", strings.Repeat("GET the\r\n", 7000), tooLarge},
		{"truncated multibulk", "*2\r\n$3\r\nGET\r\n$3\r\nth", incomplete},
		{"whole command then a truncated one", "PING\r\n*2\r\n$3\r\nGET", incomplete},
		{"bad multibulk length", "*x\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
		{"bad bulk length", "*1\r\n$-5\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"no dollar", "*1\r\n:1\r\n", "-ERR Protocol error: expected '$', got ':'\r\n"},
		{"unbalanced quotes", "ECHO \"abc\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"},
	}
	for _, network := range datagramNetworks {
		c := dialDatagram(t, s, network)
		for i, tc := range cases {
			if got := ask(t, c, tc.req); got != tc.want {
				t.Errorf("%s case %d (%s): reply %.120q, want %q", network, i, tc.name, got, tc.want)
			}
		}
		if got, want := ask(t, c, mb("GET", "the")), dgCount("the"); got != want {
			t.Errorf("%s: after the errors, GET the: %q, want %q", network, got, want)
		}
	}
	// A unix datagram can be larger than any UDP payload; the request is
	// refused whole.
	c := dialDatagram(t, s, "unixgram")
	if got := ask(t, c, strings.Repeat("PING\r\n", 12000)); !strings.HasPrefix(got, "-ERR request datagram larger than 65536 bytes") {
		t.Errorf("unixgram request of 72000 bytes: reply %.120q, want the too-large error", got)
	}
	if got := len(s.workers()); got != 2 {
		t.Errorf("%d workers after the errors, want 2", got)
	}
}

// TestDatagramRequirePass: with a password, a datagram's first command must
// log it in.
func TestDatagramRequirePass(t *testing.T) {
	s := startDatagramServer(t, "fdpass", 1, "--requirepass", "sesame")
	for _, network := range datagramNetworks {
		c := dialDatagram(t, s, network)
		if got, want := ask(t, c, mb("AUTH", "sesame")+mb("GET", "the")), "+OK\r\n"+dgCount("the"); got != want {
			t.Errorf("%s: AUTH then GET: %q, want %q", network, got, want)
		}
		if got, want := ask(t, c, mb("GET", "the")), "-NOAUTH Authentication required.\r\n"; got != want {
			t.Errorf("%s: GET without AUTH: %q, want %q", network, got, want)
		}
	}
}

// TestDatagramWorkerKillsUnderLoad kills workers at random while clients
// send GETs over UDP and a unix datagram socket. Datagrams a dying worker
// was answering may be lost; no answer may be wrong, and the rest of the
// queue is served by the survivors and the replacements.
func TestDatagramWorkerKillsUnderLoad(t *testing.T) {
	table, err := defaultTableForLoad()
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []mode.Mode{mode.FDPass, mode.ReusePort} {
		t.Run(string(mode), func(t *testing.T) {
			s := startDatagramServer(t, mode, 2)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			results := make(chan *loadgen.Result, 2)
			for _, addr := range []string{"udp:" + s.udp, "unixgram:" + s.dgram} {
				go func() {
					res, err := loadgen.Run(ctx, loadgen.Config{Addr: addr, Table: table, Conns: 4, Pipeline: 4,
						Duration: 3 * time.Second, Timeout: 200 * time.Millisecond})
					if err != nil {
						t.Errorf("%s: %v", addr, err)
					}
					results <- res
				}()
			}
			kills := 0
			for deadline := time.Now().Add(2500 * time.Millisecond); time.Now().Before(deadline); {
				time.Sleep(250 * time.Millisecond)
				if w := s.workers(); len(w) > 0 {
					syscall.Kill(w[kills%len(w)], syscall.SIGKILL)
					kills++
				}
			}
			for range 2 {
				res := <-results
				if res == nil {
					continue
				}
				t.Logf("%s under %d worker kills: %d ok, %d lost, %+v", res.Addr, kills, res.OK, res.Errors.Lost, res.Errors)
				if res.Errors.Wrong != 0 || res.OK == 0 || res.Errors.Total() != res.Errors.Lost {
					t.Errorf("%s: ok %d, errors %+v (%s); want right answers, and only lost ones besides", res.Addr, res.OK, res.Errors, res.FirstError)
				}
			}
			s.waitWorkers(2, 10*time.Second)
			for _, network := range datagramNetworks {
				if got, want := ask(t, dialDatagram(t, s, network), mb("GET", "you")), dgCount("you"); got != want {
					t.Errorf("%s after the kills: GET you: %q, want %q", network, got, want)
				}
			}
		})
	}
}

func defaultTableForLoad() (*freqfile.Table, error) {
	b, err := ingest.DefaultTable()
	if err != nil {
		return nil, err
	}
	return freqfile.Parse(b)
}

// TestUnixgramSocketFile: a socket file left by a killed master is
// replaced by the next one, and a graceful stop removes it.
func TestUnixgramSocketFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.sock")
	s := startServer(t, "fdpass", 1, "--listen", "unixgram:"+path)
	s.kill()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("after SIGKILL the socket file should remain: %v", err)
	}
	s = startServer(t, "fdpass", 1, "--listen", "unixgram:"+path)
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o660 {
		t.Fatalf("socket file %v, %v; want mode 0660", fi, err)
	}
	code, out := runToFailure(t, "--listen", "127.0.0.1:0", "--listen", "unixgram:"+path)
	if code == 0 || !strings.Contains(out, "a live server is using this socket") {
		t.Errorf("second server on the same unixgram path: exit %d, output:\n%s", code, out)
	}
	syscall.Kill(s.pid, syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("master did not stop on SIGTERM")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after a graceful stop the socket file remains: %v", err)
	}
}

// TestDatagramRefusals: datagram listeners a classic design cannot serve,
// or that protected mode forbids, stop the server at start.
func TestDatagramRefusals(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"classic mode", []string{"--mode", "goroutine", "--listen", "udp:127.0.0.1:0"}, "datagram listeners are served by the pre-forked modes only"},
		{"protected mode", []string{"--listen", "udp:0.0.0.0:0"}, "no password is set"},
		{"bad port", []string{"--listen", "udp:127.0.0.1:port"}, "bad port"},
		{"no port", []string{"--listen", "udp:127.0.0.1"}, "want udp:host:port"},
	}
	for i, tc := range tests {
		code, out := runToFailure(t, tc.args...)
		if code == 0 || !strings.Contains(out, tc.want) {
			t.Errorf("case %d (%s): exit %d, output:\n%s\nwant an error containing %q", i, tc.name, code, out, tc.want)
		}
	}
}
