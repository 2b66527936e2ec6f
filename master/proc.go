package master

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/freqd/freqd/fdpass"
	"github.com/freqd/freqd/handler"
	"github.com/freqd/freqd/internal/childproc"
	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/listen"
	"github.com/freqd/freqd/master/pool"
	"github.com/freqd/freqd/worker/control"
)

// proc is one worker process, seen from the master.
type proc struct {
	id   pool.WorkerID
	cmd  *exec.Cmd
	ctl  *net.UnixConn // SOCK_SEQPACKET to the worker: lifeline, commands, handed-back connections
	mu   sync.Mutex    // one sender at a time on ctl
	slot int
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// send writes one control message, with a descriptor when fd >= 0.
func (p *proc) send(payload []byte, fd int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if fd < 0 {
		return fdpass.Send(p.ctl, payload)
	}
	return fdpass.Send(p.ctl, payload, fd)
}

// startWorker starts the worker process a StartWorker action describes.
// Its descriptors are numbered from 3 in the order they are added:
// control socket, table, scoreboard, then the queue or the listeners, then
// the datagram sockets.
func (m *Master) startWorker(a pool.StartWorker) (pid int, err error) {
	t := m.tables[a.Generation]
	if t == nil {
		return 0, fmt.Errorf("worker %d: no table of generation %d", a.Slot, a.Generation)
	}
	ctlMaster, ctlWorker, err := fdpass.Socketpair()
	if err != nil {
		return 0, fmt.Errorf("worker %d: control socket: %w", a.Slot, err)
	}
	// argv[0] is the title ps shows: the worker rewrites its command line
	// to it, and the command line cannot grow past its original length.
	b := childproc.New(m.exe, fmt.Sprintf("freqd: worker %d (generation %d)", a.Slot, a.Generation), "worker")
	defer func() {
		if err != nil {
			ctlMaster.Close()
			b.Abort()
		}
	}()
	spec := control.Spec{
		Slot: a.Slot, Entry: a.Entry, Generation: a.Generation, Mode: m.cfg.Mode,
		LogLevel: m.cfg.LogLevel, LogJSON: m.cfg.LogJSON,
		ControlFD:       b.Add(ctlWorker, true),
		TableFD:         b.Add(t.File, false),
		ScoreboardFD:    b.Add(m.boardFile, false),
		QueueFD:         -1,
		TableMapped:     !t.Sealed,
		ShutdownTimeout: m.cfg.ShutdownTimeout, Timeouts: m.cfg.Timeouts,
		MaxRequests: m.cfg.MaxRequests, MaxClients: m.cfg.MaxClients, RequirePass: m.cfg.RequirePass,
		MaxRequestMemory: m.cfg.MaxRequestMemory,
		Cluster:          m.cfg.Cluster, ClusterTimeout: m.cfg.ClusterTimeout,
	}
	if a.Unavailable {
		spec.Unavailable = "no worker can serve: the data file was damaged while served; the operator must replace it and send SIGHUP"
	}
	// Listening sockets go to the worker as copies made for this start
	// and closed once it has begun: the master keeps its own descriptors
	// off Go's poller, and an *os.File kept for the next start would be
	// registered there.
	switch m.cfg.Mode {
	case mode.FDPass:
		q, err := m.queueFor(a.Slot)
		if err != nil {
			return 0, fmt.Errorf("worker %d: %w", a.Slot, err)
		}
		q.base.Store(q.sent.Load())
		spec.QueueFD = b.Add(q.recv, false)
		spec.QueueShared = m.cfg.Dispatch != DispatchLeastLoaded
	case mode.Accept, mode.ReusePort:
		// In reuseport mode each slot has its own TCP sockets (slot 0 the
		// ones bound first); unix sockets are shared as in accept mode.
		tcp := 0
		for _, l := range m.listeners {
			if m.cfg.Mode == mode.ReusePort && l.Address.Network == listen.TCP {
				if a.Slot > 0 {
					l = m.portSockets[a.Slot][tcp]
				}
				tcp++
			}
			fd, err := b.AddNew(l.File())
			if err != nil {
				return 0, fmt.Errorf("worker %d: %w", a.Slot, err)
			}
			shared := m.cfg.Mode == mode.Accept || l.Address.Network != listen.TCP
			spec.Listeners = append(spec.Listeners, control.Inherited{FD: fd, Addr: l.Address.String(), Shared: shared})
		}
	}
	for _, d := range m.datagrams {
		fd, err := b.AddNew(d.File())
		if err != nil {
			return 0, fmt.Errorf("worker %d: %w", a.Slot, err)
		}
		spec.Datagrams = append(spec.Datagrams, control.Inherited{FD: fd, Addr: d.Address.String()})
	}
	b.Cmd.Env = os.Environ()
	if err := b.SetSpec(control.SpecEnv, &spec); err != nil {
		return 0, err
	}
	// Workers write straight to the master's stdout and stderr: no pipe in
	// between that the master could fail to drain, and then block on.
	b.Cmd.Stdout, b.Cmd.Stderr = os.Stdout, os.Stderr
	// Their own process group, so that a terminal's Ctrl-C reaches only
	// the master, which stops them in order; Pdeathsig (see spawner) as a
	// second lifeline beside end of file on the control socket.
	b.Cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: m.cred}
	if err := b.Start(m.spawn.start); err != nil {
		return 0, fmt.Errorf("worker %d: start %s: %w", a.Slot, m.exe, err)
	}
	ctl, err := fdpass.FileConn(ctlMaster)
	if err != nil {
		b.Cmd.Process.Kill()
		b.Cmd.Wait()
		return 0, fmt.Errorf("worker %d: control socket: %w", a.Slot, err)
	}
	p := &proc{id: a.ID, cmd: b.Cmd, ctl: ctl, slot: a.Slot}
	m.procs[a.ID] = p
	m.board.Assign(a.Entry, a.Slot, p.pid(), a.Generation, a.Restarts)
	m.log.Debug("worker started", "slot", a.Slot, "pid", p.pid(), "generation", a.Generation, "entry", a.Entry)
	m.watch(p)
	return p.pid(), nil
}

// watch follows a worker until it has exited: its control messages become
// inputs (ready, recycle, connections handed back), and Exited is reported
// only once the process is reaped and every message it sent has been read,
// so that no connection handed back just before the exit is lost.
func (m *Master) watch(p *proc) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		read := make(chan struct{})
		go func() {
			defer close(read)
			m.readControl(p)
		}()
		p.cmd.Wait()
		// The worker's end closes with the worker, so the reader meets end
		// of file once it has read what was sent; the deadline only guards
		// against a descendant that kept a copy.
		p.ctl.SetReadDeadline(time.Now().Add(2 * time.Second))
		<-read
		p.ctl.Close()
		m.inputs <- input{ev: pool.NewExited(time.Now(), p.id, statusOf(p.cmd.ProcessState))}
	}()
}

// readControl turns a worker's control messages into inputs until end of
// file.
func (m *Master) readControl(p *proc) {
	buf := make([]byte, 1+handler.MaxStateSize)
	for {
		n, fds, err := fdpass.Recv(p.ctl, buf, 1)
		if err != nil {
			return
		}
		switch {
		case n > 0 && buf[0] == control.MsgReady:
			m.inputs <- input{ev: pool.NewReady(time.Now(), p.id)}
		case n > 0 && buf[0] == control.MsgConn && len(fds) == 1:
			h := &handoff{fd: fds[0]}
			if n > 1 {
				h.state = bytes.Clone(buf[1:n])
			}
			m.inputs <- input{handoff: h}
		case n > 0 && buf[0] == control.MsgRecycle:
			m.inputs <- input{ev: pool.NewRecycleAsked(time.Now(), p.id)}
		default:
			for _, fd := range fds {
				syscall.Close(fd)
			}
		}
	}
}
