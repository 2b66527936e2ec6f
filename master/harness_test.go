package master_test

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/internal/testserver"
)

// freqdBin is the freqd binary built once for every test in this package:
// the tests run the real master and real workers as processes.
var freqdBin string

func TestMain(m *testing.M) { testserver.Main(m, &freqdBin) }

// server is a running `freqd serve` (a testserver.Server) under the short
// lower-case names this package's tests have always used.
type server struct {
	*testserver.Server
	t       *testing.T
	mode    mode.Mode
	cmd     *exec.Cmd
	pid     int
	tcp     string // host:port actually bound
	unix    string // socket path
	udp     string // udp: address actually bound (host:port), "" if none
	dgram   string // unixgram: socket path, "" if none
	pidfile string
	log     *testserver.Log
	exited  <-chan struct{}
}

// startServer starts a master on a kernel-chosen loopback port and a unix
// socket in a temporary directory, waits until it is ready, and arranges for
// it and every worker it started to be killed (by pid) when the test ends.
func startServer(t *testing.T, m mode.Mode, workers int, extra ...string) *server {
	t.Helper()
	return startServerBin(t, freqdBin, m, workers, extra...)
}

// startServerBin is startServer with another freqd binary.
func startServerBin(t *testing.T, bin string, m mode.Mode, workers int, extra ...string) *server {
	t.Helper()
	s := testserver.Start(t, bin, m, workers, extra...)
	return &server{Server: s, t: t, mode: s.Mode, cmd: s.Cmd, pid: s.Pid, tcp: s.TCP, unix: s.Unix,
		udp: s.UDP, dgram: s.Unixgram, pidfile: s.Pidfile, log: s.Log, exited: s.Exited()}
}

// kill ends the master and every worker by pid, whatever state they are in.
func (s *server) kill() { s.Kill() }

// workers returns the pids of the master's live children.
func (s *server) workers() []int { return s.Workers() }

// waitWorkers waits until the master has n live, serving children.
func (s *server) waitWorkers(n int, within time.Duration) []int {
	s.t.Helper()
	return s.WaitWorkers(n, within)
}

// children lists the processes whose parent is pid, excluding zombies.
func children(pid int) []int { return testserver.Children(pid) }

// alive says whether pid has not exited.
func alive(pid int) bool { return testserver.Alive(pid) }

// killTree kills a process and its children by pid.
func killTree(pid int) { testserver.KillTree(pid) }

// client returns a go-redis client for addr (host:port or a unix path).
func client(t *testing.T, network, addr string, poolSize int) *redis.Client {
	c := redis.NewClient(&redis.Options{Network: network, Addr: addr, PoolSize: poolSize,
		MaxRetries: -1, DialTimeout: 5 * time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second})
	t.Cleanup(func() { c.Close() })
	return c
}

// openFDs counts a process's open descriptors.
func openFDs(t *testing.T, pid int) int {
	t.Helper()
	n, err := testserver.OpenFDs(pid)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

var bg = context.Background()

// dialAddr is the network and address of a listener for go-redis and net.Dial.
func dialAddr(s *server, network string) string { return s.Addr(network) }

// waitFor polls cond until it holds or the time is up, then fails with msg.
func waitFor(t *testing.T, within time.Duration, cond func() bool, msg func() string) {
	t.Helper()
	testserver.Eventually(t, within, cond, msg)
}

// The reference answers and the load the tests check the server against.
var (
	// testWords are keys for load: present in the table and absent.
	testWords = folded.Sample(198)
	// defaultTable accepts exactly the embedded table's answers.
	defaultTable testserver.Check = folded.Check
)

// expectedReply is the exact RESP reply to GET w from the default table.
func expectedReply(w string) string { return folded.Reply(w) }

// runLoad drives keep-alive and connection-per-request clients, asking GET
// for random words and checking each answer, until stop is closed.
func runLoad(network, addr string, keepalive, perRequest int, words []string, ok testserver.Check, stop chan struct{}) *testserver.Load {
	return testserver.RunLoad(network, addr, keepalive, perRequest, words, ok, stop)
}
