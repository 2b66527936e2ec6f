package testserver

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/freqd/freqd/internal/launch"
	"github.com/freqd/freqd/internal/mode"
)

// readyWait bounds how long Start waits for the "ready" line: a master
// validates the table and starts every worker first, which takes well under
// a second, except on a machine loaded by a race-detector build.
const readyWait = 20 * time.Second

// Server is a running `freqd serve` started by a test.
type Server struct {
	Mode     mode.Mode
	Cmd      *exec.Cmd
	Pid      int    // the master's
	TCP      string // host:port actually bound (the first TCP listener)
	Unix     string // the unix stream socket's path
	UDP      string // host:port of a udp: listener, "" if none
	Unixgram string // path of a unixgram: listener, "" if none
	Metrics  string // the metrics URL, "" without --metrics-listen
	Pidfile  string
	Log      *Log // everything the master and its workers wrote

	t      testing.TB // nil for a server from Launch
	proc   *launch.Process
	exited <-chan struct{}
}

// Start runs bin as `freqd serve --mode m --workers workers` on a
// kernel-chosen loopback port and a unix socket in a temporary directory,
// logging JSON at debug level, with extra flags after those (a later
// --listen adds a listener). It returns once the master logs "ready", and
// arranges for the master and every worker to be killed by pid when the
// test ends.
func Start(t testing.TB, bin string, m mode.Mode, workers int, extra ...string) *Server {
	t.Helper()
	s, err := Launch(t.TempDir(), bin, m, workers, extra...)
	if err != nil {
		t.Fatal(err)
	}
	s.t = t
	t.Cleanup(func() {
		s.Close()
		if t.Failed() {
			t.Logf("server %d log:\n%s", s.Pid, s.Log)
		}
	})
	return s
}

// Launch is Start for a TestMain, which has no testing.TB: the socket and
// pidfile go in dir, and the caller ends the server with Close.
func Launch(dir, bin string, m mode.Mode, workers int, extra ...string) (*Server, error) {
	s := &Server{Mode: m, Unix: filepath.Join(dir, "freqd.sock"), Pidfile: filepath.Join(dir, "freqd.pid"), Log: &Log{}}
	args := []string{"serve", "--mode", string(m),
		"--listen", "127.0.0.1:0", "--listen", "unix:" + s.Unix, "--pidfile", s.Pidfile,
		"--log-json", "--log-level", "debug", "--shutdown-timeout", "3s"}
	if m.IsPreForked() {
		// The classic designs are one process each and refuse --workers.
		args = append(args, "--workers", strconv.Itoa(workers))
	}
	args = append(args, extra...)
	p, err := launch.Start(bin, launch.Options{Args: args, Log: s.Log, Wait: readyWait})
	if err != nil {
		return nil, fmt.Errorf("%w:\n%s", err, s.Log)
	}
	s.proc, s.Cmd, s.Pid, s.exited = p, p.Cmd, p.Cmd.Process.Pid, p.Exited()
	for _, a := range p.Listen() {
		switch {
		case strings.HasPrefix(a, "udp:"):
			s.UDP = strings.TrimPrefix(a, "udp:")
		case strings.HasPrefix(a, "unixgram:"):
			s.Unixgram = strings.TrimPrefix(a, "unixgram:")
		case strings.HasPrefix(a, "unix:"):
		case s.TCP == "":
			s.TCP = a
		}
	}
	s.Metrics, _ = p.Ready["metrics"].(string)
	return s, nil
}

// Close kills the server (Kill) and stops reading its log.
func (s *Server) Close() {
	s.Kill()
	s.proc.CloseLog()
}

// Addr is the address of the server's stream listener on network ("tcp"
// or "unix"), as net.Dial takes it.
func (s *Server) Addr(network string) string {
	if network == "unix" {
		return s.Unix
	}
	return s.TCP
}

// Port is the TCP listener's port number.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.TCP)
	n, _ := strconv.Atoi(p)
	return n
}

// Exited is closed once the master process has exited and been reaped.
func (s *Server) Exited() <-chan struct{} { return s.exited }

// Kill ends the master and every worker by pid, whatever state they are
// in, and waits for the master to be reaped. Once the master is reaped its
// pid may belong to another process, so Kill then does nothing: calling it
// again is harmless.
func (s *Server) Kill() {
	select {
	case <-s.exited:
		return
	default:
	}
	pids := Children(s.Pid)
	KillTree(s.Pid)
	for _, p := range pids { // children that were reparented meanwhile
		KillTree(p)
	}
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		if s.t != nil {
			s.t.Errorf("master %d did not exit after SIGKILL", s.Pid)
		} else {
			fmt.Fprintf(os.Stderr, "master %d did not exit after SIGKILL\n", s.Pid)
		}
	}
}

// Workers returns the pids of the master's live children.
func (s *Server) Workers() []int { return Children(s.Pid) }

// WaitWorkers waits until the master has n live children and returns them;
// it fails the test if that takes longer than within.
func (s *Server) WaitWorkers(n int, within time.Duration) []int {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for {
		w := s.Workers()
		if len(w) == n {
			return w
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("want %d workers, have %d (%v)", n, len(w), w)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Eventually polls cond every 20 ms until it holds, and fails the test
// with the text what returns if it does not hold within the given time.
func Eventually(t testing.TB, within time.Duration, cond func() bool, what func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", within, what())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// String names the server for log lines.
func (s *Server) String() string { return fmt.Sprintf("freqd %s (pid %d, %s)", s.Mode, s.Pid, s.TCP) }
