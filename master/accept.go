package master

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/freqd/freqd/internal/sys"
)

// passBatch is the most connections one queue message carries. A burst
// of connects is passed on in few messages, and each wakes a worker once.
const passBatch = 8

// newConnections is the payload of a queue message of new connections;
// one byte, since an empty message would read as the queue's end.
var newConnections = []byte{'N'}

// acceptLoop is fdpass mode's accept loop: accept, put the descriptors on
// a queue, close the master's copies. It runs on an OS thread of its own,
// waiting in its own epoll set on duplicates of the listening sockets, and
// accepts with a raw accept4: the connections it only forwards are never
// registered with Go's netpoller, given socket options or looked up, and
// no goroutine is parked and woken per connection. Whatever waits in a
// backlog, up to passBatch, goes in one message.
//
// Sending waits while the queue is full (no worker is reading); the loop
// then stops accepting and the kernel's backlog holds further connections.
type acceptLoop struct {
	m       *Master
	epfd    int
	wake    *sys.Waker
	stop    atomic.Bool
	sockets []acceptSocket
	done    chan struct{}
}

// acceptSocket is a listening socket as the accept loop holds it.
type acceptSocket struct {
	fd   int // a duplicate, closed when the loop ends
	addr string
}

// startAccepting starts the accept loop on the master's stream sockets.
func (m *Master) startAccepting() error {
	a := &acceptLoop{m: m, epfd: -1, done: make(chan struct{})}
	var err error
	if a.wake, err = sys.NewWaker(); err != nil {
		return err
	}
	if err := a.open(); err != nil {
		a.close()
		return err
	}
	m.accept = a
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer close(a.done)
		a.run()
	}()
	return nil
}

// open duplicates the listening sockets and builds the epoll set.
func (a *acceptLoop) open() error {
	var err error
	if a.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return fmt.Errorf("epoll_create1: %w", err)
	}
	if err := a.watch(a.wake.FD()); err != nil {
		return err
	}
	for _, l := range a.m.listeners {
		fd, err := l.Dup()
		if err != nil {
			return err
		}
		a.sockets = append(a.sockets, acceptSocket{fd: fd, addr: l.Address.String()})
		if err := a.watch(fd); err != nil {
			return fmt.Errorf("listen %s: %w", l.Address, err)
		}
	}
	return nil
}

func (a *acceptLoop) watch(fd int) error {
	return unix.EpollCtl(a.epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)})
}

func (a *acceptLoop) close() {
	for _, s := range a.sockets {
		unix.Close(s.fd)
	}
	a.sockets = nil
	if a.epfd >= 0 {
		unix.Close(a.epfd)
		a.epfd = -1
	}
	a.wake.Close()
}

// run accepts until stopped. It looks for ready sockets without sleeping
// first, so under load the thread rarely blocks; when it does, the
// blocking epoll_wait lets the Go scheduler run other goroutines on the P
// it leaves.
func (a *acceptLoop) run() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer a.close()
	events := make([]unix.EpollEvent, len(a.sockets)+1)
	fds := make([]int, 0, passBatch)
	var delay time.Duration
	for !a.stop.Load() {
		n, err := sys.PollNow(a.epfd, events)
		if err == nil && n == 0 {
			n, err = unix.EpollWait(a.epfd, events, -1)
		}
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue // Go's preemption signals interrupt the wait
			}
			a.m.log.Error("epoll_wait in the accept loop; no longer accepting", "error", err)
			return
		}
		for _, ev := range events[:n] {
			if int(ev.Fd) == a.wake.FD() {
				a.wake.Clear()
				continue
			}
			s := a.socket(int(ev.Fd))
			if s == nil {
				continue
			}
			var aerr error
			fds, aerr = acceptBatch(s.fd, fds[:0])
			if len(fds) > 0 {
				if err := a.m.pickQueue().put(newConnections, fds...); err != nil {
					a.m.log.Error("cannot pass connections to a worker; closing them", "listen", s.addr, "connections", len(fds), "error", err)
				}
				for _, fd := range fds {
					unix.Close(fd)
				}
			}
			if aerr == nil {
				delay = 0
				continue
			}
			// EMFILE, ENFILE, ENOBUFS: back off as net/http does rather
			// than spin on an error that will not clear by itself at once.
			// The wait ends early for a stop.
			delay = sys.NextBackoff(delay)
			a.m.log.Warn("accept failed; backing off", "listen", s.addr, "error", os.NewSyscallError("accept4", aerr), "delay", delay)
			unix.Poll([]unix.PollFd{{Fd: int32(a.wake.FD()), Events: unix.POLLIN}}, int(delay/time.Millisecond))
		}
	}
}

func (a *acceptLoop) socket(fd int) *acceptSocket {
	for i := range a.sockets {
		if a.sockets[i].fd == fd {
			return &a.sockets[i]
		}
	}
	return nil
}

// acceptBatch accepts what waits on a listening socket, up to passBatch,
// and reports an error other than "nothing waits".
func acceptBatch(lfd int, fds []int) ([]int, error) {
	for len(fds) < passBatch {
		fd, err := sys.Accept4(lfd)
		switch {
		case err == nil:
			fds = append(fds, fd)
		case errors.Is(err, unix.ECONNABORTED):
		case errors.Is(err, unix.EAGAIN):
			return fds, nil
		default:
			return fds, err
		}
	}
	return fds, nil
}

// stopAccepting ends the accept loop and waits for it. A loop waiting to
// send into a full queue (every worker hung or dead) would never end: the
// master's own copy of the receiving end keeps the queue alive. Stopping
// the queues fails that send; the connections it carried are closed.
func (m *Master) stopAccepting() {
	for _, q := range m.queues {
		q.stopping.Store(true)
	}
	if a := m.accept; a != nil {
		a.stop.Store(true)
		a.wake.Wake()
		<-a.done
		m.accept = nil
	}
}
