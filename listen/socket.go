package listen

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Socket is a bound socket (listening, or datagram) held as a bare
// descriptor, outside Go's runtime poller. Its methods are safe for
// concurrent use; after Close they fail as a closed net.Listener's do,
// because the descriptor number may by then belong to another file.
type Socket struct {
	// Address is what the socket is bound to, a TCP or UDP port of 0
	// resolved to the kernel's choice.
	Address Address
	// Inherited is set for a socket taken from a previous master or from
	// systemd rather than bound here: its file is not this process's to
	// remove unless it takes over for good.
	Inherited bool

	key    string // the name it is passed to other processes under
	mu     sync.Mutex
	fd     int
	closed bool
}

// newSocket wraps fd, which it owns from then on.
func newSocket(fd int, a Address, key string, inherited bool) *Socket {
	if key == "" {
		key = a.Key()
	}
	return &Socket{Address: a, Inherited: inherited, key: key, fd: fd}
}

// detach moves a socket that Go's net package bound out of the runtime
// poller: it duplicates the descriptor and closes Go's copy, which
// deregisters it. A unix socket's file stays in place (SetUnlinkOnClose).
func detach(c interface {
	syscall.Conn
	Close() error
}, a Address, key string) (*Socket, error) {
	if ul, ok := c.(*net.UnixListener); ok {
		ul.SetUnlinkOnClose(false)
	}
	fd, err := DupDescriptor(c)
	c.Close()
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", a, err)
	}
	return newSocket(fd, a, key, false), nil
}

// Key is the name the socket is passed to another process under.
func (s *Socket) Key() string { return s.key }

// Control runs f on the descriptor, unless the socket is closed.
func (s *Socket) Control(f func(fd int) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return net.ErrClosed
	}
	return f(s.fd)
}

// Dup returns a close-on-exec duplicate of the descriptor, which the caller
// owns. It shares the open file description, so the duplicate stays
// non-blocking whatever the caller does with the number.
func (s *Socket) Dup() (int, error) {
	nfd := -1
	err := s.Control(func(fd int) error {
		var err error
		nfd, err = unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
		return err
	})
	if err != nil {
		return -1, fmt.Errorf("listen %s: dup: %w", s.Address, err)
	}
	return nfd, nil
}

// File is Dup as an *os.File, for exec.Cmd.ExtraFiles. os.NewFile leaves
// the descriptor's O_NONBLOCK alone, where a net.Listener's File method
// would let os.StartProcess clear it on the shared file description and
// turn every holder's socket blocking.
func (s *Socket) File() (*os.File, error) {
	fd, err := s.Dup()
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), s.Address.String()), nil
}

// Listener returns a net.Listener on a duplicate of a stream socket, for
// a design that accepts through Go's poller; closing it leaves the socket
// (and a unix socket's file) to this Socket.
func (s *Socket) Listener() (net.Listener, error) {
	f, err := s.File()
	if err != nil {
		return nil, err
	}
	ln, err := net.FileListener(f)
	f.Close() // FileListener made its own duplicate
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", s.Address, err)
	}
	if ul, ok := ln.(*net.UnixListener); ok {
		ul.SetUnlinkOnClose(false)
	}
	return ln, nil
}

// Release hands the descriptor over to the caller, who closes it; the
// Socket is closed from then on. It is for a design that keeps its own
// sockets in its own epoll set.
func (s *Socket) Release() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return -1, net.ErrClosed
	}
	s.closed = true
	return s.fd, nil
}

// Close closes this process's descriptor; the socket lives on in other
// processes that hold it. Closing twice reports net.ErrClosed.
func (s *Socket) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return net.ErrClosed
	}
	s.closed = true
	return unix.Close(s.fd)
}

// RemoveFile removes a unix socket's file, which closing leaves in place;
// it does nothing for a TCP or UDP socket.
func (s *Socket) RemoveFile() {
	if s.Address.IsPath() {
		os.Remove(s.Address.Addr)
	}
}

// AcceptQueue reads a TCP listening socket's accept queue from TCP_INFO:
// for a listener Linux reports the queue's length in tcpi_unacked and its
// limit in tcpi_sacked.
func (s *Socket) AcceptQueue() (length, limit uint32, err error) {
	if s.Address.Network != TCP {
		return 0, 0, errors.New("listen: accept queues are read from TCP listeners only")
	}
	err = s.Control(func(fd int) error {
		info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
		if err == nil {
			length, limit = info.Unacked, info.Sacked
		}
		return err
	})
	return length, limit, err
}

// DupDescriptor duplicates the descriptor of a socket that Go's net
// package holds, close-on-exec, through its RawConn. Going through Fd (or
// File) instead would switch the shared open file description to blocking
// mode, and every holder of the socket with it.
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
