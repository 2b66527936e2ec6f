package loadgen

import (
	"context"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// pacer wakes the connections of an open loop when their requests fall due.
//
// Go's own timers cannot do this job: on Linux the runtime waits for the
// next timer in epoll_wait, whose timeout is in whole milliseconds
// (runtime/netpoll_epoll.go rounds 1 ns up to 1 ms), so an idle process
// wakes up to a millisecond late. Charged to every request from its due
// time, that lateness would turn a 30 µs server into a 600 µs one. The pacer
// instead sleeps with nanosleep on a thread of its own with a 1 ns timer
// slack, which wakes within some microseconds, and hands the connection
// due next a token on its channel.
//
// A token is only a wake-up: the connection works out from the clock what
// is due. A token for a busy connection is dropped (its channel holds one
// already), which is safe because that connection looks at the clock again
// before it next waits.
type pacer struct {
	start time.Time
	end   time.Time
	rate  float64
	total uint64          // requests in the schedule (MaxUint64: until end)
	wake  []chan struct{} // one per connection, buffered 1
	done  chan struct{}   // closed when every request has fallen due
}

func newPacer(start, end time.Time, rate float64, conns int, total uint64) *pacer {
	p := &pacer{start: start, end: end, rate: rate, total: total, wake: make([]chan struct{}, conns), done: make(chan struct{})}
	for i := range p.wake {
		p.wake[i] = make(chan struct{}, 1)
	}
	return p
}

// due returns when request i of the run is to be sent.
func (p *pacer) due(i uint64) time.Time {
	return p.start.Add(time.Duration(float64(i) / p.rate * float64(time.Second)))
}

// run wakes connection i mod conns at the due time of request i, until the
// schedule or the run ends.
func (p *pacer) run(ctx context.Context) {
	defer close(p.done)
	// The thread dies with this goroutine, so its timer slack goes with it.
	runtime.LockOSThread()
	_ = unix.Prctl(unix.PR_SET_TIMERSLACK, 1, 0, 0, 0) // best effort: the default is 50 µs
	conns := uint64(len(p.wake))
	for i := uint64(0); i < p.total; i++ {
		t := p.due(i)
		if !t.Before(p.end) {
			return
		}
		if !sleepUntil(ctx, t) {
			return
		}
		select {
		case p.wake[i%conns] <- struct{}{}:
		default:
		}
	}
}

// maxNap bounds one nanosleep, so that a cancelled run is noticed soon.
const maxNap = 20 * time.Millisecond

// sleepUntil blocks the calling thread until t, and reports whether ctx is
// still live.
func sleepUntil(ctx context.Context, t time.Time) bool {
	for {
		if ctx.Err() != nil {
			return false
		}
		d := time.Until(t)
		if d <= 0 {
			return true
		}
		ts := unix.NsecToTimespec(int64(min(d, maxNap)))
		_ = unix.Nanosleep(&ts, nil) // EINTR: the loop sleeps again
	}
}
