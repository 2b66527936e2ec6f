package master

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
	"time"
)

// The watchdog replaces hung workers. Heartbeats live in the shared
// scoreboard, not in files (PITFALLS #20): a worker whose heartbeat is older
// than WorkerTimeout gets SIGABRT, so the Go runtime prints every goroutine
// to the log before it dies, then SIGKILL if it is still there abortGrace
// later (a stopped process cannot act on SIGABRT). Its exit is then handled
// like any other: it is replaced.
const (
	watchEvery = time.Second
	abortGrace = 3 * time.Second
)

// watchdog runs once per watchEvery on the Run goroutine.
func (m *Master) watchdog() {
	now := time.Now()
	// If the master itself was stopped or starved (SIGSTOP, a paused VM),
	// its view of the heartbeats is stale, not the workers: give every
	// worker a fresh WorkerTimeout before judging it.
	if gap := now.Sub(m.lastWatch); !m.lastWatch.IsZero() && gap > 3*watchEvery {
		m.log.Warn("master was suspended; not judging worker heartbeats for one timeout", "gap", gap.Round(time.Millisecond))
		m.watchGrace = now.Add(m.cfg.WorkerTimeout)
	}
	m.lastWatch = now
	for _, p := range m.procs() {
		switch {
		case !p.aborted.IsZero():
			if now.Sub(p.aborted) > abortGrace {
				p.cmd.Process.Signal(syscall.SIGKILL)
			}
		case !p.drainAt.IsZero():
			// A draining worker ends its connections after ShutdownTimeout
			// itself; one that does not is stuck.
			if now.Sub(p.drainAt) > m.cfg.ShutdownTimeout+abortGrace {
				m.log.Warn("draining worker did not exit in time; killing it", "pid", p.pid())
				p.cmd.Process.Signal(syscall.SIGKILL)
				p.aborted = now
			}
		case !p.ready && now.Sub(p.started) > readyWait && now.After(m.watchGrace):
			// Hung while starting: the same verdict as a silent worker.
			m.log.Error("worker not ready in time; killing it", "slot", p.slotIndex(), "pid", p.pid(), "wait", readyWait)
			p.aborted = now
			p.cmd.Process.Signal(syscall.SIGKILL)
		case p.ready && now.After(m.watchGrace):
			if age := m.board.HeartbeatAge(p.board); age > m.cfg.WorkerTimeout {
				p.aborted = now
				if stopped(p.pid()) {
					// A stopped process cannot act on SIGABRT: no dump to
					// wait for.
					m.log.Error("worker hung: stopped (SIGSTOP?); killing it", "slot", p.slotIndex(),
						"pid", p.pid(), "heartbeat_age", age.Round(time.Millisecond), "timeout", m.cfg.WorkerTimeout)
					p.cmd.Process.Signal(syscall.SIGKILL)
					continue
				}
				m.log.Error("worker hung: no heartbeat; aborting it for a goroutine dump", "slot", p.slotIndex(),
					"pid", p.pid(), "heartbeat_age", age.Round(time.Millisecond), "timeout", m.cfg.WorkerTimeout)
				p.cmd.Process.Signal(syscall.SIGABRT)
			}
		}
	}
}

// stopped reports whether a process is in the stopped state (T in
// /proc/PID/stat), as SIGSTOP leaves it.
func stopped(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && i+2 < len(b) && (b[i+2] == 'T' || b[i+2] == 't')
}
