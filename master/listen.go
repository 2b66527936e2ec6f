package master

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultAddr is where freqd listens when no --listen is given: loopback
// only, and not Redis's 6379, so freqd can run beside a Redis server.
const DefaultAddr = "127.0.0.1:7379"

// maxUnixPath is the longest socket path sun_path holds (108 bytes with the
// terminating NUL on Linux).
const maxUnixPath = len(unix.RawSockaddrUnix{}.Path) - 1

// Address is one parsed --listen value.
type Address struct {
	Network string // "tcp", "unix", "udp" or "unixgram"
	Addr    string // host:port or a path
}

func (a Address) String() string {
	if a.Network == "tcp" || a.Network == "" {
		return a.Addr
	}
	return a.Network + ":" + a.Addr
}

// ParseAddress accepts host:port, :port, [::1]:port and unix:/path, and the
// datagram addresses udp:host:port and unixgram:/path.
func ParseAddress(s string) (Address, error) {
	if a, ok, err := parseDatagramAddress(s); ok {
		return a, err
	}
	if p, ok := strings.CutPrefix(s, "unix:"); ok {
		if p == "" {
			return Address{}, fmt.Errorf("listen address %q: empty socket path", s)
		}
		if len(p) > maxUnixPath {
			return Address{}, fmt.Errorf("listen address %q: socket path is %d bytes, the limit is %d (sun_path); use a shorter path", s, len(p), maxUnixPath)
		}
		return Address{Network: "unix", Addr: p}, nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return Address{}, fmt.Errorf("listen address %q: want host:port, :port, [::1]:port or unix:/path", s)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return Address{}, fmt.Errorf("listen address %q: bad port %q", s, port)
	}
	return Address{Network: "tcp", Addr: net.JoinHostPort(host, port)}, nil
}

// listener is a socket the master bound. The master keeps it open for its
// whole life: workers come and go, the socket and its queue stay.
type listener struct {
	addr Address
	ln   net.Listener
	// owned: the master removes the socket file on a clean exit. True for
	// a socket it bound; for one a previous master handed over, once this
	// master serves; never for systemd's, which the socket unit owns.
	owned bool
}

// Listener is a socket bound for one --listen address.
type Listener struct {
	Address Address // as bound: a TCP port of 0 is resolved to the kernel's choice
	net.Listener
	// Inherited is set for a socket taken from a previous master or from
	// systemd rather than bound here: its file is not this process's to
	// remove unless it takes over for good.
	Inherited bool
}

// Bind binds every --listen address as `freqd serve` does: each address
// once, TCP with a clear error for a port in use, unix sockets with the
// given mode after replacing a stale socket file. It is for the designs that
// serve outside the master (package classic). On error nothing stays bound.
// Closing a returned unix listener leaves its socket file in place (a
// master hands its sockets to its successor); the caller removes the file.
func Bind(addrs []string, unixMode os.FileMode) ([]Listener, error) {
	return bindAll(addrs, unixMode, false, nil)
}

// bindAll is Bind with SO_REUSEPORT on the TCP sockets when reusePort is
// set, taking a socket from inh instead of binding where one was inherited.
func bindAll(addrs []string, unixMode os.FileMode, reusePort bool, inh *inherited) ([]Listener, error) {
	var out []Listener
	var created []string // socket files bound here, removed again on error
	ok := false
	defer func() {
		if !ok {
			for _, l := range out {
				l.Close()
			}
			for _, path := range created {
				os.Remove(path)
			}
		}
	}()
	seen := map[string]bool{}
	for _, s := range addrs {
		a, err := ParseAddress(s)
		if err != nil {
			return nil, err
		}
		if a.isDatagram() {
			return nil, fmt.Errorf("listen %s: datagram listeners are served by the pre-forked modes only (--mode fdpass, accept or reuseport)", a)
		}
		if seen[a.String()] {
			return nil, fmt.Errorf("listen address %s given twice", a)
		}
		seen[a.String()] = true
		ln := inh.take(addressKey(a))
		inherited := ln != nil
		switch {
		case ln != nil:
		case a.Network == "unix":
			if ln, err = bindUnix(a, unixMode); err == nil {
				created = append(created, a.Addr)
			}
		default:
			ln, err = bindTCP(a, reusePort)
		}
		if err != nil {
			return nil, err
		}
		if a.Network == "tcp" {
			// Resolve :0 to the port the kernel chose, so every reuseport
			// socket binds the same port and logs name a usable address.
			a.Addr = ln.Addr().String()
		}
		out = append(out, Listener{Address: a, Listener: ln, Inherited: inherited})
	}
	ok = true
	return out, nil
}

// bindTCP binds a TCP listener; reusePort sets SO_REUSEPORT so that several
// sockets can share the address (one per worker slot in reuseport mode).
func bindTCP(a Address, reusePort bool) (net.Listener, error) {
	lc := net.ListenConfig{}
	if reusePort {
		lc.Control = func(network, address string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
			})
			if err != nil {
				return err
			}
			return serr
		}
	}
	ln, err := lc.Listen(context.Background(), "tcp", a.Addr)
	if err != nil {
		return nil, portError(a, err)
	}
	return ln, nil
}

// portError says what to do about a failure to bind a TCP or UDP port.
func portError(a Address, err error) error {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("listen %s: address already in use; stop the other server or choose another --listen", a)
	case errors.Is(err, syscall.EACCES):
		return fmt.Errorf("listen %s: permission denied; ports below 1024 need root or CAP_NET_BIND_SERVICE", a)
	}
	return fmt.Errorf("listen %s: %w", a, err)
}

// bindUnix binds a unix socket at a.Addr with the given mode. A socket file
// left by a dead server is replaced; one a live server answers on is not.
func bindUnix(a Address, mode os.FileMode) (net.Listener, error) {
	if err := removeStaleSocket("unix", a.Addr); err != nil {
		return nil, err
	}
	ln, err := net.Listen("unix", a.Addr)
	if err != nil {
		if errors.Is(err, syscall.EACCES) {
			return nil, fmt.Errorf("listen %s: permission denied; choose a directory this user can write", a)
		}
		return nil, fmt.Errorf("listen %s: %w", a, err)
	}
	// The master removes its socket files itself, on a clean exit, and not
	// when it hands them to a new master (SIGUSR2).
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	if err := os.Chmod(a.Addr, mode); err != nil {
		ln.Close()
		os.Remove(a.Addr)
		return nil, fmt.Errorf("listen %s: set mode %#o: %w", a, mode, err)
	}
	return ln, nil
}

// removeStaleSocket removes a socket file left by a dead server, so that
// network ("unix" or "unixgram") can bind path. Connecting tells: a live
// socket answers, a dead one refuses, a live socket of the other type
// reports EPROTOTYPE. Anything but a dead socket is left alone.
func removeStaleSocket(network, path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("listen %s:%s: %w", network, path, err)
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("listen %s:%s: the path exists and is not a socket; refusing to remove it", network, path)
	}
	c, err := net.DialTimeout(network, path, time.Second)
	switch {
	case err == nil:
		c.Close()
		return fmt.Errorf("listen %s:%s: a live server is using this socket; stop it or choose another path", network, path)
	case errors.Is(err, syscall.EPROTOTYPE):
		return fmt.Errorf("listen %s:%s: a live socket of another type is bound here; choose another path", network, path)
	case !errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("listen %s:%s: cannot tell whether the socket is in use: %w", network, path, err)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("listen %s:%s: remove stale socket: %w", network, path, err)
	}
	return nil
}

// DupDescriptor duplicates a socket's descriptor, close-on-exec, through
// its RawConn. Going through Fd (or ln.File) instead would switch the
// shared open file description to blocking mode, and every holder of the
// socket with it (PITFALLS #1).
func DupDescriptor(c syscall.Conn) (int, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return -1, err
	}
	nfd, derr := -1, error(nil)
	if err := rc.Control(func(fd uintptr) {
		nfd, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return -1, err
	}
	if derr != nil {
		return -1, fmt.Errorf("dup: %w", derr)
	}
	return nfd, nil
}

// dupFile is DupDescriptor as an *os.File, for exec.Cmd.ExtraFiles:
// os.NewFile on a non-blocking descriptor leaves O_NONBLOCK alone, where
// passing ln.File() would let os.StartProcess clear it.
func dupFile(c syscall.Conn, name string) (*os.File, error) {
	nfd, err := DupDescriptor(c)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return os.NewFile(uintptr(nfd), name), nil
}
