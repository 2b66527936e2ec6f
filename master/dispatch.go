package master

import (
	"errors"
	"os"
	"time"

	"github.com/freqd/freqd/evloop"
	"golang.org/x/sys/unix"
)

// passBatch is the most connections one queue message carries. A burst
// of connects is passed on in few messages, and each wakes a worker once.
const passBatch = 8

// acceptLoop is fdpass mode's dispatcher for one listener: accept, put the
// descriptors on the queue, close the master's copies. The payload byte
// names the listener, for the worker's logs and counters.
//
// It accepts with a raw accept4 on l.acceptor, so Go's netpoller waits for
// the listener but never sees the connections: a descriptor the master
// only forwards needs no epoll registration, no socket options and no
// address lookups, which net.Listener.Accept would spend on each. Whatever
// is already waiting in the backlog, up to passBatch, goes in one message.
//
// Sending blocks while the queue is full (no worker is reading); the loop
// then stops accepting and the kernel's backlog holds further connections.
func (m *Master) acceptLoop(idx int, l *listener) {
	defer m.dispatch.Done()
	rc, err := l.acceptor.SyscallConn()
	if err != nil {
		m.log.Error("cannot wait on the listener; not accepting on it", "listen", l.addr.String(), "error", err)
		return
	}
	var delay time.Duration
	payload := []byte{byte(idx)}
	fds := make([]int, 0, passBatch)
	for {
		var aerr error
		err := rc.Read(func(lfd uintptr) bool {
			for len(fds) < passBatch {
				fd, e := evloop.Accept4(int(lfd))
				switch {
				case e == nil:
					fds = append(fds, fd)
				case errors.Is(e, unix.ECONNABORTED):
				case errors.Is(e, unix.EAGAIN):
					return len(fds) > 0 // none: wait in the netpoller
				default:
					aerr = e
					return true
				}
			}
			return true
		})
		if err != nil {
			if !errors.Is(err, os.ErrClosed) {
				m.log.Error("cannot wait on the listener; no longer accepting on it", "listen", l.addr.String(), "error", err)
			}
			return // the listener was closed
		}
		if len(fds) > 0 {
			if err := m.pickQueue().put(payload, fds...); err != nil {
				m.log.Error("cannot pass connections to a worker; closing them", "listen", l.addr.String(), "connections", len(fds), "error", err)
			}
			for _, fd := range fds {
				unix.Close(fd)
			}
			fds = fds[:0]
		}
		if aerr == nil {
			delay = 0
			continue
		}
		// EMFILE, ENFILE, ENOBUFS: back off as net/http does rather than
		// spin on an error that will not clear by itself at once.
		delay = max(5*time.Millisecond, min(2*delay, time.Second))
		m.log.Warn("accept failed; backing off", "listen", l.addr.String(), "error", os.NewSyscallError("accept4", aerr), "delay", delay)
		time.Sleep(delay)
	}
}

// stopDispatch waits for the accept loops to end once the listeners are
// closed. A loop waiting to send into a full queue (every worker hung or
// dead) would never end: the master's own copy of the receiving end keeps
// the queue alive. Stopping the queues fails that send; the connections it
// carried are closed.
func (m *Master) stopDispatch() {
	for _, q := range m.queues {
		q.stopping.Store(true)
	}
	m.dispatch.Wait()
}
