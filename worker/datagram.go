package worker

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
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
//
// A reply is sent at once or not at all. A unix datagram waits in its
// receiver's queue, charged to the server's socket, until it is read: a
// client that never reads fills its queue (net.unix.max_dgram_qlen
// datagrams), and every further reply to it finds no room. Waiting for room
// would hold a reader for as long as the client chose, and with it every
// other client's requests queued behind; so a reply that cannot be sent at
// once is dropped, as a network drops a datagram, and counted
// (worker_datagram_replies_dropped in INFO, freqd_datagram_replies_dropped_total in
// the metrics). The client retries, or reads, which is its side of the
// bargain.
const (
	// datagramReaders is how many goroutines read each socket. Go lets one
	// read at a time per process; a second one lets the worker read the
	// next request while it answers one (a long TAG, a slow send).
	datagramReaders = 2

	// maxRequestDatagram is the read buffer: every UDP payload fits. A unix
	// datagram longer than this is answered with an error.
	maxRequestDatagram = 64 << 10
)

// errRequestTooLarge answers a unix datagram longer than maxRequestDatagram.
var errRequestTooLarge = fmt.Sprintf("-ERR request datagram larger than %d bytes; use a TCP or unix stream connection\r\n", maxRequestDatagram)

// datagrams is a worker's datagram sockets and their read loops.
type datagrams struct {
	socks    []datagramSocket
	loops    sync.WaitGroup
	stopping atomic.Bool
	dropped  atomic.Uint64 // replies that found no room and were dropped
}

type datagramSocket struct {
	addr  string // as the master names it, for logs
	udp   *net.UDPConn
	unix  *net.UnixConn
	raw   syscall.RawConn // for sends that must not wait
	inet6 bool            // a UDP socket of family AF_INET6 (dual-stack or IPv6)
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
		if err := s.adoptRaw(); err != nil {
			s.conn().Close()
			return fmt.Errorf("datagram socket %s: %w", l.Addr, err)
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

// adoptRaw takes the raw connection replies are sent on and, for UDP, the
// socket's family, which decides the form of the address a reply goes to.
func (s *datagramSocket) adoptRaw() error {
	sc, ok := s.conn().(syscall.Conn)
	if !ok {
		return fmt.Errorf("a %T has no raw connection", s.conn())
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	s.raw = raw
	if s.udp == nil {
		return nil
	}
	var serr error
	err = raw.Control(func(fd uintptr) {
		var sa unix.Sockaddr
		if sa, serr = unix.Getsockname(int(fd)); serr == nil {
			_, s.inet6 = sa.(*unix.SockaddrInet6)
		}
	})
	if err != nil {
		return err
	}
	return serr
}

// readUDP answers the datagrams of a UDP socket until the worker drains.
func (w *Worker) readUDP(s datagramSocket) {
	defer w.dgram.loops.Done()
	buf := make([]byte, maxRequestDatagram)
	snd := newSender(s)
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
		// A UDP source address can be forged: the reply to a request that
		// did not authenticate is held to a few times its size.
		lim := handler.DatagramLimits{MaxReply: handler.MaxUDP6Reply, Spoofable: true}
		if a := from.Addr(); a.Is4() || a.Is4In6() {
			lim.MaxReply = handler.MaxUDP4Reply
		}
		out = w.serveDatagram(buf[:n], out[:0], lim)
		if len(out) == 0 {
			continue
		}
		to, err := snd.udpAddr(from)
		if err == nil {
			err = snd.send(out, to)
		}
		if err != nil {
			w.replyFailed(s, from, err)
		}
	}
}

// readUnixgram answers the datagrams of a unix datagram socket until the
// worker drains. A client must bind its socket to an address (a path or an
// abstract name) to get replies; datagrams from an unbound socket are
// dropped, as there is nowhere to answer. The kernel names the sender, who
// cannot pose as another socket: no amplification bound applies.
func (w *Worker) readUnixgram(s datagramSocket) {
	defer w.dgram.loops.Done()
	buf := make([]byte, maxRequestDatagram)
	snd := newSender(s)
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
			out = w.serveDatagram(buf[:n], out[:0], handler.DatagramLimits{MaxReply: handler.MaxUDP4Reply})
		}
		if len(out) == 0 {
			continue
		}
		if err := snd.send(out, snd.unixAddr(from)); err != nil {
			w.replyFailed(s, from, err)
		}
	}
}

// sender sends one read loop's replies. It keeps the destination address
// and the function handed to the raw connection between replies, so that a
// reply costs no allocation.
type sender struct {
	sock  datagramSocket
	v4    unix.SockaddrInet4
	v6    unix.SockaddrInet6
	un    unix.SockaddrUnix
	write func(fd uintptr) bool // sendto, bound once to this sender

	// The reply in hand, for write.
	out []byte
	to  unix.Sockaddr
	err error

	// The last IPv6 zone looked up, so that a link-local client costs one
	// interface lookup, not one per reply.
	zone   string
	zoneID uint32
}

func newSender(s datagramSocket) *sender {
	snd := &sender{sock: s}
	snd.write = snd.sendto
	return snd
}

// send sends b to to at once: MSG_DONTWAIT, and the raw connection is not
// asked to wait for the socket to become writable. It reports
// unix.EAGAIN when the socket or the receiver has no room.
func (snd *sender) send(b []byte, to unix.Sockaddr) error {
	snd.out, snd.to, snd.err = b, to, nil
	if err := snd.sock.raw.Write(snd.write); err != nil {
		return err
	}
	return snd.err
}

func (snd *sender) sendto(fd uintptr) bool {
	snd.err = unix.Sendto(int(fd), snd.out, unix.MSG_DONTWAIT, snd.to)
	return true // done, sent or not: never wait for room
}

// udpAddr is ap in the form the socket's family takes: an IPv4 client of a
// dual-stack socket is addressed as an IPv4-mapped IPv6 address.
func (snd *sender) udpAddr(ap netip.AddrPort) (unix.Sockaddr, error) {
	a := ap.Addr()
	if !snd.sock.inet6 {
		snd.v4 = unix.SockaddrInet4{Port: int(ap.Port()), Addr: a.Unmap().As4()}
		return &snd.v4, nil
	}
	snd.v6 = unix.SockaddrInet6{Port: int(ap.Port()), Addr: a.As16()}
	if z := a.Zone(); z != "" {
		if z != snd.zone {
			id, err := zoneIndex(z)
			if err != nil {
				return nil, err
			}
			snd.zone, snd.zoneID = z, id
		}
		snd.v6.ZoneId = snd.zoneID
	}
	return &snd.v6, nil
}

// zoneIndex is the interface index an IPv6 zone names: Go gives a zone as
// the interface's name when it knows it, else as the index in decimal.
func zoneIndex(zone string) (uint32, error) {
	if n, err := strconv.ParseUint(zone, 10, 32); err == nil {
		return uint32(n), nil
	}
	ifi, err := net.InterfaceByName(zone)
	if err != nil {
		return 0, err
	}
	return uint32(ifi.Index), nil
}

// unixAddr is the unix socket address from names; Go writes an abstract
// name with a leading '@', which x/sys/unix turns back into a NUL.
func (snd *sender) unixAddr(from *net.UnixAddr) unix.Sockaddr {
	snd.un = unix.SockaddrUnix{Name: from.Name} // fresh: no byte of a longer name left behind
	return &snd.un
}

// serveDatagram answers one datagram. With --data-mode map a lookup may
// fault on a truncated file; the fault becomes the same error reply the
// stream path gives, within the reply's bounds, and the reader goes on.
func (w *Worker) serveDatagram(req, out []byte, lim handler.DatagramLimits) (reply []byte) {
	if !w.spec.TableMapped {
		return w.h.ServeDatagram(req, out, lim)
	}
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			w.noteFault(r)
			reply = w.h.DatagramError(req, out[:0], lim, errTableFault)
		}
	}()
	return w.h.ServeDatagram(req, out, lim)
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

// replyFailed counts a reply that could not be sent. It is the client's
// loss (gone, not reading, or its queue full) and the client's retry to
// make; the first is logged, for the operator to learn where drops are
// counted, and the rest only at trace level, since a client that never
// reads would otherwise write a log line per request.
func (w *Worker) replyFailed(s datagramSocket, to any, err error) {
	if ap, ok := to.(netip.AddrPort); ok {
		to = ap.String()
	}
	if w.dgram.dropped.Add(1) == 1 {
		w.log.Info("datagram reply dropped: the client's socket had no room for it (not reading?), or is gone; "+
			"further drops are counted in INFO (worker_datagram_replies_dropped), not logged",
			"listen", s.addr, "to", to, "error", err)
		return
	}
	w.log.Trace("datagram reply dropped", "listen", s.addr, "to", to, "error", err)
}
