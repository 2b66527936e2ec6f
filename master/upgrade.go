package master

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/freqd/freqd/fdpass"
	"github.com/freqd/freqd/handler"
	"github.com/freqd/freqd/internal/pidfile"
	"github.com/freqd/freqd/listen"
	"github.com/freqd/freqd/worker"
)

// A binary upgrade (SIGUSR2) follows nginx and unicorn: the master executes
// the binary at its path again, a new master, handing it every listening
// socket (listen.ListenFDsEnv names them). The new master validates its data,
// starts its workers, writes the pidfile, and says so on a pipe
// (UpgradeFDEnv). Only then does the old master stop accepting and retire
// its workers; the keep-alive connections they hand back, and descriptors
// still in its fdpass queue, go to the new master over a socket
// (HandoffFDEnv), so the switch loses no request. A new master that exits or
// is not ready in time changes nothing: the old one goes on serving.
// Environment variables of the upgrade protocol, besides the sockets
// (listen.ListenFDsEnv) and the pidfile (pidfile.FDEnv).
const (
	// UpgradeFDEnv names the pipe on which a new master reports that it
	// serves.
	UpgradeFDEnv = "FREQD_UPGRADE_FD"
	// HandoffFDEnv names the socket on which the old master passes the new
	// one the connections its workers hand back.
	HandoffFDEnv = "FREQD_HANDOFF_FD"
)

type upgradeState struct {
	cmd     *exec.Cmd
	handoff *net.UnixConn // the old master's end of the handoff socket
	timer   *time.Timer
}

func (m *Master) startUpgrade() {
	if m.upgrade != nil {
		m.log.Warn("SIGUSR2 ignored: an upgrade is already under way", "new_pid", m.upgrade.cmd.Process.Pid)
		return
	}
	if m.reload != nil {
		m.log.Warn("SIGUSR2 ignored during a reload; send it again once the reload is done")
		return
	}
	u, err := m.spawnSuccessor()
	if err != nil {
		m.log.Error("upgrade failed; still serving", "error", err)
		return
	}
	m.upgrade = u
	m.log.Info("upgrading: new master started", "binary", m.upgradeExe, "new_pid", u.cmd.Process.Pid)
}

func (m *Master) spawnSuccessor() (*upgradeState, error) {
	var files []*os.File
	var entries []string
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	pass := func(f *os.File, err error, key string) error {
		if err != nil {
			return err
		}
		entries = append(entries, fmt.Sprintf("%d=%s", 3+len(files), key))
		files = append(files, f)
		return nil
	}
	var socks []*listen.Socket
	socks = append(socks, m.listeners...)
	socks = append(socks, m.datagrams...)
	for _, slot := range m.portSockets {
		socks = append(socks, slot...)
	}
	for _, s := range socks {
		f, err := s.File()
		if err := pass(f, err, s.Key()); err != nil {
			return nil, err
		}
	}
	if m.metricsLn != nil {
		fd, err := listen.DupDescriptor(m.metricsLn.(syscall.Conn))
		if err := pass(os.NewFile(uintptr(fd), metricsKey), err, metricsKey); err != nil {
			return nil, err
		}
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	mine, theirs, err := fdpass.Socketpair()
	if err != nil {
		readyR.Close()
		return nil, err
	}
	upgradeFD := 3 + len(files)
	files = append(files, readyW, theirs)
	handoffFD := upgradeFD + 1
	env := []string{
		listen.ListenFDsEnv + "=" + strings.Join(entries, ","),
		UpgradeFDEnv + "=" + strconv.Itoa(upgradeFD),
		HandoffFDEnv + "=" + strconv.Itoa(handoffFD),
	}
	extra := files // closed here once the child has them: all but the pidfile
	if m.pidfile != nil {
		env = append(env, pidfile.FDEnv+"="+strconv.Itoa(3+len(files)))
		extra = append(extra[:len(extra):len(extra)], m.pidfile.Handoff())
	}

	cmd := exec.Command(m.upgradeExe, os.Args[1:]...)
	if m.cfg.RequirePass != "" {
		// The password may have come from FREQD_REQUIREPASS, which serve
		// removes from its environment: the successor must get it too, or
		// it would serve without one.
		env = append(env, "FREQD_REQUIREPASS="+m.cfg.RequirePass)
	}
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.ExtraFiles = extra
	if err := cmd.Start(); err != nil {
		readyR.Close()
		mine.Close()
		return nil, fmt.Errorf("start %s: %w", m.upgradeExe, err)
	}
	handoff, err := fdpass.FileConn(mine)
	if err != nil {
		cmd.Process.Kill()
		readyR.Close()
		return nil, err
	}
	u := &upgradeState{cmd: cmd, handoff: handoff}
	go func() {
		defer readyR.Close()
		b := make([]byte, 1)
		if n, _ := readyR.Read(b); n == 1 && b[0] == worker.MsgReady {
			m.events <- event{kind: evUpgradeReady, upgrade: u}
		}
	}()
	go func() {
		cmd.Wait()
		m.events <- event{kind: evUpgradeExit, state: cmd.ProcessState, upgrade: u}
	}()
	u.timer = time.AfterFunc(readyWait, func() { m.events <- event{kind: evUpgradeTimeout, upgrade: u} })
	return u, nil
}

// upgradeFailed forgets a new master that died or never became ready.
func (m *Master) upgradeFailed(why string) {
	u := m.upgrade
	if u == nil {
		return
	}
	u.timer.Stop()
	u.cmd.Process.Kill()
	u.handoff.Close()
	m.upgrade = nil
	m.log.Error("upgrade failed; the old master goes on serving", "reason", why)
}

// handOver ends this master once its successor serves: stop accepting,
// retire every worker (they hand their connections back between requests),
// pass everything handed back and everything still queued to the new
// master, and exit without removing the socket files or the pidfile.
func (m *Master) handOver() {
	u := m.upgrade
	u.timer.Stop()
	m.upgraded = true
	m.stopping = true
	m.log.Info("new master serves; handing over", "new_pid", u.cmd.Process.Pid)
	for _, l := range m.listeners {
		l.Close() // our descriptor only: the new master holds the sockets
	}
	m.stopDispatch()
	procs := m.procs()
	for _, p := range procs {
		fdpass.Send(p.ctl, []byte{worker.MsgRetire})
	}
	m.awaitExit(procs, func(h handoff) { m.forward(u, h) })
	// Handbacks sent just before a worker exited are read by its control
	// reader after the exit is reported; collect what is still coming.
	for drained := false; !drained; {
		select {
		case ev := <-m.events:
			if ev.kind == evHandoff {
				m.forward(u, ev.conn)
			}
		case <-time.After(100 * time.Millisecond):
			drained = true
		}
	}
	for _, h := range m.handoffs {
		m.forward(u, h)
	}
	m.handoffs = nil
	for _, q := range m.queues {
		q.drain(func(h handoff) { m.forward(u, h) })
	}
	u.handoff.Close()
	m.closeAll()
	m.log.Info("stopped after handing over", "new_pid", u.cmd.Process.Pid)
}

func (m *Master) forward(u *upgradeState, h handoff) {
	if err := fdpass.Send(u.handoff, append([]byte{worker.MsgConn}, h.state...), h.fd); err != nil {
		m.log.Warn("cannot pass a connection to the new master; closing it", "error", err)
	}
	h.close()
}

// adoptPredecessor is the new master's side: it reports readiness to the old
// master and serves the connections the old master hands over.
func (m *Master) adoptPredecessor() {
	if v := os.Getenv(HandoffFDEnv); v != "" {
		os.Unsetenv(HandoffFDEnv)
		if fd, err := strconv.Atoi(v); err == nil {
			unix.CloseOnExec(fd)
			if c, err := fdpass.FileConn(os.NewFile(uintptr(fd), "handoff")); err == nil {
				go func() {
					defer c.Close()
					buf := make([]byte, 1+handler.MaxStateSize)
					for {
						n, fds, err := fdpass.Recv(c, buf, 1)
						if err != nil {
							return // the old master is gone
						}
						var state []byte
						if n > 1 {
							state = bytes.Clone(buf[1:n])
						}
						for _, fd := range fds {
							m.events <- event{kind: evHandoff, conn: handoff{fd: fd, state: state}}
						}
					}
				}()
			}
		}
	}
	if v := os.Getenv(UpgradeFDEnv); v != "" {
		os.Unsetenv(UpgradeFDEnv)
		if fd, err := strconv.Atoi(v); err == nil {
			f := os.NewFile(uintptr(fd), "upgrade")
			f.Write([]byte{worker.MsgReady})
			f.Close()
		}
	}
}
