package scoreboard

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestScoreboardIsShared maps one scoreboard twice, as the master and a
// worker do, and checks each side sees the other's writes.
func TestScoreboardIsShared(t *testing.T) {
	master, f, err := New(4)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	defer master.Close()
	w, err := Open(f)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	master.Assign(2, 1, 4242, 7, 3)
	ws := w.Writer(2)
	if got := w.Snapshot(2); got.PID != 4242 || got.Slot != 1 || got.Generation != 7 || got.Restarts != 3 || got.State != StateStarting {
		t.Fatalf("worker sees %+v after Assign", got)
	}
	ws.SetState(StateIdle)
	ws.ConnOpened()
	ws.ConnOpened()
	ws.ConnClosed()
	ws.SetCounters(100, 2)
	ws.SetCommandCounts([]uint64{5, 6, 7})
	ws.SetDatagramCounters(9, 4)
	got := master.Snapshot(2)
	if got.State != StateBusy || got.Accepted != 2 || got.Open != 1 || got.Requests != 100 || got.Errors != 2 ||
		got.DatagramDropped != 9 || got.DatagramRefused != 4 {
		t.Fatalf("master sees %+v", got)
	}
	if c := master.CommandCounts(2, nil); c[0] != 5 || c[1] != 6 || c[2] != 7 || len(c) != MaxCommands {
		t.Fatalf("command counts %v", c)
	}
	ws.ConnClosed()
	if st := master.Snapshot(2).State; st != StateIdle {
		t.Fatalf("state after last close: %s, want idle", st)
	}
	ws.Heartbeat()
	if age := master.HeartbeatAge(2); age < 0 || age > time.Second {
		t.Fatalf("heartbeat age %v", age)
	}
	master.Clear(2)
	if got := w.Snapshot(2); got.PID != 0 || got.State != StateEmpty {
		t.Fatalf("after Clear: %+v", got)
	}
	// A new worker in the entry starts from zero.
	master.Assign(2, 1, 4343, 8, 4)
	if got := w.Snapshot(2); got.Requests != 0 || got.DatagramDropped != 0 || got.DatagramRefused != 0 {
		t.Fatalf("after a new Assign: %+v", got)
	}
}

func TestOpenRejectsOtherFiles(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Write(make([]byte, 4096))
	if _, err := Open(f); err == nil {
		t.Fatal("Open accepted a file of zeros")
	}
	if _, _, err := New(MaxEntries + 1); err == nil {
		t.Fatal("New accepted too many entries")
	}
}

// TestTotalsSurviveRetire: a worker's counters stay in the server's totals
// after it is retired and its entry is given to another worker, and a
// worker that republishes lower figures cannot take a total back.
func TestTotalsSurviveRetire(t *testing.T) {
	b, f, err := New(4)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	defer b.Close()
	b.Assign(0, 0, 100, 1, 0)
	b.Assign(1, 1, 101, 1, 0)
	w0, w1 := b.Writer(0), b.Writer(1)
	w0.SetCounters(10, 1)
	w0.SetStats(Stats{Connections: 2, Hits: 7, Misses: 3, OpsPerSec: 50, MemPrivate: 1000, MemRSS: 3000})
	w0.SetCommandCounts([]uint64{4, 6})
	w1.SetCounters(5, 0)
	w1.SetStats(Stats{Connections: 1, Hits: 1, OpsPerSec: 20, MemPrivate: 500, MemRSS: 2000})
	w1.SetCommandCounts([]uint64{5})
	w0.ConnOpened()
	w0.SetCounters(9, 1) // a stale publisher: ignored
	check := func(when string, want Totals) {
		t.Helper()
		got := b.Totals()
		if got.Workers != want.Workers || got.Open != want.Open || got.Requests != want.Requests || got.Errors != want.Errors ||
			got.Connections != want.Connections || got.Hits != want.Hits || got.Misses != want.Misses ||
			got.OpsPerSec != want.OpsPerSec || got.MemPrivate != want.MemPrivate || got.MemRSS != want.MemRSS ||
			got.Commands[0] != want.Commands[0] || got.Commands[1] != want.Commands[1] {
			t.Errorf("%s: totals %+v, want %+v", when, got, want)
		}
	}
	check("two workers", Totals{Workers: 2, Open: 1, Requests: 15, Errors: 1, Connections: 3, Hits: 8, Misses: 3,
		OpsPerSec: 70, MemPrivate: 1500, MemRSS: 5000, Commands: []uint64{9, 6}})
	b.Retire(0)
	check("worker 0 retired", Totals{Workers: 1, Requests: 15, Errors: 1, Connections: 3, Hits: 8, Misses: 3,
		OpsPerSec: 20, MemPrivate: 500, MemRSS: 2000, Commands: []uint64{9, 6}})
	if s := b.Snapshot(0); s.PID != 0 || s.Requests != 0 {
		t.Errorf("retired entry: %+v", s)
	}
	b.Assign(0, 0, 102, 2, 1)
	b.Writer(0).SetCounters(1, 0)
	check("a new worker in entry 0", Totals{Workers: 2, Requests: 16, Errors: 1, Connections: 3, Hits: 8, Misses: 3,
		OpsPerSec: 20, MemPrivate: 500, MemRSS: 2000, Commands: []uint64{9, 6}})
	// Clear without Retire (an entry reused directly): the counters are
	// kept until Assign folds them.
	b.Clear(1)
	check("worker 1 cleared", Totals{Workers: 1, Requests: 16, Errors: 1, Connections: 3, Hits: 8, Misses: 3, Commands: []uint64{9, 6}})
	b.Assign(1, 1, 103, 2, 1)
	check("entry 1 reassigned", Totals{Workers: 2, Requests: 16, Errors: 1, Connections: 3, Hits: 8, Misses: 3, Commands: []uint64{9, 6}})
}

// TestTotalsNeverDecrease reads the totals from another mapping while
// workers count and are retired and replaced, as INFO reads them in every
// worker while the master reaps: no reading is below the one before.
func TestTotalsNeverDecrease(t *testing.T) {
	master, f, err := New(8)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	defer master.Close()
	reader, err := Open(f)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	done, stop := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for gen := uint64(1); gen <= 20000; gen++ {
			select {
			case <-stop:
				return
			default:
			}
			i := int(gen % 8)
			master.Assign(i, i, int(gen), gen, 0)
			w := master.Writer(i)
			for n := uint64(1); n <= 5; n++ {
				w.SetCounters(n, n/2)
				w.SetStats(Stats{Hits: n, Misses: n})
				w.SetCommandCounts([]uint64{n})
			}
			master.Retire(i)
		}
	}()
	var last Totals
	last.Commands = make([]uint64, MaxCommands)
	for reading := true; reading; {
		select {
		case <-done:
			reading = false
		default:
		}
		got := reader.Totals()
		if got.Requests < last.Requests || got.Errors < last.Errors || got.Hits < last.Hits || got.Misses < last.Misses || got.Commands[0] < last.Commands[0] {
			close(stop)
			<-done // before the deferred Close unmaps what it writes
			t.Fatalf("totals went from %+v to %+v", last, got)
		}
		last = got
	}
	if last.Requests != 20000*5 || last.Commands[0] != 20000*5 {
		t.Errorf("final totals %+v, want 10000 requests", last)
	}
}

// TestStartedComesFromTheEnvironment: a master started for an upgrade
// keeps the server's start time; nonsense in the variable is ignored.
func TestStartedComesFromTheEnvironment(t *testing.T) {
	first, f1, err := New(1)
	if err != nil {
		t.Fatal(err)
	}
	defer f1.Close()
	defer first.Close()
	if d := time.Since(first.Started()); d < 0 || d > time.Minute {
		t.Fatalf("a new board started %v ago", d)
	}
	start := time.Now().Add(-3 * time.Hour).Truncate(time.Second)
	for _, tc := range []struct {
		env  string
		want time.Time
	}{
		{strconv.FormatInt(start.UnixNano(), 10), start},
		{"x", time.Time{}},
		{strconv.FormatInt(time.Now().Add(time.Hour).UnixNano(), 10), time.Time{}},
	} {
		t.Setenv(StartedEnv, tc.env)
		b, f, err := New(1)
		if err != nil {
			t.Fatal(err)
		}
		got := b.Started()
		b.Close()
		f.Close()
		if tc.want.IsZero() {
			if time.Since(got) > time.Minute {
				t.Errorf("%s=%q: started %v, want now", StartedEnv, tc.env, got)
			}
		} else if !got.Equal(tc.want) {
			t.Errorf("%s=%q: started %v, want %v", StartedEnv, tc.env, got, tc.want)
		}
	}
	name, value, _ := strings.Cut(first.StartedEnvValue(), "=")
	if ns, err := strconv.ParseInt(value, 10, 64); name != StartedEnv || err != nil || ns != first.Started().UnixNano() {
		t.Errorf("StartedEnvValue %q", first.StartedEnvValue())
	}
}
