package master_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/freqd/freqd/internal/testserver"
)

// TestWorkerKillsLoseNothing kills workers at random under keep-alive and
// connection-per-request load, in every mode: no connection is refused, no
// answer is wrong, the listeners are the same sockets afterwards, and the
// pool is restored. Only requests in flight on a killed worker may fail.
func TestWorkerKillsLoseNothing(t *testing.T) {
	for _, mode := range modes {
		for _, network := range []string{"tcp", "unix"} {
			t.Run(string(mode)+"/"+network, func(t *testing.T) {
				const workers = 3
				s := startServer(t, mode, workers)
				s.waitWorkers(workers, 5*time.Second)
				before := testserver.ListenInodes(s.Port())
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
				r.Wait()

				t.Logf("%s/%s: %d kills: %s", mode, network, kills, r)
				if r.Refused.Load() != 0 {
					t.Errorf("%d connections refused", r.Refused.Load())
				}
				if r.Wrong.Load() != 0 {
					t.Errorf("%d wrong answers", r.Wrong.Load())
				}
				if r.OK.Load() == 0 {
					t.Errorf("no request succeeded")
				}
				// Each kill may cost the requests in flight on that worker:
				// at most one per client connection it held.
				if max := int64(kills * 6); r.Failed.Load() > max {
					t.Errorf("%d requests failed for %d kills (more than %d)", r.Failed.Load(), kills, max)
				}
				if after := testserver.ListenInodes(s.Port()); strings.Join(after, ",") != strings.Join(before, ",") {
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
						return fmt.Sprintf("master has %d descriptors, had %d: %v", openFDs(t, s.pid), fdsBefore, testserver.FDTargets(s.pid))
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
		t.Run(string(mode), func(t *testing.T) {
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
	r := &testserver.Load{}
	if err := r.Ask(c, br, "the", defaultTable); err != nil || r.OK.Load() != 1 {
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
