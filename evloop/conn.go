package classic

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"github.com/freqd/freqd/handler"
	"github.com/freqd/freqd/master"
)

// Per-connection buffers of the epoll design.
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

// econn is one client connection of the epoll design.
type econn struct {
	fd       int
	peer     unix.Sockaddr
	listener master.Address
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

func (c *econn) pending() int { return len(c.out) - c.sent }

// runnable reports whether complete requests wait in the input buffer.
func (c *econn) runnable() bool { return c.start < c.end && !c.incomplete && !c.closeAfter }

// onReady handles one readiness report for c: read once if it is being
// read, then execute, write and re-arm.
func (s *epollServer) onReady(c *econn, events uint32) {
	if events&(unix.EPOLLIN|unix.EPOLLHUP|unix.EPOLLERR) != 0 && c.events&unix.EPOLLIN != 0 {
		if err := s.read(c); err != nil {
			s.closeConn(c, err)
			return
		}
	}
	if !s.advance(c) {
		return
	}
	if events&(unix.EPOLLHUP|unix.EPOLLERR) != 0 && c.events&unix.EPOLLIN == 0 {
		// A hang-up is reported whatever the interest, so a connection
		// that cannot be read or written would be reported ready forever.
		s.closeConn(c, fmt.Errorf("freqd: connection from %s hung up", c.remote()))
	}
}

// read reads what one read(2) returns into c's input buffer.
func (s *epollServer) read(c *econn) error {
	if err := c.makeRoom(s.maxBuffer); err != nil {
		return err
	}
	for {
		n, err := unix.Read(c.fd, c.in[c.end:])
		switch {
		case err == nil && n == 0:
			c.eof = true
			return nil
		case err == nil:
			c.end += n
			c.incomplete = false
			c.lastActive = s.now
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
func (c *econn) makeRoom(maxBuffer int) error {
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
func (s *epollServer) advance(c *econn) bool {
	for {
		s.process(c)
		if err := s.flush(c); err != nil {
			s.closeConn(c, err)
			return false
		}
		if !c.runnable() || c.pending() > maxPendingOutput {
			break
		}
	}
	if c.pending() == 0 && (c.closeAfter || ((c.eof || s.draining) && !c.runnable())) {
		var err error
		if c.eof && !c.closeAfter && c.start < c.end {
			err = fmt.Errorf("freqd: client %s disconnected in the middle of a request", c.remote())
		}
		s.closeConn(c, err)
		return false
	}
	return s.setInterest(c)
}

// process executes complete requests from the input buffer while the
// replies waiting to be written stay below maxPendingOutput.
func (s *epollServer) process(c *econn) {
	if !c.runnable() || c.pending() > maxPendingOutput {
		return
	}
	if c.sent > 0 {
		c.out = c.out[:copy(c.out, c.out[c.sent:])]
		c.sent = 0
	}
	for c.runnable() && len(c.out) <= maxPendingOutput {
		n, out, closeAfter := c.sess.Process(c.in[c.start:c.end], c.out)
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
		c.requestBegan = s.now
	}
}

// flush writes as much of c's pending output as the socket takes.
func (s *epollServer) flush(c *econn) error {
	progressed := false
	for c.sent < len(c.out) {
		n, err := unix.Write(c.fd, c.out[c.sent:])
		switch {
		case err == nil:
			c.sent += n
			progressed = true
		case errors.Is(err, unix.EINTR):
		case errors.Is(err, unix.EAGAIN):
			if progressed || c.writeWait.IsZero() {
				c.writeWait = s.now
			}
			return nil
		default:
			return fmt.Errorf("freqd: write to %s: %w", c.remote(), err)
		}
	}
	if len(c.out) > 0 {
		c.lastActive = s.now
	}
	c.out, c.sent, c.writeWait = c.out[:0], 0, time.Time{}
	if cap(c.out) > keepBuffer {
		c.out = nil
	}
	return nil
}

// setInterest registers what c waits for: input while it may read, room
// to write while replies are pending. It reports whether c is still open.
func (s *epollServer) setInterest(c *econn) bool {
	var want uint32
	if !c.eof && !c.closeAfter && !s.draining && c.pending() <= maxPendingOutput {
		want |= unix.EPOLLIN
	}
	if c.pending() > 0 {
		want |= unix.EPOLLOUT
	}
	if want == c.events {
		return true
	}
	if c.events&unix.EPOLLIN != 0 && want&unix.EPOLLIN == 0 && c.pending() > maxPendingOutput {
		s.stats.readPauses++
	}
	if c.events&unix.EPOLLOUT == 0 && want&unix.EPOLLOUT != 0 {
		s.stats.writeStalls++
	}
	if err := unix.EpollCtl(s.epfd, unix.EPOLL_CTL_MOD, c.fd, &unix.EpollEvent{Events: want, Fd: int32(c.fd)}); err != nil {
		s.closeConn(c, fmt.Errorf("freqd: epoll: re-arm connection from %s: %w", c.remote(), err))
		return false
	}
	c.events = want
	return true
}

// closeConn closes c; err, if any, says why, for the debug log.
func (s *epollServer) closeConn(c *econn, err error) {
	if s.conns[c.fd] != c {
		return
	}
	delete(s.conns, c.fd)
	unix.Close(c.fd) // its only descriptor: this also leaves the epoll set
	c.sess.Close()
	if err != nil {
		s.log.Debug("connection ended", "remote", c.remote(), "error", err)
	}
}

// expired reports whether c is past one of the handler's timeouts, with the
// error to log (nil for an idle connection: it simply had nothing to ask).
func (c *econn) expired(h *handler.Handler, now time.Time) (bool, error) {
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
// name, so they are named by the listener they came through.
func (c *econn) remote() string {
	switch a := c.peer.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port)).String()
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port)).String()
	}
	return c.listener.String()
}
