package master_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// loadResult counts what clients saw during a fault test.
type loadResult struct {
	ok, failed, refused, wrong atomic.Int64
	mu                         sync.Mutex
	failures                   map[string]int
	done                       chan struct{}
}

func (r *loadResult) fail(err error) {
	r.failed.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failures == nil {
		r.failures = map[string]int{}
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	r.failures[msg]++
}

func (r *loadResult) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fmt.Sprintf("ok=%d failed=%d refused=%d wrong=%d failures=%v",
		r.ok.Load(), r.failed.Load(), r.refused.Load(), r.wrong.Load(), r.failures)
}

// testWords are keys for load: present in the table and absent.
var testWords = func() []string {
	w := []string{"zzqxjw", "qqqvvv"}
	for k := range folded {
		if len(w) == 200 {
			break
		}
		if !strings.ContainsAny(k, " \t\r\n\"'") {
			w = append(w, k)
		}
	}
	return w
}()

// expectedReply is the exact RESP reply to GET w.
func expectedReply(w string) string {
	n, ok := folded[w]
	if !ok {
		return "$-1\r\n"
	}
	v := strconv.FormatUint(n, 10)
	return fmt.Sprintf("$%d\r\n%s\r\n", len(v), v)
}

// check says whether reply is a right answer to GET w.
type check func(w, reply string) bool

// defaultTable accepts exactly the embedded table's answers.
func defaultTable(w, reply string) bool { return reply == expectedReply(w) }

// getOnce sends one GET on c and checks the answer.
func getOnce(c net.Conn, br *bufio.Reader, w string, r *loadResult, ok check) error {
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(c, "GET %s\r\n", w); err != nil {
		return err
	}
	line, err := br.ReadString('\n')
	if err != nil {
		return err
	}
	if strings.HasPrefix(line, "$") && line != "$-1\r\n" {
		rest, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		line += rest
	}
	if !ok(w, line) {
		r.wrong.Add(1)
		return nil
	}
	r.ok.Add(1)
	return nil
}

// runLoad drives keep-alive and connection-per-request clients, asking GET
// for random words and checking each answer, until stop is closed.
func runLoad(network, addr string, keepalive, perRequest int, words []string, ok check, stop chan struct{}) *loadResult {
	r := &loadResult{done: make(chan struct{})}
	var wg sync.WaitGroup
	dial := func() (net.Conn, error) {
		c, err := net.DialTimeout(network, addr, 5*time.Second)
		if err != nil && (errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT)) {
			r.refused.Add(1)
		}
		return c, err
	}
	for i := 0; i < keepalive; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var c net.Conn
			var br *bufio.Reader
			for n := 0; ; n++ {
				select {
				case <-stop:
					if c != nil {
						c.Close()
					}
					return
				default:
				}
				if c == nil {
					var err error
					if c, err = dial(); err != nil {
						r.fail(err)
						time.Sleep(10 * time.Millisecond)
						continue
					}
					br = bufio.NewReader(c)
				}
				if err := getOnce(c, br, words[rand.IntN(len(words))], r, ok); err != nil {
					r.fail(err)
					c.Close()
					c = nil
				}
			}
		}()
	}
	for i := 0; i < perRequest; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				c, err := dial()
				if err != nil {
					r.fail(err)
					time.Sleep(10 * time.Millisecond)
					continue
				}
				if err := getOnce(c, bufio.NewReader(c), words[rand.IntN(len(words))], r, ok); err != nil {
					r.fail(err)
				}
				c.Close()
			}
		}()
	}
	go func() { wg.Wait(); close(r.done) }()
	return r
}

func (r *loadResult) wait() { <-r.done }

// listenInodes returns the inodes of the TCP sockets listening on port.
func listenInodes(t *testing.T, port string) []string {
	t.Helper()
	p, _ := strconv.Atoi(port)
	var out []string
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) < 10 || fs[3] != "0A" {
				continue
			}
			if strings.HasSuffix(fs[1], fmt.Sprintf(":%04X", p)) {
				out = append(out, fs[9])
			}
		}
	}
	sort.Strings(out)
	return out
}

// TestWorkerKillsLoseNothing kills workers at random under keep-alive and
// connection-per-request load, in every mode: no connection is refused, no
// answer is wrong, the listeners are the same sockets afterwards, and the
// pool is restored. Only requests in flight on a killed worker may fail.
func TestWorkerKillsLoseNothing(t *testing.T) {
	for _, mode := range modes {
		for _, network := range []string{"tcp", "unix"} {
			t.Run(mode+"/"+network, func(t *testing.T) {
				const workers = 3
				s := startServer(t, mode, workers)
				s.waitWorkers(workers, 5*time.Second)
				_, port, _ := net.SplitHostPort(s.tcp)
				before := listenInodes(t, port)
				fdsBefore := openFDs(t, s.pid)

				stop := make(chan struct{})
				r := runLoad(network, dialAddr(s, network), 3, 3, testWords, defaultTable, stop)
				kills := 0
				deadline := time.Now().Add(3 * time.Second)
				for time.Now().Before(deadline) {
					time.Sleep(150 * time.Millisecond)
					if w := s.workers(); len(w) > 0 {
						syscall.Kill(w[rand.IntN(len(w))], syscall.SIGKILL)
						kills++
					}
				}
				time.Sleep(300 * time.Millisecond) // let the last replacement serve
				close(stop)
				r.wait()

				t.Logf("%s/%s: %d kills: %s", mode, network, kills, r)
				if r.refused.Load() != 0 {
					t.Errorf("%d connections refused", r.refused.Load())
				}
				if r.wrong.Load() != 0 {
					t.Errorf("%d wrong answers", r.wrong.Load())
				}
				if r.ok.Load() == 0 {
					t.Errorf("no request succeeded")
				}
				// Each kill may cost the requests in flight on that worker:
				// at most one per client connection it held.
				if max := int64(kills * 6); r.failed.Load() > max {
					t.Errorf("%d requests failed for %d kills (more than %d)", r.failed.Load(), kills, max)
				}
				if after := listenInodes(t, port); strings.Join(after, ",") != strings.Join(before, ",") {
					t.Errorf("listening sockets changed: before %v, after %v", before, after)
				}
				if _, err := os.Stat(s.unix); err != nil {
					t.Errorf("unix socket file: %v", err)
				}
				s.waitWorkers(workers, 10*time.Second)
				// Every replaced worker's control socket and pipes are
				// closed: the master holds what it held before the storm.
				waitFor(t, 5*time.Second, func() bool { return openFDs(t, s.pid) == fdsBefore },
					func() string {
						return fmt.Sprintf("master has %d descriptors, had %d: %v", openFDs(t, s.pid), fdsBefore, fdTargets(s.pid))
					})
			})
		}
	}
}

// TestQueuedDescriptorsSurviveWorkerDeath is fdpass mode's promise: a
// connection the master accepted while every worker was stopped waits in
// the descriptor queue, and when those workers die their replacements serve
// it.
func TestQueuedDescriptorsSurviveWorkerDeath(t *testing.T) {
	s := startServer(t, "fdpass", 2)
	ws := s.waitWorkers(2, 5*time.Second)
	for _, p := range ws {
		syscall.Kill(p, syscall.SIGSTOP)
	}
	const n = 20
	conns := make([]net.Conn, n)
	for i := range conns {
		c, err := net.DialTimeout("tcp", s.tcp, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET the\r\n")
		conns[i] = c
	}
	time.Sleep(300 * time.Millisecond) // the master accepts and queues them
	for _, p := range ws {
		syscall.Kill(p, syscall.SIGKILL)
	}
	want := expectedReply("the")
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		got := make([]byte, len(want))
		if _, err := io.ReadFull(c, got); err != nil || string(got) != want {
			t.Errorf("queued connection %d: got %q, %v; want %q", i, got, err, want)
		}
	}
}

// TestMasterKilledTakesWorkersAlong: no worker outlives its master by more
// than a second or two, and the port is free for a new master at once.
func TestMasterKilledTakesWorkersAlong(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			s := startServer(t, mode, 2)
			ws := s.waitWorkers(2, 5*time.Second)
			syscall.Kill(s.pid, syscall.SIGKILL)
			<-s.exited
			deadline := time.Now().Add(2 * time.Second)
			for _, p := range ws {
				for alive(p) {
					if time.Now().After(deadline) {
						t.Fatalf("worker %d still alive 2s after its master died", p)
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
			// A new master binds the same address at once.
			s2 := startServer(t, mode, 1, "--listen", s.tcp)
			c := client(t, "tcp", s.tcp, 1)
			if got, err := c.Get(bg, "the").Result(); err != nil || got != strconv.FormatUint(folded["the"], 10) {
				t.Errorf("new master: GET the = %q, %v", got, err)
			}
			_ = s2
		})
	}
}

// TestGracefulShutdown: SIGTERM lets requests finish, removes the unix
// socket file and the pidfile, leaves no worker, and exits 0.
func TestGracefulShutdown(t *testing.T) {
	s := startServer(t, "fdpass", 2)
	ws := s.waitWorkers(2, 5*time.Second)
	pid, err := os.ReadFile(s.pidfile)
	if err != nil || strings.TrimSpace(string(pid)) != strconv.Itoa(s.pid) {
		t.Fatalf("pidfile: %q, %v; want %d", pid, err, s.pid)
	}
	c, err := net.Dial("tcp", s.tcp)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	r := &loadResult{}
	if err := getOnce(c, br, "the", r, defaultTable); err != nil || r.ok.Load() != 1 {
		t.Fatalf("before shutdown: %v %s", err, r)
	}
	syscall.Kill(s.pid, syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("master did not exit within 10s of SIGTERM")
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d", code)
	}
	for _, p := range ws {
		if alive(p) {
			t.Errorf("worker %d alive after shutdown", p)
		}
	}
	for _, f := range []string{s.unix, s.pidfile} {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still exists after shutdown (%v)", f, err)
		}
	}
	// The idle keep-alive connection was closed, not left hanging.
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := br.ReadByte(); err == nil {
		t.Errorf("idle connection still open after shutdown")
	}
}

// waitFor polls cond until it holds or the time is up, then fails with msg.
func waitFor(t *testing.T, within time.Duration, cond func() bool, msg func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(msg())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fdTargets lists what a process's descriptors point at, for failure messages.
func fdTargets(pid int) []string {
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	var out []string
	for _, e := range ents {
		l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, e.Name()))
		out = append(out, e.Name()+"->"+l)
	}
	return out
}
