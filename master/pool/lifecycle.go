package pool

import (
	"fmt"
	"time"
)

// A reload (SIGHUP) replaces the whole pool with a new generation on a
// freshly validated table, nginx's way: the new workers start beside the
// old ones, and only when every new worker serves are the old ones retired
// (they hand their keep-alive connections back between requests).
// Connections made meanwhile are served by one generation or the other;
// none is refused, because the listeners never close. A table that fails
// validation changes nothing. A burst of SIGHUPs ends with one generation
// on the newest data, not a pile of half-started ones. A new generation
// not ready within ReadyWait is killed and the old one, still serving,
// stays.

func (m *Model) startReload() {
	switch {
	case m.upgrade != nil:
		m.log.Warn("SIGHUP ignored during an upgrade")
		return
	case m.reload != nil:
		m.reload.again = true
		m.log.Info("SIGHUP during a reload; will reload again when it is done")
		return
	}
	m.reload = &reloadState{loading: true}
	m.emit(LoadTable{Generation: m.gen + 1})
}

// tableLoaded continues a reload once its table is loaded, or ends it if
// the table is bad.
func (m *Model) tableLoaded(gen uint64, err error) {
	r := m.reload
	if r == nil || !r.loading || gen != m.gen+1 {
		if err == nil {
			m.emit(ReleaseTable{Generation: gen}) // nobody will serve it
		}
		return
	}
	if err != nil {
		m.stats.FailedReloads++
		m.reload = nil
		if m.broken == m.gen {
			m.log.Error("reload failed, and no worker can serve the old table either: put a good data file in place and send SIGHUP again", "error", err)
		} else {
			m.log.Error("reload failed; still serving the old table", "error", err)
		}
		m.applyResize()
		return
	}
	if m.phase != serving {
		m.reload = nil
		m.emit(ReleaseTable{Generation: gen})
		return
	}
	r.loading = false
	r.oldGen, r.gen = m.gen, gen
	r.deadline = m.now.Add(m.cfg.ReadyWait)
	m.gen = gen
	m.emit(Notify{State: "RELOADING=1"})
	m.log.Info("reloading", "generation", m.gen)
	for _, s := range m.slots {
		if w := s.worker; w != nil {
			// No longer the slot's worker: not restarted if it dies.
			w.slot = nil
			r.old = append(r.old, w.id)
			s.worker = nil
		}
		s.failures = 0
		s.restartAt = time.Time{}
		m.start(s)
	}
}

// checkReload finishes a reload once every worker of the new generation
// serves: the old generation retires and its table is released.
func (m *Model) checkReload() {
	r := m.reload
	if r == nil || r.loading || !m.poolReady() {
		return
	}
	for _, id := range r.old {
		if w := m.live[id]; w != nil {
			m.retire(w)
		}
	}
	m.reload = nil
	m.stats.Reloads++
	m.emit(ReleaseTable{Generation: r.oldGen}, Notify{State: "READY=1"})
	m.log.Info("reloaded", "generation", m.gen, "workers", len(m.slots), "draining", len(r.old))
	m.applyResize()
	if r.again {
		m.startReload()
	}
}

// reloadTimedOut gives up on a new generation that did not become ready:
// its workers are killed and the old generation, still serving, goes back
// into the slots it served.
func (m *Model) reloadTimedOut() {
	r := m.reload
	m.stats.FailedReloads++
	m.log.Error("reload failed: new workers not ready in time; keeping the old generation",
		"generation", m.gen, "wait", m.cfg.ReadyWait)
	for _, s := range m.slots {
		if w := s.worker; w != nil {
			w.slot = nil
			s.worker = nil
			m.emit(Kill{ID: w.id})
		}
		s.restartAt = time.Time{}
	}
	m.emit(ReleaseTable{Generation: r.gen})
	m.gen = r.oldGen
	m.reload = nil
	for _, id := range r.old {
		w := m.live[id]
		switch {
		case w == nil:
		case w.home < len(m.slots) && m.slots[w.home].worker == nil:
			w.slot = m.slots[w.home]
			w.slot.worker = w
		default:
			m.retire(w)
		}
	}
	for _, s := range m.slots {
		if s.worker == nil {
			m.scheduleRestart(s)
		}
	}
	m.emit(Notify{State: "READY=1"})
	m.applyResize()
}

// applyResize carries out the SIGTTIN and SIGTTOU that arrived during a
// reload.
func (m *Model) applyResize() {
	for ; m.resize > 0; m.resize-- {
		m.grow()
	}
	for ; m.resize < 0; m.resize++ {
		m.shrink()
	}
}

// A binary upgrade (SIGUSR2) follows nginx and unicorn: the executor starts
// the binary at the master's path as a new master that inherits every
// socket. Only once it serves does this master stop accepting and retire
// its workers, whose connections go to the new master with whatever is
// still queued, so the switch loses no request. A new master that exits or
// is not ready within ReadyWait changes nothing: this one goes on serving.

func (m *Model) startUpgrade() {
	switch {
	case m.upgrade != nil:
		m.log.Warn("SIGUSR2 ignored: an upgrade is already under way", "new_pid", m.upgrade.pid)
		return
	case m.reload != nil:
		m.log.Warn("SIGUSR2 ignored during a reload; send it again once the reload is done")
		return
	}
	m.upgrade = &upgradeState{deadline: m.now.Add(m.cfg.ReadyWait)}
	m.emit(StartSuccessor{})
}

func (m *Model) successorStarted(pid int, err error) {
	u := m.upgrade
	if u == nil {
		return
	}
	if err != nil {
		m.upgrade = nil
		m.log.Error("upgrade failed; still serving", "error", err)
		return
	}
	u.pid = pid
	m.log.Info("upgrading: new master started", "new_pid", pid)
}

// successorReady hands over: stop accepting, retire every worker; the
// connections they hand back go to the new master.
func (m *Model) successorReady() {
	u := m.upgrade
	if u == nil || m.phase != serving {
		return
	}
	m.upgrade = nil
	m.phase = handingOver
	m.log.Info("new master serves; handing over", "new_pid", u.pid)
	m.emit(StopAccepting{})
	for _, w := range m.liveWorkers() {
		m.retire(w)
	}
}

func (m *Model) successorExited(st Status) {
	if m.upgrade != nil {
		m.failUpgrade("new master exited: " + st.String())
	}
}

// failUpgrade forgets a new master that died, was not ready in time, or
// is no longer wanted.
func (m *Model) failUpgrade(why string) {
	if m.upgrade == nil {
		return
	}
	m.upgrade = nil
	m.emit(KillSuccessor{})
	m.log.Error("upgrade failed; the old master goes on serving", "reason", why)
}

// tick runs whatever is due: delayed restarts, timeouts, the watchdog.
func (m *Model) tick(beats map[WorkerID]time.Duration) {
	for _, s := range m.slots {
		if !s.restartAt.IsZero() && !m.now.Before(s.restartAt) && s.worker == nil && m.phase <= delaying {
			m.start(s)
		}
	}
	switch {
	case m.phase == starting && !m.now.Before(m.startBy):
		m.exitErr = fmt.Errorf("workers not ready after %s; see the worker errors above", m.cfg.ReadyWait)
		m.stopNow()
	case m.phase == delaying && !m.now.Before(m.delayUntil):
		m.log.Info("shutdown delay over; draining", "timeout", m.cfg.ShutdownTimeout)
		m.stopGracefully()
	case m.phase == stopping && !m.now.Before(m.stopBy):
		m.log.Warn("workers still running after the shutdown timeout; killing them", "workers", len(m.live))
		for _, w := range m.liveWorkers() {
			m.emit(Kill{ID: w.id})
		}
		m.stopBy = m.now.Add(5 * time.Second)
	}
	if r := m.reload; r != nil && !r.loading && m.phase == serving && !m.now.Before(r.deadline) {
		m.reloadTimedOut()
	}
	if u := m.upgrade; u != nil && !m.now.Before(u.deadline) {
		m.failUpgrade(fmt.Sprintf("new master not ready within %s", m.cfg.ReadyWait))
	}
	if !m.now.Before(m.lastWatch.Add(m.cfg.WatchEvery)) {
		m.watchdog(beats)
	}
}

// watchdog replaces hung workers. A worker whose heartbeat is older than
// WorkerTimeout gets Abort (SIGABRT, so the Go runtime prints every
// goroutine before it dies), then Kill AbortGrace later if it is still
// there. A worker that does not become ready within ReadyWait is hung
// too, and so is one that has been draining for longer than
// ShutdownTimeout. If the master itself was stopped or starved (SIGSTOP,
// a paused VM), its view of the heartbeats is stale, not the workers: every
// worker gets a fresh WorkerTimeout before it is judged.
func (m *Model) watchdog(beats map[WorkerID]time.Duration) {
	if gap := m.now.Sub(m.lastWatch); gap > 3*m.cfg.WatchEvery {
		m.log.Warn("master was suspended; not judging worker heartbeats for one timeout", "gap", gap.Round(time.Millisecond))
		m.watchGrace = m.now.Add(m.cfg.WorkerTimeout)
	}
	m.lastWatch = m.now
	judge := !m.now.Before(m.watchGrace)
	for _, w := range m.liveWorkers() {
		switch {
		case !w.aborted.IsZero():
			if m.now.Sub(w.aborted) > m.cfg.AbortGrace {
				m.emit(Kill{ID: w.id})
			}
		case w.state == wRetiring || w.state == wDraining:
			// A draining worker ends its connections after ShutdownTimeout
			// itself; one that does not is stuck.
			if m.now.Sub(w.retiredAt) > m.cfg.ShutdownTimeout+m.cfg.AbortGrace {
				m.log.Warn("draining worker did not exit in time; killing it", "pid", w.pid)
				w.aborted = m.now
				m.emit(Kill{ID: w.id})
			}
		case !w.ready && judge && m.now.Sub(w.started) > m.cfg.ReadyWait:
			m.log.Error("worker not ready in time; killing it", "slot", w.home, "pid", w.pid, "wait", m.cfg.ReadyWait)
			w.aborted = m.now
			m.emit(Kill{ID: w.id})
		case w.ready && judge:
			if age, ok := beats[w.id]; ok && age > m.cfg.WorkerTimeout {
				m.log.Error("worker hung: no heartbeat; aborting it", "slot", w.home, "pid", w.pid,
					"heartbeat_age", age.Round(time.Millisecond), "timeout", m.cfg.WorkerTimeout)
				w.aborted = m.now
				m.emit(Abort{ID: w.id})
			}
		}
	}
}

// Deadline is when the model next wants a Tick if nothing else happens.
func (m *Model) Deadline() time.Time {
	d := m.lastWatch.Add(m.cfg.WatchEvery)
	earlier := func(t time.Time) {
		if !t.IsZero() && t.Before(d) {
			d = t
		}
	}
	for _, s := range m.slots {
		earlier(s.restartAt)
	}
	if m.phase == starting {
		earlier(m.startBy)
	}
	if m.phase == stopping {
		earlier(m.stopBy)
	}
	if m.phase == delaying {
		earlier(m.delayUntil)
	}
	if r := m.reload; r != nil && !r.loading {
		earlier(r.deadline)
	}
	if u := m.upgrade; u != nil {
		earlier(u.deadline)
	}
	return d
}

// Route says where connections handed back by retiring workers go.
type Route int

const (
	// Hold: keep them until a worker of the current generation is ready.
	Hold Route = iota
	// ToPool: give them to the ready workers Handoffs lists.
	ToPool
	// ToSuccessor: pass them to the new master of an upgrade.
	ToSuccessor
	// Close: the server is stopping and nobody will serve them.
	Close
)

// Handoffs says where handed-back connections go now and, for ToPool,
// which workers may take them: the ready workers of the current generation
// in the pool's slots.
func (m *Model) Handoffs() (Route, []WorkerID) {
	switch m.phase {
	case handingOver:
		return ToSuccessor, nil
	case stopping, stoppingNow, exited:
		return Close, nil
	}
	var ids []WorkerID
	for _, s := range m.slots {
		if w := s.worker; w != nil && w.ready && w.gen == m.gen {
			ids = append(ids, w.id)
		}
	}
	if len(ids) == 0 {
		return Hold, nil
	}
	return ToPool, ids
}

// WorkerInfo describes a live worker to the executor.
type WorkerInfo struct {
	ID         WorkerID
	PID        int
	Slot       int // the slot it was started in
	Generation uint64
	Entry      int
	Ready      bool
	InPool     bool // it serves a slot of the pool (not retiring, not of an old generation)
}

// Live lists the live workers, in the order they were started.
func (m *Model) Live() []WorkerInfo {
	var out []WorkerInfo
	for _, w := range m.liveWorkers() {
		out = append(out, WorkerInfo{ID: w.id, PID: w.pid, Slot: w.home, Generation: w.gen, Entry: w.entry,
			Ready: w.ready, InPool: w.slot != nil && w.slot.worker == w})
	}
	return out
}

// Stats returns a copy of the model's counters.
func (m *Model) Stats() Stats {
	st := m.stats
	st.Generation = m.gen
	st.Workers = len(m.slots)
	st.Restarts = make(map[string]uint64, len(m.stats.Restarts))
	for k, v := range m.stats.Restarts {
		st.Restarts[k] = v
	}
	return st
}

// Ready reports whether the server should be sent clients, and why not:
// the first generation serves, at least one worker of the current
// generation is ready, its table is usable, and no stop has begun. What a
// load balancer's health check (/readyz) asks.
func (m *Model) Ready() (bool, string) {
	switch m.phase {
	case starting:
		return false, "starting: the workers are not ready yet"
	case delaying:
		return false, "stopping: serving until the shutdown delay is over, then draining"
	case handingOver, stopping, stoppingNow, exited:
		return false, "stopping"
	}
	if m.broken == m.gen {
		return false, "the data file is damaged: no worker can serve it"
	}
	if r, _ := m.Handoffs(); r != ToPool {
		return false, "no worker of the current generation is ready"
	}
	return true, "ready"
}

// Slots is the number of slots in the pool.
func (m *Model) Slots() int { return len(m.slots) }
