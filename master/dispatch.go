package master

import (
	"errors"
	"net"
	"syscall"
	"time"

	"github.com/freqd/freqd/fdpass"
)

// acceptLoop is fdpass mode's dispatcher for one listener: accept, put the
// descriptor on the queue, close the master's copy. The payload byte names
// the listener, for the worker's logs and counters.
//
// Sending blocks while the queue is full (no worker is reading); the loop
// then stops accepting and the kernel's backlog holds further connections.
func (m *Master) acceptLoop(idx int, l *listener) {
	defer m.dispatch.Done()
	var delay time.Duration
	payload := []byte{byte(idx)}
	for {
		c, err := l.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// EMFILE, ENFILE, ENOBUFS: back off as net/http does rather
			// than spin on an error that will not clear by itself at once.
			delay = max(5*time.Millisecond, min(2*delay, time.Second))
			m.log.Warn("accept failed; backing off", "listen", l.addr.String(), "error", err, "delay", delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		if err := m.pass(c, payload); err != nil {
			m.log.Error("cannot pass connection to a worker; closing it", "listen", l.addr.String(), "error", err)
		}
		c.Close()
	}
}

func (m *Master) pass(c net.Conn, payload []byte) error {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return errors.New("connection has no descriptor")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	q := m.pickQueue()
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = fdpass.Send(q.send, payload, int(fd))
	}); err != nil {
		return err
	}
	if serr == nil {
		q.sent.Add(1)
	}
	return serr
}

// stopDispatch waits for the accept loops to end once the listeners are
// closed. A loop blocked sending into a full queue (every worker hung or
// dead) would never end: the master's own copy of the receiving end keeps
// the queue alive. An expired write deadline fails that send; the
// connection it carried is closed.
func (m *Master) stopDispatch() {
	for _, q := range m.queues {
		q.send.SetWriteDeadline(time.Now())
	}
	m.dispatch.Wait()
}
