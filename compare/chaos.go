package compare

import (
	"context"
	"math/rand/v2"
	"sync"
	"syscall"
	"time"

	"github.com/freqd/freqd/internal/procstat"
)

// Chaos is what the worker kills of a run did.
type Chaos struct {
	Every time.Duration `json:"every_ns"`
	Kills int           `json:"kills"`
	// InFlightBound is the number of connections the killed workers had
	// open just before they were killed: with one request in flight per
	// connection, the most requests the kills alone may fail.
	InFlightBound uint64 `json:"in_flight_bound"`
	// Beyond is the failed requests above InFlightBound: requests lost
	// though no killed worker was answering them.
	Beyond uint64 `json:"beyond_bound"`
}

// killer SIGKILLs a random worker of a pre-forked server every interval.
type killer struct {
	srv   *server
	every time.Duration
	rng   *rand.Rand

	mu    sync.Mutex
	chaos Chaos
}

// run kills workers until ctx ends.
func (k *killer) run(ctx context.Context) {
	t := time.NewTicker(k.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			k.killOne()
		}
	}
}

// killOne reads the worker lines, picks a worker, and kills it. It kills
// only a process that is the server's child, so a stale INFO line or a
// recycled pid never hits another process. A tick whose INFO fails (its
// connection may have landed on a dying worker) is skipped.
func (k *killer) killOne() {
	wi, err := readWorkers(k.srv.addr, time.Second)
	if err != nil {
		return
	}
	w := wi.workers[k.rng.IntN(len(wi.workers))]
	st, err := procstat.Read(w.pid)
	if err != nil || st.PPID != k.srv.pid() {
		return
	}
	open := w.open
	if w.pid == wi.servedBy && open > 0 {
		open-- // the INFO connection, closed by now
	}
	k.srv.observe()
	if syscall.Kill(w.pid, syscall.SIGKILL) != nil {
		return
	}
	k.mu.Lock()
	k.chaos.Kills++
	k.chaos.InFlightBound += open
	k.mu.Unlock()
}

// result returns the kills so far, judged against failed requests.
func (k *killer) result(failed uint64) *Chaos {
	k.mu.Lock()
	defer k.mu.Unlock()
	c := k.chaos
	c.Every = k.every
	if failed > c.InFlightBound {
		c.Beyond = failed - c.InFlightBound
	}
	return &c
}
