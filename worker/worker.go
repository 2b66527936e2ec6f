package worker

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/freqd/freqd/internal/version"
	"github.com/freqd/freqd/worker/control"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sys/unix"

	"github.com/freqd/freqd/cluster"
	"github.com/freqd/freqd/evloop"
	"github.com/freqd/freqd/fdpass"
	"github.com/freqd/freqd/handler"
	"github.com/freqd/freqd/shm/freqfile"
	"github.com/freqd/freqd/shm/memfd"
	"github.com/freqd/freqd/shm/scoreboard"
)

// heartbeatEvery is how often a worker stamps its scoreboard entry and
// publishes its counters.
const heartbeatEvery = 500 * time.Millisecond

// Worker is a running worker process.
type Worker struct {
	spec  *control.Spec
	log   hclog.Logger
	table *freqfile.Table
	board *scoreboard.Board
	entry *scoreboard.Writer // this worker's scoreboard entry
	h     *handler.Handler

	ctl      *net.UnixConn
	loop     *evloop.Loop // serves every stream connection
	loopDone chan error
	dgram    datagrams // udp: and unixgram: sockets and their read loops

	draining atomic.Bool
	beating  chan struct{} // closed to stop the heartbeat
	beatDone chan struct{} // closed when the heartbeat goroutine has returned
	ctlMu    sync.Mutex    // one sender at a time on the control socket
	refused  atomic.Uint64 // connections refused over MaxClients
	faults   atomic.Uint64 // table reads that faulted (--data-mode map)
}

// Run sets up the worker described by spec and serves until the master asks
// it to drain (then it returns nil), goes away, or its event loop fails
// (then it returns an error, and the process should exit at once: a master
// that is gone leaves nobody to hand connections to or to restart it, and
// a worker whose loop failed serves nobody).
func Run(spec *control.Spec, log hclog.Logger) error {
	w := &Worker{spec: spec, log: log, loopDone: make(chan error, 1),
		beating: make(chan struct{}), beatDone: make(chan struct{})}
	if err := w.setup(); err != nil {
		return err
	}
	w.entry.SetState(scoreboard.StateIdle)
	w.entry.Heartbeat()
	go w.heartbeat()
	defer w.stopHeartbeat()
	go func() { w.loopDone <- w.loop.Serve() }()
	w.startDatagrams()
	if err := w.send(control.MsgReady, -1, nil); err != nil {
		return fmt.Errorf("tell the master we are ready: %w", err)
	}
	w.log.Debug("serving", "mode", spec.Mode, "words", w.table.Len())
	msgs := make(chan controlMsg)
	go w.readControl(msgs)
	for {
		select {
		case err := <-w.loopDone:
			return fmt.Errorf("event loop failed; exiting so that the master starts a new worker: %w", err)
		case msg, ok := <-msgs:
			switch {
			case !ok:
				return errors.New("the master is gone; exiting")
			case msg.kind == control.MsgDrain:
				return w.drain(false)
			case msg.kind == control.MsgRetire:
				return w.drain(true)
			}
		}
	}
}

// setup adopts the inherited descriptors. Each is marked close-on-exec again
// first: exec cleared the flag, and nothing of ours may leak into a process
// this worker might start.
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
	if w.table, err = openTable(s); err != nil {
		return err
	}
	bf := os.NewFile(uintptr(s.ScoreboardFD), "scoreboard")
	w.board, err = scoreboard.Open(bf)
	bf.Close()
	if err != nil {
		return err
	}
	if s.Entry < 0 || s.Entry >= w.board.Len() {
		return fmt.Errorf("scoreboard entry %d outside the scoreboard", s.Entry)
	}
	w.entry = w.board.Writer(s.Entry)

	if err := w.openDatagrams(); err != nil {
		return err
	}

	opts := handler.Options{
		Version:          version.Get().Version,
		Unavailable:      s.Unavailable,
		Timeouts:         s.Timeouts,
		RequirePass:      s.RequirePass,
		MaxRequestMemory: s.MaxRequestMemory,
		MaxClients:       s.MaxClients,
		Server:           w.serverStats,
		Info: []handler.InfoSection{
			{Name: "workers", Append: w.appendInfo},
			{Name: "eventloop", Append: func(b []byte) []byte { return w.loop.AppendInfo(b) }},
		},
		ClientIDBase: uint64(os.Getpid()) << 32,
	}
	if s.Cluster != nil && s.Unavailable == "" {
		// The master checked the table against the configuration.
		node, err := cluster.NewNode(s.Cluster, w.table, "the table")
		if err != nil {
			return err
		}
		// The event loop keeps its own connections to the other shards;
		// the datagram readers, goroutines that may block, share Peers.
		opts.Cluster = node
		opts.Peers = cluster.NewPeers(node, s.RequirePass, s.ClusterTimeout)
	}
	w.h = handler.New(w.table, opts)
	return w.newLoop()
}

// newLoop prepares the event loop on the worker's stream sockets: the
// descriptor queue (fdpass) or the listeners (accept, reuseport).
func (w *Worker) newLoop() error {
	s := w.spec
	cfg := evloop.Config{
		Handler:  w.h,
		Log:      w.log,
		Queue:    s.QueueFD,
		Admit:    func() bool { return !w.full() },
		Refuse:   w.refuse,
		MaxConns: connectionBound(w.log),
		Opened:   w.entry.ConnOpened,
		Closed:   w.entry.ConnClosed,

		Cluster:         w.h.Cluster(),
		ClusterPassword: s.RequirePass,
		ClusterTimeout:  s.ClusterTimeout,
	}
	shared := s.QueueShared // workers take from one queue; least-loaded gives each its own
	for _, l := range s.Listeners {
		cfg.Listeners = append(cfg.Listeners, evloop.Listener{FD: l.FD, Name: l.Addr, Shared: l.Shared})
		shared = shared || l.Shared
	}
	if shared {
		cfg.Share = w.fairShare
	}
	if s.TableMapped {
		cfg.Fault = func(r any) []byte {
			w.noteFault(r)
			return errTableFault
		}
	}
	var err error
	if w.loop, err = evloop.New(cfg); err != nil {
		return err
	}
	return nil
}

// errTableFault is the reply to a request whose table read faulted.
var errTableFault = []byte("-ERR the data file changed on disk while served; the operator must reload (SIGHUP)\r\n")

// noteFault logs the first table fault; the rest only count.
func (w *Worker) noteFault(r any) {
	if w.faults.Add(1) == 1 {
		w.log.Error("the mapped data file changed under the worker (truncated?); answering errors until a reload (SIGHUP)", "fault", r)
	}
}

// send writes one control message, with a descriptor when fd >= 0 and
// the bytes of extra after the message byte.
func (w *Worker) send(msg byte, fd int, extra []byte) error {
	w.ctlMu.Lock()
	defer w.ctlMu.Unlock()
	payload := append([]byte{msg}, extra...)
	if fd < 0 {
		return fdpass.Send(w.ctl, payload)
	}
	return fdpass.Send(w.ctl, payload, fd)
}

// controlMsg is a command from the master.
type controlMsg struct{ kind byte }

// readControl reads the master's messages: connections handed over go to
// the event loop; drain and retire go to Run on msgs, which is closed when
// the master is gone (end of file on the control socket).
func (w *Worker) readControl(msgs chan<- controlMsg) {
	defer close(msgs)
	buf := make([]byte, 1+handler.MaxStateSize)
	for {
		n, fds, err := fdpass.Recv(w.ctl, buf, 1)
		if err != nil {
			w.log.Warn("control socket closed: the master is gone", "error", err)
			return
		}
		if n == 0 {
			continue
		}
		switch buf[0] {
		case control.MsgConn:
			// A connection another worker handed back, between requests,
			// with its session's state.
			var state []byte
			if n > 1 {
				state = bytes.Clone(buf[1:n])
			}
			for _, fd := range fds {
				w.loop.Adopt(fd, state)
			}
			continue
		case control.MsgDrain, control.MsgRetire:
			msgs <- controlMsg{kind: buf[0]}
			if buf[0] == control.MsgDrain {
				return
			}
			// A retiring worker still hands connections back on this
			// socket; the master's end stays open until the worker exits.
		}
		for _, fd := range fds {
			unix.Close(fd)
		}
	}
}

// drain stops taking connections and lets open ones finish the request in
// hand, up to ShutdownTimeout; then it returns. Connections stop between
// requests: a retiring worker gives them to the master to serve elsewhere,
// so its keep-alive clients never see the switch; a worker shutting down
// closes them.
func (w *Worker) drain(handBack bool) error {
	w.draining.Store(true)
	w.entry.SetState(scoreboard.StateDraining)
	w.stopDatagrams()
	var give evloop.HandBack
	if handBack {
		give = func(fd int, state []byte) error { return w.send(control.MsgConn, fd, state) }
	}
	w.log.Debug("draining", "hand_back", handBack)
	w.loop.Drain(give)
	select {
	case <-w.loopDone:
	case <-time.After(w.spec.ShutdownTimeout):
		w.log.Warn("shutdown timeout: closing connections still open")
		w.loop.Stop()
		<-w.loopDone
	}
	return nil
}

// stopHeartbeat stops the heartbeat and waits for it.
func (w *Worker) stopHeartbeat() {
	close(w.beating)
	<-w.beatDone
}

// heartbeat stamps the scoreboard entry, publishes the counters, rate and
// memory INFO sums over the pool, and asks once to be recycled when
// MaxRequests is reached, until stopHeartbeat.
func (w *Worker) heartbeat() {
	defer close(w.beatDone)
	limit := uint64(0)
	if n := w.spec.MaxRequests; n > 0 {
		limit = uint64(n + rand.IntN(n/10+1))
	}
	asked := false
	var counts []uint64
	t := time.NewTicker(heartbeatEvery)
	defer t.Stop()
	for {
		var now time.Time
		select {
		case <-w.beating:
			return
		case now = <-t.C:
		}
		w.entry.Heartbeat()
		st := w.publish(now, &counts)
		if limit > 0 && !asked && st.Commands >= limit && !w.draining.Load() {
			asked = true
			w.log.Info("served max requests; asking to be recycled", "requests", st.Commands, "limit", limit)
			if err := w.send(control.MsgRecycle, -1, nil); err != nil {
				w.log.Warn("cannot ask the master for recycling", "error", err)
			}
		}
	}
}

// fairShare reports whether a worker with open connections may take more:
// whether it holds no more than a quarter (and two) above the average
// across the pool. The slack keeps the churn of short connections from
// making workers defer to each other all the time; a burst still spreads.
func (w *Worker) fairShare(open int) bool {
	total, n := w.board.ConnectionsOpen()
	return n <= 1 || 4*int64(open)*int64(n) <= 5*total+8*int64(n)
}

// full reports whether MaxClients connections are open across the pool.
// Workers count independently, so a burst can overshoot by a few; the
// bound is for protection, not accounting.
func (w *Worker) full() bool {
	if w.spec.MaxClients <= 0 {
		return false
	}
	open, _ := w.board.ConnectionsOpen()
	return open >= int64(w.spec.MaxClients)
}

// refuse answers a connection over MaxClients as Redis does, and closes it
// the lingering way: stop writing, read and discard what the client sends
// for up to a second, then close. Closing at once would answer the client's
// first command with a reset that destroys the unread error reply. It runs
// off the event loop, which refusing must not stall.
func (w *Worker) refuse(fd int) {
	w.refused.Add(1)
	f := os.NewFile(uintptr(fd), "refused")
	c, err := net.FileConn(f)
	f.Close() // FileConn made its own duplicate
	if err != nil {
		w.log.Error("refused descriptor is not a connection", "error", err)
		return
	}
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

// descriptorReserve is what a worker keeps of its descriptor limit beyond
// its connections: the epoll set and its wake-up eventfd, datagram
// sockets, a refused connection's duplicate while its error is written,
// the Go runtime's own.
const descriptorReserve = 32

// connectionBound is how many connections this worker's descriptor limit
// lets it hold: the soft RLIMIT_NOFILE, less what is open now and a
// reserve. The event loop takes no more, so that connections wait in the
// queue or the backlog, where another worker or this one later takes
// them, rather than being lost when a received message's descriptors no
// longer fit.
func connectionBound(log hclog.Logger) int {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil || rl.Cur > 1<<30 {
		return 0 // no usable bound: the loop sets none
	}
	open := 0
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		open = len(ents)
	}
	bound := int(rl.Cur) - open - descriptorReserve
	if bound < 1 {
		log.Error("the descriptor limit leaves no room for connections; raise it (ulimit -n, LimitNOFILE=)",
			"limit", rl.Cur, "open", open)
		bound = 1
	}
	return bound
}

// ErrTableUnusable reports a mapped data file that can no longer be
// mapped (truncated, or rewritten in place); the process should exit with
// control.ExitTableUnusable, so that the master knows the table is broken,
// not the worker.
var ErrTableUnusable = errors.New("the data file is damaged")

// openTable maps the table the master passed, checking that a copy is
// sealed. A worker told the table is unavailable maps nothing and serves an
// empty table, answering every command with the reason.
func openTable(s *control.Spec) (*freqfile.Table, error) {
	tf := os.NewFile(uintptr(s.TableFD), "table")
	defer tf.Close()
	if s.Unavailable != "" {
		var buf bytes.Buffer
		if err := freqfile.WriteTable(&buf, nil, freqfile.BuildOptions{}); err != nil {
			return nil, err
		}
		return freqfile.Parse(buf.Bytes())
	}
	if !s.TableMapped {
		if err := memfd.CheckSealed(tf); err != nil {
			return nil, fmt.Errorf("table: %w", err)
		}
	}
	t, err := freqfile.OpenFile(tf)
	if err != nil && s.TableMapped {
		return nil, fmt.Errorf("%w (--data-mode map): %w", ErrTableUnusable, err)
	}
	if err != nil {
		return nil, fmt.Errorf("table: %w", err)
	}
	return t, nil
}
