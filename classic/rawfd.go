package classic

import (
	"fmt"
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/freqd/freqd/master"
)

// rawListener is a listening socket held as a bare non-blocking descriptor,
// outside Go's netpoller, for the designs that wait on descriptors
// themselves (iterative, epoll).
type rawListener struct {
	fd   int
	addr master.Address
}

// takeRaw moves every listener to a bare descriptor and closes Go's copy,
// which leaves a unix socket's file in place: closeRaw removes it. On error
// every listener is closed and its file removed.
func takeRaw(ls []master.Listener) ([]rawListener, error) {
	var out []rawListener
	for _, l := range ls {
		fd, err := master.DupDescriptor(l.Listener.(syscall.Conn))
		if err != nil {
			closeRaw(out)
			closeListeners(ls)
			return nil, fmt.Errorf("listen %s: %w", l.Address, err)
		}
		out = append(out, rawListener{fd: fd, addr: l.Address})
	}
	for _, l := range ls {
		if ul, ok := l.Listener.(*net.UnixListener); ok {
			ul.SetUnlinkOnClose(false) // the file now belongs to the raw listener
		}
		l.Close()
	}
	return out, nil
}

// closeRaw closes the listeners and removes their unix socket files.
func closeRaw(ls []rawListener) {
	for _, l := range ls {
		unix.Close(l.fd)
	}
	removeSocketFiles(ls)
}

// removeSocketFiles removes the files of unix listeners, which closing
// their descriptors leaves in place.
func removeSocketFiles(ls []rawListener) {
	for _, l := range ls {
		if l.addr.Network == "unix" {
			os.Remove(l.addr.Addr)
		}
	}
}

// fileConn turns an accepted descriptor into a net.Conn, consuming fd.
func fileConn(fd int, name string) (net.Conn, error) {
	f := os.NewFile(uintptr(fd), name)
	c, err := net.FileConn(f)
	f.Close() // FileConn duplicated it (PITFALLS #2)
	return c, err
}
