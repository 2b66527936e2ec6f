package worker

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/freqd/freqd/handler"
	"github.com/freqd/freqd/internal/sys"
)

// Datagram serving. Every worker reads every datagram socket the master
// holds (Spec.Datagrams), whatever the mode: the kernel gives each datagram
// to one reader, so the socket is a queue that free workers empty, as the
// fdpass queue is for connections. A datagram's reply is sent from the
// socket it arrived on, to the address it came from.
const (
	// datagramReaders is how many goroutines read each socket. Go lets one
	// read at a time per process; a second one lets the worker read the
	// next request while it answers one (a long TAG, a slow send).
	datagramReaders = 2

	// maxRequestDatagram is the read buffer: every UDP payload fits. A unix
	// datagram longer than this is answered with an error.
	maxRequestDatagram = 64 << 10

	// datagramSendWait bounds how long a reply waits for room in the
	// socket's send buffer. Past it the reply is dropped, as a network
	// drops a datagram: a client that stops reading unix replies, or a
	// flood, must not hold a reader, since a datagram client retries.
	datagramSendWait = 100 * time.Millisecond
)

// errRequestTooLarge answers a unix datagram longer than maxRequestDatagram.
var errRequestTooLarge = fmt.Sprintf("-ERR request datagram larger than %d bytes; use a TCP or unix stream connection\r\n", maxRequestDatagram)

// datagrams is a worker's datagram sockets and their read loops.
type datagrams struct {
	socks    []datagramSocket
	loops    sync.WaitGroup
	stopping atomic.Bool
}

type datagramSocket struct {
	addr string // as the master names it, for logs
	udp  *net.UDPConn
	unix *net.UnixConn
}

func (s datagramSocket) conn() net.PacketConn {
	if s.udp != nil {
		return s.udp
	}
	return s.unix
}

// openDatagrams adopts the inherited datagram sockets, close-on-exec again,
// so that they do not leak into a process the worker might start.
func (w *Worker) openDatagrams() error {
	for _, l := range w.spec.Datagrams {
		if _, err := unix.FcntlInt(uintptr(l.FD), unix.F_GETFD, 0); err != nil {
			return fmt.Errorf("inherited datagram socket %s (descriptor %d): %w (started by hand, not by `freqd serve`?)", l.Addr, l.FD, err)
		}
		unix.CloseOnExec(l.FD)
		f := os.NewFile(uintptr(l.FD), l.Addr)
		c, err := net.FilePacketConn(f)
		f.Close() // FilePacketConn made its own duplicate
		if err != nil {
			return fmt.Errorf("datagram socket %s: %w", l.Addr, err)
		}
		s := datagramSocket{addr: l.Addr}
		switch c := c.(type) {
		case *net.UDPConn:
			s.udp = c
		case *net.UnixConn:
			s.unix = c
		default:
			c.Close()
			return fmt.Errorf("datagram socket %s: a %T, want UDP or unix datagram", l.Addr, c)
		}
		w.dgram.socks = append(w.dgram.socks, s)
	}
	return nil
}

// startDatagrams starts the read loops.
func (w *Worker) startDatagrams() {
	for _, s := range w.dgram.socks {
		for range datagramReaders {
			w.dgram.loops.Add(1)
			if s.udp != nil {
				go w.readUDP(s)
			} else {
				go w.readUnixgram(s)
			}
		}
	}
}

// stopDatagrams ends the read loops once each has sent the reply in hand,
// and closes this worker's copies of the sockets. The master and the other
// workers still hold them, so datagrams that arrive meanwhile wait for
// another reader instead of being lost.
func (w *Worker) stopDatagrams() {
	w.dgram.stopping.Store(true)
	for _, s := range w.dgram.socks {
		s.conn().SetReadDeadline(time.Now()) // wakes the blocked reads
	}
	w.dgram.loops.Wait()
	for _, s := range w.dgram.socks {
		s.conn().Close()
	}
}

// readUDP answers the datagrams of a UDP socket until the worker drains.
func (w *Worker) readUDP(s datagramSocket) {
	defer w.dgram.loops.Done()
	buf := make([]byte, maxRequestDatagram)
	var out []byte
	var delay time.Duration
	for {
		n, _, _, from, err := s.udp.ReadMsgUDPAddrPort(buf, nil)
		if err != nil {
			if !w.readFailed(s, err, &delay) {
				return
			}
			continue
		}
		delay = 0
		maxReply := handler.MaxUDP6Reply
		if a := from.Addr(); a.Is4() || a.Is4In6() {
			maxReply = handler.MaxUDP4Reply
		}
		out = w.serveDatagram(buf[:n], out[:0], maxReply)
		if len(out) == 0 {
			continue
		}
		s.udp.SetWriteDeadline(time.Now().Add(datagramSendWait))
		if _, err := s.udp.WriteToUDPAddrPort(out, from); err != nil {
			w.replyFailed(s, from, err)
		}
	}
}

// readUnixgram answers the datagrams of a unix datagram socket until the
// worker drains. A client must bind its socket to an address (a path or an
// abstract name) to get replies; datagrams from an unbound socket are
// dropped, as there is nowhere to answer.
func (w *Worker) readUnixgram(s datagramSocket) {
	defer w.dgram.loops.Done()
	buf := make([]byte, maxRequestDatagram)
	var out []byte
	var delay time.Duration
	for {
		n, _, flags, from, err := s.unix.ReadMsgUnix(buf, nil)
		if err != nil {
			if !w.readFailed(s, err, &delay) {
				return
			}
			continue
		}
		delay = 0
		if from == nil || from.Name == "" {
			w.log.Debug("datagram from an unbound unix socket: no address to reply to; dropped", "listen", s.addr)
			continue
		}
		if flags&unix.MSG_TRUNC != 0 {
			out = append(out[:0], errRequestTooLarge...)
		} else {
			out = w.serveDatagram(buf[:n], out[:0], handler.MaxUDP4Reply)
		}
		if len(out) == 0 {
			continue
		}
		s.unix.SetWriteDeadline(time.Now().Add(datagramSendWait))
		if _, err := s.unix.WriteToUnix(out, from); err != nil {
			w.replyFailed(s, from, err)
		}
	}
}

// serveDatagram answers one datagram. With --data-mode map a lookup may
// fault on a truncated file; the fault becomes the same error reply the
// stream path gives, and the reader goes on.
func (w *Worker) serveDatagram(req, out []byte, maxReply int) (reply []byte) {
	if !w.spec.TableMapped {
		return w.h.ServeDatagram(req, out, maxReply)
	}
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			w.noteFault(r)
			reply = append(out[:0], errTableFault...)
		}
	}()
	return w.h.ServeDatagram(req, out, maxReply)
}

// readFailed handles a failed read: it reports whether the loop goes on,
// after backing off (5 ms doubling to 1 s) so that a persistent error such
// as ENOBUFS does not spin.
func (w *Worker) readFailed(s datagramSocket, err error, delay *time.Duration) bool {
	if w.dgram.stopping.Load() || errors.Is(err, net.ErrClosed) {
		return false
	}
	*delay = sys.NextBackoff(*delay)
	w.log.Warn("datagram read failed; backing off", "listen", s.addr, "error", err, "delay", *delay)
	time.Sleep(*delay)
	return true
}

// replyFailed notes a reply that could not be sent. It is the client's loss
// (gone, not reading, or its buffer full) and the client's retry to make, so
// it is logged at debug level only.
func (w *Worker) replyFailed(s datagramSocket, to any, err error) {
	if ap, ok := to.(netip.AddrPort); ok {
		to = ap.String()
	}
	w.log.Debug("datagram reply dropped", "listen", s.addr, "to", to, "error", err)
}
