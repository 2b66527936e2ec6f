package master

import (
	"errors"
	"net"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// fdListener is a listening socket the master holds as a bare descriptor,
// outside Go's netpoller. In fdpass mode the dispatcher accepts on its own
// duplicate; a net.Listener kept beside it would stay registered with the
// netpoller, which then wakes a thread for every connection that arrives
// only to find nobody waiting in Accept. fdListener is enough of a
// net.Listener for what the master does with one: name it, hand it to a
// new master or a worker, read its TCP_INFO, close it.
type fdListener struct {
	fd     int
	addr   net.Addr
	mu     sync.Mutex
	closed bool
}

// detach moves ln to an fdListener: it duplicates the descriptor and closes
// ln, which takes the socket out of the netpoller. A unix socket's file
// stays in place; the master removes it itself on a clean exit.
func detach(ln net.Listener) (net.Listener, error) {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return nil, errors.New("listener has no descriptor")
	}
	nfd, err := DupDescriptor(sc)
	if err != nil {
		return nil, err
	}
	if ul, ok := ln.(*net.UnixListener); ok {
		ul.SetUnlinkOnClose(false)
	}
	addr := ln.Addr()
	ln.Close()
	return &fdListener{fd: nfd, addr: addr}, nil
}

var errDetached = errors.New("freqd: the master does not accept on this listener; its dispatcher does")

func (l *fdListener) Accept() (net.Conn, error) { return nil, errDetached }
func (l *fdListener) Addr() net.Addr            { return l.addr }

func (l *fdListener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return net.ErrClosed
	}
	l.closed = true
	return unix.Close(l.fd)
}

// SyscallConn gives the descriptor to Control, until Close: after it the
// number may belong to another file, and Control fails as a closed
// net.Listener's does. There is no waiting, so Read and Write are not
// supported.
func (l *fdListener) SyscallConn() (syscall.RawConn, error) { return fdRawConn{l}, nil }

type fdRawConn struct{ l *fdListener }

func (c fdRawConn) Control(f func(fd uintptr)) error {
	c.l.mu.Lock()
	defer c.l.mu.Unlock()
	if c.l.closed {
		return net.ErrClosed
	}
	f(uintptr(c.l.fd))
	return nil
}
func (c fdRawConn) Read(func(fd uintptr) bool) error  { return errDetached }
func (c fdRawConn) Write(func(fd uintptr) bool) error { return errDetached }
