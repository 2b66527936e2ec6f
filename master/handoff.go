package master

import (
	"errors"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/master/pool"
	"github.com/freqd/freqd/worker/control"
)

// A retiring worker (reload, recycle, SIGTTOU, upgrade) does not close its
// keep-alive connections: at a request boundary it hands each one back to
// the master with its session's state, and the master gives it to a worker
// that serves, so the client never sees the switch. Where a handed-back
// connection goes is the model's call (pool.Model.Handoffs): held while no
// worker of the current generation is ready, given to the pool, passed to
// the new master of an upgrade, or closed when the server stops.

// handoff is a connection in the master's hands: handed back by a retiring
// worker, or taken from a queue no worker reads any more, with its
// session's state (nil for a connection no worker has served yet).
type handoff struct {
	fd    int
	state []byte
}

// close closes the master's copy of the connection.
func (h handoff) close() { unix.Close(h.fd) }

// payload is the queue or control message that carries h.
func (h handoff) payload() []byte {
	if h.state == nil {
		return newConnections // from a queue no worker reads: never served
	}
	return h.state
}

// routeHandoffs sends the connections held in the master where the model
// says they go.
func (m *Master) routeHandoffs() {
	if len(m.handoffs) == 0 {
		return
	}
	route, ids := m.model.Handoffs()
	switch route {
	case pool.Hold:
		return
	case pool.Close:
		for _, h := range m.handoffs {
			h.close()
		}
	case pool.ToSuccessor:
		for _, h := range m.handoffs {
			m.forward(h)
		}
	case pool.ToPool:
		for _, h := range m.handoffs {
			m.toPool(h, ids)
		}
	}
	m.handoffs = nil
}

// toPool gives a connection to the pool: on the shared queue in fdpass
// mode, whose free reader takes it; else to the ready worker with the
// fewest open connections, over its control socket.
func (m *Master) toPool(h handoff, ids []pool.WorkerID) {
	if m.cfg.Mode == mode.FDPass && m.cfg.Dispatch == DispatchShared {
		if m.feeder == nil {
			m.feeder = m.newFeeder(m.queue0)
		}
		m.feeder.put(h)
		return
	}
	var best *proc
	var bestOpen int64
	for _, w := range m.model.Live() {
		p := m.procs[w.ID]
		if p == nil || !containsID(ids, w.ID) {
			continue
		}
		if open := m.board.Snapshot(w.Entry).Open; best == nil || open < bestOpen {
			best, bestOpen = p, open
		}
	}
	if best == nil {
		h.close()
		return
	}
	if err := best.send(append([]byte{control.MsgConn}, h.state...), h.fd); err != nil {
		m.log.Warn("cannot hand a connection to a worker; closing it", "pid", best.pid(), "error", err)
	}
	h.close()
}

func containsID(ids []pool.WorkerID, id pool.WorkerID) bool {
	for _, i := range ids {
		if i == id {
			return true
		}
	}
	return false
}

// feeder puts handed-back connections on the shared queue from a
// goroutine of its own: a put waits while the queue is full (every worker
// busy), and Run must not. Its goroutine is the master's: stop waits for
// it, so that nothing writes to the queue after the master has drained it
// for a successor, or closed it.
type feeder struct {
	q    *descQueue
	ch   chan handoff
	once sync.Once
	done chan struct{}
	left []handoff // not queued because the queue stopped; stop returns them
}

func (m *Master) newFeeder(q *descQueue) *feeder {
	f := &feeder{q: q, ch: make(chan handoff, 256), done: make(chan struct{})}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer close(f.done)
		for h := range f.ch {
			err := f.q.put(h.payload(), h.fd)
			switch {
			case errors.Is(err, errQueueStopped):
				f.left = append(f.left, h)
				continue
			case err != nil:
				m.log.Warn("cannot queue a handed-back connection; closing it", "error", err)
			}
			h.close()
		}
	}()
	return f
}

// put queues h; it blocks only while 256 connections already wait for
// room in a full queue.
func (f *feeder) put(h handoff) { f.ch <- h }

// stop lets the feeder finish, waits for it, and returns the connections
// it could not queue because the queue was stopped (see descQueue.put),
// for the caller to pass on or close.
func (f *feeder) stop() []handoff {
	f.once.Do(func() { close(f.ch) })
	<-f.done
	left := f.left
	f.left = nil
	return left
}
