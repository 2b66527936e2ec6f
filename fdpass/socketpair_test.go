package fdpass_test

import (
	"errors"
	"net"
	"os"
	"testing"

	"github.com/freqd/freqd/fdpass"
	"golang.org/x/sys/unix"
)

// Both ends are SOCK_SEQPACKET, close-on-exec (a child inherits only what
// ExtraFiles names) and blocking (ready for RecvFd on a locked thread).
func TestSocketpairEnds(t *testing.T) {
	checkLeaks(t)
	a, b, err := fdpass.Socketpair()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	defer b.Close()
	for i, f := range []*os.File{a, b} {
		fd := int(f.Fd())
		if typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE); err != nil || typ != unix.SOCK_SEQPACKET {
			t.Errorf("case %d (%s): socket type %d (%v), want SOCK_SEQPACKET (%d)", i, f.Name(), typ, err, unix.SOCK_SEQPACKET)
		}
		if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil || flags&unix.FD_CLOEXEC == 0 {
			t.Errorf("case %d (%s): descriptor flags %#x (%v), want FD_CLOEXEC", i, f.Name(), flags, err)
		}
		if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); err != nil || flags&unix.O_NONBLOCK != 0 {
			t.Errorf("case %d (%s): file status flags %#x (%v), want blocking", i, f.Name(), flags, err)
		}
	}
}

// FileConn refuses a socket that is not AF_UNIX, and still closes the file it
// was given.
func TestFileConnRefusesNonUnixSocket(t *testing.T) {
	checkLeaks(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	if c, err := fdpass.FileConn(f); err == nil {
		c.Close()
		t.Fatal("FileConn accepted a TCP listener")
	}
	if err := f.Close(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("closing the file after FileConn returned %v, want os.ErrClosed: FileConn must close it", err)
	}
}

// FileConn owns the file it is given: it closes it on success too, since
// net.FileConn works on a duplicate.
func TestFileConnClosesFile(t *testing.T) {
	checkLeaks(t)
	a, b, err := fdpass.Socketpair()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	c, err := fdpass.FileConn(a)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := a.Close(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("closing the file after FileConn returned %v, want os.ErrClosed", err)
	}
	if got := c.LocalAddr().Network(); got != "unixpacket" {
		t.Errorf("FileConn of a SOCK_SEQPACKET socket reports network %q, want unixpacket", got)
	}
}
