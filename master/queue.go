package master

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync/atomic"

	"github.com/freqd/freqd/handler"
	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/master/pool"

	"golang.org/x/sys/unix"

	"github.com/freqd/freqd/fdpass"
)

// Dispatch policies for fdpass mode.
const (
	// DispatchShared puts every descriptor on one queue that all workers
	// read: whichever worker is free takes the next connection, and nobody
	// has to choose. The default.
	DispatchShared = "shared"
	// DispatchLeastLoaded gives each worker slot its own queue and sends
	// each descriptor to the ready worker with the fewest connections open
	// or queued, as read from the scoreboard. Measured against shared in
	// docs/design.md.
	DispatchLeastLoaded = "least-loaded"
)

// descQueue is a SOCK_SEQPACKET pair carrying descriptors to workers. The
// master keeps the receiving end too: descriptors queued in a socket whose
// every receiving end is closed are freed, and the connections lost; with
// the master's copy, descriptors queued while the readers are dead or
// restarting wait, and the next reader of the queue serves them.
//
// The sending end is a bare non-blocking descriptor, outside Go's
// netpoller. Registered there, it would be woken for room to write each
// time a worker takes a descriptor: a wake-up of the master's netpoller
// thread per connection, for nothing, since the queue is rarely full.
type descQueue struct {
	send     int
	recv     *os.File
	stopping atomic.Bool   // put gives up waiting for room
	sent     atomic.Uint64 // descriptors sent
	base     atomic.Uint64 // sent when the slot's current worker started
}

func newDescQueue() (*descQueue, error) {
	a, b, err := fdpass.Socketpair()
	if err != nil {
		return nil, fmt.Errorf("descriptor queue: %w", err)
	}
	send, err := unix.Dup(int(a.Fd()))
	a.Close()
	if err == nil {
		unix.CloseOnExec(send)
		err = unix.SetNonblock(send, true)
	}
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("descriptor queue: %w", err)
	}
	return &descQueue{send: send, recv: b}, nil
}

func (q *descQueue) close() {
	unix.Close(q.send)
	q.recv.Close()
}

// errQueueStopped is put's answer once the master stops accepting.
var errQueueStopped = errors.New("the descriptor queue is full and the master is stopping")

// put queues descriptors in one message (copies: the caller still closes
// them). While
// the queue is full, every worker is busy or gone: put waits for room, and
// the kernel's listen backlog holds the connections not yet accepted.
func (q *descQueue) put(payload []byte, fds ...int) error {
	for {
		err := fdpass.SendFd(q.send, payload, fds...)
		// ETOOMANYREFS: this user has as many descriptors in flight as its
		// descriptor limit (a process without CAP_SYS_RESOURCE); like a
		// full queue, it clears as workers take them.
		if !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.ETOOMANYREFS) {
			if err == nil {
				q.sent.Add(uint64(len(fds)))
			}
			return err
		}
		if q.stopping.Load() {
			return errQueueStopped
		}
		// A bounded wait, so that stopping is noticed.
		unix.Poll([]unix.PollFd{{Fd: int32(q.send), Events: unix.POLLOUT}}, 100)
	}
}

// drain takes, without waiting, every connection still queued, with its
// session's state if it was handed over: for a queue no worker will read
// any more.
func (q *descQueue) drain(take func(handoff)) {
	fd := int(q.recv.Fd())
	unix.SetNonblock(fd, true)
	buf := make([]byte, handler.MaxStateSize)
	for {
		n, fds, err := fdpass.RecvFd(fd, buf, passBatch)
		if err != nil {
			return // EAGAIN: empty
		}
		var state []byte
		if handler.IsState(buf[:n]) {
			state = bytes.Clone(buf[:n])
		}
		for _, c := range fds {
			take(handoff{fd: c, state: state})
		}
	}
}

// queueFor returns the queue slot i's worker reads, creating it on first
// use in least-loaded mode.
func (m *Master) queueFor(i int) (*descQueue, error) {
	if m.cfg.Dispatch != DispatchLeastLoaded {
		i = 0
	}
	for len(m.queues) <= i {
		q, err := newDescQueue()
		if err != nil {
			return nil, err
		}
		m.queues = append(m.queues, q)
	}
	if m.queue0 == nil {
		m.queue0 = m.queues[0]
	}
	return m.queues[i], nil
}

// queueTarget is a ready worker the least-loaded accept loop may choose.
type queueTarget struct {
	q     *descQueue
	entry int
}

// publishTargets copies, for the accept loop, which queues have a ready
// worker of the current generation. It runs on Run's goroutine.
func (m *Master) publishTargets() {
	if m.cfg.Mode != mode.FDPass || m.cfg.Dispatch != DispatchLeastLoaded {
		return
	}
	var ts []queueTarget
	route, ids := m.model.Handoffs()
	if route == pool.ToPool {
		for _, w := range m.model.Live() {
			if slices.Contains(ids, w.ID) && w.Slot < len(m.queues) {
				ts = append(ts, queueTarget{q: m.queues[w.Slot], entry: w.Entry})
			}
		}
	}
	m.targets.Store(&ts)
}

// pickQueue chooses the queue for the next descriptor: the shared one, or
// the ready worker's with the least load, counting the connections it has
// open and those sent to it that it has not taken yet (the scoreboard lags
// behind a burst). With no worker ready, descriptors wait in slot 0's queue.
func (m *Master) pickQueue() *descQueue {
	if m.cfg.Dispatch != DispatchLeastLoaded {
		return m.queue0
	}
	ts := m.targets.Load()
	if ts == nil || len(*ts) == 0 {
		return m.queue0
	}
	var best *descQueue
	var bestLoad int64
	for _, t := range *ts {
		s := m.board.Snapshot(t.entry)
		pending := int64(t.q.sent.Load()-t.q.base.Load()) - int64(s.Accepted)
		load := s.Open + max(pending, 0)
		if best == nil || load < bestLoad {
			best, bestLoad = t.q, load
		}
	}
	return best
}
