package loadgen

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Back-off of a closed-loop connection whose connect or round trip failed:
// without it a refused address would be counted millions of times a second,
// which measures the client, not the server.
const (
	minBackoff = time.Millisecond
	maxBackoff = 250 * time.Millisecond
)

// run is the state of one Run shared by its connections.
type run struct {
	cfg    Config
	ctx    context.Context
	start  time.Time
	end    time.Time // no round trip starts at or after end
	shards []*shard

	remaining atomic.Int64 // closed loop with Requests: requests not yet claimed

	errOnce sync.Once
	err     error
	stop    context.CancelFunc // stops the run on a fatal error
}

// Run loads the server at cfg.Addr until cfg.Duration has passed or
// cfg.Requests have been sent, whichever comes first, and returns what it
// measured. Cancelling ctx ends the run early: the result then covers what
// finished before, and Interrupted is set. Run returns an error only when it
// cannot run at all (a setting out of range, no usable table) or the table
// turned out damaged; failed requests are counted in the Result, not
// returned.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := checkTable(&cfg); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if cfg.Seed == 0 {
		// Below 2^53, so that the seed in the JSON result survives
		// readers that hold every number as a float64.
		cfg.Seed = rand.Uint64N(1<<53-1) + 1
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := &run{cfg: cfg, ctx: ctx, stop: cancel}
	r.shards = make([]*shard, min(cfg.Conns, 4*runtime.GOMAXPROCS(0)))
	for i := range r.shards {
		r.shards[i] = newShard()
	}
	r.remaining.Store(int64(min(cfg.Requests, 1<<62)))
	clients := make([]*client, cfg.Conns)
	for i := range clients {
		k := newKeys(cfg.Table, cfg.Keys, cfg.Miss, cfg.Seed, uint64(i))
		clients[i] = newClient(ctx, &r.cfg, k, r.shards[i%len(r.shards)])
	}

	elapsed := r.drive(clients)
	interrupted := ctx.Err() != nil
	if r.err != nil {
		return nil, r.err
	}
	return r.result(elapsed, interrupted), nil
}

// checkTable refuses a table that cannot tell right answers from wrong.
func checkTable(cfg *Config) error {
	if cfg.Table == nil {
		return errors.New("no frequency table: Config.Table must be the table the server serves")
	}
	if cfg.Table.Len() == 0 {
		return errors.New("the frequency table holds no words: there is nothing to ask for")
	}
	// A damaged table would give wrong answers that would be blamed on
	// the server; check it in full once.
	return cfg.Table.Verify()
}

// drive runs every client's loop, and the pacer of an open loop, until the
// run ends, and returns how long that took.
func (r *run) drive(clients []*client) time.Duration {
	r.start = time.Now()
	r.end = r.start.Add(MaxDuration + time.Hour) // Requests bounds the run
	if r.cfg.Duration > 0 {
		r.end = r.start.Add(r.cfg.Duration)
	}
	var p *pacer
	if r.cfg.Rate > 0 {
		total := uint64(math.MaxUint64)
		if r.cfg.Requests > 0 {
			total = r.cfg.Requests
		}
		p = newPacer(r.start, r.end, r.cfg.Rate, r.cfg.Conns, total)
		go p.run(r.ctx)
	}
	progressDone := r.startProgress()
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			defer c.finish()
			if p != nil {
				r.openLoop(c, i, p)
			} else {
				r.closedLoop(c)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(r.start)
	progressDone()
	if p != nil {
		// The pacer has normally finished: its last due time has passed.
		// If the run was cut short it notices within maxNap.
		<-p.done
	}
	return elapsed
}

// fail stops the run with err.
func (r *run) fail(err error) {
	r.errOnce.Do(func() {
		r.err = err
		r.stop()
	})
}

// closedLoop sends a round trip, waits for its replies, and repeats.
func (r *run) closedLoop(c *client) {
	backoff := minBackoff
	for r.ctx.Err() == nil && time.Now().Before(r.end) {
		n := r.cfg.Pipeline
		if r.cfg.Requests > 0 {
			if n = r.claim(n); n == 0 {
				return
			}
		}
		failed, err := c.roundTrip(n, nil)
		if err != nil {
			r.fail(err)
			return
		}
		if !failed {
			backoff = minBackoff
			continue
		}
		if !sleepCtx(r.ctx, backoff) {
			return
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// claim takes up to n of the requests left to send.
func (r *run) claim(n int) int {
	for {
		left := r.remaining.Load()
		if left <= 0 {
			return 0
		}
		take := min(int64(n), left)
		if r.remaining.CompareAndSwap(left, left-take) {
			return int(take)
		}
	}
}

// openLoop sends this connection's share of the pacer's schedule: request
// i of the run is due at start + i/Rate and connection c sends requests c,
// c+Conns, c+2*Conns, ...; so the arrivals of all connections together are
// evenly spaced. Whatever is due is sent at once, up to Pipeline per round
// trip, and each request's latency counts from its due time.
func (r *run) openLoop(c *client, conn int, p *pacer) {
	conns := uint64(r.cfg.Conns)
	due := func(k uint64) time.Time { return p.due(uint64(conn) + k*conns) }
	limit := uint64(math.MaxUint64) // requests of this connection
	if p.total != math.MaxUint64 {
		limit = (p.total + conns - 1 - uint64(conn)) / conns
	}
	intended := make([]time.Time, r.cfg.Pipeline)
	var k uint64 // next request of this connection
	for k < limit && r.ctx.Err() == nil {
		if !due(k).Before(r.end) {
			return
		}
		now := time.Now()
		if !now.Before(r.end) {
			break
		}
		if waitFor := due(k); waitFor.After(now) {
			select {
			case <-p.wake[conn]:
			case <-p.done:
			case <-r.ctx.Done():
				return
			}
			if late := time.Since(waitFor); late >= 0 {
				c.tally.wakeLags = append(c.tally.wakeLags, int64(late))
			}
			continue
		}
		n := 0
		for n < r.cfg.Pipeline && k+uint64(n) < limit {
			t := due(k + uint64(n))
			if t.After(now) || !t.Before(r.end) {
				break
			}
			intended[n] = t
			n++
		}
		if _, err := c.roundTrip(n, intended); err != nil {
			r.fail(err)
			return
		}
		k += uint64(n)
	}
	if r.ctx.Err() != nil {
		return
	}
	// The run ended with requests of this connection due but never sent:
	// the server (or this host) could not keep up with the rate. Count
	// them: the first k' with due(k') >= end, estimated, then made exact.
	est := (r.end.Sub(r.start).Seconds()*r.cfg.Rate - float64(conn)) / float64(conns)
	kEnd := uint64(max(0, min(math.Ceil(est), float64(limit))))
	for kEnd > 0 && !due(kEnd-1).Before(r.end) {
		kEnd--
	}
	for kEnd < limit && due(kEnd).Before(r.end) {
		kEnd++
	}
	if kEnd > k {
		c.shard.add(&tally{unsent: kEnd - k})
	}
}

// sleepCtx sleeps for d and reports whether ctx is still live.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// startProgress calls cfg.Progress every interval until the returned
// function is called; that function returns once the last call is over.
func (r *run) startProgress() (stop func()) {
	if r.cfg.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(r.cfg.ProgressInterval)
		defer t.Stop()
		var lastN uint64
		last := r.start
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				ok, failed := counts(r.shards)
				n := ok + failed
				rate := float64(n-lastN) / now.Sub(last).Seconds()
				r.cfg.Progress(Progress{Elapsed: now.Sub(r.start), Requests: n, Failed: failed, Rate: rate})
				lastN, last = n, now
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}
