package classic_test

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/internal/testserver"
	"github.com/redis/go-redis/v9"
)

// freqdBin is the freqd binary built once for every test in this package:
// the tests run each design as a real process on real sockets.
var freqdBin string

func TestMain(m *testing.M) {
	var flags []string
	if raceBuild {
		flags = append(flags, "-race")
	}
	testserver.Main(m, &freqdBin, flags...)
}

var bg = context.Background()

// folded is the embedded SUBTLEX-US list as the default table serves it
// (case folded), computed from the raw list by the shared test support.
var folded = testserver.Subtlex()

// server is a running `freqd serve --mode <design>` (a testserver.Server)
// under the short names this package's tests use.
type server struct {
	t       *testing.T
	mode    mode.Mode
	cmd     *exec.Cmd
	pid     int
	tcp     string // host:port actually bound
	unix    string // socket path
	pidfile string
	log     *testserver.Log
	exited  <-chan struct{}
}

// startServer starts a design on a kernel-chosen loopback port and a unix
// socket in a temporary directory, waits for its "ready" line, and arranges
// for it and every process it started to be killed, by pid, when the test
// ends; a data race the server reported fails the test.
func startServer(t *testing.T, m mode.Mode, extra ...string) *server {
	t.Helper()
	ts := testserver.Start(t, freqdBin, m, 1, extra...)
	t.Cleanup(func() {
		ts.Kill()
		if ts.Log.Contains("WARNING: DATA RACE") {
			t.Errorf("the server reported a data race")
		}
	})
	return &server{t: t, mode: m, cmd: ts.Cmd, pid: ts.Pid, tcp: ts.TCP, unix: ts.Unix,
		pidfile: ts.Pidfile, log: ts.Log, exited: ts.Exited()}
}

// dialAddr is the address of a listener for go-redis and net.Dial.
func (s *server) dialAddr(network string) string {
	if network == "unix" {
		return s.unix
	}
	return s.tcp
}

// children lists the processes whose parent is pid; zombies are included
// only when asked for.
func children(pid int, zombies bool) []int {
	if zombies {
		return append(testserver.Children(pid), testserver.Zombies(pid)...)
	}
	return testserver.Children(pid)
}

// client returns a go-redis client for addr (host:port or a unix path)
// with one connection, so that it never needs a second one from a design
// that serves one connection at a time.
func client(t *testing.T, network, addr string) *redis.Client {
	c := redis.NewClient(&redis.Options{Network: network, Addr: addr, PoolSize: 1,
		MaxRetries: -1, DialTimeout: 5 * time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second})
	t.Cleanup(func() { c.Close() })
	return c
}

// waitFor polls cond until it holds or within passes.
func waitFor(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}
