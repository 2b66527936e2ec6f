package master

import (
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/internal/procstat"
	"github.com/freqd/freqd/master/pool"
	"github.com/freqd/freqd/worker/control"
)

// perform carries out one action of the model. Actions that have an answer
// (a process started or not, a table loaded or not) queue it with answer.
func (m *Master) perform(a pool.Action) {
	now := time.Now()
	switch a := a.(type) {
	case pool.StartWorker:
		pid, err := m.startWorker(a)
		if err != nil {
			m.answer(pool.NewStartFailed(now, a.ID, err))
		} else {
			m.answer(pool.NewStarted(now, a.ID, pid))
		}
	case pool.Retire:
		m.tell(a.ID, control.MsgRetire)
	case pool.Drain:
		m.tell(a.ID, control.MsgDrain)
	case pool.Abort:
		m.abort(a.ID)
	case pool.Kill:
		m.signal(a.ID, syscall.SIGKILL)
	case pool.ClearEntry:
		m.board.Retire(a.Entry)
	case pool.LoadTable:
		t, err := m.loadTable()
		if err == nil {
			m.tables[a.Generation] = t
			m.log.Info("table loaded", "generation", a.Generation, "words", t.Table.Len(), "table_bytes", t.Table.Size())
		}
		m.answer(pool.NewTableLoaded(now, a.Generation, err))
	case pool.ReleaseTable:
		if t := m.tables[a.Generation]; t != nil {
			t.Close()
			delete(m.tables, a.Generation)
		}
	case pool.AddSlot:
		m.answer(pool.NewSlotAdded(now, a.Slot, m.addSlot(a.Slot)))
	case pool.RemoveSlot:
		if m.cfg.Mode == mode.ReusePort {
			m.removePortSockets(a.Slot)
		}
	case pool.SlotVacated:
		// In least-loaded mode a removed slot's queue may still hold
		// connections nobody will read: serve them elsewhere.
		if m.cfg.Dispatch == DispatchLeastLoaded && a.Slot < len(m.queues) && a.Slot > 0 {
			m.queues[a.Slot].drain(func(h handoff) { m.handoffs = append(m.handoffs, h) })
		}
	case pool.Serving:
		m.serving()
	case pool.StopAccepting:
		m.stopAccepting()
		for _, l := range m.listeners {
			l.Close() // this master's descriptor only; a successor holds its own
		}
	case pool.Notify:
		m.notify(a.State)
	case pool.StartSuccessor:
		pid, err := m.startSuccessor()
		m.answer(pool.NewSuccessorStarted(now, pid, err))
	case pool.KillSuccessor:
		m.killSuccessor()
	case pool.HandOver:
		m.handOver()
	case pool.Exit:
		m.done = true
		if m.exitErr == nil {
			m.exitErr = a.Err
		}
		if a.Err == nil {
			m.log.Info("stopped")
		}
	default:
		panic(fmt.Sprintf("master: no executor for %T", a))
	}
}

// addSlot makes what a new slot needs before its worker starts.
func (m *Master) addSlot(i int) error {
	switch {
	case m.cfg.Mode == mode.ReusePort:
		return m.addPortSockets(i)
	case m.cfg.Mode == mode.FDPass && m.cfg.Dispatch == DispatchLeastLoaded:
		_, err := m.queueFor(i)
		return err
	}
	return nil
}

// tell sends a worker a one-byte control message.
func (m *Master) tell(id pool.WorkerID, msg byte) {
	if p := m.procs[id]; p != nil {
		if err := p.send([]byte{msg}, -1); err != nil {
			m.log.Debug("worker gone before the message", "pid", p.pid(), "message", string(msg), "error", err)
		}
	}
}

// signal sends a worker a signal.
func (m *Master) signal(id pool.WorkerID, sig syscall.Signal) {
	if p := m.procs[id]; p != nil {
		p.cmd.Process.Signal(sig)
	}
}

// abort ends a hung worker with SIGABRT, for the goroutine dump the Go
// runtime prints, or with SIGKILL when it is stopped (SIGSTOP) and could
// not act on SIGABRT.
func (m *Master) abort(id pool.WorkerID) {
	p := m.procs[id]
	if p == nil {
		return
	}
	if st, err := procstat.Read(p.pid()); err == nil && st.Stopped() {
		m.log.Error("hung worker is stopped (SIGSTOP?); killing it", "pid", p.pid())
		p.cmd.Process.Signal(syscall.SIGKILL)
		return
	}
	p.cmd.Process.Signal(syscall.SIGABRT)
}

// statusOf tells how a process ended.
func statusOf(st *os.ProcessState) pool.Status {
	if st == nil {
		return pool.Status{Code: -1}
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return pool.Status{Signal: ws.Signal()}
	}
	return pool.Status{Code: st.ExitCode(), TableUnusable: st.ExitCode() == control.ExitTableUnusable}
}
