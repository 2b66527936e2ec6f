package listen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// datagramBuffer is the receive and send buffer asked for datagram
// sockets, so that a burst of requests, or replies unix clients have not
// read yet, fit; the kernel caps it at net.core.rmem_max and wmem_max.
const datagramBuffer = 4 << 20

// Options say how Bind binds.
type Options struct {
	// UnixMode is the mode of unix socket files (clients need write
	// permission to connect or send); 0660 when zero.
	UnixMode os.FileMode
	// ReusePort sets SO_REUSEPORT on TCP sockets, so that more sockets
	// (one per worker slot, BindSlot) can share each address.
	ReusePort bool
	// Datagrams allows udp: and unixgram: addresses; without it they are
	// refused with a message saying which modes serve them.
	Datagrams bool
	// From holds sockets passed down by a previous master or systemd: an
	// address found there is taken instead of bound.
	From *Inherited
}

// Bind binds every address once: TCP with a clear error for a port in use,
// unix sockets with opts.UnixMode after replacing a stale socket file,
// datagram sockets with large buffers. On error nothing stays bound and no
// socket file created here is left behind.
func Bind(addrs []string, opts Options) ([]*Socket, error) {
	if opts.UnixMode == 0 {
		opts.UnixMode = 0o660
	}
	var out []*Socket
	ok := false
	defer func() {
		if !ok {
			for _, s := range out {
				s.Close()
				if !s.Inherited {
					s.RemoveFile()
				}
			}
		}
	}()
	seen := map[string]bool{}
	for _, text := range addrs {
		a, err := ParseAddress(text)
		if err != nil {
			return nil, err
		}
		if a.IsDatagram() && !opts.Datagrams {
			return nil, fmt.Errorf("listen %s: datagram listeners are served by the pre-forked modes only (--mode fdpass, accept or reuseport)", a)
		}
		if seen[a.String()] {
			return nil, fmt.Errorf("listen address %s given twice", a)
		}
		seen[a.String()] = true
		s := opts.From.Take(a.Key())
		if s == nil {
			if s, err = bind(a, opts.UnixMode, opts.ReusePort, ""); err != nil {
				return nil, err
			}
		}
		out = append(out, s)
	}
	ok = true
	return out, nil
}

// BindSlot binds, or takes from from, the SO_REUSEPORT socket of reuseport
// slot n > 0 on the TCP address of s, which Bind bound with ReusePort.
func BindSlot(s *Socket, n int, from *Inherited) (*Socket, error) {
	key := s.Key() + "#" + strconv.Itoa(n)
	if t := from.Take(key); t != nil {
		return t, nil
	}
	return bind(s.Address, 0, true, key)
}

// bind binds one address and detaches it from Go's poller.
func bind(a Address, mode os.FileMode, reusePort bool, key string) (*Socket, error) {
	switch a.Network {
	case Unix:
		ln, err := bindUnix(a, mode)
		if err != nil {
			return nil, err
		}
		return detachOrRemove(ln.(*net.UnixListener), a, key)
	case Unixgram:
		c, err := bindUnixgram(a, mode)
		if err != nil {
			return nil, err
		}
		return detachOrRemove(c, a, key)
	case UDP:
		c, err := bindUDP(a)
		if err != nil {
			return nil, err
		}
		a.Addr = c.LocalAddr().String() // :0 resolved, for logs and clients
		return detach(c, a, key)
	}
	ln, err := bindTCP(a, reusePort)
	if err != nil {
		return nil, err
	}
	// Resolve :0 to the port the kernel chose, so every reuseport socket
	// binds the same port and logs name a usable address.
	a.Addr = ln.Addr().String()
	return detach(ln.(*net.TCPListener), a, key)
}

// detachOrRemove is detach for a socket with a file, which it removes if
// detaching fails.
func detachOrRemove(c interface {
	syscall.Conn
	Close() error
}, a Address, key string) (*Socket, error) {
	s, err := detach(c, a, key)
	if err != nil {
		os.Remove(a.Addr)
	}
	return s, err
}

// deferAccept is how long, in seconds, the kernel holds a TCP connection
// whose client has not yet sent anything before it reports it to accept
// anyway (TCP_DEFER_ACCEPT). A Redis client speaks first, so a connection
// is accepted with its request already in the socket: the process that
// accepts is woken once per connection rather than once for the
// connection and again for its request, and a worker handed the
// descriptor reads the request at once. A client that connects and says
// nothing is still accepted after this delay, so health checks that only
// connect pass, a little later.
const deferAccept = 1

// bindTCP binds a TCP listener; reusePort sets SO_REUSEPORT.
//
// The listener is plain TCP. Go enables Multipath TCP on listeners where
// the kernel has it; the clients of a word-frequency server, like Redis's,
// connect over plain TCP, and an MPTCP listener then takes each connection
// through MPTCP's fallback path, which costs every accept a few
// microseconds for nothing.
func bindTCP(a Address, reusePort bool) (net.Listener, error) {
	lc := net.ListenConfig{}
	lc.SetMultipathTCP(false)
	lc.Control = func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			if reusePort {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
			}
			if serr == nil {
				serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT, deferAccept)
			}
		})
		if err != nil {
			return err
		}
		return serr
	}
	ln, err := lc.Listen(context.Background(), "tcp", a.Addr)
	if err != nil {
		return nil, portError(a, err)
	}
	return ln, nil
}

// bindUDP binds a UDP socket with large buffers (best effort: a smaller
// buffer drops more of a burst, nothing worse).
func bindUDP(a Address) (*net.UDPConn, error) {
	c, err := (&net.ListenConfig{}).ListenPacket(context.Background(), "udp", a.Addr)
	if err != nil {
		return nil, portError(a, err)
	}
	uc := c.(*net.UDPConn)
	_ = uc.SetReadBuffer(datagramBuffer)
	_ = uc.SetWriteBuffer(datagramBuffer)
	return uc, nil
}

// portError says what to do about a failure to bind a TCP or UDP port.
func portError(a Address, err error) error {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("listen %s: address already in use; stop the other server or choose another --listen", a)
	case errors.Is(err, syscall.EACCES):
		return fmt.Errorf("listen %s: permission denied; ports below 1024 need root or CAP_NET_BIND_SERVICE", a)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return fmt.Errorf("listen %s: no interface of this machine has that address; use one it has, or 0.0.0.0 / [::] for all", a)
	}
	return fmt.Errorf("listen %s: %w", a, err)
}

// bindUnix binds a unix stream socket at a.Addr with the given mode. A
// socket file left by a dead server is replaced; one a live server answers
// on is not.
func bindUnix(a Address, mode os.FileMode) (net.Listener, error) {
	if err := removeStaleSocket(a); err != nil {
		return nil, err
	}
	ln, err := net.Listen("unix", a.Addr)
	if err != nil {
		return nil, pathError(a, err)
	}
	// The socket file is removed by its owner on a clean exit, and not
	// when a master hands it to a new master (SIGUSR2).
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	if err := os.Chmod(a.Addr, mode); err != nil {
		ln.Close()
		os.Remove(a.Addr)
		return nil, fmt.Errorf("listen %s: set mode %#o: %w", a, mode, err)
	}
	return ln, nil
}

// bindUnixgram binds a unix datagram socket at a.Addr with the given mode.
// A unix datagram stays charged to the sender's buffer until its receiver
// reads it, so the send buffer holds every reply clients have not read.
func bindUnixgram(a Address, mode os.FileMode) (*net.UnixConn, error) {
	if err := removeStaleSocket(a); err != nil {
		return nil, err
	}
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: a.Addr, Net: "unixgram"})
	if err != nil {
		return nil, pathError(a, err)
	}
	_ = c.SetWriteBuffer(datagramBuffer)
	_ = c.SetReadBuffer(datagramBuffer)
	if err := os.Chmod(a.Addr, mode); err != nil {
		c.Close()
		os.Remove(a.Addr)
		return nil, fmt.Errorf("listen %s: set mode %#o: %w", a, mode, err)
	}
	return c, nil
}

// pathError says what to do about a failure to bind a socket file.
func pathError(a Address, err error) error {
	switch {
	case errors.Is(err, syscall.EACCES):
		return fmt.Errorf("listen %s: permission denied; choose a directory this user can write", a)
	case errors.Is(err, syscall.ENOENT):
		return fmt.Errorf("listen %s: the directory does not exist; create it first", a)
	}
	return fmt.Errorf("listen %s: %w", a, err)
}

// removeStaleSocket removes a socket file left by a dead server, so that a
// can be bound. Connecting tells: a live socket answers, a dead one
// refuses, a live socket of the other type reports EPROTOTYPE. Anything
// but a dead socket is left alone.
func removeStaleSocket(a Address) error {
	fi, err := os.Lstat(a.Addr)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("listen %s: %w", a, err)
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("listen %s: the path exists and is not a socket; refusing to remove it", a)
	}
	c, err := net.DialTimeout(a.Network, a.Addr, time.Second)
	switch {
	case err == nil:
		c.Close()
		return fmt.Errorf("listen %s: a live server is using this socket; stop it or choose another path", a)
	case errors.Is(err, syscall.EPROTOTYPE):
		return fmt.Errorf("listen %s: a live socket of another type is bound here; choose another path", a)
	case !errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("listen %s: cannot tell whether the socket is in use: %w", a, err)
	}
	if err := os.Remove(a.Addr); err != nil {
		return fmt.Errorf("listen %s: remove stale socket: %w", a, err)
	}
	return nil
}
