package worker

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sys/unix"

	"github.com/freqd/freqd/fdpass"
	"github.com/freqd/freqd/handler"
	"github.com/freqd/freqd/shm"
)

// heartbeatEvery is how often a worker stamps its scoreboard slot and
// publishes its counters.
const heartbeatEvery = 500 * time.Millisecond

// Worker is a running worker process.
type Worker struct {
	spec  *Spec
	log   hclog.Logger
	table *shm.Table
	board *shm.Scoreboard
	slot  *shm.WorkerSlot
	h     *handler.Handler

	ctl       *net.UnixConn
	queue     *net.UnixConn
	listeners []net.Listener
	dgram     datagrams // udp: and unixgram: sockets and their read loops

	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	active   sync.WaitGroup
	draining atomic.Bool
	handBack atomic.Bool    // retiring: yielded connections go back to the master
	yield    chan struct{}  // closed when draining: connections stop between requests
	takers   sync.WaitGroup // accept and receive loops
	ctlMu    sync.Mutex     // one sender at a time on the control socket
	refused  atomic.Uint64  // connections refused over MaxClients
	faults   atomic.Uint64  // table reads that faulted (--data-mode map)
}

// Run sets up the worker described by spec and serves until the master asks
// it to drain (then it returns nil) or goes away (then it returns an error).
func Run(spec *Spec, log hclog.Logger) error {
	w := &Worker{spec: spec, log: log, conns: map[net.Conn]struct{}{}, yield: make(chan struct{})}
	if err := w.setup(); err != nil {
		return err
	}
	w.slot.SetState(shm.StateIdle)
	w.slot.Heartbeat()
	go w.heartbeat()
	w.start()
	if err := w.send(MsgReady, -1); err != nil {
		return fmt.Errorf("tell the master we are ready: %w", err)
	}
	w.log.Debug("serving", "mode", spec.Mode, "words", w.table.Len())
	return w.control()
}

// setup adopts the inherited descriptors. Each is marked close-on-exec again
// first: exec cleared the flag, and nothing of ours may leak into a process
// this worker might start (PITFALLS #3).
func (w *Worker) setup() error {
	s := w.spec
	fds := []int{s.ControlFD, s.TableFD, s.ScoreboardFD}
	if s.QueueFD >= 0 {
		fds = append(fds, s.QueueFD)
	}
	for _, l := range s.Listeners {
		fds = append(fds, l.FD)
	}
	for _, fd := range fds {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			return fmt.Errorf("inherited descriptor %d: %w (started by hand, not by `freqd serve`?)", fd, err)
		}
		unix.CloseOnExec(fd)
	}

	var err error
	if w.ctl, err = fdpass.FileConn(os.NewFile(uintptr(s.ControlFD), "control")); err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	tf := os.NewFile(uintptr(s.TableFD), "table")
	if !s.TableMapped {
		if err := shm.CheckSealed(tf); err != nil {
			tf.Close()
			return fmt.Errorf("table: %w", err)
		}
	}
	w.table, err = shm.OpenFile(tf)
	tf.Close()
	if err != nil {
		return fmt.Errorf("table: %w", err)
	}
	bf := os.NewFile(uintptr(s.ScoreboardFD), "scoreboard")
	w.board, err = shm.OpenScoreboard(bf)
	bf.Close()
	if err != nil {
		return err
	}
	if s.Board < 0 || s.Board >= w.board.Len() {
		return fmt.Errorf("scoreboard entry %d outside the scoreboard", s.Board)
	}
	w.slot = w.board.Worker(s.Board)

	if s.QueueFD >= 0 {
		if w.queue, err = fdpass.FileConn(os.NewFile(uintptr(s.QueueFD), "queue")); err != nil {
			return fmt.Errorf("descriptor queue: %w", err)
		}
	}
	for _, l := range s.Listeners {
		f := os.NewFile(uintptr(l.FD), l.Addr)
		ln, err := net.FileListener(f)
		f.Close() // FileListener duplicated it (PITFALLS #2)
		if err != nil {
			return fmt.Errorf("listener %s: %w", l.Addr, err)
		}
		w.listeners = append(w.listeners, ln)
	}
	if err := w.openDatagrams(); err != nil {
		return err
	}

	w.h = handler.New(w.table)
	w.h.ReadTimeout = s.Limits.ReadTimeout
	w.h.IdleTimeout = s.Limits.IdleTimeout
	w.h.WriteTimeout = s.Limits.WriteTimeout
	w.h.RequirePass = s.RequirePass
	w.h.Info = []handler.InfoSection{{Name: "workers", Append: w.appendInfo}}
	return nil
}

// start launches the loops that take connections.
func (w *Worker) start() {
	if w.queue != nil {
		w.takers.Add(1)
		go w.receiveLoop()
	}
	for _, ln := range w.listeners {
		w.takers.Add(1)
		go w.acceptLoop(ln)
	}
	w.startDatagrams()
}

// receiveLoop takes descriptors from the master's queue. Any free worker
// may take the next one; the kernel hands each to exactly one reader.
func (w *Worker) receiveLoop() {
	defer w.takers.Done()
	buf := make([]byte, 16)
	for {
		_, fds, err := fdpass.Recv(w.queue, buf, 1)
		if err != nil {
			if w.draining.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return
			}
			w.log.Error("receive from descriptor queue", "error", err)
			if isEOF(err) {
				return // the master is gone; control() notices too
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		for _, fd := range fds {
			w.adopt(fd)
		}
	}
}

// drainQueue takes, without waiting, whatever descriptors are still queued
// once the master has stopped accepting, so they are served, not dropped.
func (w *Worker) drainQueue() {
	rc, err := w.queue.SyscallConn()
	if err != nil {
		return
	}
	buf := make([]byte, 16)
	rc.Control(func(fd uintptr) {
		for {
			_, fds, err := fdpass.RecvFd(int(fd), buf, 1)
			if err != nil {
				return // EAGAIN: empty
			}
			for _, fd := range fds {
				w.adopt(fd)
			}
		}
	})
}

// adopt turns a received descriptor into a served connection.
func (w *Worker) adopt(fd int) {
	f := os.NewFile(uintptr(fd), "conn")
	c, err := net.FileConn(f)
	f.Close()
	if err != nil {
		w.log.Error("received descriptor is not a connection", "error", err)
		return
	}
	w.serve(c)
}

func (w *Worker) acceptLoop(ln net.Listener) {
	defer w.takers.Done()
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || w.draining.Load() {
				return
			}
			delay = max(5*time.Millisecond, min(2*delay, time.Second))
			w.log.Warn("accept failed; backing off", "listen", ln.Addr().String(), "error", err, "delay", delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		w.serve(c)
	}
}

func (w *Worker) serve(c net.Conn) {
	if w.full() {
		w.refuse(c)
		return
	}
	w.mu.Lock()
	w.conns[c] = struct{}{}
	w.active.Add(1)
	w.mu.Unlock()
	w.slot.ConnOpened()
	go func() {
		if w.spec.TableMapped {
			// The mapped file may be truncated under us: a read past its
			// end raises SIGBUS, which SetPanicOnFault turns into a panic
			// this goroutine recovers from, instead of a dead worker.
			debug.SetPanicOnFault(true)
			defer w.recoverFault(c)
		}
		defer func() {
			w.mu.Lock()
			delete(w.conns, c)
			w.mu.Unlock()
			w.slot.ConnClosed()
			w.active.Done()
		}()
		err := w.h.ServeConnYield(c, w.yield)
		switch {
		case err == handler.ErrYielded:
			w.yielded(c)
		case err != nil:
			w.log.Debug("connection ended", "remote", c.RemoteAddr().String(), "error", err)
		}
	}()
}

// recoverFault ends a connection whose table read faulted, with an error
// reply, and keeps the worker serving the others.
func (w *Worker) recoverFault(c net.Conn) {
	r := recover()
	if r == nil {
		return
	}
	w.noteFault(r)
	c.SetWriteDeadline(time.Now().Add(time.Second))
	c.Write(errTableFault)
	c.Close()
}

// errTableFault is the reply to a request whose table read faulted.
var errTableFault = []byte("-ERR the data file changed on disk while served; the operator must reload (SIGHUP)\r\n")

// noteFault logs the first table fault; the rest only count.
func (w *Worker) noteFault(r any) {
	if w.faults.Add(1) == 1 {
		w.log.Error("the mapped data file changed under the worker (truncated?); answering errors until a reload (SIGHUP)", "fault", r)
	}
}

// yielded disposes of a connection the handler stopped serving between
// requests: a retiring worker hands it back to the master, which gives it
// to a worker of the new generation, so a keep-alive client never sees the
// switch; a worker that is shutting down closes it.
func (w *Worker) yielded(c net.Conn) {
	defer c.Close()
	if !w.handBack.Load() {
		return
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	var serr error
	rc.Control(func(fd uintptr) { serr = w.send(MsgConn, int(fd)) })
	if serr != nil {
		w.log.Warn("cannot hand a connection back to the master; closing it", "error", serr)
	}
}

// send writes one control message, with a descriptor when fd >= 0.
func (w *Worker) send(msg byte, fd int) error {
	w.ctlMu.Lock()
	defer w.ctlMu.Unlock()
	if fd < 0 {
		return fdpass.Send(w.ctl, []byte{msg})
	}
	return fdpass.Send(w.ctl, []byte{msg}, fd)
}

// control reads the master's messages until it asks for a drain or goes
// away. A master that is gone leaves no one to hand this worker's
// connections to or to restart it: exit now, within the second the design
// promises.
func (w *Worker) control() error {
	buf := make([]byte, 16)
	for {
		n, fds, err := fdpass.Recv(w.ctl, buf, 1)
		if err != nil {
			w.log.Warn("master is gone; exiting", "error", err)
			os.Exit(1)
		}
		if n == 0 {
			continue
		}
		switch buf[0] {
		case MsgConn:
			for _, fd := range fds {
				w.adopt(fd)
			}
			continue
		case MsgDrain:
			return w.drain(false)
		case MsgRetire:
			return w.drain(true)
		}
		for _, fd := range fds {
			unix.Close(fd)
		}
	}
}

// drain stops taking connections and lets open ones finish the request in
// hand, up to ShutdownTimeout; then it returns. Connections stop between
// requests: a retiring worker (handBack) gives them to the master to serve
// elsewhere, a worker shutting down closes them.
func (w *Worker) drain(handBack bool) error {
	w.handBack.Store(handBack)
	w.draining.Store(true)
	w.slot.SetState(shm.StateDraining)
	for _, ln := range w.listeners {
		ln.Close()
	}
	w.stopDatagrams()
	if w.queue != nil {
		w.queue.SetReadDeadline(time.Now())
	}
	w.takers.Wait()
	if w.queue != nil && !handBack {
		// Shutting down: the master no longer accepts, and what is still
		// queued would die with it. A retiring worker leaves the queue to
		// the new generation.
		w.drainQueue()
	}
	close(w.yield)
	w.mu.Lock()
	w.log.Debug("draining", "open", len(w.conns), "hand_back", handBack)
	for c := range w.conns {
		c.SetReadDeadline(time.Now()) // wake reads; the handler tells this from a timeout
	}
	w.mu.Unlock()
	done := make(chan struct{})
	go func() { w.active.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(w.spec.ShutdownTimeout):
		w.mu.Lock()
		w.log.Warn("shutdown timeout: closing connections still open", "open", len(w.conns))
		for c := range w.conns {
			c.Close()
		}
		w.mu.Unlock()
		<-done
	}
	return nil
}

// heartbeat stamps the scoreboard slot, publishes the counters, and asks
// once to be recycled when MaxRequests is reached.
func (w *Worker) heartbeat() {
	limit := uint64(0)
	if n := w.spec.MaxRequests; n > 0 {
		limit = uint64(n + rand.IntN(n/10+1))
	}
	asked := false
	var counts []uint64
	t := time.NewTicker(heartbeatEvery)
	for range t.C {
		w.slot.Heartbeat()
		st := w.h.Stats()
		w.slot.SetCounters(st.Commands, st.ErrorReplies)
		counts = w.h.CommandCounts(counts[:0])
		w.slot.SetCommandCounts(counts)
		if limit > 0 && !asked && st.Commands >= limit && !w.draining.Load() {
			asked = true
			w.log.Info("served max requests; asking to be recycled", "requests", st.Commands, "limit", limit)
			if err := w.send(MsgRecycle, -1); err != nil {
				w.log.Warn("cannot ask the master for recycling", "error", err)
			}
		}
	}
}

// full reports whether MaxClients connections are open across the pool.
// Workers count independently, so a burst can overshoot by a few; the
// bound is for protection, not accounting.
func (w *Worker) full() bool {
	if w.spec.MaxClients <= 0 {
		return false
	}
	return w.board.OpenConns() >= int64(w.spec.MaxClients)
}

// refuse answers a connection over MaxClients as Redis does, and closes it
// the lingering way: stop writing, read and discard what the client sends
// for up to a second, then close. Closing at once would answer the client's
// first command with a reset that destroys the unread error reply.
func (w *Worker) refuse(c net.Conn) {
	w.refused.Add(1)
	go func() {
		defer c.Close()
		c.SetDeadline(time.Now().Add(time.Second))
		if _, err := c.Write([]byte("-ERR max number of clients reached\r\n")); err != nil {
			return
		}
		if cw, ok := c.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		}
		io.Copy(io.Discard, io.LimitReader(c, 64<<10))
	}()
}

func isEOF(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, unix.ECONNRESET)
}
