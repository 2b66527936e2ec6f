package fdpass

import (
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// Socketpair returns a connected pair of SOCK_SEQPACKET sockets: a message
// written into one end is read whole from the other, and a reader sees
// io.EOF once every copy of the other end is closed. By freqd's convention
// the master writes into a and workers read from b.
//
// Both ends are close-on-exec, so a child process inherits only the end put
// in its exec.Cmd.ExtraFiles. Both are in blocking mode, and the *os.File
// values are not registered with Go's netpoller: pass them to ExtraFiles
// as they are (os.StartProcess leaves their mode alone), use their Fd with
// SendFd and RecvFd on a locked thread, or hand them to FileConn to use Send
// and Recv. FileConn makes the socket non-blocking for every process holding
// it; see the package documentation.
func Socketpair() (a, b *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("fdpass: create SOCK_SEQPACKET socketpair: %w", os.NewSyscallError("socketpair", err))
	}
	return os.NewFile(uintptr(fds[0]), "fdpass-pair-a"), os.NewFile(uintptr(fds[1]), "fdpass-pair-b"), nil
}

// FileConn returns a *net.UnixConn for the unix socket held by f, and closes
// f in every case: net.FileConn works on a duplicate, and keeping f open
// would leak the original descriptor.
//
// The connection is non-blocking and registered with Go's netpoller. Because
// O_NONBLOCK belongs to the open file description, every other copy of the
// socket, in this process and in any that inherited it, becomes non-blocking
// too.
func FileConn(f *os.File) (uc *net.UnixConn, err error) {
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			uc.Close()
			uc, err = nil, fmt.Errorf("fdpass: close %s after duplicating it: %w", f.Name(), cerr)
		}
	}()
	c, err := net.FileConn(f)
	if err != nil {
		return nil, fmt.Errorf("fdpass: use %s as a socket: %w", f.Name(), err)
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("fdpass: %s is a %s socket, not a unix socket; descriptors travel only over AF_UNIX", f.Name(), c.LocalAddr().Network())
	}
	return uc, nil
}
