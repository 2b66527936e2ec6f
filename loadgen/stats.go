package loadgen

import (
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram range: nanoseconds from 1 ns to MaxDuration plus a timeout, to 3
// significant digits (about 280 KB per histogram). A longer latency, which
// only a stalled run could produce, is recorded as the maximum.
const (
	histLowest  = 1
	histHighest = int64(MaxDuration + time.Hour)
	histDigits  = 3
)

func newHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(histLowest, histHighest, histDigits)
}

// tally is what one connection saw in one round trip. It is filled without
// locks and then added to the connection's shard in one step.
type tally struct {
	latencies []int64 // of right answers, in ns
	wakeLags  []int64 // open loop: how late connections woke, in ns
	errs      [numKinds]uint64
	unsent    uint64
	first     string // the first failure, described
	firstAt   time.Time
}

func (t *tally) fail(k Kind, n int, describe func() string) {
	t.errs[k] += uint64(n)
	if t.first == "" && n > 0 {
		t.first, t.firstAt = k.String()+": "+describe(), time.Now()
	}
}

func (t *tally) reset() {
	t.latencies = t.latencies[:0]
	t.wakeLags = t.wakeLags[:0]
	t.errs = [numKinds]uint64{}
	t.unsent = 0
	t.first = ""
}

// shard holds the running totals of a group of connections. Connections
// are spread over a few shards so that they rarely wait for one another's
// lock, and the histograms stay few however many connections there are.
type shard struct {
	mu      sync.Mutex
	hist    *hdrhistogram.Histogram // latencies
	lags    *hdrhistogram.Histogram // wake-up lags
	ok      uint64
	errs    [numKinds]uint64
	unsent  uint64
	first   string
	firstAt time.Time
}

func (s *shard) add(t *tally) {
	s.mu.Lock()
	defer s.mu.Unlock()
	record(s.hist, t.latencies)
	record(s.lags, t.wakeLags)
	s.ok += uint64(len(t.latencies))
	for k, n := range t.errs {
		s.errs[k] += n
	}
	s.unsent += t.unsent
	if t.first != "" && (s.first == "" || t.firstAt.Before(s.firstAt)) {
		s.first, s.firstAt = t.first, t.firstAt
	}
}

func record(h *hdrhistogram.Histogram, values []int64) {
	for _, v := range values {
		// Clamped into range, RecordValue cannot fail.
		_ = h.RecordValue(min(max(v, histLowest), histHighest))
	}
}

func newShard() *shard { return &shard{hist: newHistogram(), lags: newHistogram()} }

// Progress is a snapshot of a run in progress.
type Progress struct {
	Elapsed  time.Duration
	Requests uint64  // finished so far: ok + failed
	Failed   uint64  // failed so far, of any kind
	Rate     float64 // requests finished per second since the last snapshot
}

// counts sums the shards' counters without their histograms.
func counts(shards []*shard) (ok, failed uint64) {
	for _, s := range shards {
		s.mu.Lock()
		ok += s.ok
		for _, n := range s.errs {
			failed += n
		}
		s.mu.Unlock()
	}
	return ok, failed
}
