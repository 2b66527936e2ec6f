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

// dispatcher is fdpass mode's accept loop: accept, put the descriptors on
// a queue, close the master's copies. It runs on an OS thread of its own,
// waiting in its own epoll set on duplicates of the listeners, and accepts
// with a raw accept4: the connections it only forwards are never
// registered with Go's netpoller, given socket options or looked up, and
// no goroutine is parked and woken per connection. Whatever waits in a
// backlog, up to passBatch, goes in one message.
//
// Sending waits while the queue is full (no worker is reading); the loop
// then stops accepting and the kernel's backlog holds further connections.
type dispatcher struct {
	m    *Master
	epfd int
	wake *sys.Waker
	stop atomic.Bool
	ls   []dispatchListener
}

// dispatchListener is a listener as the dispatcher holds it.
type dispatchListener struct {
	fd   int // a duplicate, closed when the dispatcher ends
	addr string
}

// newConnections is the payload of a queue message of new connections;
// one byte, since an empty message would read as the queue's end.
var newConnections = []byte{'N'}

// startDispatch starts the dispatcher on the master's stream listeners.
func (m *Master) startDispatch() error {
	d := &dispatcher{m: m, epfd: -1}
	var err error
	if d.wake, err = sys.NewWaker(); err != nil {
		return err
	}
	if err := d.open(); err != nil {
		d.close()
		return err
	}
	m.dispatcher = d
	m.dispatch.Add(1)
	go d.run()
	return nil
}

// open duplicates the listeners and builds the epoll set.
func (d *dispatcher) open() error {
	var err error
	if d.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return fmt.Errorf("epoll_create1: %w", err)
	}
	if err := d.watch(d.wake.FD()); err != nil {
		return err
	}
	for _, l := range d.m.listeners {
		fd, err := l.Dup()
		if err != nil {
			return err
		}
		d.ls = append(d.ls, dispatchListener{fd: fd, addr: l.Address.String()})
		if err := d.watch(fd); err != nil {
			return fmt.Errorf("listen %s: %w", l.Address, err)
		}
	}
	return nil
}

func (d *dispatcher) watch(fd int) error {
	return unix.EpollCtl(d.epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)})
}

func (d *dispatcher) close() {
	for _, l := range d.ls {
		unix.Close(l.fd)
	}
	d.ls = nil
	if d.epfd >= 0 {
		unix.Close(d.epfd)
		d.epfd = -1
	}
	d.wake.Close()
}

// run accepts until stopDispatch. It looks for ready listeners without
// sleeping first, so under load the thread rarely blocks; when it does,
// the blocking epoll_wait lets the Go scheduler run other goroutines on
// the P it leaves.
func (d *dispatcher) run() {
	defer d.m.dispatch.Done()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer d.close()
	events := make([]unix.EpollEvent, len(d.ls)+1)
	fds := make([]int, 0, passBatch)
	var delay time.Duration
	for !d.stop.Load() {
		n, err := sys.PollNow(d.epfd, events)
		if err == nil && n == 0 {
			n, err = unix.EpollWait(d.epfd, events, -1)
		}
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			d.m.log.Error("epoll_wait in the accept loop; no longer accepting", "error", err)
			return
		}
		for _, ev := range events[:n] {
			if int(ev.Fd) == d.wake.FD() {
				d.wake.Clear()
				continue
			}
			l := d.listener(int(ev.Fd))
			if l == nil {
				continue
			}
			var aerr error
			fds, aerr = acceptBatch(l.fd, fds[:0])
			if len(fds) > 0 {
				if err := d.m.pickQueue().put(newConnections, fds...); err != nil {
					d.m.log.Error("cannot pass connections to a worker; closing them", "listen", l.addr, "connections", len(fds), "error", err)
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
			// than spin on an error that will not clear by itself at once
			// (PITFALLS #15). The wait ends early for a stop.
			delay = sys.NextBackoff(delay)
			d.m.log.Warn("accept failed; backing off", "listen", l.addr, "error", os.NewSyscallError("accept4", aerr), "delay", delay)
			unix.Poll([]unix.PollFd{{Fd: int32(d.wake.FD()), Events: unix.POLLIN}}, int(delay/time.Millisecond))
		}
	}
}

func (d *dispatcher) listener(fd int) *dispatchListener {
	for i := range d.ls {
		if d.ls[i].fd == fd {
			return &d.ls[i]
		}
	}
	return nil
}

// acceptBatch accepts what waits on a listener, up to passBatch, and
// reports an error other than "nothing waits".
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

// stopDispatch ends the dispatcher and waits for it. A dispatcher waiting
// to send into a full queue (every worker hung or dead) would never end:
// the master's own copy of the receiving end keeps the queue alive.
// Stopping the queues fails that send; the connections it carried are
// closed.
func (m *Master) stopDispatch() {
	for _, q := range m.queues {
		q.stopping.Store(true)
	}
	if d := m.dispatcher; d != nil {
		d.stop.Store(true)
		d.wake.Wake()
	}
	m.dispatch.Wait()
}
