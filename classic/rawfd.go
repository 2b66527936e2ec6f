package classic

import (
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/freqd/freqd/listen"
)

// rawSocket is a listening socket as the designs that wait on
// descriptors themselves (iterative, epoll) hold it: the bare descriptor,
// and the address whose socket file they remove when they stop.
type rawSocket struct {
	fd   int
	addr listen.Address
}

// takeRaw takes the descriptors of socks over. On error every socket is
// closed and its file removed.
func takeRaw(socks []*listen.Socket) ([]rawSocket, error) {
	var out []rawSocket
	for _, s := range socks {
		fd, err := s.Release()
		if err != nil {
			closeRaw(out)
			closeSockets(socks)
			return nil, err
		}
		out = append(out, rawSocket{fd: fd, addr: s.Address})
	}
	return out, nil
}

// closeRaw closes the listeners and removes their unix socket files.
func closeRaw(ls []rawSocket) {
	for _, l := range ls {
		unix.Close(l.fd)
	}
	removeSocketFiles(ls)
}

// removeSocketFiles removes the files of unix listeners, which closing
// their descriptors leaves in place.
func removeSocketFiles(ls []rawSocket) {
	for _, l := range ls {
		if l.addr.IsPath() {
			os.Remove(l.addr.Addr)
		}
	}
}

// netListener is a listening socket as the designs that accept through
// Go's net package (goroutine, fork) hold it.
type netListener struct {
	net.Listener
	addr listen.Address
}

// takeNet turns socks into net.Listeners, closing the sockets' own
// descriptors. On error every socket is closed and its file removed.
func takeNet(socks []*listen.Socket) ([]netListener, error) {
	var out []netListener
	for _, s := range socks {
		ln, err := s.Listener()
		if err != nil {
			closeListeners(out)
			closeSockets(socks)
			return nil, err
		}
		out = append(out, netListener{Listener: ln, addr: s.Address})
		s.Close()
	}
	return out, nil
}

// closeListeners closes ls and removes their unix socket files, which
// closing alone leaves in place.
func closeListeners(ls []netListener) {
	for _, l := range ls {
		l.Close()
		if l.addr.IsPath() {
			os.Remove(l.addr.Addr)
		}
	}
}

// closeSockets closes sockets not yet taken over and removes their files.
func closeSockets(socks []*listen.Socket) {
	for _, s := range socks {
		if s.Close() == nil {
			s.RemoveFile()
		}
	}
}

// fileConn turns an accepted descriptor into a net.Conn, consuming fd.
func fileConn(fd int, name string) (net.Conn, error) {
	f := os.NewFile(uintptr(fd), name)
	c, err := net.FileConn(f)
	f.Close() // FileConn made its own duplicate
	return c, err
}

// dupConnFile duplicates c's descriptor for ExtraFiles without clearing
// O_NONBLOCK on the shared file description, as c's File method would.
func dupConnFile(c net.Conn) (*os.File, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil, os.ErrInvalid
	}
	fd, err := listen.DupDescriptor(sc)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), "conn"), nil
}
