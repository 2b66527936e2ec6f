package pool

import (
	"fmt"
	"slices"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Config is what the model decides with. Zero durations take the defaults
// noted beside them.
type Config struct {
	Workers    int // slots to start with
	MaxWorkers int // most slots SIGTTIN may reach
	Entries    int // scoreboard entries: live workers of every generation at once

	ReadyWait       time.Duration // a worker, a reload, an upgrade must be ready within it (30s)
	ShutdownTimeout time.Duration // a draining worker finishes within it (10s)
	// ShutdownDelay is how long a graceful stop keeps serving, reported
	// not ready, before it drains: load balancers and Kubernetes take a
	// moment to stop sending new clients. 0: drain at once.
	ShutdownDelay time.Duration
	WorkerTimeout time.Duration // a heartbeat older than this means hung (30s)
	WatchEvery    time.Duration // watchdog period (1s)
	AbortGrace    time.Duration // after SIGABRT, SIGKILL this much later (3s)

	// Restart back-off: a worker that dies within QuickDeath of its start,
	// or before it served, counts as failing; the n-th consecutive failure
	// waits BackoffBase·2^(n-2), capped at BackoffMax.
	QuickDeath  time.Duration // 1s
	BackoffBase time.Duration // 100ms
	BackoffMax  time.Duration // 30s

	Log hclog.Logger
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.ReadyWait, 30*time.Second)
	def(&c.ShutdownTimeout, 10*time.Second)
	def(&c.WorkerTimeout, 30*time.Second)
	def(&c.WatchEvery, time.Second)
	def(&c.AbortGrace, 3*time.Second)
	def(&c.QuickDeath, time.Second)
	def(&c.BackoffBase, 100*time.Millisecond)
	def(&c.BackoffMax, 30*time.Second)
	if c.MaxWorkers < c.Workers {
		c.MaxWorkers = c.Workers
	}
	if c.Entries == 0 {
		// Two generations of every slot, and the retiring workers of a
		// third during a burst of reloads.
		c.Entries = 4 * c.MaxWorkers
	}
	if c.Log == nil {
		c.Log = hclog.NewNullLogger()
	}
	return c
}

// phase is where the master is in its life.
type phase int

const (
	starting    phase = iota // the first generation is not ready yet
	serving                  // the pool serves (reloads and upgrades happen here)
	delaying                 // stopping after ShutdownDelay: still serving, no longer ready
	handingOver              // a successor serves; the workers retire to it
	stopping                 // graceful stop: workers finish their requests
	stoppingNow              // immediate stop: workers killed
	exited                   // Exit was returned
)

// slot is a place in the pool.
type slot struct {
	index     int
	worker    *worker   // the slot's current worker, nil while none runs
	failures  int       // consecutive failing deaths
	restarts  uint64    // processes started in the slot after the first
	restartAt time.Time // a delayed restart is due; zero when none is pending
	// failedAtStart is set when the last worker to die in the slot failed
	// on its own before it served (an exit or a fault, not a kill from
	// outside): the failure back-off exists for.
	failedAtStart bool
}

// workerState is where a worker is in its life.
type workerState int

const (
	wStarting workerState = iota // StartWorker sent, not ready
	wServing                     // ready
	wRetiring                    // asked to hand back and exit
	wDraining                    // asked to finish and exit (stop)
)

// worker is one live process, from StartWorker to Exited.
type worker struct {
	id        WorkerID
	pid       int
	slot      *slot // the slot it serves; nil once replaced or retired
	home      int   // the slot it was started in
	gen       uint64
	entry     int
	state     workerState
	ready     bool
	started   time.Time
	aborted   time.Time // when the watchdog aborted it
	retiredAt time.Time // when it was asked to retire or drain
}

// reloadState is a SIGHUP being carried out.
type reloadState struct {
	loading  bool       // LoadTable sent, TableLoaded not yet received
	gen      uint64     // the new generation (once loaded)
	old      []WorkerID // the previous generation, serving until the new one is ready
	oldGen   uint64
	deadline time.Time
	again    bool // another SIGHUP arrived meanwhile
}

// upgradeState is a SIGUSR2 being carried out.
type upgradeState struct {
	pid      int // 0 until started
	deadline time.Time
}

// Stats are the model's counters, for metrics and INFO.
type Stats struct {
	Generation    uint64
	Workers       int               // slots
	Restarts      map[string]uint64 // by cause
	Reloads       uint64
	FailedReloads uint64
}

// Model is the pool. Its methods are not safe for concurrent use: one
// goroutine (the executor's) steps it.
type Model struct {
	cfg    Config
	log    hclog.Logger
	phase  phase
	gen    uint64
	nextID WorkerID
	slots  []*slot
	live   map[WorkerID]*worker
	used   []bool // scoreboard entries in use

	reload  *reloadState
	upgrade *upgradeState
	resize  int // SIGTTIN minus SIGTTOU deferred during a reload
	// broken is the generation whose table a worker could not map (a data
	// file damaged under --data-mode map); its workers are started
	// unavailable until a reload brings a good table. 0 for none.
	broken uint64

	startBy    time.Time // the first generation must be ready by then
	delayUntil time.Time // delaying: the graceful stop begins then
	stopBy     time.Time // graceful stop: kill what is left then
	exitErr    error     // why a stop ends with an error
	lastWatch  time.Time
	watchGrace time.Time // no hang verdicts before this
	now        time.Time

	stats Stats
	out   []Action
}

// New returns a model that has started nothing; Step it with Begin.
func New(cfg Config) *Model {
	cfg = cfg.withDefaults()
	return &Model{cfg: cfg, log: cfg.Log, live: map[WorkerID]*worker{}, used: make([]bool, cfg.Entries),
		stats: Stats{Restarts: map[string]uint64{}}}
}

// Step applies one event and returns the actions it calls for, in order.
func (m *Model) Step(ev Event) []Action {
	m.out = nil
	if m.phase == exited {
		return nil
	}
	m.now = ev.When()
	switch ev := ev.(type) {
	case Begin:
		m.begin()
	case Started:
		if w := m.live[ev.ID]; w != nil {
			w.pid = ev.PID
		}
	case StartFailed:
		m.startFailed(ev.ID, ev.Err)
	case Ready:
		m.ready(ev.ID)
	case Exited:
		m.exited(ev.ID, ev.Status)
	case RecycleAsked:
		m.recycle(ev.ID)
	case Signaled:
		m.signaled(ev.Signal)
	case TableLoaded:
		m.tableLoaded(ev.Generation, ev.Err)
	case SlotAdded:
		m.slotAdded(ev.Slot, ev.Err)
	case SuccessorStarted:
		m.successorStarted(ev.PID, ev.Err)
	case SuccessorReady:
		m.successorReady()
	case SuccessorExited:
		m.successorExited(ev.Status)
	case Tick:
		m.tick(ev.Heartbeats)
	}
	m.finish()
	return m.out
}

func (m *Model) emit(a ...Action) { m.out = append(m.out, a...) }

// begin starts the first generation in every slot.
func (m *Model) begin() {
	if m.gen != 0 {
		return
	}
	m.gen = 1
	m.startBy = m.now.Add(m.cfg.ReadyWait)
	m.lastWatch = m.now
	for i := 0; i < m.cfg.Workers; i++ {
		s := &slot{index: i}
		m.slots = append(m.slots, s)
		m.start(s)
	}
}

// start starts a worker of the current generation in s: the one path every
// (re)start takes.
func (m *Model) start(s *slot) {
	s.restartAt = time.Time{}
	entry := slices.Index(m.used, false)
	if entry < 0 {
		m.startFailed(0, fmt.Errorf("no free scoreboard entry (%d in use)", len(m.used)), s)
		return
	}
	m.used[entry] = true
	m.nextID++
	w := &worker{id: m.nextID, slot: s, home: s.index, gen: m.gen, entry: entry, state: wStarting, started: m.now}
	m.live[w.id] = w
	s.worker = w
	m.emit(StartWorker{ID: w.id, Slot: s.index, Generation: w.gen, Entry: entry, Restarts: s.restarts,
		Unavailable: m.broken == m.gen})
}

// startFailed handles a worker that could not be started: it is retried
// as a failing start would be.
func (m *Model) startFailed(id WorkerID, err error, in ...*slot) {
	var s *slot
	if w := m.live[id]; w != nil {
		delete(m.live, id)
		m.used[w.entry] = false
		s = w.slot
		if s != nil && s.worker == w {
			s.worker = nil
		}
	} else if len(in) > 0 {
		s = in[0]
	}
	if s == nil || !m.inPool(s) || m.phase >= handingOver {
		return
	}
	s.failures++
	s.failedAtStart = true
	m.log.Error("cannot start worker; will retry", "slot", s.index, "error", err, "delay", m.backoff(s.failures))
	m.scheduleRestart(s)
}

// inPool reports whether s is still one of the pool's slots.
func (m *Model) inPool(s *slot) bool { return s.index < len(m.slots) && m.slots[s.index] == s }

// ready marks a worker as serving and moves whatever waited for it along.
func (m *Model) ready(id WorkerID) {
	w := m.live[id]
	if w == nil || w.ready {
		return
	}
	w.ready = true
	if w.state == wStarting {
		w.state = wServing
	}
	m.log.Debug("worker ready", "slot", w.home, "pid", w.pid, "generation", w.gen)
	switch {
	case m.phase == starting && m.poolReady():
		m.phase = serving
		m.emit(Serving{}, Notify{State: "READY=1"})
	case m.reload != nil:
		m.checkReload()
	}
}

// poolReady reports whether every slot has a ready worker of the current
// generation.
func (m *Model) poolReady() bool {
	for _, s := range m.slots {
		if s.worker == nil || !s.worker.ready || s.worker.gen != m.gen {
			return false
		}
	}
	return true
}

// exited forgets a worker and, if it was serving in the pool, replaces it.
func (m *Model) exited(id WorkerID, st Status) {
	w := m.live[id]
	if w == nil {
		return
	}
	delete(m.live, id)
	m.used[w.entry] = false
	m.emit(ClearEntry{Entry: w.entry})
	if m.reload != nil {
		m.reload.old = slices.DeleteFunc(m.reload.old, func(o WorkerID) bool { return o == id })
	}
	s := w.slot
	if s == nil || s.worker != w {
		// Retired, of a generation being replaced, or killed by a reload
		// that timed out. A slot removed by SIGTTOU is vacated by its last
		// worker.
		if w.home >= len(m.slots) && !m.slotHasWorker(w.home) {
			m.emit(SlotVacated{Slot: w.home})
		}
		return
	}
	s.worker = nil
	if m.phase >= handingOver {
		return
	}
	cause := st.String()
	if !w.aborted.IsZero() {
		cause = "hung (" + cause + ")"
	}
	if st.TableUnusable && w.gen == m.gen {
		cause = "data file unusable"
		if m.broken != m.gen {
			m.broken = m.gen
			m.log.Error("the data file is damaged (truncated or rewritten in place while mapped): no worker can serve it; "+
				"replace it with a good one (by rename, as freqd build does) and send SIGHUP. Until then clients get an error reply",
				"generation", m.gen)
		}
		// A worker that starts unavailable will not fail: no back-off.
		s.failures = 0
	}
	m.stats.Restarts[cause]++
	lived := m.now.Sub(w.started)
	switch {
	case w.ready && st.external():
		// Killed from outside after it served: nothing says the next one
		// will fail, however short its life was.
		s.failures = 0
	case lived < m.cfg.QuickDeath || !w.ready:
		s.failures++
	default:
		s.failures = 0
	}
	s.failedAtStart = !w.ready && !st.external()
	s.restarts++
	m.log.Warn("worker exited; replacing it", "slot", s.index, "pid", w.pid, "cause", cause,
		"lived", lived.Round(time.Millisecond), "ready", w.ready, "delay", m.backoff(s.failures))
	m.scheduleRestart(s)
}

// slotHasWorker reports whether a live worker was started in slot i.
func (m *Model) slotHasWorker(i int) bool {
	for _, w := range m.live {
		if w.home == i {
			return true
		}
	}
	return false
}

// backoff is the delay before restarting a slot after n consecutive
// failures: none for the first, then exponential.
func (m *Model) backoff(n int) time.Duration {
	if n <= 1 {
		return 0
	}
	return min(m.cfg.BackoffBase<<min(n-2, 20), m.cfg.BackoffMax)
}

// scheduleRestart restarts slot s now or after its back-off. Back-off
// exists for workers that fail on their own, at start; it must not leave
// the pool with nobody serving for seconds because a storm of kills made
// every slot's workers die young. So while every other slot is empty or
// waiting too, one slot restarts at once, unless every slot's last worker
// failed on its own before it ever served (a bad binary or a bad table,
// where a fast retry loop would only burn CPU).
func (m *Model) scheduleRestart(s *slot) {
	d := m.backoff(s.failures)
	if d > 0 && m.nobodyElseComing(s) && !m.everyStartFails() {
		d = 0
	}
	if d == 0 {
		m.start(s)
		return
	}
	s.restartAt = m.now.Add(d)
}

// nobodyElseComing reports whether no slot but s has a worker or a restart
// due without delay.
func (m *Model) nobodyElseComing(s *slot) bool {
	for _, o := range m.slots {
		if o != s && (o.worker != nil || (!o.restartAt.IsZero() && !o.restartAt.After(m.now))) {
			return false
		}
	}
	return true
}

// everyStartFails reports whether the last worker of every slot failed on
// its own before it served.
func (m *Model) everyStartFails() bool {
	return !slices.ContainsFunc(m.slots, func(s *slot) bool { return !s.failedAtStart })
}

// retire asks w to hand its connections back and exit; it is not replaced.
func (m *Model) retire(w *worker) {
	if w.slot != nil && w.slot.worker == w {
		w.slot.worker = nil
	}
	w.slot = nil
	if w.state == wRetiring || w.state == wDraining {
		return
	}
	w.state = wRetiring
	w.retiredAt = m.now
	m.emit(Retire{ID: w.id})
}

// recycle replaces a worker that served --max-requests: a fresh one starts
// in its slot at once and the old one retires, handing its connections
// back between requests, so recycling costs no request.
func (m *Model) recycle(id WorkerID) {
	w := m.live[id]
	if w == nil || m.phase != serving || w.slot == nil || w.slot.worker != w || m.reload != nil {
		return
	}
	s := w.slot
	m.log.Info("recycling worker after max requests", "slot", s.index, "pid", w.pid)
	m.stats.Restarts["max requests"]++
	m.retire(w)
	s.restarts++
	m.start(s)
}

// signaled acts on an operator's signal.
func (m *Model) signaled(sig Signal) {
	switch m.phase {
	case starting:
		if sig == Stop || sig == StopNow {
			m.exitErr = fmt.Errorf("interrupted by %s while starting workers", sig)
			m.stopNow()
		}
		return
	case delaying:
		switch sig {
		case Stop:
			m.log.Info("second graceful shutdown signal; not waiting out the shutdown delay", "signal", sig.String())
			m.stopGracefully()
		case StopNow:
			m.log.Info("immediate shutdown", "signal", sig.String())
			m.stopNow()
		default:
			m.log.Warn("signal ignored while stopping", "signal", sig.String())
		}
		return
	case handingOver, stopping, stoppingNow:
		if sig == StopNow && m.phase != stoppingNow {
			m.stopNow()
		}
		return
	}
	switch sig {
	case Reload:
		m.startReload()
	case Upgrade:
		m.startUpgrade()
	case Grow, Shrink:
		if m.reload != nil {
			if sig == Grow {
				m.resize++
			} else {
				m.resize--
			}
			m.log.Info("resize during a reload; it follows once the reload is done", "signal", sig.String())
			return
		}
		if sig == Grow {
			m.grow()
		} else {
			m.shrink()
		}
	case Stop:
		if m.cfg.ShutdownDelay > 0 {
			// Not ready from now on, still serving: whoever routes clients
			// here sees /readyz fail and stops, then the drain begins.
			m.log.Info("graceful shutdown after the shutdown delay; not ready meanwhile", "signal", sig.String(),
				"delay", m.cfg.ShutdownDelay, "timeout", m.cfg.ShutdownTimeout)
			m.failUpgrade("the old master is stopping")
			m.phase = delaying
			m.delayUntil = m.now.Add(m.cfg.ShutdownDelay)
			m.emit(Notify{State: "STOPPING=1"})
			return
		}
		m.log.Info("graceful shutdown", "signal", sig.String(), "timeout", m.cfg.ShutdownTimeout)
		m.stopGracefully()
	case StopNow:
		m.log.Info("immediate shutdown", "signal", sig.String())
		m.stopNow()
	}
}

// grow adds one slot (SIGTTIN): the executor prepares it, then a worker
// starts in it (slotAdded).
func (m *Model) grow() {
	if len(m.slots) >= m.cfg.MaxWorkers {
		m.log.Warn("SIGTTIN ignored: worker limit reached", "workers", len(m.slots))
		return
	}
	s := &slot{index: len(m.slots)}
	m.slots = append(m.slots, s)
	m.log.Info("adding a worker", "workers", len(m.slots))
	m.emit(AddSlot{Slot: s.index})
}

func (m *Model) slotAdded(i int, err error) {
	if i >= len(m.slots) || m.slots[i].worker != nil {
		return
	}
	s := m.slots[i]
	if err != nil {
		m.log.Error("SIGTTIN: cannot add a worker", "error", err)
		m.slots = m.slots[:i]
		m.emit(RemoveSlot{Slot: i})
		return
	}
	if m.phase == serving {
		m.start(s)
	}
}

// shrink removes the last slot (SIGTTOU): its worker retires. The pool
// never goes below one worker.
func (m *Model) shrink() {
	if len(m.slots) <= 1 {
		m.log.Warn("SIGTTOU ignored: one worker is the minimum")
		return
	}
	s := m.slots[len(m.slots)-1]
	m.slots = m.slots[:len(m.slots)-1]
	m.log.Info("removing a worker", "workers", len(m.slots))
	m.emit(RemoveSlot{Slot: s.index})
	if w := s.worker; w != nil {
		m.retire(w)
	} else {
		m.emit(SlotVacated{Slot: s.index})
	}
}

// stopGracefully stops accepting and asks every worker to finish its
// requests; what is left after ShutdownTimeout is killed.
func (m *Model) stopGracefully() {
	m.failUpgrade("the old master is stopping")
	m.reload = nil // its table, if loaded, is released with the others at exit
	if m.phase != delaying {
		m.emit(Notify{State: "STOPPING=1"})
	}
	m.phase = stopping
	m.stopBy = m.now.Add(m.cfg.ShutdownTimeout + time.Second)
	m.emit(StopAccepting{})
	for _, w := range m.liveWorkers() {
		if w.state != wDraining {
			w.state = wDraining
			w.retiredAt = m.now
			m.emit(Drain{ID: w.id})
		}
	}
}

// stopNow kills every worker.
func (m *Model) stopNow() {
	m.failUpgrade("the old master is stopping")
	m.reload = nil
	m.phase = stoppingNow
	m.emit(StopAccepting{})
	for _, w := range m.liveWorkers() {
		m.emit(Kill{ID: w.id})
	}
}

// liveWorkers lists the live workers in the order they were started.
func (m *Model) liveWorkers() []*worker {
	ws := make([]*worker, 0, len(m.live))
	for _, w := range m.live {
		ws = append(ws, w)
	}
	slices.SortFunc(ws, func(a, b *worker) int { return int(a.id - b.id) })
	return ws
}

// finish ends the master once a stop or a hand-over has no worker left.
func (m *Model) finish() {
	if len(m.live) > 0 {
		return
	}
	switch m.phase {
	case handingOver:
		m.emit(HandOver{}, Exit{})
	case stopping, stoppingNow:
		m.emit(Exit{Err: m.exitErr})
	default:
		return
	}
	m.phase = exited
}
