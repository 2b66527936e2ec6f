package faults

import (
	"bufio"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/internal/testserver"
	"github.com/freqd/freqd/resp"
)

// freqdBin is the freqd binary every scenario runs, built once with
// buildFlags.
var (
	freqdBin   string
	buildFlags []string
)

// modes are the pre-forked ways connections reach workers.
var modes = mode.PreForked

// Load shape: clients per network, each with one connection at a time, so
// a worker can never hold more than keepalive+perRequest of one load's
// connections.
const (
	keepalive  = 2
	perRequest = 2
)

// words are what the loads ask for: 198 words spread over the default
// table, and two it does not hold.
var words = testserver.Subtlex().Sample(198)

func TestMain(m *testing.M) { testserver.Main(m, &freqdBin, buildFlags...) }

// row is one scenario's line of the summary.
type row struct {
	scenario              string
	served, failed, wrong int64
	notes                 string
}

var summary struct {
	mu   sync.Mutex
	rows []row
}

// record adds a scenario's loads to the summary and asserts what holds for
// every scenario: no answer was wrong, and some requests were answered.
func record(t *testing.T, notes string, loads ...*testserver.Load) {
	t.Helper()
	r := row{scenario: t.Name(), notes: notes}
	kinds := map[string]int{}
	for _, l := range loads {
		r.served += l.OK.Load()
		r.failed += l.Failed.Load()
		r.wrong += l.Wrong.Load()
		for k, n := range l.Failures() {
			kinds[k] += n
		}
	}
	if len(kinds) > 0 {
		r.notes += "; failures: " + testserver.FormatFailures(kinds)
	}
	summary.mu.Lock()
	summary.rows = append(summary.rows, r)
	summary.mu.Unlock()
	t.Logf("served %d, failed %d, wrong %d; %s", r.served, r.failed, r.wrong, r.notes)
	if r.wrong != 0 {
		t.Errorf("%d wrong answers", r.wrong)
	}
	if r.served == 0 {
		t.Errorf("no request was served")
	}
}

// start runs a freqd master with workers in mode. Under -short it skips
// the scenario: faults take seconds each, and have `make test-faults`.
func start(t *testing.T, m mode.Mode, workers int, extra ...string) *testserver.Server {
	t.Helper()
	if testing.Short() {
		t.Skip("fault scenarios take seconds each; run them with make test-faults")
	}
	s := testserver.Start(t, freqdBin, m, workers, extra...)
	t.Cleanup(func() { // before Start's cleanup kills the server
		if s.Log.Contains("WARNING: DATA RACE") {
			t.Errorf("the race detector reported a data race in %s", s)
		}
	})
	s.WaitWorkers(workers, 10*time.Second)
	return s
}

// load starts the standard checked load on one of s's stream listeners.
func load(s *testserver.Server, network string, check testserver.Check, stop <-chan struct{}) *testserver.Load {
	return testserver.RunLoad(network, s.Addr(network), keepalive, perRequest, words, check, stop)
}

// eventually polls cond for up to 15 s: generous, because CI machines are
// shared and a fault's recovery involves starting processes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testserver.Eventually(t, 15*time.Second, cond, func() string { return "still waiting for " + what })
}

// signal sends sig to pid, failing the test if it cannot be delivered.
func signal(t *testing.T, pid int, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(pid, sig); err != nil {
		t.Fatalf("kill -%v %d: %v", sig, pid, err)
	}
}

// command sends one inline command on a new connection to s and returns
// the reply's first line, and for a bulk reply its body.
func command(s *testserver.Server, cmd string) (string, error) {
	c, err := net.DialTimeout("tcp", s.TCP, testserver.RequestTimeout)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(testserver.RequestTimeout))
	if _, err := fmt.Fprintf(c, "%s\r\n", cmd); err != nil {
		return "", err
	}
	reply, err := resp.ReadReply(bufio.NewReader(c))
	if err != nil {
		return string(reply), err
	}
	line, body, _ := strings.Cut(string(reply), "\r\n")
	if !strings.HasPrefix(line, "$") || line == "$-1" {
		return line + "\r\n", nil
	}
	return strings.TrimSuffix(body, "\r\n"), nil
}

// workerInfo is what INFO's Workers section says of one worker.
type workerInfo struct {
	generation int
	state      string
}

// workersInfo reads INFO's Workers section: every worker in the
// scoreboard, by pid.
func workersInfo(s *testserver.Server) (map[int]workerInfo, error) {
	info, err := command(s, "INFO workers")
	if err != nil {
		return nil, err
	}
	out := map[int]workerInfo{}
	for _, line := range strings.Split(info, "\r\n") {
		// worker0:pid=123,slot=0,generation=2,state=idle,restarts=0,...
		// Fields are read by name: INFO may gain fields.
		name, fields, ok := strings.Cut(line, ":")
		if !ok || !strings.HasPrefix(name, "worker") || !strings.HasPrefix(fields, "pid=") {
			continue
		}
		kv := map[string]string{}
		for _, f := range strings.Split(fields, ",") {
			if k, v, ok := strings.Cut(f, "="); ok {
				kv[k] = v
			}
		}
		pid, err1 := strconv.Atoi(kv["pid"])
		gen, err2 := strconv.Atoi(kv["generation"])
		if err1 != nil || err2 != nil || kv["state"] == "" {
			return nil, fmt.Errorf("INFO line %q: want pid, generation and state", line)
		}
		out[pid] = workerInfo{generation: gen, state: kv["state"]}
	}
	return out, nil
}

// generation returns the one generation s's n workers all belong to, as
// both the scoreboard (INFO) and the process table see it, with none
// draining; ok is false while that is not so.
func generation(s *testserver.Server, n int) (gen int, ok bool) {
	info, err := workersInfo(s)
	pids := s.Workers()
	if err != nil || len(info) != n || len(pids) != n {
		return 0, false
	}
	gens := map[int]bool{}
	for _, pid := range pids {
		w, listed := info[pid]
		if !listed || w.state == "draining" {
			return 0, false
		}
		gens[w.generation] = true
		gen = w.generation
	}
	return gen, len(gens) == 1
}
