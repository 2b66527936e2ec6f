package evloop

import (
	"errors"
	"fmt"
	"net/netip"
	"runtime/debug"
	"time"

	"github.com/freqd/freqd/internal/sys"

	"golang.org/x/sys/unix"

	"github.com/freqd/freqd/handler"
)

// conn is one client connection of a loop: its socket, and the Stream
// that buffers it and times it out as every design does.
type conn struct {
	fd       int
	via      string // the listener, or how it was received
	received bool   // the descriptor came from another process
	st       *handler.Stream

	events uint32 // interest registered with epoll
	held   int    // bytes of an unfinished request counted in the loop's total
}

// onReady handles one readiness report for c: read once if it is being
// read, then execute, write and re-arm.
func (l *Loop) onReady(c *conn, events uint32) {
	if events&(unix.EPOLLIN|unix.EPOLLHUP|unix.EPOLLERR) != 0 && c.events&unix.EPOLLIN != 0 {
		if err := l.read(c); err != nil {
			l.closeConn(c, err)
			return
		}
	}
	if !l.advance(c) {
		return
	}
	if l.account(c) {
		return // c was closed to keep the request memory within budget
	}
	if events&(unix.EPOLLHUP|unix.EPOLLERR) != 0 && c.events&unix.EPOLLIN == 0 {
		// A hang-up is reported whatever the interest, so a connection
		// that cannot be read or written would be reported ready forever.
		l.closeConn(c, fmt.Errorf("freqd: connection from %s hung up", c.remote()))
	}
}

// read reads what one read(2) returns into c's input buffer.
func (l *Loop) read(c *conn) error {
	buf, err := c.st.ReadBuffer()
	if err != nil {
		return err
	}
	for {
		n, err := sys.RawRead(c.fd, buf)
		switch {
		case err == nil && n == 0:
			c.st.ReceivedEOF()
			return nil
		case err == nil:
			c.st.Received(n, l.now)
			return nil
		case errors.Is(err, unix.EINTR):
		case errors.Is(err, unix.EAGAIN):
			c.st.Received(0, l.now) // nothing: an empty buffer goes back
			return nil
		default:
			return fmt.Errorf("freqd: read from %s: %w", c.remote(), err)
		}
	}
}

// advance executes c's buffered requests and writes their replies until it
// must wait for the client (more input, or room to write), then re-arms c.
// It reports whether c is still open.
func (l *Loop) advance(c *conn) bool {
	answered := false
	for {
		c.st.Process(l.now)
		answered = answered || len(c.st.Pending()) > 0
		if err := l.flush(c); err != nil {
			l.closeConn(c, err)
			return false
		}
		if !c.st.Runnable() || c.st.OutputBacklogged() {
			break
		}
	}
	if done, err := c.st.Finished(); done {
		l.closeConn(c, err)
		return false
	}
	if c.st.NeedsFetch() {
		l.fetch(c)
	}
	if l.draining && l.release(c, answered) {
		return false
	}
	return l.setInterest(c)
}

// fetch sends the lookups of c's request whose words other shards of a
// cluster hold. The connection is neither read nor run until the last
// answer is in; meanwhile the loop serves everyone else. Each answer
// comes back through post, and the last one runs the request.
func (l *Loop) fetch(c *conn) {
	run := func(apply func() bool) {
		if l.conns[c.fd] == c && apply() && l.advance(c) {
			l.account(c)
		}
	}
	if l.ups != nil {
		// The loop's own connections to the shards answer on its
		// thread, never inside this call.
		c.st.Fetch(l, run)
		return
	}
	c.st.Fetch(l.h.Peers(), func(apply func() bool) { l.post(func() { run(apply) }) })
}

// flush writes as much of c's pending output as the socket takes.
func (l *Loop) flush(c *conn) error {
	for out := c.st.Pending(); len(out) > 0; out = c.st.Pending() {
		n, err := sys.RawWrite(c.fd, out)
		switch {
		case err == nil:
			c.st.Wrote(n, l.now)
		case errors.Is(err, unix.EINTR):
		case errors.Is(err, unix.EAGAIN):
			c.st.WriteBlocked(l.now)
			return nil
		default:
			return fmt.Errorf("freqd: write to %s: %w", c.remote(), err)
		}
	}
	return nil
}

// setInterest registers what c waits for: input while it may read, room
// to write while replies are pending. It reports whether c is still open.
func (l *Loop) setInterest(c *conn) bool {
	var want uint32
	if c.st.WantsInput() {
		want |= unix.EPOLLIN
	}
	if len(c.st.Pending()) > 0 {
		want |= unix.EPOLLOUT
	}
	if want == c.events {
		return true
	}
	if c.events&unix.EPOLLIN != 0 && want&unix.EPOLLIN == 0 && c.st.OutputBacklogged() {
		l.stats.readPauses.Add(1)
	}
	if c.events&unix.EPOLLOUT == 0 && want&unix.EPOLLOUT != 0 {
		l.stats.writeStalls.Add(1)
	}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_MOD, c.fd, &unix.EpollEvent{Events: want, Fd: int32(c.fd)}); err != nil {
		l.closeConn(c, fmt.Errorf("freqd: epoll: re-arm connection from %s: %w", c.remote(), err))
		return false
	}
	c.events = want
	return true
}

// closeConn closes c; err, if any, says why, for the debug log.
func (l *Loop) closeConn(c *conn, err error) {
	if l.conns[c.fd] != c {
		return
	}
	delete(l.conns, c.fd)
	l.stats.conns.Add(-1)
	l.held -= int64(c.held)
	l.stats.held.Store(l.held)
	if l.full && l.room() && !l.draining {
		l.full = false
		l.syncWatches()
	}
	if err != nil {
		l.log.Debug("connection ended", "remote", c.remote(), "error", err)
	}
	if c.received && l.epfd >= 0 {
		// A received descriptor may still be open in the process that
		// sent it, which would keep it in our epoll set after we close
		// ours (and report its hang-ups under a reused number).
		unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
	}
	unix.Close(c.fd)
	c.st.Close()
	if l.cfg.Closed != nil {
		l.cfg.Closed()
	}
}

// remote names the client for logs. Unix clients are rarely bound to a
// name, so they are named by the way they came in. The peer is looked up
// only here, so that serving a connection costs no getpeername.
func (c *conn) remote() string {
	peer, _ := unix.Getpeername(c.fd)
	switch a := peer.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port)).String()
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port)).String()
	}
	return c.via
}

// account counts what c holds of unfinished requests in the loop's total
// and, past the handler's MaxRequestMemory, closes the connections that
// hold the most until the total is back within it. It reports whether c
// itself was closed.
func (l *Loop) account(c *conn) bool {
	h := c.st.Held()
	l.held += int64(h - c.held)
	c.held = h
	l.stats.held.Store(l.held)
	budget := l.h.MaxRequestMemory()
	closed := false
	for budget > 0 && l.held > budget {
		var worst *conn
		for _, o := range l.conns {
			if worst == nil || o.held > worst.held {
				worst = o
			}
		}
		if worst == nil || worst.held == 0 {
			break
		}
		l.stats.evictions.Add(1)
		l.log.Warn("request memory budget exceeded; closing the client holding the most",
			"remote", worst.remote(), "held", worst.held, "total", l.held, "budget", budget)
		sys.RawWrite(worst.fd, errRequestMemory)
		closed = closed || worst == c
		l.closeConn(worst, nil)
		l.returnMemory()
	}
	return closed
}

// returnMemory gives the buffers of clients closed for the budget back to
// the operating system, at most once a second, off the loop's thread. The
// Go heap would otherwise keep them, and grow until its next collection,
// so that the process's memory would not show the budget being kept.
func (l *Loop) returnMemory() {
	if last := l.freed.Load(); last != 0 && l.now.UnixNano()-last < int64(time.Second) {
		return
	}
	l.freed.Store(l.now.UnixNano())
	go debug.FreeOSMemory()
}

// errRequestMemory is what a client closed for the request memory budget
// is told.
var errRequestMemory = []byte("-ERR this client held the most memory in unfinished requests when the server's budget for them (--max-request-memory) was exceeded; send smaller requests, or ask the operator to raise the budget\r\n")
