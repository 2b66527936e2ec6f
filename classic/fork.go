package classic

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/freqd/freqd/internal/childproc"
	"github.com/freqd/freqd/listen"
	"github.com/hashicorp/go-hclog"
)

// forkServer is the fork design: accept, start a process for the
// connection, go back to accepting. Go cannot fork a running runtime, so the
// process is this binary re-executed in the role "conn" (RunConn) with the
// connection, the sealed table and a lifeline pipe as ExtraFiles; the cost of
// an exec and a runtime start-up per connection is what this design
// measures. Children are reaped by a goroutine each, so none stays a zombie.
type forkServer struct {
	cfg       Config
	log       hclog.Logger
	ls        []netListener
	tableFile *os.File

	// lifeline's write end is held by this process only and never written:
	// when this process dies, however it dies, every child reading the
	// other end sees end of file and exits.
	lifeR, lifeW *os.File

	slots     chan struct{} // one token per running child
	quit      chan struct{} // closed on shutdown: releases loops waiting for a slot
	saturated atomic.Bool   // at MaxChildren; logged once per episode

	mu       sync.Mutex
	stop     stopState
	children map[*os.Process]struct{}
	loops    sync.WaitGroup // accept loops
	reaped   sync.WaitGroup // children not yet waited for
}

func newForkServer(cfg Config, socks []*listen.Socket, tableFile *os.File) (*forkServer, error) {
	r, w, err := os.Pipe()
	if err != nil {
		closeSockets(socks)
		return nil, fmt.Errorf("lifeline pipe for connection processes: %w", err)
	}
	ls, err := takeNet(socks)
	if err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	return &forkServer{
		cfg: cfg, log: cfg.Logger, ls: ls, tableFile: tableFile,
		lifeR: r, lifeW: w,
		slots:    make(chan struct{}, cfg.MaxChildren),
		quit:     make(chan struct{}),
		children: map[*os.Process]struct{}{},
	}, nil
}

func (s *forkServer) serve() error {
	for _, ln := range s.ls {
		s.loops.Add(1)
		go func() {
			defer s.loops.Done()
			acceptEach(ln, s.log, s.spawn)
		}()
	}
	s.loops.Wait()
	s.reaped.Wait()
	s.lifeR.Close()
	s.lifeW.Close()
	return nil
}

// spawn starts the process that serves c. At MaxChildren it waits for a
// child to exit, holding c, and its accept loop accepts nothing meanwhile:
// further connections queue in the kernel's listen backlog.
func (s *forkServer) spawn(c net.Conn) {
	select {
	case s.slots <- struct{}{}:
	default:
		if !s.saturated.Swap(true) {
			s.log.Warn("max children running; new connections wait until one exits (raise --max-children to serve more at once)",
				"max_children", s.cfg.MaxChildren)
		}
		select {
		case s.slots <- struct{}{}:
		case <-s.quit:
			c.Close()
			return
		}
	}
	if err := s.start(c); err != nil {
		<-s.slots
		s.log.Error("cannot start a connection process; closing the connection", "remote", fmt.Sprint(c.RemoteAddr()), "error", err)
	}
}

// start execs the child for c and closes this process's copies of c.
func (s *forkServer) start(c net.Conn) error {
	b := childproc.New(s.cfg.Executable, s.cfg.Executable, "conn")
	connFD, err := b.AddNew(dupConnFile(c))
	c.Close()
	if err != nil {
		return err
	}
	spec := ConnSpec{LogLevel: s.cfg.LogLevel, LogJSON: s.cfg.LogJSON, ConnFD: connFD,
		TableFD: b.Add(s.tableFile, false), LifelineFD: b.Add(s.lifeR, false),
		Timeouts: s.cfg.Timeouts, RequirePass: s.cfg.RequirePass}
	b.Cmd.Env = os.Environ()
	if err := b.SetSpec(ConnSpecEnv, &spec); err != nil {
		b.Abort()
		return err
	}
	cmd := b.Cmd
	// Children write straight to this process's stdout and stderr: no pipe
	// in between that could fill and block them.
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	// Their own process group: a terminal's Ctrl-C reaches only this
	// process, which then stops the children in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := b.Start((*exec.Cmd).Start); err != nil {
		return fmt.Errorf("start %s conn: %w", s.cfg.Executable, err)
	}

	s.mu.Lock()
	s.children[cmd.Process] = struct{}{}
	s.reaped.Add(1)
	st := s.stop.get()
	s.mu.Unlock()
	if st != running { // started while shutdown was signalling the others
		cmd.Process.Signal(stopSignal(st))
	}
	go s.reap(cmd)
	return nil
}

// reap waits for a child, so it does not stay a zombie, and frees its slot.
func (s *forkServer) reap(cmd *exec.Cmd) {
	err := cmd.Wait()
	s.mu.Lock()
	delete(s.children, cmd.Process)
	stopping := s.stop.get() != running
	s.mu.Unlock()
	<-s.slots
	s.saturated.Store(false)
	if err != nil && !stopping {
		s.log.Warn("connection process failed", "pid", cmd.Process.Pid, "error", err)
	}
	s.reaped.Done()
}

func (s *forkServer) shutdown(graceful bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stop.request(graceful) == running {
		closeListeners(s.ls)
		close(s.quit)
	}
	sig := stopSignal(s.stop.get())
	for p := range s.children {
		p.Signal(sig)
	}
}

// stopSignal is what a child is sent at each stop: SIGTERM lets it answer
// what it has read and close (RunConn), SIGKILL ends it.
func stopSignal(st int32) os.Signal {
	if st == stopNow {
		return syscall.SIGKILL
	}
	return syscall.SIGTERM
}
