package master

import (
	"time"

	"github.com/freqd/freqd/table"
)

// A reload (SIGHUP) replaces the whole pool with a new generation on a
// freshly validated table, nginx's way: the new workers start beside the
// old ones, and only when every new worker serves are the old ones asked to
// drain. Connections made meanwhile are served by one generation or the
// other; none is refused, because the listeners never close. A table that
// fails validation changes nothing.
type reloadState struct {
	old      []*proc // the previous generation, serving until the new one is ready
	oldGen   uint64
	oldTable *table.Served
	timer    *time.Timer
	again    bool // another SIGHUP arrived meanwhile
}

// startReload begins a reload, or, if one is under way, notes that another
// is wanted once it is done: a burst of SIGHUPs ends with one generation on
// the newest data, not with a pile of half-started ones.
func (m *Master) startReload() {
	if m.upgrade != nil {
		m.log.Warn("SIGHUP ignored during an upgrade")
		return
	}
	if m.reload != nil {
		m.reload.again = true
		m.log.Info("SIGHUP during a reload; will reload again when it is done")
		return
	}
	t, err := table.Load(m.cfg.Data)
	if err != nil {
		m.stats.failedReloads++
		m.log.Error("reload failed; still serving the old table", "error", err)
		return
	}
	r := &reloadState{oldTable: m.served, oldGen: m.gen}
	m.served = t
	m.gen++
	for _, s := range m.pool {
		if s.proc != nil {
			s.proc.slot = nil // no longer the slot's worker: not restarted if it dies
			s.proc.home = s
			r.old = append(r.old, s.proc)
			s.proc = nil
		}
		s.failures = 0
	}
	m.reload = r
	m.notify("RELOADING=1", monotonicUsec())
	gen := m.gen
	r.timer = time.AfterFunc(readyWait, func() { m.events <- event{kind: evReloadTimeout, gen: gen} })
	m.log.Info("reloading", "generation", m.gen, "words", t.Table.Len(), "table_bytes", t.Table.Size())
	for _, s := range m.pool {
		if err := m.startWorker(s); err != nil {
			m.log.Error("cannot start worker; will retry", "slot", s.index, "error", err)
			s.failures++
			m.scheduleStart(s)
		}
	}
}

// checkReload finishes a reload once every worker of the new generation
// serves: the old generation drains, its table is released.
func (m *Master) checkReload() {
	r := m.reload
	if r == nil || !m.poolReady() {
		return
	}
	r.timer.Stop()
	for _, p := range r.old {
		m.retire(p)
	}
	r.oldTable.Close()
	m.reload = nil
	m.stats.reloads++
	m.notify("READY=1")
	m.log.Info("reloaded", "generation", m.gen, "workers", len(m.pool), "draining", len(r.old))
	if r.again {
		m.startReload()
	}
}

// reloadTimedOut gives up on a new generation that did not become ready:
// its workers are killed and the old generation, still serving, stays.
func (m *Master) reloadTimedOut(gen uint64) {
	r := m.reload
	if r == nil || gen != m.gen {
		return
	}
	m.stats.failedReloads++
	m.log.Error("reload failed: new workers not ready in time; keeping the old generation", "generation", m.gen, "wait", readyWait)
	for _, s := range m.pool {
		if s.proc != nil {
			s.proc.slot = nil
			s.proc.cmd.Process.Kill()
			s.proc = nil
		}
		s.pending = false
	}
	m.served.Close()
	m.served = r.oldTable
	for _, p := range r.old {
		if h := p.home; h != nil && m.inPool(h) && h.proc == nil {
			p.slot, h.proc = h, p
		} else {
			m.retire(p)
		}
	}
	for _, s := range m.pool {
		if s.proc == nil {
			m.scheduleStart(s)
		}
	}
	m.gen = r.oldGen
	m.reload = nil
	m.notify("READY=1")
}
