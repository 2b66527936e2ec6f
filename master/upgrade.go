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
	"github.com/freqd/freqd/internal/childproc"
	"github.com/freqd/freqd/internal/pidfile"
	"github.com/freqd/freqd/listen"
	"github.com/freqd/freqd/master/pool"
	"github.com/freqd/freqd/worker/control"
)

// A binary upgrade (SIGUSR2) follows nginx and unicorn: the master
// executes the binary at its path again, a new master, handing it every
// socket (listen.ListenFDsEnv names them) and the locked pidfile
// (pidfile.FDEnv). The new master validates its data, starts its workers,
// writes the pidfile, and says so on a pipe (UpgradeFDEnv). The model then
// hands over: this master stops accepting and retires its workers; the
// keep-alive connections they hand back, and descriptors still in its
// fdpass queue, go to the new master over a socket (HandoffFDEnv), so the
// switch loses no request.

// Environment variables of the upgrade protocol, besides the sockets
// (listen.ListenFDsEnv) and the pidfile (pidfile.FDEnv).
const (
	// UpgradeFDEnv names the pipe on which a new master reports that it
	// serves. End of file on it before that report means it failed.
	UpgradeFDEnv = "FREQD_UPGRADE_FD"
	// HandoffFDEnv names the socket on which the old master passes the new
	// one the connections its workers hand back.
	HandoffFDEnv = "FREQD_HANDOFF_FD"
	// metricsKey names the metrics socket among the inherited ones.
	metricsKey = "metrics"
)

// successor is the new master of an upgrade under way.
type successor struct {
	cmd     *exec.Cmd
	handoff *net.UnixConn // this master's end of the handoff socket
}

// startSuccessor starts the binary at the master's path as a new master
// that inherits every socket, and follows it: SuccessorReady when it
// reports that it serves, SuccessorExited if it exits first.
func (m *Master) startSuccessor() (pid int, err error) {
	b := childproc.New(m.upgradeExe, append([]string{m.upgradeExe}, os.Args[1:]...)...)
	var mine *os.File
	var readyR *os.File
	defer func() {
		if err != nil {
			b.Abort()
			for _, f := range []*os.File{mine, readyR} {
				if f != nil {
					f.Close()
				}
			}
		}
	}()
	var entries []string
	var socks []*listen.Socket
	socks = append(socks, m.listeners...)
	socks = append(socks, m.datagrams...)
	for _, slot := range m.portSockets {
		socks = append(socks, slot...)
	}
	for _, s := range socks {
		fd, err := b.AddNew(s.File())
		if err != nil {
			return 0, err
		}
		entries = append(entries, fmt.Sprintf("%d=%s", fd, s.Key()))
	}
	if m.metricsLn != nil {
		mfd, err := listen.DupDescriptor(m.metricsLn.(syscall.Conn))
		if err != nil {
			return 0, fmt.Errorf("--metrics-listen: %w", err)
		}
		entries = append(entries, fmt.Sprintf("%d=%s", b.Add(os.NewFile(uintptr(mfd), metricsKey), true), metricsKey))
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	upgradeFD := b.Add(readyW, true)
	var theirs *os.File
	if mine, theirs, err = fdpass.Socketpair(); err != nil {
		return 0, err
	}
	handoffFD := b.Add(theirs, true)
	env := []string{
		listen.ListenFDsEnv + "=" + strings.Join(entries, ","),
		UpgradeFDEnv + "=" + strconv.Itoa(upgradeFD),
		HandoffFDEnv + "=" + strconv.Itoa(handoffFD),
	}
	if m.pidfile != nil {
		env = append(env, pidfile.FDEnv+"="+strconv.Itoa(b.Add(m.pidfile.Handoff(), false)))
	}
	if m.cfg.RequirePass != "" {
		// The password may have come from FREQD_REQUIREPASS, which serve
		// removes from its environment: the successor must get it too, or
		// it would serve without one.
		env = append(env, "FREQD_REQUIREPASS="+m.cfg.RequirePass)
	}
	// The successor keeps the server's start time, for INFO's uptime.
	env = append(env, m.board.StartedEnvValue())
	b.Cmd.Env = append(os.Environ(), env...)
	b.Cmd.Stdout, b.Cmd.Stderr = os.Stdout, os.Stderr
	if err := b.Start((*exec.Cmd).Start); err != nil {
		return 0, fmt.Errorf("start %s: %w", m.upgradeExe, err)
	}
	handoff, err := fdpass.FileConn(mine)
	mine = nil // FileConn took it
	if err != nil {
		b.Cmd.Process.Kill()
		b.Cmd.Wait()
		return 0, err
	}
	m.succ = &successor{cmd: b.Cmd, handoff: handoff}
	m.wg.Add(1)
	go func(r *os.File, cmd *exec.Cmd) {
		defer m.wg.Done()
		defer r.Close()
		b := make([]byte, 1)
		if n, _ := r.Read(b); n == 1 && b[0] == control.MsgReady {
			// The new master serves and will outlive this one: nobody
			// here waits for it any more.
			m.inputs <- input{ev: pool.NewSuccessorReady(time.Now())}
			return
		}
		cmd.Wait()
		m.inputs <- input{ev: pool.NewSuccessorExited(time.Now(), statusOf(cmd.ProcessState))}
	}(readyR, b.Cmd)
	readyR = nil
	return b.Cmd.Process.Pid, nil
}

// killSuccessor ends a new master that failed to take over; its follower
// sees the pipe close and reaps it.
func (m *Master) killSuccessor() {
	if s := m.succ; s != nil {
		s.cmd.Process.Kill()
		s.handoff.Close()
		m.succ = nil
	}
}

// forward passes a connection to the new master.
func (m *Master) forward(h handoff) {
	if m.succ == nil {
		h.close()
		return
	}
	if err := fdpass.Send(m.succ.handoff, append([]byte{control.MsgConn}, h.state...), h.fd); err != nil {
		m.log.Warn("cannot pass a connection to the new master; closing it", "error", err)
	}
	h.close()
}

// handOver ends this master's part once every worker has exited: what the
// feeder still held and what is still queued goes to the new master; the
// socket files and the pidfile are left to it.
func (m *Master) handOver() {
	m.upgraded = true
	if m.feeder != nil {
		for _, h := range m.feeder.stop() {
			m.forward(h)
		}
		m.feeder = nil
	}
	for _, q := range m.queues {
		q.drain(m.forward)
	}
	if m.succ != nil {
		m.log.Info("stopped after handing over", "new_pid", m.succ.cmd.Process.Pid)
		m.succ.handoff.Close()
		m.succ = nil
	}
}

// takeUpgradePipe marks the upgrade pipe close-on-exec as soon as the new
// master starts, so that its workers do not inherit it: the old master
// reads end of file on it as "the new master failed".
func takeUpgradePipe() {
	for _, env := range []string{UpgradeFDEnv, HandoffFDEnv} {
		if fd, err := strconv.Atoi(os.Getenv(env)); err == nil && fd > 2 {
			unix.CloseOnExec(fd)
		}
	}
}

// adoptPredecessor is the new master's side, once it serves: it tells the
// old master so, and serves the connections the old master hands over.
func (m *Master) adoptPredecessor() {
	if v := os.Getenv(HandoffFDEnv); v != "" {
		os.Unsetenv(HandoffFDEnv)
		if fd, err := strconv.Atoi(v); err == nil {
			if c, err := fdpass.FileConn(os.NewFile(uintptr(fd), "handoff")); err == nil {
				m.predecessor = c
				m.wg.Add(1)
				go func() {
					defer m.wg.Done()
					buf := make([]byte, 1+handler.MaxStateSize)
					for {
						n, fds, err := fdpass.Recv(c, buf, 1)
						if err != nil {
							return // the old master is gone, or this one stops
						}
						for _, fd := range fds {
							h := &handoff{fd: fd}
							if n > 1 {
								h.state = bytes.Clone(buf[1:n])
							}
							m.inputs <- input{handoff: h}
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
			f.Write([]byte{control.MsgReady})
			f.Close()
		}
	}
}
