package master

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/freqd/freqd/worker"
)

// Datagram listeners (--listen udp:host:port, --listen unixgram:/path) answer
// connectionless queries: each request datagram gets one reply datagram (see
// handler.ServeDatagram for what they hold). The master binds each socket
// once and keeps it for its whole life, as it keeps its stream listeners;
// every worker, in every mode, reads the same socket, and the kernel hands
// each datagram to exactly one reader. A worker that dies costs only the
// datagram it was answering: the rest wait in the socket, which the master
// and the other workers still hold.
//
// In reuseport mode, too, the datagram socket is shared rather than split
// into one SO_REUSEPORT socket per slot. A per-slot UDP socket would tie a
// client, by its address hash, to one worker: its datagrams would wait out
// that worker's restart instead of going to a live one, and nothing is
// gained in exchange, since a datagram socket has no accept queue to spread.
//
// A socket's buffers are raised so that a burst of requests, or replies not
// yet read by unix clients, fit; the kernel caps the sizes at
// net.core.rmem_max and wmem_max.
const datagramBuffer = 4 << 20

// Network names of the datagram transports, as in Address.Network.
const (
	netUDP      = "udp"
	netUnixgram = "unixgram"
)

// datagramSocket is a bound datagram socket and the duplicate of its
// descriptor that every worker inherits.
type datagramSocket struct {
	addr  Address
	conn  net.PacketConn
	file  *os.File
	owned bool // as listener.owned
}

// isDatagram reports whether a is served by datagram sockets.
func (a Address) isDatagram() bool { return a.Network == netUDP || a.Network == netUnixgram }

// parseDatagramAddress parses udp:host:port, udp:[::1]:port, udp::port and
// unixgram:/path; ok is false for an address of another kind.
func parseDatagramAddress(s string) (a Address, ok bool, err error) {
	if p, found := strings.CutPrefix(s, "unixgram:"); found {
		if p == "" {
			return Address{}, true, fmt.Errorf("listen address %q: empty socket path", s)
		}
		if len(p) > maxUnixPath {
			return Address{}, true, fmt.Errorf("listen address %q: socket path is %d bytes, the limit is %d (sun_path); use a shorter path", s, len(p), maxUnixPath)
		}
		return Address{Network: netUnixgram, Addr: p}, true, nil
	}
	hp, found := strings.CutPrefix(s, "udp:")
	if !found {
		return Address{}, false, nil
	}
	host, port, err := net.SplitHostPort(hp)
	if err != nil {
		return Address{}, true, fmt.Errorf("listen address %q: want udp:host:port, udp::port or udp:[::1]:port", s)
	}
	if _, err := net.LookupPort("udp", port); err != nil {
		return Address{}, true, fmt.Errorf("listen address %q: bad port %q", s, port)
	}
	return Address{Network: netUDP, Addr: net.JoinHostPort(host, port)}, true, nil
}

// splitDatagram separates the datagram addresses of a --listen list from
// the stream ones, keeping the order of each.
func splitDatagram(addrs []string) (stream, datagram []string) {
	for _, s := range addrs {
		if strings.HasPrefix(s, "udp:") || strings.HasPrefix(s, "unixgram:") {
			datagram = append(datagram, s)
		} else {
			stream = append(stream, s)
		}
	}
	return stream, datagram
}

// bindDatagrams binds each datagram address once. The sockets are kept in
// m.datagrams as they are bound, so closeAll releases them on any error.
func (m *Master) bindDatagrams(addrs []string) error {
	seen := map[string]bool{}
	for _, s := range addrs {
		a, _, err := parseDatagramAddress(s)
		if err != nil {
			return err
		}
		if seen[a.String()] {
			return fmt.Errorf("listen address %s given twice", a)
		}
		seen[a.String()] = true
		d := &datagramSocket{addr: a}
		if pc := m.inh.takePacket(a.String()); pc != nil {
			d.conn = pc // from the master this one replaces (SIGUSR2)
		} else if d.owned = true; a.Network == netUnixgram {
			d.conn, err = bindUnixgram(a, m.cfg.UnixMode)
		} else {
			d.conn, err = bindUDP(a)
		}
		if err != nil {
			return err
		}
		m.datagrams = append(m.datagrams, d)
		if a.Network == netUDP {
			d.addr.Addr = d.conn.LocalAddr().String() // :0 resolved, for logs and clients
		}
		if d.file, err = dupFile(d.conn.(syscall.Conn), d.addr.String()); err != nil {
			return fmt.Errorf("listen %s: %w", d.addr, err)
		}
	}
	return nil
}

// bindUDP binds a UDP socket.
func bindUDP(a Address) (net.PacketConn, error) {
	c, err := (&net.ListenConfig{}).ListenPacket(context.Background(), "udp", a.Addr)
	if err != nil {
		return nil, portError(a, err)
	}
	uc := c.(*net.UDPConn)
	// Best effort: a smaller buffer drops more of a burst, nothing worse.
	_ = uc.SetReadBuffer(datagramBuffer)
	_ = uc.SetWriteBuffer(datagramBuffer)
	return uc, nil
}

// bindUnixgram binds a unix datagram socket at a.Addr with the given mode
// (clients need write permission to send). A socket file left by a dead
// server is replaced; one a live server reads is not.
func bindUnixgram(a Address, mode os.FileMode) (net.PacketConn, error) {
	if err := removeStaleSocket(netUnixgram, a.Addr); err != nil {
		return nil, err
	}
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: a.Addr, Net: "unixgram"})
	if err != nil {
		if errors.Is(err, syscall.EACCES) {
			return nil, fmt.Errorf("listen %s: permission denied; choose a directory this user can write", a)
		}
		return nil, fmt.Errorf("listen %s: %w", a, err)
	}
	// A unix datagram stays charged to the sender's buffer until its
	// receiver reads it: the buffer holds every reply clients have not
	// read yet.
	_ = c.SetWriteBuffer(datagramBuffer)
	_ = c.SetReadBuffer(datagramBuffer)
	if err := os.Chmod(a.Addr, mode); err != nil {
		c.Close()
		os.Remove(a.Addr)
		return nil, fmt.Errorf("listen %s: set mode %#o: %w", a, mode, err)
	}
	return c, nil
}

// addDatagrams appends the datagram sockets to a worker's ExtraFiles and
// returns their entries for its Spec: every worker reads all of them.
func (m *Master) addDatagrams(files []*os.File) ([]*os.File, []worker.Listener) {
	var specs []worker.Listener
	for _, d := range m.datagrams {
		specs = append(specs, worker.Listener{FD: 3 + len(files), Addr: d.addr.String()})
		files = append(files, d.file)
	}
	return files, specs
}

// datagramAddrs lists the bound datagram addresses, ports resolved.
func (m *Master) datagramAddrs() []string {
	var out []string
	for _, d := range m.datagrams {
		out = append(out, d.addr.String())
	}
	return out
}

// closeDatagrams closes the datagram sockets and, unless a new master has
// taken them over, removes the unixgram socket files.
func (m *Master) closeDatagrams() {
	for _, d := range m.datagrams {
		d.conn.Close()
		if d.file != nil {
			d.file.Close()
		}
		if d.addr.Network == netUnixgram && d.owned && !m.upgraded {
			os.Remove(d.addr.Addr)
		}
	}
	m.datagrams = nil
}
