package master_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/internal/testserver"
)

// TestLeastLoadedDispatch runs fdpass mode's per-worker queues through what
// the shared queue passes: commands, kills under load with nothing refused
// or wrong, and connections queued for dead workers served by their
// replacements.
func TestLeastLoadedDispatch(t *testing.T) {
	s := startServer(t, "fdpass", 3, "--dispatch", "least-loaded")
	s.waitWorkers(3, 5*time.Second)
	checkCommands(t, s, "tcp", client(t, "tcp", s.tcp, 4))

	// Spread: under connection-per-request load every worker takes a share.
	stop := make(chan struct{})
	r := runLoad("tcp", s.tcp, 0, 4, testWords, defaultTable, stop)
	time.Sleep(time.Second)
	close(stop)
	r.Wait()
	time.Sleep(600 * time.Millisecond) // a heartbeat publishes the counters
	info := s.infoWorkers(t)
	if n := strings.Count(info, "accepted=0,"); n > 0 || !strings.Contains(info, "accepted=") {
		t.Errorf("least-loaded left %d workers without a connection:\n%s", n, info)
	}

	stop = make(chan struct{})
	r = runLoad("tcp", s.tcp, 3, 3, testWords, defaultTable, stop)
	kills := 0
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); kills++ {
		time.Sleep(150 * time.Millisecond)
		if w := s.workers(); len(w) > 0 {
			syscall.Kill(w[rand.IntN(len(w))], syscall.SIGKILL)
		}
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	r.Wait()
	t.Logf("least-loaded: %d kills: %s", kills, r)
	if r.Refused.Load() != 0 || r.Wrong.Load() != 0 || r.OK.Load() == 0 {
		t.Errorf("under kills: %s", r)
	}
	ws := s.waitWorkers(3, 10*time.Second)

	// Connections queued while every worker is stopped, then killed.
	for _, p := range ws {
		syscall.Kill(p, syscall.SIGSTOP)
	}
	// SIGSTOP is asynchronous: a worker still running could take a
	// descriptor, and its death would then reset that connection.
	for _, p := range ws {
		eventually(t, "the worker to stop", func() bool { return testserver.Stopped(p) })
	}
	var conns []net.Conn
	for i := 0; i < 12; i++ {
		c, err := net.DialTimeout("tcp", s.tcp, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET the\r\n")
		conns = append(conns, c)
	}
	time.Sleep(300 * time.Millisecond)
	for _, p := range ws {
		syscall.Kill(p, syscall.SIGKILL)
	}
	want := "$" + strconv.Itoa(len(strconv.FormatUint(folded["the"], 10))) + "\r\n" + strconv.FormatUint(folded["the"], 10) + "\r\n"
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		got := make([]byte, len(want))
		if _, err := io.ReadFull(c, got); err != nil || string(got) != want {
			t.Errorf("queued connection %d: %q, %v", i, got, err)
		}
	}
}

// TestSharedQueueSpreadsKeepAlive: keep-alive clients arriving through the
// shared queue (fdpass) or the shared listener (accept) end up spread over
// the workers. Each worker is one event loop, one core. From the queue,
// without workers deferring to each other (evloop's Share), the worker
// that last served takes every next client, 40 of 40 here; on a listener
// the kernel passes an exclusive wake-up on to another worker while the
// first is busy, and Share only adds to that.
func TestSharedQueueSpreadsKeepAlive(t *testing.T) {
	for _, m := range []mode.Mode{mode.FDPass, mode.Accept} {
		t.Run(string(m), func(t *testing.T) { testSpreadsKeepAlive(t, m) })
	}
}

func testSpreadsKeepAlive(t *testing.T, m mode.Mode) {
	s := startServer(t, m, 2)
	s.waitWorkers(2, 5*time.Second)
	const n = 40
	want := "$" + strconv.Itoa(len(strconv.FormatUint(folded["the"], 10))) + "\r\n" + strconv.FormatUint(folded["the"], 10) + "\r\n"
	// One client at a time, each answered before the next dials: a worker's
	// open count is then up to date when the next descriptor arrives, so
	// the spread does not depend on how promptly a loaded machine runs
	// each worker during a burst.
	for i := range n {
		c, err := net.DialTimeout("tcp", s.tcp, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET the\r\n")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		got := make([]byte, len(want))
		if _, err := io.ReadFull(c, got); err != nil || string(got) != want {
			t.Fatalf("connection %d: %q, %v", i, got, err)
		}
	}
	// A heartbeat publishes the counters: wait until they count everyone.
	var info string
	var open []int
	waitFor(t, 5*time.Second, func() bool {
		info = s.infoWorkers(t)
		open = open[:0]
		for _, line := range strings.Split(info, "\r\n") {
			if i := strings.Index(line, ",open="); i >= 0 && strings.HasPrefix(line, "worker") {
				v, _ := strconv.Atoi(strings.SplitN(line[i+len(",open="):], ",", 2)[0])
				open = append(open, v)
			}
		}
		return len(open) == 2 && open[0]+open[1] >= n
	}, func() string { return "the workers' open counts never reached the clients:\n" + info })
	// INFO's own connection is open in one of them too.
	if len(open) != 2 || open[0]+open[1] < n || min(open[0], open[1]) < n/4 {
		t.Errorf("open connections per worker %v for %d clients, want each worker at least %d:\n%s", open, n, n/4, info)
	}
}
