package loadgen

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// runCfg runs cfg against the embedded table, failing the test on an error.
func runCfg(t *testing.T, cfg Config) *Result {
	t.Helper()
	cfg.Table = defaultTable
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("Run(%+v): %v", cfg, err)
	}
	return res
}

// checkCounts checks the bookkeeping every result must satisfy.
func checkCounts(t *testing.T, res *Result) {
	t.Helper()
	if res.Requests != res.OK+res.Failed || res.Failed != res.Errors.Total() {
		t.Errorf("requests %d, ok %d, failed %d, errors %+v: the counts do not add up", res.Requests, res.OK, res.Failed, res.Errors)
	}
	if got := uint64(res.Histogram.TotalCount()); got != res.OK {
		t.Errorf("histogram holds %d latencies, want one per ok request (%d)", got, res.OK)
	}
	l := res.Latency
	if res.OK > 0 && !(0 < l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.P999 && l.P999 <= l.Max) {
		t.Errorf("latency percentiles out of order: %+v", l)
	}
}

func TestClosedLoopAnswersAreRight(t *testing.T) {
	res := runCfg(t, Config{Addr: serverTCP, Conns: 8, Requests: 2000})
	checkCounts(t, res)
	if res.Requests != 2000 || res.OK != 2000 || res.Errors.Wrong != 0 {
		t.Fatalf("requests %d, ok %d, errors %+v (first: %s); want 2000 right answers",
			res.Requests, res.OK, res.Errors, res.FirstError)
	}
	if res.WakeLag != (Latency{}) {
		t.Errorf("wake lag %+v in a closed loop, which never waits for a due time", res.WakeLag)
	}
	if res.Loop != "closed" || res.Throughput <= 0 {
		t.Errorf("loop %q, throughput %v; want a closed loop with a throughput", res.Loop, res.Throughput)
	}
}

// TestModesAgainstRealServer runs each way of sending against freqd and
// expects every answer right.
func TestModesAgainstRealServer(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"reconnect", Config{Addr: serverTCP, Conns: 4, Requests: 500, Reconnect: true}},
		{"pipeline 16", Config{Addr: serverTCP, Conns: 4, Requests: 4000, Pipeline: 16}},
		{"pipeline over reconnect", Config{Addr: serverTCP, Conns: 2, Requests: 400, Pipeline: 8, Reconnect: true}},
		{"unix socket", Config{Addr: serverUnix, Conns: 4, Requests: 2000}},
		{"uniform keys with misses", Config{Addr: serverTCP, Conns: 4, Requests: 2000, Keys: KeysUniform, Miss: 0.3}},
		{"all misses", Config{Addr: serverTCP, Conns: 2, Requests: 500, Miss: 1}},
	}
	for i, tc := range tests {
		res := runCfg(t, tc.cfg)
		checkCounts(t, res)
		if res.OK != tc.cfg.Requests || res.Failed != 0 {
			t.Errorf("case %d (%s): ok %d of %d, errors %+v (first: %s); want all right",
				i, tc.name, res.OK, tc.cfg.Requests, res.Errors, res.FirstError)
		}
	}
}

func TestOpenLoopKeepsTheRate(t *testing.T) {
	const rate, secs = 2000, 2
	res := runCfg(t, Config{Addr: serverTCP, Conns: 8, Rate: rate, Duration: secs * time.Second})
	checkCounts(t, res)
	if res.Loop != "open" || res.Failed != 0 {
		t.Fatalf("loop %q, errors %+v (first: %s); want an open loop without failures", res.Loop, res.Errors, res.FirstError)
	}
	// Loose: the host is shared with the server and possibly other work.
	if lo, hi := uint64(rate*secs/2), uint64(rate*secs*3/2); res.OK < lo || res.OK > hi {
		t.Errorf("%d requests answered at --rate %d for %ds; want between %d and %d", res.OK, rate, secs, lo, hi)
	}
	// Connections idle between requests, so their wake-ups were measured.
	if res.WakeLag.P50 <= 0 || res.WakeLag.Max < res.WakeLag.P50 {
		t.Errorf("wake lag %+v; want it measured in an open loop", res.WakeLag)
	}
	if res.OK+res.Unsent > rate*secs {
		t.Errorf("%d answered + %d unsent exceeds the %d requests scheduled", res.OK, res.Unsent, rate*secs)
	}
}

// TestOpenLoopSendsExactlyRequests splits a request count that does not
// divide evenly over the connections.
func TestOpenLoopSendsExactlyRequests(t *testing.T) {
	res := runCfg(t, Config{Addr: serverTCP, Conns: 7, Rate: 5000, Requests: 1000, Pipeline: 4})
	checkCounts(t, res)
	if res.Requests != 1000 || res.OK != 1000 || res.Unsent != 0 {
		t.Fatalf("requests %d, ok %d, unsent %d, errors %+v; want exactly 1000 right answers",
			res.Requests, res.OK, res.Unsent, res.Errors)
	}
}

// TestOpenLoopCountsUnsent overloads a server that never answers: nearly
// every scheduled request is due while its connection waits, and must be
// reported as unsent rather than vanish.
func TestOpenLoopCountsUnsent(t *testing.T) {
	addr := fakeServer(t, func([][]byte) []byte { return []byte{} }) // reads, never answers
	res := runCfg(t, Config{Addr: addr, Conns: 2, Rate: 1000, Duration: 500 * time.Millisecond, Timeout: time.Second})
	checkCounts(t, res)
	// Each connection sends one request, which times out after the end.
	if res.Errors.Timeout != 2 || res.Requests != 2 {
		t.Errorf("requests %d, errors %+v; want the 2 requests sent to time out", res.Requests, res.Errors)
	}
	// Requests 0..499 are due before the end (request i at i ms).
	if res.Unsent != 500-2 {
		t.Errorf("unsent %d; want 500 scheduled - 2 sent = 498", res.Unsent)
	}
}

// TestFailuresByKind points the generator at servers that fail in one way
// each and checks that every request is counted, and counted as that kind.
func TestFailuresByKind(t *testing.T) {
	reply := func(s string) func([][]byte) []byte {
		return func([][]byte) []byte { return append([]byte{}, s...) } // never nil: nil hangs up
	}
	tests := []struct {
		name  string
		reply func([][]byte) []byte
		kind  Kind
		msg   string // in FirstError
	}{
		// Counts are at least 1, so "0" is never the right answer.
		{"integer reply", reply(":1\r\n"), Wrong, `got :1`},
		{"wrong count", reply("$1\r\n0\r\n"), Wrong, `got "0"`},
		{"simple string", reply("+OK\r\n"), Wrong, "got +OK"},
		{"array", reply("*2\r\n$1\r\n0\r\n*1\r\n:5\r\n"), Wrong, "an array"},
		{"nil for present words", reply("$-1\r\n"), Wrong, "got nil"},
		{"error reply", reply("-ERR out of luck\r\n"), Other, "ERR out of luck"},
		{"garbage", reply("hello\r\n"), Other, "not valid RESP"},
		{"closes the connection", func([][]byte) []byte { return nil }, Reset, "EOF"},
		{"never answers", reply(""), Timeout, "timeout"},
	}
	for i, tc := range tests {
		addr := fakeServer(t, tc.reply)
		res := runCfg(t, Config{Addr: addr, Conns: 2, Requests: 40, Pipeline: 4, Timeout: 200 * time.Millisecond})
		checkCounts(t, res)
		var got [numKinds]uint64
		got[Refused], got[Reset], got[Timeout], got[Wrong], got[Other] =
			res.Errors.Refused, res.Errors.Reset, res.Errors.Timeout, res.Errors.Wrong, res.Errors.Other
		if got[tc.kind] != 40 || res.Failed != 40 || res.OK != 0 {
			t.Errorf("case %d (%s): errors %+v, ok %d; want all 40 requests %s", i, tc.name, res.Errors, res.OK, tc.kind)
		}
		if !strings.HasPrefix(res.FirstError, tc.kind.String()+": ") || !strings.Contains(res.FirstError, tc.msg) {
			t.Errorf("case %d (%s): first error %q; want it to start %q and mention %q", i, tc.name, res.FirstError, tc.kind.String()+": ", tc.msg)
		}
	}
}

// TestNilIsRightOnlyForAbsentWords answers nil to everything: right for the
// absent words, wrong for the others.
func TestNilIsRightOnlyForAbsentWords(t *testing.T) {
	addr := fakeServer(t, func([][]byte) []byte { return []byte("$-1\r\n") })
	res := runCfg(t, Config{Addr: addr, Conns: 2, Requests: 1000, Miss: 0.5, Seed: 7})
	checkCounts(t, res)
	if res.OK+res.Errors.Wrong != 1000 || res.OK < 350 || res.Errors.Wrong < 350 {
		t.Errorf("ok %d, errors %+v; want about half right (absent) and half wrong", res.OK, res.Errors)
	}
}

func TestRefusedCounted(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nobody listens there now
	tests := []struct {
		name, addr string
	}{
		{"closed TCP port", addr},
		{"missing unix socket", "unix:" + t.TempDir() + "/none.sock"},
	}
	for i, tc := range tests {
		res := runCfg(t, Config{Addr: tc.addr, Conns: 10, Requests: 50})
		checkCounts(t, res)
		if res.Errors.Refused != 50 || res.Failed != 50 {
			t.Errorf("case %d (%s): errors %+v; want 50 refused", i, tc.name, res.Errors)
		}
	}
}

// TestCancelStopsEarly cancels a long run: Run must return promptly with
// what finished, and must not count the requests it cut off as failures.
func TestCancelStopsEarly(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	res, err := Run(ctx, Config{Addr: serverTCP, Table: defaultTable, Conns: 4, Duration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, res)
	if !res.Interrupted || res.OK == 0 || res.Failed != 0 {
		t.Errorf("interrupted %v, ok %d, errors %+v; want an interrupted run with answers and no failures",
			res.Interrupted, res.OK, res.Errors)
	}
	if res.Duration > time.Minute {
		t.Errorf("cancelled run lasted %v", res.Duration)
	}
}

// TestDurationEndsRun checks that a timed run stops: in-flight requests
// finish, so it may run a little over, never much.
func TestDurationEndsRun(t *testing.T) {
	res := runCfg(t, Config{Addr: serverTCP, Conns: 4, Duration: 300 * time.Millisecond})
	checkCounts(t, res)
	if res.Duration < 300*time.Millisecond || res.Duration > 300*time.Millisecond+DefaultTimeout {
		t.Errorf("a 300ms run took %v", res.Duration)
	}
	if res.Interrupted || res.Failed != 0 || res.OK == 0 {
		t.Errorf("interrupted %v, ok %d, errors %+v", res.Interrupted, res.OK, res.Errors)
	}
}

func TestRunRejectsBadSetup(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no table", Config{Addr: serverTCP}, "no frequency table"},
		{"too many conns", Config{Addr: serverTCP, Table: defaultTable, Conns: MaxConns + 1}, "--conns"},
	}
	for i, tc := range tests {
		_, err := Run(context.Background(), tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("case %d (%s): error %v; want one mentioning %q", i, tc.name, err, tc.want)
		}
	}
}

// TestRoundTripDoesNotAllocate pins the hot path of a keep-alive connection:
// building the request, writing it, reading and checking the reply.
func TestRoundTripDoesNotAllocate(t *testing.T) {
	cfg := Config{Addr: serverTCP, Pipeline: 4}
	cfg = cfg.withDefaults()
	s := newShard()
	c := newClient(context.Background(), &cfg, newKeys(defaultTable, KeysZipf, 0.1, 1, 2), s)
	defer c.close()
	if _, err := c.roundTrip(4, nil); err != nil || s.ok != 4 {
		t.Fatalf("first round trip: %v, %d ok; want 4", err, s.ok)
	}
	allocs := testing.AllocsPerRun(200, func() { c.roundTrip(4, nil) })
	if allocs != 0 {
		t.Errorf("a round trip allocates %v times; want 0", allocs)
	}
	if s.ok != 4*202 {
		t.Errorf("%d right answers after 202 round trips of 4; want %d (errors %v, first %s)", s.ok, 4*202, s.errs, s.first)
	}
}

func BenchmarkRoundTrip(b *testing.B) {
	for _, p := range []int{1, 16} {
		b.Run(fmt.Sprintf("pipeline=%d", p), func(b *testing.B) {
			cfg := Config{Addr: serverTCP, Pipeline: p}
			cfg = cfg.withDefaults()
			s := newShard()
			c := newClient(context.Background(), &cfg, newKeys(defaultTable, KeysZipf, 0, 1, 2), s)
			defer c.close()
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				c.roundTrip(p, nil)
				n += p
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "req/s")
			if s.ok != uint64(n) {
				b.Fatalf("%d right answers of %d (errors %v, first %s)", s.ok, n, s.errs, s.first)
			}
		})
	}
}
