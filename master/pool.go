package master

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/freqd/freqd/handler"
	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/listen"

	"github.com/freqd/freqd/fdpass"
	"github.com/freqd/freqd/shm/scoreboard"
	"github.com/freqd/freqd/worker"
)

// Restart back-off: a worker that dies within quickDeath of its start, or
// before it served, counts as failing; the n-th consecutive failure waits
// backoffBase·2^(n-2), capped at backoffMax. A worker that had been serving
// is replaced at once: its death says nothing about the next one.
const (
	quickDeath  = time.Second
	backoffBase = 100 * time.Millisecond
	backoffMax  = 30 * time.Second
)

// startWorker starts a worker process of the current generation in slot s.
func (m *Master) startWorker(s *slotState) error {
	s.pending = false
	board := m.allocBoard()
	if board < 0 {
		return fmt.Errorf("worker %d: no free scoreboard entry (%d in use)", s.index, scoreboard.MaxEntries)
	}
	ctlMaster, ctlWorker, err := fdpass.Socketpair()
	if err != nil {
		m.boardUse[board] = false
		return fmt.Errorf("worker %d: control socket: %w", s.index, err)
	}
	defer ctlWorker.Close()

	files := []*os.File{ctlWorker, m.served.File, m.boardFile}
	spec := worker.Spec{
		Slot: s.index, Board: board, Generation: m.gen, Mode: m.cfg.Mode,
		LogLevel: m.cfg.LogLevel, LogJSON: m.cfg.LogJSON,
		ControlFD: 3, TableFD: 4, ScoreboardFD: 5, QueueFD: -1,
		ShutdownTimeout: m.cfg.ShutdownTimeout, Timeouts: m.cfg.Timeouts,
		TableMapped: !m.served.Sealed,
		MaxRequests: m.cfg.MaxRequests, MaxClients: m.cfg.MaxClients, RequirePass: m.cfg.RequirePass,
	}
	// The listeners go to the worker as copies made for this start and
	// closed once it has begun. The master keeps its own descriptors out
	// of the runtime's poller (detach); an *os.File kept for the next
	// start would be registered there by os.NewFile, and wake the master
	// for every connection on a socket it never accepts on.
	var passed []*os.File
	defer func() {
		for _, f := range passed {
			f.Close()
		}
	}()
	addListener := func(l *listen.Socket) error {
		f, err := l.File()
		if err != nil {
			return fmt.Errorf("worker %d: %w", s.index, err)
		}
		passed = append(passed, f)
		spec.Listeners = append(spec.Listeners, worker.Inherited{FD: 3 + len(files), Addr: l.Address.String()})
		files = append(files, f)
		return nil
	}
	switch m.cfg.Mode {
	case mode.FDPass:
		q, err := m.queueFor(s.index)
		if err != nil {
			m.boardUse[board] = false
			return fmt.Errorf("worker %d: %w", s.index, err)
		}
		q.base.Store(q.sent.Load())
		spec.QueueFD = 3 + len(files)
		spec.QueueShared = m.cfg.Dispatch != DispatchLeastLoaded
		files = append(files, q.recv)
	case mode.Accept, mode.ReusePort:
		// In reuseport mode each slot has its own TCP sockets (slot 0 the
		// ones bound first); unix sockets are shared as in accept mode.
		var err error
		tcp := 0
		for _, l := range m.listeners {
			if m.cfg.Mode == mode.ReusePort && l.Address.Network == listen.TCP {
				if s.index > 0 {
					l = m.portSockets[s.index][tcp]
				}
				tcp++
			}
			if err = addListener(l); err != nil {
				break
			}
		}
		if err != nil {
			ctlMaster.Close()
			m.boardUse[board] = false
			return err
		}
	}
	n := len(files)
	files, spec.Datagrams, err = m.addDatagrams(files)
	passed = append(passed, files[n:]...)
	if err != nil {
		ctlMaster.Close()
		m.boardUse[board] = false
		return fmt.Errorf("worker %d: %w", s.index, err)
	}

	cmd := exec.Command(m.exe, "worker")
	cmd.Env = append(os.Environ(), worker.SpecEnv+"="+spec.Encode())
	// Workers write straight to the master's stdout and stderr: no pipe in
	// between that the master could fail to drain (PITFALLS #22).
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.ExtraFiles = files
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: m.cred}
	if err := m.spwn.start(cmd); err != nil {
		ctlMaster.Close()
		m.boardUse[board] = false
		return fmt.Errorf("worker %d: start %s: %w", s.index, m.exe, err)
	}
	ctl, err := fdpass.FileConn(ctlMaster)
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		m.boardUse[board] = false
		return fmt.Errorf("worker %d: control socket: %w", s.index, err)
	}
	p := &proc{slot: s, board: board, gen: m.gen, cmd: cmd, ctl: ctl, started: time.Now()}
	s.proc = p
	m.board.Assign(board, s.index, cmd.Process.Pid, m.gen, s.restarts)
	m.log.Debug("worker started", "slot", s.index, "pid", cmd.Process.Pid, "generation", m.gen, "board", board)

	go m.readControl(p)
	go func() {
		cmd.Wait()
		m.events <- event{kind: evExit, proc: p, state: cmd.ProcessState}
	}()
	return nil
}

// readControl turns a worker's control messages into events: ready, and
// connections a retiring worker hands back. It ends at EOF, once the worker
// is gone and every message it sent has been read, and only then closes
// the socket: closing it when Wait reports the exit could discard
// connections the worker handed back just before it exited.
func (m *Master) readControl(p *proc) {
	defer p.ctl.Close()
	buf := make([]byte, 1+handler.MaxStateSize)
	for {
		n, fds, err := fdpass.Recv(p.ctl, buf, 1)
		if err != nil {
			return
		}
		switch {
		case n > 0 && buf[0] == worker.MsgReady:
			m.events <- event{kind: evReady, proc: p}
		case n > 0 && buf[0] == worker.MsgConn && len(fds) == 1:
			m.events <- event{kind: evHandoff, proc: p, conn: handoff{fd: fds[0], state: bytes.Clone(buf[1:n])}}
		case n > 0 && buf[0] == worker.MsgRecycle:
			m.events <- event{kind: evRecycle, proc: p}
		default:
			for _, fd := range fds {
				syscall.Close(fd)
			}
		}
	}
}

func (m *Master) allocBoard() int {
	for i, used := range m.boardUse {
		if !used {
			m.boardUse[i] = true
			return i
		}
	}
	return -1
}

// handle applies one event to the supervisor's state; it runs only on the
// Run goroutine, so the state needs no lock.
func (m *Master) handle(ev event) {
	switch ev.kind {
	case evReady:
		ev.proc.ready = true
		m.log.Debug("worker ready", "slot", ev.proc.slotIndex(), "pid", ev.proc.pid(), "generation", ev.proc.gen)
		m.checkReload()
		m.dispatchHandoffs()
	case evStart:
		s := ev.slot
		if m.stopping || !s.pending || s.proc != nil || !m.inPool(s) {
			return
		}
		if err := m.startWorker(s); err != nil {
			m.log.Error("cannot start worker; will retry", "slot", s.index, "error", err)
			s.failures++
			m.scheduleStart(s)
		}
	case evReloadTimeout:
		m.reloadTimedOut(ev.gen)
	case evExit:
		m.reap(ev.proc, ev.state)
	case evHandoff:
		m.handoffs = append(m.handoffs, ev.conn)
		m.dispatchHandoffs()
	case evRecycle:
		m.recycle(ev.proc)
	case evUpgradeExit:
		if ev.upgrade == m.upgrade {
			m.upgradeFailed("new master exited: " + exitCause(ev.state))
		}
	case evUpgradeTimeout:
		if ev.upgrade == m.upgrade {
			m.upgradeFailed(fmt.Sprintf("new master not ready within %s", readyWait))
		}
	}
}

// reap forgets an exited worker and, if it was serving in the pool,
// replaces it.
func (m *Master) reap(p *proc, st *os.ProcessState) {
	m.board.Clear(p.board)
	m.boardUse[p.board] = false
	m.retiring = removeProc(m.retiring, p)
	if m.reload != nil {
		m.reload.old = removeProc(m.reload.old, p)
	}
	s := p.slot
	if s == nil || s.proc != p {
		// Retired, or of a generation being replaced. A slot removed by
		// SIGTTOU leaves a queue nobody reads: serve what waits in it.
		for i := len(m.pool); m.cfg.Dispatch == DispatchLeastLoaded && i < len(m.queues); i++ {
			m.queues[i].drain(func(h handoff) { m.handoffs = append(m.handoffs, h) })
		}
		m.dispatchHandoffs()
		return
	}
	s.proc = nil
	if m.stopping {
		return
	}
	cause := exitCause(st)
	if !p.aborted.IsZero() {
		cause = "hung (" + cause + ")"
	}
	m.stats.restarts[cause]++
	lived := time.Since(p.started)
	if lived < quickDeath || !p.ready {
		s.failures++
	} else {
		s.failures = 0
	}
	s.restarts++
	m.log.Warn("worker exited; replacing it", "slot", s.index, "pid", p.pid(), "cause", cause,
		"lived", lived.Round(time.Millisecond), "ready", p.ready, "delay", backoff(s.failures))
	m.scheduleStart(s)
	// A worker of the new generation that dies during a reload is replaced
	// like any other; the reload waits for the replacement.
}

func (p *proc) slotIndex() int {
	if p.slot == nil {
		return -1
	}
	return p.slot.index
}

func removeProc(ps []*proc, p *proc) []*proc {
	for i, q := range ps {
		if q == p {
			return append(ps[:i], ps[i+1:]...)
		}
	}
	return ps
}

func (m *Master) inPool(s *slotState) bool {
	return s.index < len(m.pool) && m.pool[s.index] == s
}

// scheduleStart restarts slot s now or after its back-off delay.
func (m *Master) scheduleStart(s *slotState) {
	s.pending = true
	d := backoff(s.failures)
	if d == 0 {
		if err := m.startWorker(s); err != nil {
			m.log.Error("cannot start worker; will retry", "slot", s.index, "error", err)
			s.failures++
			m.scheduleStart(s)
		}
		return
	}
	time.AfterFunc(d, func() { m.events <- event{kind: evStart, slot: s} })
}

// backoff is the delay before restarting a slot after n consecutive quick
// deaths: none for the first, then exponential.
func backoff(n int) time.Duration {
	if n <= 1 {
		return 0
	}
	d := backoffBase << min(n-2, 20)
	return min(d, backoffMax)
}

func exitCause(st *os.ProcessState) string {
	if st == nil {
		return "unknown"
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok {
		switch {
		case ws.Signaled():
			return "signal " + ws.Signal().String()
		case ws.Exited():
			return fmt.Sprintf("exit status %d", ws.ExitStatus())
		}
	}
	return st.String()
}

// retire asks a worker to drain and exit; it is not replaced.
func (m *Master) retire(p *proc) {
	if p.slot != nil && p.slot.proc == p {
		p.slot.proc = nil
	}
	p.slot = nil
	p.drainAt = time.Now()
	m.retiring = append(m.retiring, p)
	if err := fdpass.Send(p.ctl, []byte{worker.MsgRetire}); err != nil {
		m.log.Debug("worker gone before drain", "pid", p.pid(), "error", err)
	}
}

// grow adds one worker slot (SIGTTIN).
func (m *Master) grow() {
	if m.reload != nil {
		m.log.Warn("SIGTTIN ignored during a reload; send it again once the reload is done")
		return
	}
	if len(m.pool) >= scoreboard.MaxEntries/2 {
		m.log.Warn("SIGTTIN ignored: worker limit reached", "workers", len(m.pool))
		return
	}
	i := len(m.pool)
	if m.cfg.Mode == mode.ReusePort && len(m.portSockets) <= i {
		if err := m.addPortSockets(); err != nil {
			m.log.Error("SIGTTIN: cannot add a reuseport socket", "error", err)
			return
		}
	}
	s := &slotState{index: i}
	m.pool = append(m.pool, s)
	m.log.Info("adding a worker", "workers", len(m.pool))
	if err := m.startWorker(s); err != nil {
		m.log.Error("cannot start worker; will retry", "slot", i, "error", err)
		s.failures++
		m.scheduleStart(s)
	}
}

// shrink removes the last worker slot (SIGTTOU); its worker drains and
// exits. The pool never goes below one worker. In reuseport mode the slot's
// sockets are closed too, or the kernel would go on routing connections to
// a queue nobody accepts from; connections still in that queue when the
// worker exits are reset unless net.ipv4.tcp_migrate_req=1 (PITFALLS #14).
func (m *Master) shrink() {
	if m.reload != nil {
		m.log.Warn("SIGTTOU ignored during a reload; send it again once the reload is done")
		return
	}
	if len(m.pool) <= 1 {
		m.log.Warn("SIGTTOU ignored: one worker is the minimum")
		return
	}
	s := m.pool[len(m.pool)-1]
	m.pool = m.pool[:len(m.pool)-1]
	m.log.Info("removing a worker", "workers", len(m.pool))
	// The dispatcher must stop choosing the removed slot before its
	// worker retires and its queue is drained (least-loaded).
	m.publishTargets()
	if s.proc != nil {
		m.retire(s.proc)
	}
	if m.cfg.Mode == mode.ReusePort && len(m.portSockets) > len(m.pool) {
		i := len(m.pool)
		for _, s := range m.portSockets[i] {
			s.Close()
		}
		m.portSockets = m.portSockets[:i]
	}
}

// dispatchHandoffs passes the connections retiring workers handed back,
// each with its session's state, to workers of the current generation:
// through the queue in fdpass mode, else to the ready pool worker with the
// fewest open connections. They wait in the master while no such worker is
// ready (as during a restart).
func (m *Master) dispatchHandoffs() {
	for len(m.handoffs) > 0 {
		h := m.handoffs[0]
		if m.cfg.Mode == mode.FDPass && m.cfg.Dispatch == DispatchShared {
			m.handoffs = m.handoffs[1:]
			q := m.queues[0]
			payload := h.state
			if payload == nil {
				payload = newConnections // from a queue no worker reads: never served
			}
			go func() {
				if err := q.put(payload, h.fd); err != nil {
					m.log.Warn("cannot queue a handed-back connection; closing it", "error", err)
				}
				h.close()
			}()
			continue
		}
		var best *proc
		for _, s := range m.pool {
			p := s.proc
			if p == nil || !p.ready || p.gen != m.gen {
				continue
			}
			if best == nil || m.board.Snapshot(p.board).Open < m.board.Snapshot(best.board).Open {
				best = p
			}
		}
		if best == nil {
			return
		}
		m.handoffs = m.handoffs[1:]
		if err := fdpass.Send(best.ctl, append([]byte{worker.MsgConn}, h.state...), h.fd); err != nil {
			m.log.Warn("cannot hand a connection to a worker; closing it", "pid", best.pid(), "error", err)
		}
		h.close()
	}
}

// recycle replaces a worker that served --max-requests: a fresh one starts
// in its slot at once and the old one retires, handing its connections back
// between requests, so recycling costs no request.
func (m *Master) recycle(p *proc) {
	s := p.slot
	if m.stopping || s == nil || s.proc != p || m.reload != nil {
		return
	}
	m.log.Info("recycling worker after max requests", "slot", s.index, "pid", p.pid())
	m.stats.restarts["max requests"]++
	m.retire(p)
	s.restarts++
	if err := m.startWorker(s); err != nil {
		m.log.Error("cannot start worker; will retry", "slot", s.index, "error", err)
		s.failures++
		m.scheduleStart(s)
	}
}
