package evloop

import (
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/freqd/freqd/cluster"
	"github.com/freqd/freqd/internal/sys"
)

// The other shards of a cluster, as the loop reaches them (Config.Cluster).
//
// A connection waiting for words another shard holds must not hold up the
// loop, and a second hop should cost what the network costs, not thread
// switches. So the loop keeps one connection to each other shard, among
// its own descriptors: a lookup is appended to the shard's output and
// written at once (the socket nearly always takes it), the answer is read
// when epoll reports it, parsed, and handed to the waiting connection,
// which runs again, all on the loop's thread. Lookups of many clients
// share the connection, pipelined, answered in order.
//
// Only opening a connection (a host name may need resolving, and AUTH its
// round trip) happens on a helper goroutine, bounded by the timeout; its
// result reaches the loop through post. A shard that cannot be reached
// fails the lookups waiting for it, and those of the next half second at
// once; one that does not answer within the timeout has its connection
// closed and its waiting lookups failed.

// upstreamDown is how long a shard that could not be reached fails
// lookups without trying again.
const upstreamDown = 500 * time.Millisecond

// upstream is the loop's connection to another shard.
type upstream struct {
	shard   cluster.Shard
	fd      int  // -1 without a connection
	dialing bool // a helper goroutine is opening one
	events  uint32
	out     []byte // lookups not yet written: out[sent:]
	sent    int
	in      []byte // answers read, not yet parsed
	calls   []upcall

	downUntil time.Time
	downErr   error
}

// upcall is a lookup waiting for its answer.
type upcall struct {
	words    int
	deadline time.Time
	done     func([]cluster.Entry, error)
}

// initUpstreams prepares a connection slot for each other shard.
func (l *Loop) initUpstreams() {
	n := l.cfg.Cluster
	if n == nil {
		return
	}
	if l.cfg.ClusterTimeout <= 0 {
		l.cfg.ClusterTimeout = cluster.DefaultTimeout
	}
	l.ups = make([]*upstream, len(n.Config.Shards))
	l.upFDs = map[int]*upstream{}
	for i, s := range n.Config.Shards {
		if i != n.Self {
			l.ups[i] = &upstream{shard: s, fd: -1}
		}
	}
}

// Lookup asks shard for words on the loop's connection to it; done runs
// on the loop's thread, never before Lookup has returned. It makes the
// Loop the handler.Peers of the connections it serves.
func (l *Loop) Lookup(shard int, words [][]byte, done func([]cluster.Entry, error)) {
	u := l.ups[shard]
	now := time.Now()
	if now.Before(u.downUntil) {
		err := u.downErr
		l.later = append(l.later, func() { done(nil, err) })
		return
	}
	u.out = cluster.AppendLookup(u.out, l.cfg.Cluster.Info.SetID, words)
	u.calls = append(u.calls, upcall{words: len(words), deadline: now.Add(l.cfg.ClusterTimeout), done: done})
	switch {
	case u.fd >= 0:
		if err := l.upFlush(u); err != nil {
			l.later = append(l.later, func() { l.upFail(u, err) })
		}
	case !u.dialing:
		l.upDial(u)
	}
}

// upDial opens the connection to u's shard on a helper goroutine.
func (l *Loop) upDial(u *upstream) {
	u.dialing = true
	addr, pass, timeout := u.shard.Addr, l.cfg.ClusterPassword, l.cfg.ClusterTimeout
	go func() {
		fd := -1
		conn, err := cluster.Dial(addr, pass, time.Now().Add(timeout))
		if err == nil {
			fd, err = takeFD(conn)
		}
		if !l.post(func() { l.upDialed(u, fd, err) }) && fd >= 0 {
			unix.Close(fd) // the loop has stopped
		}
	}()
}

// takeFD takes a connection's descriptor out of Go's poller, as a
// non-blocking, close-on-exec copy, and closes the connection.
func takeFD(conn net.Conn) (int, error) {
	defer conn.Close()
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return -1, errors.New("not a socket")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd, derr := -1, error(nil)
	if err := rc.Control(func(f uintptr) { fd, derr = unix.FcntlInt(f, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return -1, err
	}
	if derr != nil {
		return -1, derr
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// upDialed takes the result of upDial.
func (l *Loop) upDialed(u *upstream, fd int, err error) {
	u.dialing = false
	if err != nil {
		u.downUntil, u.downErr = time.Now().Add(upstreamDown), cluster.ShardError(u.shard, err, l.cfg.ClusterTimeout)
		l.upFail(u, err)
		return
	}
	if err := l.add(fd, unix.EPOLLIN); err != nil {
		unix.Close(fd)
		l.upFail(u, err)
		return
	}
	u.fd, u.events = fd, unix.EPOLLIN
	l.upFDs[fd] = u
	if err := l.upFlush(u); err != nil {
		l.upFail(u, err)
	}
}

// upFlush writes what the socket takes of u's pending lookups, and
// watches for room when it takes less.
func (l *Loop) upFlush(u *upstream) error {
	for u.sent < len(u.out) {
		n, err := sys.RawWrite(u.fd, u.out[u.sent:])
		switch {
		case err == nil:
			u.sent += n
		case errors.Is(err, unix.EINTR):
		case errors.Is(err, unix.EAGAIN):
			return l.upWatch(u, unix.EPOLLIN|unix.EPOLLOUT)
		default:
			return err
		}
	}
	u.out, u.sent = u.out[:0], 0
	return l.upWatch(u, unix.EPOLLIN)
}

func (l *Loop) upWatch(u *upstream, want uint32) error {
	if want == u.events {
		return nil
	}
	u.events = want
	return unix.EpollCtl(l.epfd, unix.EPOLL_CTL_MOD, u.fd, &unix.EpollEvent{Events: want, Fd: int32(u.fd)})
}

// onUpstream handles a readiness report of u's connection: room to
// write, answers to read and hand to the waiting connections.
func (l *Loop) onUpstream(u *upstream, events uint32) {
	fd := u.fd
	if events&unix.EPOLLOUT != 0 {
		if err := l.upFlush(u); err != nil {
			l.upFail(u, err)
			return
		}
	}
	if events&(unix.EPOLLIN|unix.EPOLLHUP|unix.EPOLLERR) == 0 {
		return
	}
	for {
		if len(u.in) == cap(u.in) {
			u.in = slices.Grow(u.in, max(4096, cap(u.in)))
		}
		n, err := sys.RawRead(fd, u.in[len(u.in):cap(u.in)])
		switch {
		case err == nil && n == 0:
			l.upFail(u, errors.New("closed the connection"))
			return
		case err == nil:
			u.in = u.in[:len(u.in)+n]
			if len(u.in) < cap(u.in) {
				l.upAnswers(u, fd)
				return
			}
			continue // the buffer filled: there may be more
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EAGAIN):
			l.upAnswers(u, fd)
			return
		default:
			l.upFail(u, err)
			return
		}
	}
}

// upAnswers hands each complete answer read to its lookup, in order.
func (l *Loop) upAnswers(u *upstream, fd int) {
	off := 0
	for len(u.calls) > 0 && u.fd == fd {
		c := u.calls[0]
		entries, used, err := cluster.ParseEntries(u.in[off:], c.words)
		var reply *cluster.ReplyError
		switch {
		case err != nil && !errors.As(err, &reply):
			l.upFail(u, err)
			return
		case used == 0:
			u.in = u.in[:copy(u.in, u.in[off:])]
			return
		}
		off += used
		u.calls = u.calls[1:]
		if err != nil {
			err = fmt.Errorf("shard %s at %s: %s", u.shard.Slots, u.shard.Addr, reply.Msg)
		}
		c.done(entries, err) // may run the waiting connection, and send more lookups
	}
	if u.fd == fd {
		u.in = u.in[:copy(u.in, u.in[off:])]
		if len(u.calls) == 0 && cap(u.in) > 64<<10 {
			u.in = nil
		}
	}
}

// upFail closes u's connection and fails every lookup waiting on it.
func (l *Loop) upFail(u *upstream, err error) {
	if u.fd >= 0 {
		unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, u.fd, nil)
		unix.Close(u.fd)
		delete(l.upFDs, u.fd)
		u.fd = -1
	}
	calls := u.calls
	u.calls, u.out, u.sent, u.in = nil, u.out[:0], 0, u.in[:0]
	if len(calls) == 0 {
		return
	}
	if errors.Is(err, unix.ETIMEDOUT) {
		err = os.ErrDeadlineExceeded
	}
	err = cluster.ShardError(u.shard, err, l.cfg.ClusterTimeout)
	for _, c := range calls {
		c.done(nil, err)
	}
}

// upTimers fails the lookups of a shard whose oldest one is past its
// timeout: its connection is closed, since an answer may still be on the
// way and would be taken for the next lookup's.
func (l *Loop) upTimers(now time.Time) {
	for _, u := range l.ups {
		if u != nil && len(u.calls) > 0 && !u.dialing && !now.Before(u.calls[0].deadline) {
			l.upFail(u, os.ErrDeadlineExceeded)
		}
	}
}

// upDeadline is when the next lookup times out; zero for none.
func (l *Loop) upDeadline() time.Time {
	var next time.Time
	for _, u := range l.ups {
		if u != nil && len(u.calls) > 0 && !u.dialing {
			if d := u.calls[0].deadline; next.IsZero() || d.Before(next) {
				next = d
			}
		}
	}
	return next
}

// closeUpstreams closes every connection to another shard; the lookups
// waiting on them belong to connections closed too.
func (l *Loop) closeUpstreams() {
	for _, u := range l.ups {
		if u != nil && u.fd >= 0 {
			unix.Close(u.fd)
			u.fd = -1
		}
	}
}
