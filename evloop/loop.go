package evloop

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/freqd/freqd/internal/sys"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sys/unix"

	"github.com/freqd/freqd/cluster"
	"github.com/freqd/freqd/fdpass"
	"github.com/freqd/freqd/handler"
)

// Event-loop bounds.
const (
	// maxEvents is how many ready descriptors one epoll_wait returns.
	maxEvents = 256
	// acceptBatch is how many connections one readiness of a listener
	// accepts, so a flood of connects cannot starve the clients already
	// connected.
	acceptBatch = 64
	// receiveBatch is how many messages one readiness of the queue
	// takes. Small, so that the other workers reading the same queue get
	// their share of a burst.
	receiveBatch = 4
	// maxPassed is the most descriptors a queue message may carry; the
	// master sends up to 8.
	maxPassed = 16
	// shareDelay is how long a loop stays away from the queue or a
	// listener whose watch it could not add again after leaving its wait
	// queue (an epoll error).
	shareDelay = time.Millisecond

	// keptBuffers is how many empty connection buffers a loop keeps for
	// reuse (4 KiB each): enough for the connections busy at one moment
	// under load; a connection between requests holds none.
	keptBuffers = 256
)

// Listener is a listening socket the loop accepts on.
type Listener struct {
	// FD is the listening socket. The loop makes it non-blocking, and
	// closes it when it drains or stops.
	FD int
	// Name is the address, for logs.
	Name string
	// Shared tells that other processes wait on the same socket (a
	// pre-forked pool's accept mode): EPOLLEXCLUSIVE then wakes one of
	// them per connection instead of the whole herd.
	Shared bool
}

// Config describes a Loop.
type Config struct {
	Handler *handler.Handler
	Log     hclog.Logger

	Listeners []Listener

	// Queue, when not negative, is a SOCK_SEQPACKET socket the loop
	// receives connections from, up to 16 descriptors per message (fdpass).
	// Other processes may read it too; the loop closes its descriptor
	// when it drains or stops.
	Queue int
	// Share, if set, is asked before taking more connections from the
	// queue or a Shared listener than the one a wake-up is for, with the
	// number this loop has open: false means the loop holds more than its
	// share, and the kernel is to wake the other processes first for the
	// next ones. One event loop is one core: a worker that took 48 of 50
	// keep-alive clients would serve them on one core while the others
	// idle.
	Share func(open int) bool
	// Admit, if set, is asked for each new connection; when it says no,
	// the connection goes to Refuse, which owns the descriptor from then.
	Admit  func() bool
	Refuse func(fd int)

	// MaxConns, if positive, is the most connections the loop holds at
	// once, as its descriptor limit allows: close to it, the loop stops
	// taking connections from the queue and its listeners, where they wait
	// for room instead of being lost to EMFILE, and takes them again when
	// one closes.
	MaxConns int

	// Opened and Closed, if set, are called on the loop's thread when a
	// connection joins or leaves the loop (scoreboard counters).
	Opened, Closed func()

	// DrainQuiet is how long a drain that closes connections (Drain with
	// no HandBack: the server stops) leaves one that was answered less
	// than that ago, waiting for the next request to answer before
	// closing; 0 means DefaultDrainQuiet. See release.
	DrainQuiet time.Duration

	// Fault, if set, makes a fault while executing a request (a SIGBUS
	// from a data file truncated under its mapping) end that connection
	// instead of the process: the loop runs with debug.SetPanicOnFault,
	// writes the returned reply to the client and closes it.
	Fault func(r any) []byte

	// Cluster, when set, is the cluster node the Handler serves (its
	// Options.Cluster): the loop keeps a connection to each other shard
	// and exchanges the lookups of its waiting connections on them
	// itself (upstream.go). ClusterPassword authenticates them (every
	// node shares one); ClusterTimeout bounds each lookup
	// (cluster.DefaultTimeout if 0).
	Cluster         *cluster.Node
	ClusterPassword string
	ClusterTimeout  time.Duration
}

// Loop is one event loop. Serve runs it on the calling goroutine, locked
// to its thread; Adopt, Drain and Stop may be called from any goroutine.
type Loop struct {
	cfg  Config
	h    *handler.Handler
	log  hclog.Logger
	ls   []*acceptor
	wake *sys.Waker
	bufs *handler.Buffers // the connections' buffers, lent while they hold bytes

	tick time.Duration // how often timeouts are checked; 0: no timeouts

	// Requests from other goroutines, read by the loop after a wake-up.
	mu       sync.Mutex
	inbox    []adoption // connections handed to Adopt
	posted   []func()   // work for the loop's thread (post)
	drainReq bool
	stopReq  bool
	handBack HandBack
	done     bool // Serve has returned

	// Loop state, touched only by the loop's thread (handler.Info runs
	// there too, inside Process).
	epfd       int
	queue      int           // -1 once closed
	queueBack  time.Time     // when a queue left after an error is watched again; zero if it may be now
	queueOn    bool          // the queue is in the epoll set
	full       bool          // at MaxConns: neither the queue nor the listeners are watched
	limitSaid  bool          // the descriptor limit has been logged once
	limitDelay time.Duration // how long the queue was last left after EMFILE
	conns      map[int]*conn
	ups        []*upstream       // connections to the other shards, by shard; nil outside a cluster
	upFDs      map[int]*upstream // the same, by descriptor
	later      []func()          // work queued on the loop's thread for its next turn
	draining   bool
	now        time.Time    // the time of the last wake-up, for timestamps
	held       int64        // bytes held in unfinished requests, over every connection
	freed      atomic.Int64 // when memory was last returned to the system (returnMemory), in ns
	nextSweep  time.Time
	stats      stats
}

// stats are the loop's counters, atomic because INFO may be answered on
// another goroutine (a datagram reader) while the loop runs.
type stats struct {
	conns, readPauses, writeStalls atomic.Int64
	held, evictions                atomic.Int64
}

// Stats counts what makes an event loop interesting to compare.
type Stats struct {
	Connections     int    // open now
	ReadPauses      uint64 // reading stopped because a client's replies piled up
	WriteStalls     uint64 // replies waited for the client to read (EPOLLOUT)
	RequestMemory   int64  // bytes held in unfinished requests now
	MemoryEvictions uint64 // clients closed to keep RequestMemory within the handler's budget
}

// acceptor is a Listener as the loop holds it; accept errors such as EMFILE take it
// out of the epoll set until resumeAt.
type acceptor struct {
	Listener
	on       bool // in the epoll set
	paused   bool
	resumeAt time.Time
	delay    time.Duration
}

// events is how ln is watched: a listener other processes accept on too
// wakes one of them per connection (EPOLLEXCLUSIVE), not all of them.
func (ln *acceptor) events() uint32 {
	if ln.Shared {
		return unix.EPOLLIN | unix.EPOLLEXCLUSIVE
	}
	return unix.EPOLLIN
}

// New prepares a loop; nothing is watched until Serve. On error the
// caller still owns every descriptor in cfg.
func New(cfg Config) (*Loop, error) {
	if cfg.Handler == nil {
		return nil, errors.New("evloop: no handler")
	}
	if cfg.Log == nil {
		cfg.Log = hclog.NewNullLogger()
	}
	w, err := sys.NewWaker()
	if err != nil {
		return nil, err
	}
	l := &Loop{cfg: cfg, h: cfg.Handler, log: cfg.Log, wake: w, epfd: -1, queue: cfg.Queue,
		conns: map[int]*conn{}, bufs: handler.NewBuffers(keptBuffers)}
	for _, ln := range cfg.Listeners {
		l.ls = append(l.ls, &acceptor{Listener: ln})
	}
	l.initUpstreams()
	to := cfg.Handler.Timeouts()
	if t := minPositive(to.Read, to.Idle, to.Write); t > 0 {
		// A timeout fires within a tenth of its length, checked at most
		// every second and at least every 10 ms.
		l.tick = min(max(t/10, 10*time.Millisecond), time.Second)
	}
	return l, nil
}

// Stats reports the loop's counters; safe from any goroutine.
func (l *Loop) Stats() Stats {
	return Stats{
		Connections:     int(l.stats.conns.Load()),
		ReadPauses:      uint64(l.stats.readPauses.Load()),
		WriteStalls:     uint64(l.stats.writeStalls.Load()),
		RequestMemory:   l.stats.held.Load(),
		MemoryEvictions: uint64(l.stats.evictions.Load()),
	}
}

// AppendInfo renders Stats as INFO lines; safe from any goroutine.
func (l *Loop) AppendInfo(b []byte) []byte {
	s := l.Stats()
	return fmt.Appendf(b, "connections:%d\r\nread_pauses:%d\r\nwrite_stalls:%d\r\nrequest_memory:%d\r\nrequest_memory_evictions:%d\r\n",
		s.Connections, s.ReadPauses, s.WriteStalls, s.RequestMemory, s.MemoryEvictions)
}

// adoption is a connection another process handed over: its descriptor
// and its session's state (handler.Session.AppendState).
type adoption struct {
	fd    int
	state []byte
}

// HandBack passes a connection, at a request boundary, to another
// process: its descriptor and its session's state (which the callee may
// keep). On success the callee has sent its own copy of the descriptor on;
// the loop closes its own either way.
type HandBack func(fd int, state []byte) error

// Adopt gives the loop a connected socket that another process served,
// with its session's state; the loop owns fd from then on, whatever
// happens. A loop that has stopped closes it.
func (l *Loop) Adopt(fd int, state []byte) {
	l.mu.Lock()
	if l.done {
		l.mu.Unlock()
		unix.Close(fd)
		return
	}
	l.inbox = append(l.inbox, adoption{fd, state})
	l.mu.Unlock()
	l.wake.Wake()
}

// Drain stops taking connections and gives up each open one at its next
// request boundary: to handBack, with its session's state, or, when
// handBack is nil or fails, by closing it. Serve returns once no
// connection is left.
func (l *Loop) Drain(handBack HandBack) {
	l.mu.Lock()
	l.drainReq = true
	l.handBack = handBack
	l.mu.Unlock()
	l.wake.Wake()
}

// post has fn run on the loop's thread, at its next wake-up: how a
// helper goroutine's result, or an answer from another shard through the
// Handler's peers, reaches the loop. It is safe from any goroutine; once
// the loop has stopped, fn is dropped and post reports false.
func (l *Loop) post(fn func()) bool {
	l.mu.Lock()
	if l.done {
		l.mu.Unlock()
		return false
	}
	l.posted = append(l.posted, fn)
	l.mu.Unlock()
	l.wake.Wake()
	return true
}

// Stop closes every connection at once; Serve returns.
func (l *Loop) Stop() {
	l.mu.Lock()
	l.stopReq = true
	l.mu.Unlock()
	l.wake.Wake()
}

// Serve runs the loop until it has drained or is stopped, then releases
// every descriptor it holds.
func (l *Loop) Serve() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if l.cfg.Fault != nil {
		debug.SetPanicOnFault(true)
	}
	defer l.closeAll()

	var err error
	if l.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return fmt.Errorf("epoll_create1: %w", err)
	}
	if err := l.add(l.wake.FD(), unix.EPOLLIN); err != nil {
		return fmt.Errorf("epoll: add wake-up eventfd: %w", err)
	}
	for _, ln := range l.ls {
		if err := unix.SetNonblock(ln.FD, true); err != nil {
			return fmt.Errorf("listener %s: %w", ln.Name, err)
		}
	}
	if l.queue >= 0 {
		if err := unix.SetNonblock(l.queue, true); err != nil {
			return fmt.Errorf("descriptor queue: %w", err)
		}
	}
	if err := l.syncWatches(); err != nil {
		return err
	}
	events := make([]unix.EpollEvent, maxEvents)
	l.now = time.Now()
	l.nextSweep = l.now.Add(l.tick)
	for {
		if stop := l.requests(); stop {
			return nil
		}
		if l.draining && len(l.conns) == 0 {
			return nil
		}
		// Under load something is nearly always ready: look without
		// sleeping first, and sleep only when nothing is.
		n, err := sys.PollNow(l.epfd, events)
		if err == nil && n == 0 {
			n, err = unix.EpollWait(l.epfd, events, l.waitMillis())
		}
		l.now = time.Now()
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue // Go's preemption signals interrupt the wait
			}
			return fmt.Errorf("epoll_wait: %w", err)
		}
		for _, ev := range events[:n] {
			l.onEvent(int(ev.Fd), ev.Events)
		}
		l.timers()
	}
}

// requests takes what other goroutines asked for: adopted connections, a
// drain, a stop. It reports whether the loop must stop now.
func (l *Loop) requests() bool {
	l.mu.Lock()
	inbox, posted, stop, drain := l.inbox, l.posted, l.stopReq, l.drainReq
	l.inbox, l.posted = nil, nil
	l.mu.Unlock()
	for _, a := range inbox {
		if stop {
			unix.Close(a.fd)
			continue
		}
		l.open(a.fd, true, "handed over", a.state)
	}
	if stop {
		return true
	}
	for _, fn := range posted {
		fn()
	}
	for len(l.later) > 0 {
		later := l.later
		l.later = nil
		for _, fn := range later {
			fn()
		}
	}
	if drain && !l.draining {
		l.beginDrain()
	}
	return false
}

// onEvent routes one readiness report. A connection closed earlier in the
// same batch is gone from conns and its report is dropped; if its number
// was already reused by a connection opened in this batch, the report
// reaches the new connection, which level-triggered handling tolerates (a
// read finds nothing: EAGAIN).
func (l *Loop) onEvent(fd int, events uint32) {
	switch {
	case fd == l.wake.FD():
		l.wake.Clear()
		return
	case fd == l.queue:
		l.receive()
		return
	}
	for _, ln := range l.ls {
		if ln.FD == fd {
			l.accept(ln)
			return
		}
	}
	if c := l.conns[fd]; c != nil {
		l.onReady(c, events)
		return
	}
	if u := l.upFDs[fd]; u != nil {
		l.onUpstream(u, events)
	}
}

// accept takes up to acceptBatch waiting connections from ln, while the
// loop has room for them and, when ln is shared with other processes,
// while Share says this loop holds no more than its share. Share is asked
// before each accept, not once a batch: a burst of clients connecting at
// once waits in the backlog together, and one batch would take them all.
//
// It is not asked before the first. The kernel may have woken this
// process alone (EPOLLEXCLUSIVE) for the connection at hand, and it does
// not pass the wake-up on: a process that left it would strand it until
// another connection woke someone else. And a loop over its share does not
// stop watching the listener for a while: two loops can each be over their
// share a moment apart, and with a pause each they would both be away
// while clients wait (docs/design.md measures it). It rejoins the
// listener's wait queue instead, at the back, so that the kernel wakes the
// others first for the connections that arrive next. A listener added
// again while connections still wait is reported ready at once, so the
// loop goes on taking those, one a turn between serving its clients,
// unless another process takes them first; it never stalls.
func (l *Loop) accept(ln *acceptor) {
	for i := range acceptBatch {
		if !l.room() {
			l.setFull()
			return
		}
		if i > 0 && ln.Shared && l.leaveToOthers() {
			if ln.on && !l.rejoin(ln.FD, ln.events(), ln.Name) {
				ln.on, ln.paused, ln.resumeAt = false, true, l.now.Add(shareDelay)
			}
			return
		}
		nfd, err := sys.Accept4(ln.FD)
		switch {
		case err == nil:
		case errors.Is(err, unix.EAGAIN):
			ln.delay = 0
			return
		case errors.Is(err, unix.ECONNABORTED):
			continue
		default:
			l.pause(ln, err)
			return
		}
		l.open(nfd, false, ln.Name, nil)
	}
}

// receive takes up to receiveBatch messages of descriptors from the
// queue, or only one when Share says this loop has more than its share.
func (l *Loop) receive() {
	if !l.room() {
		l.setFull()
		return
	}
	batch := receiveBatch
	if l.leaveToOthers() {
		// Take the message this loop was woken for, which the kernel
		// would pass to no one else, and rejoin the queue's wait queue at
		// the back, so that the others are woken first for the next (as
		// accept does for a shared listener).
		batch = 1
		defer l.rejoinQueue()
	}
	if l.takeQueued(batch) {
		// The master and every other reader are gone, and the master's
		// lifeline tells this process too. Stop watching the queue rather
		// than spin on it.
		l.log.Error("descriptor queue closed; no longer reading it")
		l.closeQueue()
	}
}

// leaveToOthers reports whether the loop should leave the connections
// that follow to the other processes waiting on the same queue or
// listener: Share says it holds more than its share. The one a wake-up is
// for is taken regardless, so connections are taken even when every other
// process is stuck.
func (l *Loop) leaveToOthers() bool {
	return l.cfg.Share != nil && !l.cfg.Share(len(l.conns))
}

// rejoinQueue is rejoin for the descriptor queue, watched again shortly
// if it cannot be at once.
func (l *Loop) rejoinQueue() {
	if l.queueOn && !l.rejoin(l.queue, queueEvents, "descriptor queue") {
		l.queueOn, l.queueBack = false, l.now.Add(shareDelay)
	}
}

// rejoin moves this loop to the back of fd's wait queue by removing its
// watch and adding it anew: EPOLLEXCLUSIVE wakes the first waiter that
// sleeps, and a watch added anew is queued last. It reports whether fd is
// still watched, false when the watch, once removed, could not be added
// again.
func (l *Loop) rejoin(fd int, events uint32, name string) bool {
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, fd, nil); err != nil {
		l.log.Warn("epoll: cannot leave a wait queue; staying in place", "watch", name, "error", err)
		return true
	}
	if err := l.add(fd, events); err != nil {
		l.log.Error("epoll: cannot watch again after leaving a wait queue; trying shortly", "watch", name, "error", err)
		return false
	}
	return true
}

// takeQueued takes up to max messages from the queue, or until it is
// empty, and serves the connections they carry. A message carries new
// connections, or one handed-over connection and its session's state. It
// reports whether the queue has reached end of file.
func (l *Loop) takeQueued(max int) (eof bool) {
	var buf [handler.MaxStateSize]byte
	for range max {
		if !l.room() {
			l.setFull()
			return false
		}
		n, fds, err := fdpass.RecvFd(l.queue, buf[:], maxPassed)
		switch {
		case err == nil:
			l.limitDelay = 0
		case errors.Is(err, unix.EAGAIN):
			return false
		case errors.Is(err, io.EOF):
			return true
		case errors.Is(err, fdpass.ErrDescriptorLimit):
			// Descriptors this process holds beyond its connections took
			// the room: serve what arrived, and leave the queue to the
			// other readers for a while.
			l.sayLimit(err)
			for _, fd := range fds {
				l.open(fd, true, "queue", nil)
			}
			l.limitDelay = sys.NextBackoff(l.limitDelay)
			l.queueBack = l.now.Add(l.limitDelay)
			l.syncWatches()
			return false
		default:
			// A message that did not fit (at the descriptor limit the
			// kernel truncates its descriptors, which are then closed):
			// that connection is lost, the next message is not.
			l.log.Error("receive from descriptor queue", "error", err)
			continue
		}
		var state []byte
		if handler.IsState(buf[:n]) && len(fds) == 1 {
			state = bytes.Clone(buf[:n])
		}
		for _, fd := range fds {
			l.open(fd, true, "queue", state)
		}
	}
	return false
}

// open starts serving a connected socket, or refuses it over the client
// limit. A connection handed over with its session's state resumes that
// session, and is not refused: it is a client the server already counts,
// not a new one. A descriptor received from another process is read at
// once, before epoll reports it: its request has most likely arrived while
// it was on its way.
func (l *Loop) open(fd int, received bool, via string, state []byte) {
	var sess *handler.Session
	if state != nil {
		var err error
		if sess, err = l.h.ResumeSession(state); err != nil {
			l.log.Error("cannot resume a handed-over session; closing its connection", "via", via, "error", err)
			unix.Close(fd)
			return
		}
	} else if l.cfg.Admit != nil && !l.cfg.Admit() {
		l.cfg.Refuse(fd)
		return
	}
	if err := l.add(fd, unix.EPOLLIN); err != nil {
		l.log.Error("epoll: cannot watch a new connection; closing it", "via", via, "error", err)
		unix.Close(fd)
		if sess != nil {
			sess.Close()
		}
		return
	}
	if sess == nil {
		sess = l.h.NewSession()
	}
	c := &conn{fd: fd, via: via, received: received, events: unix.EPOLLIN}
	c.st = l.h.NewStream(sess, l.now, c.remote)
	c.st.UseBuffers(l.bufs)
	if l.cfg.Fault != nil {
		c.st.OnFault(l.cfg.Fault)
	}
	l.conns[fd] = c
	l.stats.conns.Add(1)
	if l.cfg.Opened != nil {
		l.cfg.Opened()
	}
	switch {
	case received:
		l.onReady(c, unix.EPOLLIN)
	case l.draining:
		l.release(c, false)
	}
}

// pause takes ln out of the epoll set for a growing delay after an accept
// error that will not clear by itself at once, such as EMFILE: a level-
// triggered listener would otherwise report ready, and fail, in a busy loop
// and the log would fill with the same error.
func (l *Loop) pause(ln *acceptor, err error) {
	ln.delay = sys.NextBackoff(ln.delay)
	if errors.Is(err, unix.EMFILE) || errors.Is(err, unix.ENFILE) {
		l.sayLimit(err)
	} else {
		l.log.Warn("accept failed; backing off", "listen", ln.Name, "error", err, "delay", ln.delay)
	}
	ln.paused = true
	ln.resumeAt = l.now.Add(ln.delay)
	l.syncWatches()
}

// room reports whether the loop may take another message's worth of
// connections under MaxConns.
func (l *Loop) room() bool {
	return l.cfg.MaxConns <= 0 || len(l.conns) == 0 || len(l.conns)+maxPassed <= l.cfg.MaxConns
}

// setFull stops taking connections until one closes (closeConn).
func (l *Loop) setFull() {
	if l.full {
		return
	}
	l.full = true
	if !l.limitSaid {
		l.limitSaid = true
		l.log.Warn("at the connection bound the descriptor limit allows; new connections wait in the queue or the listen backlog until one closes (raise the limit: ulimit -n, LimitNOFILE=)",
			"connections", len(l.conns), "bound", l.cfg.MaxConns)
	}
	l.syncWatches()
}

// sayLimit logs, the first time only, that the descriptor limit took
// connections; later times are counted in the debug log.
func (l *Loop) sayLimit(err error) {
	if l.limitSaid {
		l.log.Debug("descriptor limit", "error", err)
		return
	}
	l.limitSaid = true
	l.log.Warn("descriptor limit reached (EMFILE): taking no connections for a while; raise the limit (ulimit -n, LimitNOFILE=)",
		"connections", len(l.conns), "error", err)
}

// syncWatches makes the epoll set watch what the loop may take now: the
// queue unless it is left for a while after an error or the loop is full,
// each listener unless it is paused after an error or the loop is full.
func (l *Loop) syncWatches() error {
	wantQueue := l.queue >= 0 && l.queueBack.IsZero() && !l.full
	if wantQueue != l.queueOn {
		var err error
		if wantQueue {
			err = l.add(l.queue, queueEvents)
		} else {
			err = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, l.queue, nil)
		}
		if err != nil {
			l.log.Error("epoll: cannot change how the descriptor queue is watched", "watch", wantQueue, "error", err)
			return fmt.Errorf("epoll: descriptor queue: %w", err)
		}
		l.queueOn = wantQueue
	}
	for _, ln := range l.ls {
		want := !ln.paused && !l.full
		if want == ln.on {
			continue
		}
		var err error
		if want {
			err = l.add(ln.FD, ln.events())
		} else {
			err = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, ln.FD, nil)
		}
		if err != nil {
			l.log.Error("epoll: cannot change how a listener is watched", "listen", ln.Name, "watch", want, "error", err)
			return fmt.Errorf("epoll: listener %s: %w", ln.Name, err)
		}
		ln.on = want
	}
	return nil
}

// queueEvents is how the queue is watched: EPOLLEXCLUSIVE wakes one idle
// reader per message instead of all of them.
//
// The kernel does not pass that wake-up on when the reader declines it, so
// a reader over its share still takes the message it was woken for, and
// only then rejoins the wait queue, at the back (rejoinQueue). Stepping
// away from the queue for a while instead left the declined message
// waiting until another one woke someone. Waking every idle reader (no
// EPOLLEXCLUSIVE) avoids that wait too, but costs more CPU per connection
// (docs/design.md has both measurements).
const queueEvents = unix.EPOLLIN | unix.EPOLLEXCLUSIVE

// waitMillis is how long epoll_wait may sleep: until the next timeout
// check or listener resumption, forever if there is neither.
func (l *Loop) waitMillis() int {
	if len(l.later) > 0 {
		return 0
	}
	next := l.upDeadline()
	if l.tick > 0 && len(l.conns) > 0 && (next.IsZero() || l.nextSweep.Before(next)) {
		next = l.nextSweep
	}
	if !l.queueBack.IsZero() && (next.IsZero() || l.queueBack.Before(next)) {
		next = l.queueBack
	}
	for _, ln := range l.ls {
		if ln.paused && (next.IsZero() || ln.resumeAt.Before(next)) {
			next = ln.resumeAt
		}
	}
	if l.draining && len(l.conns) > 0 {
		// Connections waiting out DrainQuiet (release) are checked again.
		if t := l.now.Add(l.drainQuiet() / 4); next.IsZero() || t.Before(next) {
			next = t
		}
	}
	if next.IsZero() {
		return -1
	}
	d := next.Sub(time.Now())
	if d <= 0 {
		return 0
	}
	return int((d + time.Millisecond - 1) / time.Millisecond)
}

// timers resumes paused listeners and the queue, fails lookups other
// shards did not answer in time, and closes connections past a timeout.
func (l *Loop) timers() {
	l.upTimers(l.now)
	if !l.queueBack.IsZero() && !l.now.Before(l.queueBack) {
		l.queueBack = time.Time{}
	}
	for _, ln := range l.ls {
		if ln.paused && !l.now.Before(ln.resumeAt) {
			ln.paused = false
		}
	}
	l.syncWatches()
	if l.draining {
		l.releaseQuiet()
	}
	if l.tick == 0 || l.now.Before(l.nextSweep) {
		return
	}
	l.nextSweep = l.now.Add(l.tick)
	for _, c := range l.conns {
		if expired, err := c.st.Expired(l.now); expired {
			l.closeConn(c, err)
		}
	}
}

// beginDrain stops taking connections and releases every connection
// already at a request boundary; the others follow as they reach one.
func (l *Loop) beginDrain() {
	l.draining = true
	l.mu.Lock()
	handBack := l.handBack
	l.mu.Unlock()
	l.closeListeners()
	// Without a callback the master has stopped, and what is still queued
	// would die with it: take it, without waiting. A loop handing over to
	// a new generation leaves the queue to it.
	if l.queue >= 0 && handBack == nil {
		l.takeQueued(math.MaxInt)
	}
	l.closeQueue()
	for _, c := range l.conns {
		if l.conns[c.fd] == c {
			l.advance(c)
		}
	}
}

// DefaultDrainQuiet is DrainQuiet's default: longer than a busy client
// waits between one reply and its next request, short next to a
// shutdown's timeout.
const DefaultDrainQuiet = 100 * time.Millisecond

// release gives up a connection at a request boundary during a drain: to
// the drain's callback, or closed. answered tells that c has just written
// a reply. It reports whether c was released.
//
// Closing is a race with the client, which may have sent its next request
// already: it would meet a reset or an end of file instead of a reply, and
// a client behind a proxy cannot tell that from a crash. So a drain that
// closes does so right after writing a reply, when the client is reading
// it and has not sent more (a connection pool checks for the end of file
// before lending the connection again), or once the connection has been
// quiet for DrainQuiet, when it is most likely idle in a pool. In between
// it waits for the next request, answers it, and closes.
func (l *Loop) release(c *conn, answered bool) bool {
	if !c.st.AtBoundary() || inputWaiting(c.fd) {
		return false
	}
	l.mu.Lock()
	handBack := l.handBack
	l.mu.Unlock()
	if handBack == nil {
		if !answered && l.now.Sub(c.st.LastActive()) < l.drainQuiet() {
			return false
		}
		l.closeConn(c, nil)
		return true
	}
	// The callback passes the descriptor on, and the file stays open in
	// the message: take it out of the epoll set first, which closing
	// our copy would then not do.
	unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
	if err := handBack(c.fd, c.st.Session().AppendState(nil)); err != nil {
		l.log.Warn("cannot hand a connection over; closing it", "error", err)
	}
	l.closeConn(c, nil)
	return true
}

func (l *Loop) drainQuiet() time.Duration {
	if l.cfg.DrainQuiet > 0 {
		return l.cfg.DrainQuiet
	}
	return DefaultDrainQuiet
}

// releaseQuiet closes, during a drain that closes, the connections that
// have waited DrainQuiet for a request that did not come.
func (l *Loop) releaseQuiet() {
	for _, c := range l.conns {
		if l.conns[c.fd] == c && c.st.AtBoundary() {
			l.release(c, false)
		}
	}
}

// closeAll releases everything: connections, listeners, the queue, the
// epoll set, and any connection adopted after the loop stopped.
func (l *Loop) closeAll() {
	for _, c := range l.conns {
		l.closeConn(c, nil)
	}
	l.closeListeners()
	l.closeQueue()
	if l.epfd >= 0 {
		unix.Close(l.epfd)
		l.epfd = -1
	}
	l.closeUpstreams()
	l.mu.Lock()
	l.done = true // Adopt closes what it is given from now on
	inbox := l.inbox
	l.inbox = nil
	l.mu.Unlock()
	for _, a := range inbox {
		unix.Close(a.fd)
	}
	l.wake.Close()
}

// closeListeners stops accepting. The listening sockets may be shared with
// other processes, so closing our descriptor would not take them out of
// the epoll set: they are deleted from it first.
func (l *Loop) closeListeners() {
	for _, ln := range l.ls {
		if l.epfd >= 0 && ln.on {
			unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, ln.FD, nil)
		}
		unix.Close(ln.FD)
	}
	l.ls = nil
}

// closeQueue stops receiving from the descriptor queue, which other
// processes share.
func (l *Loop) closeQueue() {
	if l.queue < 0 {
		return
	}
	if l.epfd >= 0 && l.queueOn {
		unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, l.queue, nil)
	}
	unix.Close(l.queue)
	l.queue = -1
	l.queueOn = false
	l.queueBack = time.Time{}
}

func (l *Loop) add(fd int, events uint32) error {
	return unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: events, Fd: int32(fd)})
}

// inputWaiting reports whether the client has sent bytes still in the
// kernel's receive buffer: a connection with a request on its way is
// answered before it is given up, not handed over or closed under it.
func inputWaiting(fd int) bool {
	var b [1]byte
	n, _, err := unix.Recvfrom(fd, b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
	return err == nil && n > 0
}

// minPositive returns the smallest positive duration, or 0 if none is.
func minPositive(ds ...time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		if d > 0 && (m == 0 || d < m) {
			m = d
		}
	}
	return m
}
