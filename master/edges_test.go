package master_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/freqd/freqd/internal/testserver"
)

// waitNewMaster waits for the pidfile to name a master other than old, and
// arranges for it to be killed at the end.
func waitNewMaster(t *testing.T, s *server) int {
	t.Helper()
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		t.Fatal("old master still running 15s after SIGUSR2")
	}
	pid := 0
	eventually(t, "the pidfile to name the new master", func() bool {
		b, _ := os.ReadFile(s.pidfile)
		fmt.Sscan(string(b), &pid)
		return pid != 0 && pid != s.pid && alive(pid)
	})
	t.Cleanup(func() { killTree(pid) })
	return pid
}

// TestUpgradeKeepsPasswordFromEnvironment: serve takes FREQD_REQUIREPASS
// out of its environment (no child should see it by accident); the
// successor started by SIGUSR2 must still require it.
func TestUpgradeKeepsPasswordFromEnvironment(t *testing.T) {
	t.Setenv("FREQD_REQUIREPASS", "s3cret")
	s := startServer(t, "fdpass", 1)
	syscall.Kill(s.pid, syscall.SIGUSR2)
	waitNewMaster(t, s)
	if err := client(t, "tcp", s.tcp, 1).Get(bg, "the").Err(); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Errorf("after the upgrade, GET without AUTH: %v; want NOAUTH", err)
	}
	c, err := net.Dial("tcp", s.tcp)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "AUTH s3cret\r\nPING\r\n")
	br := bufio.NewReader(c)
	for _, want := range []string{"+OK\r\n", "+PONG\r\n"} {
		if line, err := br.ReadString('\n'); line != want {
			t.Errorf("after the upgrade, with AUTH: %q, %v; want %q", line, err, want)
		}
	}
}

// TestFailedUpgradeKeepsSocketFiles: a successor that inherits the sockets
// and then fails (here: the data file went bad) must not remove the socket
// files the old master still serves.
func TestFailedUpgradeKeepsSocketFiles(t *testing.T) {
	data := filepath.Join(t.TempDir(), "words.freq")
	buildTable(t, data, "alpha", 100)
	s := startServer(t, "fdpass", 1, "--data", data)
	os.WriteFile(data, []byte("not a table any more, and long enough to have a header's worth of bytes in it...................................................................."), 0o644)
	syscall.Kill(s.pid, syscall.SIGUSR2)
	eventually(t, "the failed upgrade", func() bool { return strings.Contains(s.log.String(), "upgrade failed") })
	if _, err := os.Stat(s.unix); err != nil {
		t.Fatalf("unix socket file after a failed upgrade: %v", err)
	}
	if got, err := client(t, "unix", s.unix, 1).Get(bg, "alpha").Result(); err != nil || got != "100" {
		t.Errorf("old master over the unix socket after a failed upgrade: %q, %v", got, err)
	}
}

// TestShutdownAnswersQueuedRequests: requests that arrived before SIGTERM,
// still waiting in the descriptor queue or in their sockets, are answered,
// not dropped.
func TestShutdownAnswersQueuedRequests(t *testing.T) {
	s := startServer(t, "fdpass", 1)
	w := s.waitWorkers(1, 5*time.Second)[0]
	syscall.Kill(w, syscall.SIGSTOP)
	eventually(t, "the worker to stop", func() bool { return testserver.Stopped(w) })
	var conns []net.Conn
	for i := 0; i < 5; i++ {
		c, err := net.Dial("tcp", s.tcp)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "PING\r\n")
		conns = append(conns, c)
	}
	time.Sleep(300 * time.Millisecond)
	syscall.Kill(s.pid, syscall.SIGTERM)
	time.Sleep(200 * time.Millisecond)
	syscall.Kill(w, syscall.SIGCONT)
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if line, err := bufio.NewReader(c).ReadString('\n'); line != "+PONG\r\n" {
			t.Errorf("queued request %d at shutdown: %q, %v", i, line, err)
		}
	}
}

// TestShutdownWithFullQueue: with the only worker stopped and the
// descriptor queue full, SIGTERM still ends the master within the shutdown
// timeout (the blocked send is abandoned, not waited for forever).
func TestShutdownWithFullQueue(t *testing.T) {
	s := startServer(t, "fdpass", 1, "--shutdown-timeout", "1s")
	w := s.waitWorkers(1, 5*time.Second)[0]
	syscall.Kill(w, syscall.SIGSTOP)
	eventually(t, "the worker to stop", func() bool { return testserver.Stopped(w) })
	for i := 0; i < 600; i++ {
		c, err := net.DialTimeout("tcp", s.tcp, time.Second)
		if err != nil {
			break // the backlog is full too
		}
		defer c.Close()
	}
	syscall.Kill(s.pid, syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		t.Fatal("master still running 15s after SIGTERM with a full queue")
	}
}
