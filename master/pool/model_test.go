package pool

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// The tests drive the model through scenarios: each step advances the
// clock, applies one event and checks the actions, as their String
// renders them. Started events for StartWorker actions are fed back
// automatically (pid = 1000 + worker id), as the executor does at once.

type step struct {
	after time.Duration // clock advance before the event
	ev    func(time.Time) Event
	want  []string // nil: any actions; empty: none
	check func(t *testing.T, m *Model)
}

func begin() func(time.Time) Event { return func(t time.Time) Event { return NewBegin(t) } }
func ready(id WorkerID) func(time.Time) Event {
	return func(t time.Time) Event { return NewReady(t, id) }
}
func killed(id WorkerID) func(time.Time) Event {
	return func(t time.Time) Event { return NewExited(t, id, Status{Signal: syscall.SIGKILL}) }
}
func exitCode(id WorkerID, code int) func(time.Time) Event {
	return func(t time.Time) Event { return NewExited(t, id, Status{Code: code}) }
}
func sig(s Signal) func(time.Time) Event {
	return func(t time.Time) Event { return NewSignaled(t, s) }
}
func tick() func(time.Time) Event { return func(t time.Time) Event { return NewTick(t, nil) } }
func tickBeats(beats map[WorkerID]time.Duration) func(time.Time) Event {
	return func(t time.Time) Event { return NewTick(t, beats) }
}
func loaded(gen uint64, err error) func(time.Time) Event {
	return func(t time.Time) Event { return NewTableLoaded(t, gen, err) }
}
func slotAdded(i int) func(time.Time) Event {
	return func(t time.Time) Event { return NewSlotAdded(t, i, nil) }
}
func startFailed(id WorkerID) func(time.Time) Event {
	return func(t time.Time) Event { return NewStartFailed(t, id, errors.New("exec failed")) }
}
func recycle(id WorkerID) func(time.Time) Event {
	return func(t time.Time) Event { return NewRecycleAsked(t, id) }
}
func successorStarted() func(time.Time) Event {
	return func(t time.Time) Event { return NewSuccessorStarted(t, 4242, nil) }
}
func successorReady() func(time.Time) Event {
	return func(t time.Time) Event { return NewSuccessorReady(t) }
}
func successorExited() func(time.Time) Event {
	return func(t time.Time) Event { return NewSuccessorExited(t, Status{Code: 1}) }
}

// none is an empty action list, to tell "expects nothing" from nil.
var none = []string{}

// run plays steps against a model of cfg and reports every mismatch.
func run(t *testing.T, cfg Config, steps []step) *Model {
	t.Helper()
	if cfg.Log == nil {
		cfg.Log = hclog.NewNullLogger()
	}
	m := New(cfg)
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	for i, s := range steps {
		now = now.Add(s.after)
		ev := s.ev(now)
		got := render(m.Step(ev))
		// Feed back Started for every StartWorker, as the executor does.
		for _, a := range m.out {
			_ = a
		}
		for _, line := range got {
			var id WorkerID
			if _, err := fmt.Sscanf(line, "start worker %d", &id); err == nil {
				m.Step(NewStarted(now, id, 1000+int(id)))
			}
		}
		if s.want != nil && strings.Join(got, "\n") != strings.Join(s.want, "\n") {
			t.Errorf("step %d (%T at +%v):\n got: %q\nwant: %q", i, ev, now.Sub(time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)), got, s.want)
		}
		if s.check != nil {
			s.check(t, m)
		}
	}
	return m
}

func render(as []Action) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out
}

// twoReady is the prologue every scenario shares: two slots, both ready.
var twoReady = []step{
	{ev: begin(), want: []string{"start worker 1 in slot 0 (generation 1)", "start worker 2 in slot 1 (generation 1)"}},
	{ev: ready(1), want: none},
	{ev: ready(2), want: []string{"serving", "notify READY=1"}},
}

func with(prologue []step, steps ...step) []step {
	return append(append([]step{}, prologue...), steps...)
}

func TestStartAndCrashLoop(t *testing.T) {
	run(t, Config{Workers: 2}, with(twoReady,
		// A serving worker that dies is replaced at once.
		step{after: 5 * time.Second, ev: exitCode(1, 2), want: []string{"clear entry 0", "start worker 3 in slot 0 (generation 1)"}},
		// The replacement fails at start: the first failure is retried at
		// once, the next ones after a growing delay.
		step{after: 10 * time.Millisecond, ev: exitCode(3, 1), want: []string{"clear entry 0", "start worker 4 in slot 0 (generation 1)"}},
		step{after: 10 * time.Millisecond, ev: exitCode(4, 1), want: []string{"clear entry 0"}},
		step{after: 99 * time.Millisecond, ev: tick(), want: none},
		step{after: time.Millisecond, ev: tick(), want: []string{"start worker 5 in slot 0 (generation 1)"}},
		step{after: 10 * time.Millisecond, ev: exitCode(5, 1), want: []string{"clear entry 0"}},
		step{after: 199 * time.Millisecond, ev: tick(), want: none},
		step{after: time.Millisecond, ev: tick(), want: []string{"start worker 6 in slot 0 (generation 1)"}},
		// Once one serves for long enough, the slot's failures are forgotten.
		step{ev: ready(6), want: none},
		step{after: 2 * time.Second, ev: exitCode(6, 2), want: []string{"clear entry 0", "start worker 7 in slot 0 (generation 1)"}},
	))
}

// TestBadBinaryBacksOffEverySlot: when every start fails before serving,
// back-off applies to every slot, even with nobody serving: a fast loop
// would only burn CPU.
func TestBadBinaryBacksOffEverySlot(t *testing.T) {
	run(t, Config{Workers: 2}, []step{
		{ev: begin()},
		{after: 10 * time.Millisecond, ev: exitCode(1, 1), want: []string{"clear entry 0", "start worker 3 in slot 0 (generation 1)"}},
		{ev: exitCode(2, 1), want: []string{"clear entry 1", "start worker 4 in slot 1 (generation 1)"}},
		{after: 10 * time.Millisecond, ev: exitCode(3, 1), want: []string{"clear entry 0"}},
		{ev: exitCode(4, 1), want: []string{"clear entry 1"}},
		{after: 100 * time.Millisecond, ev: tick(), want: []string{"start worker 5 in slot 0 (generation 1)", "start worker 6 in slot 1 (generation 1)"}},
	})
}

// TestStartFailureIsRetried: a worker that cannot even be started is
// retried as a failing start, through the same path.
func TestStartFailureIsRetried(t *testing.T) {
	run(t, Config{Workers: 1}, []step{
		{ev: begin(), want: []string{"start worker 1 in slot 0 (generation 1)"}},
		{ev: startFailed(1), want: []string{"start worker 2 in slot 0 (generation 1)"}},
		{ev: startFailed(2), want: none},
		{after: 100 * time.Millisecond, ev: tick(), want: []string{"start worker 3 in slot 0 (generation 1)"}},
		{ev: ready(3), want: []string{"serving", "notify READY=1"}},
	})
}

// TestKillStormKeepsAWorkerComing: workers that served and were killed
// from outside are replaced at once however young they were, and while
// every other slot waits out a back-off, one slot restarts without delay.
func TestKillStormKeepsAWorkerComing(t *testing.T) {
	run(t, Config{Workers: 2}, with(twoReady,
		step{after: 50 * time.Millisecond, ev: killed(1), want: []string{"clear entry 0", "start worker 3 in slot 0 (generation 1)"}},
		step{after: 10 * time.Millisecond, ev: ready(3), want: none},
		// Killed young after serving: still replaced at once.
		step{after: 40 * time.Millisecond, ev: killed(3), want: []string{"clear entry 0", "start worker 4 in slot 0 (generation 1)"}},
		// Killed before it served: counted as failing, so slot 0 backs off
		// while slot 1 serves...
		step{after: 10 * time.Millisecond, ev: killed(4), want: []string{"clear entry 0", "start worker 5 in slot 0 (generation 1)"}},
		step{after: 10 * time.Millisecond, ev: killed(5), want: []string{"clear entry 0"}},
		step{after: 10 * time.Millisecond, ev: killed(2), want: []string{"clear entry 1", "start worker 6 in slot 1 (generation 1)"}},
		step{after: 10 * time.Millisecond, ev: killed(6), want: []string{"clear entry 0", "start worker 7 in slot 1 (generation 1)"}},
		// ...but when slot 1 would back off too, leaving nobody to serve,
		// it restarts at once: these workers were killed, not failing.
		step{after: 10 * time.Millisecond, ev: killed(7), want: []string{"clear entry 0", "start worker 8 in slot 1 (generation 1)"}},
		step{after: 10 * time.Millisecond, ev: killed(8), want: []string{"clear entry 0", "start worker 9 in slot 1 (generation 1)"}},
	))
}

func TestReloadReplacesTheGeneration(t *testing.T) {
	m := run(t, Config{Workers: 2}, with(twoReady,
		step{ev: sig(Reload), want: []string{"load table for generation 2"}},
		step{ev: loaded(2, nil), want: []string{"notify RELOADING=1", "start worker 3 in slot 0 (generation 2)", "start worker 4 in slot 1 (generation 2)"}},
		step{ev: ready(3), want: none, check: handoffsHeldUntilNewGeneration},
		step{ev: ready(4), want: []string{"retire worker 1", "retire worker 2", "release table of generation 1", "notify READY=1"}},
		step{ev: exitCode(1, 0), want: []string{"clear entry 0"}},
		step{ev: exitCode(2, 0), want: []string{"clear entry 1"}},
		// A bad table changes nothing.
		step{ev: sig(Reload), want: []string{"load table for generation 3"}},
		step{ev: loaded(3, errors.New("corrupt")), want: none},
	))
	st := m.Stats()
	if st.Reloads != 1 || st.FailedReloads != 1 || st.Generation != 2 {
		t.Errorf("stats %+v", st)
	}
}

// handoffsHeldUntilNewGeneration: during a reload, connections the old
// generation hands back go only to ready workers of the new one.
func handoffsHeldUntilNewGeneration(t *testing.T, m *Model) {
	t.Helper()
	if r, ids := m.Handoffs(); r != ToPool || len(ids) != 1 || ids[0] != 3 {
		t.Errorf("Handoffs() = %v, %v; want the one ready new worker, 3", r, ids)
	}
}

func TestReloadBurstEndsWithOneGeneration(t *testing.T) {
	run(t, Config{Workers: 1, Entries: 3}, []step{
		{ev: begin()}, {ev: ready(1)},
		{ev: sig(Reload), want: []string{"load table for generation 2"}},
		{ev: sig(Reload), want: none},
		{ev: sig(Reload), want: none},
		{ev: loaded(2, nil), want: []string{"notify RELOADING=1", "start worker 2 in slot 0 (generation 2)"}},
		{ev: ready(2), want: []string{"retire worker 1", "release table of generation 1", "notify READY=1", "load table for generation 3"}},
		{ev: loaded(3, nil), want: []string{"notify RELOADING=1", "start worker 3 in slot 0 (generation 3)"}},
		{ev: ready(3), want: []string{"retire worker 2", "release table of generation 2", "notify READY=1"}},
	})
}

// TestNewWorkerDiesMidReload: a worker of the new generation that dies is
// replaced like any other, and the reload waits for the replacement.
func TestNewWorkerDiesMidReload(t *testing.T) {
	run(t, Config{Workers: 2}, with(twoReady,
		step{ev: sig(Reload)},
		step{ev: loaded(2, nil)},
		step{ev: ready(3), want: none},
		step{after: 10 * time.Millisecond, ev: exitCode(4, 1), want: []string{"clear entry 3", "start worker 5 in slot 1 (generation 2)"}},
		step{ev: ready(5), want: []string{"retire worker 1", "retire worker 2", "release table of generation 1", "notify READY=1"}},
	))
}

// TestReloadTimeoutKeepsTheOldGeneration: a new generation not ready in
// time is killed; the old one, still serving, goes back to its slots.
func TestReloadTimeoutKeepsTheOldGeneration(t *testing.T) {
	m := run(t, Config{Workers: 2, ReadyWait: 30 * time.Second}, with(twoReady,
		step{ev: sig(Reload)},
		step{ev: loaded(2, nil)},
		step{ev: ready(3), want: none},
		step{after: 30 * time.Second, ev: tick(), want: []string{
			"kill worker 3", "kill worker 4", "release table of generation 2", "notify READY=1"}},
		step{ev: killed(3), want: []string{"clear entry 2"}},
		step{ev: killed(4), want: []string{"clear entry 3"}},
		// The old workers serve their slots again: a death is replaced.
		step{after: 5 * time.Second, ev: killed(1), want: []string{"clear entry 0", "start worker 5 in slot 0 (generation 1)"}},
	))
	if st := m.Stats(); st.FailedReloads != 1 || st.Generation != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestResizeDuringReload: SIGTTIN and SIGTTOU during a reload are carried
// out once it is done, not dropped.
func TestResizeDuringReload(t *testing.T) {
	run(t, Config{Workers: 2, MaxWorkers: 4}, with(twoReady,
		step{ev: sig(Reload)},
		step{ev: loaded(2, nil)},
		step{ev: sig(Shrink), want: none},
		step{ev: ready(3), want: none},
		step{ev: ready(4), want: []string{"retire worker 1", "retire worker 2", "release table of generation 1", "notify READY=1",
			"remove slot 1", "retire worker 4"}},
		step{ev: exitCode(4, 0), want: []string{"clear entry 3"}},
		// Slot 1 is vacated when the last worker started in it has gone.
		step{ev: exitCode(2, 0), want: []string{"clear entry 1", "slot 1 vacated"}},
	))
}

// TestReloadWhileGrowing: a SIGHUP while a SIGTTIN's worker is still
// starting reloads every slot, the new one included.
func TestReloadWhileGrowing(t *testing.T) {
	run(t, Config{Workers: 1, MaxWorkers: 4}, []step{
		{ev: begin()}, {ev: ready(1)},
		{ev: sig(Grow), want: []string{"add slot 1"}},
		{ev: slotAdded(1), want: []string{"start worker 2 in slot 1 (generation 1)"}},
		{ev: sig(Reload), want: []string{"load table for generation 2"}},
		{ev: loaded(2, nil), want: []string{"notify RELOADING=1", "start worker 3 in slot 0 (generation 2)", "start worker 4 in slot 1 (generation 2)"}},
		{ev: ready(2), want: none}, // the old generation's late starter
		{ev: ready(3), want: none},
		{ev: ready(4), want: []string{"retire worker 1", "retire worker 2", "release table of generation 1", "notify READY=1"}},
	})
}

// TestUpgradeHandsOverHandedBackConnections: once the new master serves,
// every worker retires and what they hand back goes to the successor;
// the old master exits when the last worker has.
func TestUpgradeHandsOverHandedBackConnections(t *testing.T) {
	run(t, Config{Workers: 2}, with(twoReady,
		step{ev: sig(Upgrade), want: []string{"start successor"}},
		step{ev: sig(Reload), want: none}, // ignored during an upgrade
		step{ev: successorStarted(), want: none},
		step{ev: successorReady(), want: []string{"stop accepting", "retire worker 1", "retire worker 2"},
			check: func(t *testing.T, m *Model) {
				if r, _ := m.Handoffs(); r != ToSuccessor {
					t.Errorf("Handoffs() = %v, want ToSuccessor", r)
				}
			}},
		step{ev: exitCode(1, 0), want: []string{"clear entry 0"}},
		step{ev: exitCode(2, 0), want: []string{"clear entry 1", "hand over", "exit"}},
	))
}

func TestFailedUpgradeChangesNothing(t *testing.T) {
	run(t, Config{Workers: 1, ReadyWait: 30 * time.Second}, []step{
		{ev: begin()}, {ev: ready(1)},
		{ev: sig(Upgrade), want: []string{"start successor"}},
		{ev: successorStarted()},
		{ev: successorExited(), want: []string{"kill successor"}},
		{ev: sig(Upgrade), want: []string{"start successor"}},
		{ev: successorStarted()},
		{after: 30 * time.Second, ev: tick(), want: []string{"kill successor"}},
		{ev: sig(Reload), want: []string{"load table for generation 2"}},
	})
}

// TestSuspendedMasterJudgesNoWorker: when the master's own clock jumps
// (it was stopped or starved), old heartbeats say nothing about the
// workers: they get a fresh timeout before anyone is judged hung.
func TestSuspendedMasterJudgesNoWorker(t *testing.T) {
	steps := with(twoReady,
		// The whole machine was paused for a minute: on waking, every
		// heartbeat looks a minute old.
		step{after: time.Minute, ev: tickBeats(map[WorkerID]time.Duration{1: time.Minute, 2: time.Minute}), want: none})
	// Worker 2 beats again; worker 1 stays silent.
	for i := 1; i < 30; i++ {
		steps = append(steps, step{after: time.Second, ev: tickBeats(map[WorkerID]time.Duration{1: time.Minute + time.Duration(i)*time.Second, 2: 0}), want: none})
	}
	steps = append(steps,
		// A worker still silent a full timeout after the master woke is hung.
		step{after: time.Second, ev: tickBeats(map[WorkerID]time.Duration{1: 90 * time.Second, 2: 0}), want: []string{"abort worker 1"}},
		// SIGABRT lets the runtime print its goroutines; past the grace,
		// SIGKILL.
		step{after: time.Second, ev: tickBeats(nil), want: none},
		step{after: time.Second, ev: tickBeats(nil), want: none},
		step{after: time.Second, ev: tickBeats(nil), want: none},
		step{after: time.Second, ev: tickBeats(nil), want: []string{"kill worker 1"}},
		step{ev: exitCode(1, 2), want: []string{"clear entry 0", "start worker 3 in slot 0 (generation 1)"}},
	)
	run(t, Config{Workers: 2, WorkerTimeout: 30 * time.Second}, steps)
}

func TestGracefulStopKillsWhatOutlivesTheTimeout(t *testing.T) {
	run(t, Config{Workers: 2, ShutdownTimeout: 10 * time.Second}, with(twoReady,
		step{ev: sig(Stop), want: []string{"notify STOPPING=1", "stop accepting", "drain worker 1", "drain worker 2"},
			check: func(t *testing.T, m *Model) {
				if r, _ := m.Handoffs(); r != Close {
					t.Errorf("Handoffs() = %v, want Close", r)
				}
			}},
		step{after: time.Second, ev: exitCode(1, 0), want: []string{"clear entry 0"}},
		step{after: 10 * time.Second, ev: tick(), want: []string{"kill worker 2"}},
		step{ev: killed(2), want: []string{"clear entry 1", "exit"}},
	))
}

func TestStopWhileStartingIsAnError(t *testing.T) {
	run(t, Config{Workers: 1}, []step{
		{ev: begin()},
		{ev: sig(Stop), want: []string{"stop accepting", "kill worker 1"}},
		{ev: killed(1), want: []string{"clear entry 0", "exit: interrupted by SIGTERM while starting workers"}},
	})
}

func TestWorkersNotReadyInTime(t *testing.T) {
	run(t, Config{Workers: 1, ReadyWait: 30 * time.Second}, []step{
		{ev: begin()},
		{after: 30 * time.Second, ev: tick(), want: []string{"stop accepting", "kill worker 1"}},
		{ev: killed(1), want: []string{"clear entry 0", "exit: workers not ready after 30s; see the worker errors above"}},
	})
}

// TestRecycleCostsNoRequest: a worker that served --max-requests is
// replaced by a fresh one at once and retires.
func TestRecycleCostsNoRequest(t *testing.T) {
	m := run(t, Config{Workers: 1}, []step{
		{ev: begin()}, {ev: ready(1)},
		{ev: recycle(1), want: []string{"retire worker 1", "start worker 2 in slot 0 (generation 1)"}},
		{ev: recycle(1), want: none},
		{ev: exitCode(1, 0), want: []string{"clear entry 0"}},
	})
	if m.Stats().Restarts["max requests"] != 1 {
		t.Errorf("restarts %v", m.Stats().Restarts)
	}
}

// TestShrinkAndGrow: SIGTTOU retires the last slot's worker and frees the
// slot once it has gone; SIGTTIN adds a slot and starts a worker in it.
func TestShrinkAndGrow(t *testing.T) {
	run(t, Config{Workers: 2, MaxWorkers: 3}, with(twoReady,
		step{ev: sig(Shrink), want: []string{"remove slot 1", "retire worker 2"}},
		step{ev: sig(Shrink), want: none}, // one is the minimum
		step{ev: exitCode(2, 0), want: []string{"clear entry 1", "slot 1 vacated"}},
		step{ev: sig(Grow), want: []string{"add slot 1"}},
		step{ev: slotAdded(1), want: []string{"start worker 3 in slot 1 (generation 1)"}},
		step{ev: sig(Grow), want: []string{"add slot 2"}},
		step{ev: sig(Grow), want: none}, // the limit
	))
}

// TestDeadlineIsTheNextThingDue: the executor sleeps until Deadline.
func TestDeadlineIsTheNextThingDue(t *testing.T) {
	m := New(Config{Workers: 1, Log: hclog.NewNullLogger()})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m.Step(NewBegin(t0))
	if d := m.Deadline(); !d.Equal(t0.Add(time.Second)) {
		t.Errorf("after Begin: deadline %v, want the first watchdog round", d.Sub(t0))
	}
	m.Step(NewReady(t0, 1))
	m.Step(NewExited(t0.Add(10*time.Millisecond), 1, Status{Code: 1}))
	m.Step(NewStarted(t0, 2, 1002))
	m.Step(NewExited(t0.Add(20*time.Millisecond), 2, Status{Code: 1}))
	if d := m.Deadline(); !d.Equal(t0.Add(120 * time.Millisecond)) {
		t.Errorf("after two quick deaths: deadline +%v, want +120ms", d.Sub(t0))
	}
}

// TestBrokenTableStartsUnavailableWorkers: a worker that cannot map its
// generation's table (a data file damaged under --data-mode map) is not a
// crash loop to back off from: its replacements start unavailable,
// answering every client with the reason, until a reload brings a good
// table; a reload with a bad one changes nothing.
func TestBrokenTableStartsUnavailableWorkers(t *testing.T) {
	run(t, Config{Workers: 2}, with(twoReady,
		step{after: 5 * time.Second, ev: killed(1), want: []string{"clear entry 0", "start worker 3 in slot 0 (generation 1)"}},
		step{after: 10 * time.Millisecond, ev: func(t time.Time) Event { return NewExited(t, 3, Status{Code: 3, TableUnusable: true}) },
			want: []string{"clear entry 0", "start worker 4 in slot 0 (generation 1), unavailable"}},
		step{ev: ready(4), want: none},
		step{ev: exitCode(2, 2), want: []string{"clear entry 1", "start worker 5 in slot 1 (generation 1), unavailable"}},
		step{ev: sig(Reload), want: []string{"load table for generation 2"}},
		step{ev: loaded(2, errors.New("truncated")), want: none},
		step{ev: sig(Reload), want: []string{"load table for generation 2"}},
		step{ev: loaded(2, nil), want: []string{"notify RELOADING=1", "start worker 6 in slot 0 (generation 2)", "start worker 7 in slot 1 (generation 2)"}},
	))
}

// TestShutdownDelayKeepsServingNotReady: with a shutdown delay, SIGTERM
// first makes the server not ready while it goes on serving (a worker that
// dies is still replaced), then drains; a second SIGTERM skips the rest of
// the delay.
func TestShutdownDelayKeepsServingNotReady(t *testing.T) {
	notReady := func(t *testing.T, m *Model) {
		if ok, why := m.Ready(); ok || !strings.Contains(why, "shutdown delay") {
			t.Errorf("Ready() = %v, %q during the delay", ok, why)
		}
		if r, _ := m.Handoffs(); r != ToPool {
			t.Errorf("Handoffs() = %v during the delay, want ToPool: it still serves", r)
		}
	}
	run(t, Config{Workers: 2, ShutdownDelay: 5 * time.Second}, with(twoReady,
		step{ev: tick(), want: none, check: func(t *testing.T, m *Model) {
			if ok, _ := m.Ready(); !ok {
				t.Error("not ready while serving")
			}
		}},
		step{ev: sig(Stop), want: []string{"notify STOPPING=1"}, check: notReady},
		step{after: time.Second, ev: killed(1), want: []string{"clear entry 0", "start worker 3 in slot 0 (generation 1)"}},
		step{after: 4 * time.Second, ev: tick(), want: []string{"stop accepting", "drain worker 2", "drain worker 3"}},
	))
	run(t, Config{Workers: 1, ShutdownDelay: time.Minute}, []step{
		{ev: begin()}, {ev: ready(1)},
		{ev: sig(Stop), want: []string{"notify STOPPING=1"}},
		{after: time.Second, ev: sig(Stop), want: []string{"stop accepting", "drain worker 1"}},
	})
}
