package classic

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sys/unix"

	"github.com/freqd/freqd/handler"
	"github.com/freqd/freqd/master"
)

// Event-loop bounds.
const (
	// maxEvents is how many ready descriptors one epoll_wait returns.
	maxEvents = 256
	// acceptBatch is how many connections one readiness of a listener
	// accepts, so a flood of connects cannot starve the clients already
	// connected.
	acceptBatch = 64
)

// epollServer is the epoll design: one thread, every socket non-blocking,
// one level-triggered epoll set, handler.Session.Process on each
// connection's input buffer. It is the select() server of the classics:
// no locks, no stack per client and the least memory per connection, and
// everything it does is serial, so it uses one core and a slow request
// delays every client.
//
// The serving goroutine is locked to its thread and GOMAXPROCS is 1, so all
// I/O and protocol work happens on one OS thread; the Go runtime keeps its
// own helper threads (sysmon, signal delivery), which do none of it.
type epollServer struct {
	h    *handler.Handler
	log  hclog.Logger
	ls   []*epollListener
	wake *waker
	stop stopState

	maxBuffer int           // largest input buffer a request may need
	tick      time.Duration // how often timeouts are checked; 0: no timeouts

	// Loop state, touched only by the loop's thread (handler.Info runs
	// there too, inside Process).
	epfd      int
	conns     map[int]*econn
	draining  bool
	now       time.Time // the time of the last wake-up, for timestamps
	nextSweep time.Time
	stats     epollStats
}

// epollStats counts what makes the event loop interesting to compare.
type epollStats struct {
	readPauses  uint64 // reading stopped because a client's replies piled up
	writeStalls uint64 // replies waited for the client to read (EPOLLOUT)
}

// epollListener is a listener in the loop; accept errors such as EMFILE
// take it out of the epoll set until resumeAt.
type epollListener struct {
	rawListener
	paused   bool
	resumeAt time.Time
	delay    time.Duration
}

func newEpollServer(h *handler.Handler, log hclog.Logger, ls []master.Listener) (*epollServer, error) {
	raw, err := takeRaw(ls)
	if err != nil {
		return nil, err
	}
	w, err := newWaker()
	if err != nil {
		closeRaw(raw)
		return nil, err
	}
	lim := h.Limits.Effective()
	s := &epollServer{h: h, log: log, wake: w, epfd: -1, conns: map[int]*econn{},
		maxBuffer: max(lim.MaxRequestLen, lim.MaxInlineLen+2)}
	for _, l := range raw {
		s.ls = append(s.ls, &epollListener{rawListener: l})
	}
	if t := minPositive(h.ReadTimeout, h.IdleTimeout, h.WriteTimeout); t > 0 {
		// A timeout fires within a tenth of its length, checked at most
		// every second and at least every 10 ms.
		s.tick = min(max(t/10, 10*time.Millisecond), time.Second)
	}
	h.Info = append(h.Info, handler.InfoSection{Name: "eventloop", Append: s.appendInfo})
	return s, nil
}

func (s *epollServer) appendInfo(b []byte) []byte {
	return fmt.Appendf(b, "connections:%d\r\nread_pauses:%d\r\nwrite_stalls:%d\r\n",
		len(s.conns), s.stats.readPauses, s.stats.writeStalls)
}

func (s *epollServer) serve() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	runtime.GOMAXPROCS(1)
	defer s.closeAll()

	var err error
	if s.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return fmt.Errorf("epoll_create1: %w", err)
	}
	if err := s.add(s.wake.fd, unix.EPOLLIN); err != nil {
		return fmt.Errorf("epoll: add wake-up eventfd: %w", err)
	}
	for _, l := range s.ls {
		if err := s.add(l.fd, unix.EPOLLIN); err != nil {
			return fmt.Errorf("epoll: add listener %s: %w", l.addr, err)
		}
	}
	events := make([]unix.EpollEvent, maxEvents)
	s.now = time.Now()
	s.nextSweep = s.now.Add(s.tick)
	for {
		switch s.stop.get() {
		case stopNow:
			return nil
		case stopGraceful:
			if !s.draining {
				s.beginDrain()
			}
			if len(s.conns) == 0 {
				return nil
			}
		}
		n, err := unix.EpollWait(s.epfd, events, s.waitMillis())
		s.now = time.Now()
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue // Go's preemption signals interrupt the wait (PITFALLS #16)
			}
			return fmt.Errorf("epoll_wait: %w", err)
		}
		for _, ev := range events[:n] {
			s.dispatch(int(ev.Fd), ev.Events)
		}
		s.timers()
	}
}

// dispatch routes one readiness report. A connection closed earlier in the
// same batch is gone from conns and its report is dropped; if its number
// was already reused by a connection accepted in this batch, the report
// reaches the new connection, which level-triggered handling tolerates (a
// read finds nothing: EAGAIN).
func (s *epollServer) dispatch(fd int, events uint32) {
	if fd == s.wake.fd {
		s.wake.clear()
		return
	}
	for _, l := range s.ls {
		if l.fd == fd {
			s.accept(l)
			return
		}
	}
	if c := s.conns[fd]; c != nil {
		s.onReady(c, events)
	}
}

// accept takes up to acceptBatch waiting connections from l.
func (s *epollServer) accept(l *epollListener) {
	for range acceptBatch {
		nfd, sa, err := unix.Accept4(l.fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		switch {
		case err == nil:
		case errors.Is(err, unix.EAGAIN):
			l.delay = 0
			return
		case errors.Is(err, unix.EINTR), errors.Is(err, unix.ECONNABORTED):
			continue
		default:
			s.pause(l, err)
			return
		}
		if err := s.add(nfd, unix.EPOLLIN); err != nil {
			s.log.Error("epoll: cannot watch a new connection; closing it", "listen", l.addr.String(), "error", err)
			unix.Close(nfd)
			continue
		}
		c := &econn{fd: nfd, peer: sa, listener: l.addr, sess: s.h.NewSession(),
			events: unix.EPOLLIN, lastActive: s.now}
		s.conns[nfd] = c
	}
}

// pause takes l out of the epoll set for a growing delay after an accept
// error that will not clear by itself at once, such as EMFILE: a level-
// triggered listener would otherwise report ready, and fail, in a busy loop.
func (s *epollServer) pause(l *epollListener, err error) {
	l.delay = nextBackoff(l.delay)
	s.log.Warn("accept failed; backing off", "listen", l.addr.String(), "error", err, "delay", l.delay)
	if derr := unix.EpollCtl(s.epfd, unix.EPOLL_CTL_DEL, l.fd, nil); derr != nil {
		s.log.Error("epoll: cannot pause listener", "listen", l.addr.String(), "error", derr)
		return
	}
	l.paused = true
	l.resumeAt = s.now.Add(l.delay)
}

// waitMillis is how long epoll_wait may sleep: until the next timeout
// check or listener resumption, forever if there is neither.
func (s *epollServer) waitMillis() int {
	var next time.Time
	if s.tick > 0 && len(s.conns) > 0 {
		next = s.nextSweep
	}
	for _, l := range s.ls {
		if l.paused && (next.IsZero() || l.resumeAt.Before(next)) {
			next = l.resumeAt
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

// timers resumes paused listeners and closes connections past a timeout.
func (s *epollServer) timers() {
	for _, l := range s.ls {
		if l.paused && !s.now.Before(l.resumeAt) {
			if err := s.add(l.fd, unix.EPOLLIN); err != nil {
				s.log.Error("epoll: cannot resume listener", "listen", l.addr.String(), "error", err)
				l.resumeAt = s.now.Add(l.delay)
				continue
			}
			l.paused = false
		}
	}
	if s.tick == 0 || s.now.Before(s.nextSweep) {
		return
	}
	s.nextSweep = s.now.Add(s.tick)
	for _, c := range s.conns {
		if expired, err := c.expired(s.h, s.now); expired {
			s.closeConn(c, err)
		}
	}
}

// beginDrain starts a graceful stop: the listeners close, connections stop
// being read, and each closes once the requests it has sent are answered.
func (s *epollServer) beginDrain() {
	s.draining = true
	// Closing a listener's only descriptor also takes it out of the set.
	closeRaw(rawListeners(s.ls))
	s.ls = nil
	for _, c := range s.conns {
		s.advance(c)
	}
}

func (s *epollServer) shutdown(graceful bool) {
	s.stop.request(graceful)
	s.wake.wake()
}

// closeAll releases everything: connections, listeners, the epoll set.
func (s *epollServer) closeAll() {
	for _, c := range s.conns {
		s.closeConn(c, nil)
	}
	closeRaw(rawListeners(s.ls))
	s.ls = nil
	if s.epfd >= 0 {
		unix.Close(s.epfd)
		s.epfd = -1
	}
	s.wake.close()
}

func (s *epollServer) add(fd int, events uint32) error {
	return unix.EpollCtl(s.epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: events, Fd: int32(fd)})
}

func rawListeners(ls []*epollListener) []rawListener {
	out := make([]rawListener, len(ls))
	for i, l := range ls {
		out[i] = l.rawListener
	}
	return out
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
