package evloop

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/freqd/freqd/internal/sys"

	"golang.org/x/sys/unix"

	"github.com/freqd/freqd/handler"
)

// Per-connection buffers.
const (
	// initialInput is a connection's first input buffer. Like
	// handler.ServeConn's, it doubles only while a request does not fit
	// (up to the resp limits) and drops back once emptied if it grew past
	// keepBuffer, so one large TAG text does not pin megabytes.
	initialInput = 4 << 10
	keepBuffer   = 64 << 10

	// maxPendingOutput is how many reply bytes may wait for a client to
	// read them before the loop stops reading from and executing requests
	// for that client. Its output then stays below this plus one Process
	// batch (64 KiB and one reply), whatever it pipelines.
	maxPendingOutput = 128 << 10
)

// conn is one client connection of a loop.
type conn struct {
	fd       int
	via      string // the listener, or how it was received
	received bool   // the descriptor came from another process
	sess     *handler.Session

	in         []byte // unconsumed input is in[start:end]
	start, end int
	incomplete bool // in[start:end] holds no complete request: read more first
	eof        bool // the client has finished sending
	closeAfter bool // close once out is written: QUIT or a protocol error

	out  []byte // replies; out[sent:] are not yet written
	sent int

	events uint32 // interest registered with epoll

	lastActive   time.Time // last read or last reply fully written (IdleTimeout)
	requestBegan time.Time // when the pending partial request began (ReadTimeout)
	writeWait    time.Time // since when out[sent:] has waited without progress (WriteTimeout)
}

func (c *conn) pending() int { return len(c.out) - c.sent }

// runnable reports whether complete requests wait in the input buffer.
func (c *conn) runnable() bool { return c.start < c.end && !c.incomplete && !c.closeAfter }

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
	if events&(unix.EPOLLHUP|unix.EPOLLERR) != 0 && c.events&unix.EPOLLIN == 0 {
		// A hang-up is reported whatever the interest, so a connection
		// that cannot be read or written would be reported ready forever.
		l.closeConn(c, fmt.Errorf("freqd: connection from %s hung up", c.remote()))
	}
}

// read reads what one read(2) returns into c's input buffer.
func (l *Loop) read(c *conn) error {
	if err := c.makeRoom(l.maxBuffer); err != nil {
		return err
	}
	for {
		n, err := sys.RawRead(c.fd, c.in[c.end:])
		switch {
		case err == nil && n == 0:
			c.eof = true
			return nil
		case err == nil:
			c.end += n
			c.incomplete = false
			c.lastActive = l.now
			return nil
		case errors.Is(err, unix.EINTR):
		case errors.Is(err, unix.EAGAIN):
			return nil
		default:
			return fmt.Errorf("freqd: read from %s: %w", c.remote(), err)
		}
	}
}

// makeRoom compacts, allocates or grows the input buffer so a read has
// space, as handler.ServeConn does for its own.
func (c *conn) makeRoom(maxBuffer int) error {
	switch {
	case c.in == nil:
		c.in = make([]byte, initialInput)
	case c.start == c.end:
		c.start, c.end = 0, 0
	case c.start > 0:
		c.end = copy(c.in, c.in[c.start:c.end])
		c.start = 0
	}
	if c.end < len(c.in) {
		return nil
	}
	if len(c.in) >= maxBuffer {
		// The parser rejects any request this large before the buffer
		// fills; reaching here is a bug, not a client.
		return fmt.Errorf("freqd: request from %s filled the %d-byte read buffer without being rejected by the parser", c.remote(), len(c.in))
	}
	grown := make([]byte, min(2*len(c.in), maxBuffer))
	copy(grown, c.in[:c.end])
	c.in = grown
	return nil
}

// advance executes c's buffered requests and writes their replies until it
// must wait for the client (more input, or room to write), then re-arms c.
// It reports whether c is still open.
func (l *Loop) advance(c *conn) bool {
	for {
		l.process(c)
		if err := l.flush(c); err != nil {
			l.closeConn(c, err)
			return false
		}
		if !c.runnable() || c.pending() > maxPendingOutput {
			break
		}
	}
	if c.pending() == 0 && (c.closeAfter || (c.eof && !c.runnable())) {
		var err error
		if c.eof && !c.closeAfter && c.start < c.end {
			err = fmt.Errorf("freqd: client %s disconnected in the middle of a request", c.remote())
		}
		l.closeConn(c, err)
		return false
	}
	if l.draining && l.release(c) {
		return false
	}
	return l.setInterest(c)
}

// idle reports whether c is at a request boundary: nothing buffered,
// nothing to write.
func (c *conn) idle() bool { return c.start == c.end && c.pending() == 0 && !c.closeAfter }

// process executes complete requests from the input buffer while the
// replies waiting to be written stay below maxPendingOutput.
func (l *Loop) process(c *conn) {
	if !c.runnable() || c.pending() > maxPendingOutput {
		return
	}
	if c.sent > 0 {
		c.out = c.out[:copy(c.out, c.out[c.sent:])]
		c.sent = 0
	}
	for c.runnable() && len(c.out) <= maxPendingOutput {
		n, out, closeAfter := l.execute(c)
		c.out = out
		c.start += n
		if n > 0 {
			c.requestBegan = time.Time{}
		}
		switch {
		case closeAfter:
			c.closeAfter = true
		case n == 0:
			c.incomplete = true
		}
	}
	switch {
	case c.start == c.end:
		c.start, c.end = 0, 0
		if len(c.in) > keepBuffer {
			c.in = nil
		}
	case c.incomplete && c.requestBegan.IsZero():
		c.requestBegan = l.now
	}
}

// execute runs the complete requests at the start of c's input. With
// Config.Fault set, a fault while executing (the mapped data file was
// truncated) ends this connection with the reply Fault gives, and the loop
// goes on serving the others.
func (l *Loop) execute(c *conn) (n int, out []byte, closeAfter bool) {
	if l.cfg.Fault != nil {
		defer func() {
			if r := recover(); r != nil {
				n, out, closeAfter = 0, append(c.out, l.cfg.Fault(r)...), true
			}
		}()
	}
	return c.sess.Process(c.in[c.start:c.end], c.out)
}

// flush writes as much of c's pending output as the socket takes.
func (l *Loop) flush(c *conn) error {
	progressed := false
	for c.sent < len(c.out) {
		n, err := sys.RawWrite(c.fd, c.out[c.sent:])
		switch {
		case err == nil:
			c.sent += n
			progressed = true
		case errors.Is(err, unix.EINTR):
		case errors.Is(err, unix.EAGAIN):
			if progressed || c.writeWait.IsZero() {
				c.writeWait = l.now
			}
			return nil
		default:
			return fmt.Errorf("freqd: write to %s: %w", c.remote(), err)
		}
	}
	if len(c.out) > 0 {
		c.lastActive = l.now
	}
	c.out, c.sent, c.writeWait = c.out[:0], 0, time.Time{}
	if cap(c.out) > keepBuffer {
		c.out = nil
	}
	return nil
}

// setInterest registers what c waits for: input while it may read, room
// to write while replies are pending. It reports whether c is still open.
func (l *Loop) setInterest(c *conn) bool {
	var want uint32
	if !c.eof && !c.closeAfter && c.pending() <= maxPendingOutput {
		want |= unix.EPOLLIN
	}
	if c.pending() > 0 {
		want |= unix.EPOLLOUT
	}
	if want == c.events {
		return true
	}
	if c.events&unix.EPOLLIN != 0 && want&unix.EPOLLIN == 0 && c.pending() > maxPendingOutput {
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
	c.sess.Close()
	if l.cfg.Closed != nil {
		l.cfg.Closed()
	}
}

// expired reports whether c is past one of the handler's timeouts, with the
// error to log (nil for an idle connection: it simply had nothing to ask).
func (c *conn) expired(h *handler.Handler, now time.Time) (bool, error) {
	switch {
	case c.pending() > 0:
		if h.WriteTimeout > 0 && now.Sub(c.writeWait) >= h.WriteTimeout {
			return true, fmt.Errorf("freqd: client %s did not read its replies within the write timeout (%v)", c.remote(), h.WriteTimeout)
		}
	case c.start < c.end:
		if h.ReadTimeout > 0 && !c.requestBegan.IsZero() && now.Sub(c.requestBegan) >= h.ReadTimeout {
			return true, fmt.Errorf("freqd: client %s did not complete a request within the read timeout (%v); raise --read-timeout if its requests are legitimately slow", c.remote(), h.ReadTimeout)
		}
	default:
		if h.IdleTimeout > 0 && now.Sub(c.lastActive) >= h.IdleTimeout {
			return true, nil
		}
	}
	return false, nil
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
