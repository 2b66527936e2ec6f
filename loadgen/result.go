package loadgen

import (
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Result is what a run measured. Its JSON form is described in the package
// documentation; the field names there are kept stable for scripts.
type Result struct {
	Addr      string  `json:"addr"`
	Loop      string  `json:"loop"` // "closed" or "open"
	Conns     int     `json:"conns"`
	Pipeline  int     `json:"pipeline"`
	Reconnect bool    `json:"reconnect"`
	Keys      KeyDist `json:"keys"`
	Miss      float64 `json:"miss"`
	Rate      float64 `json:"rate_rps"` // target arrival rate; 0 in a closed loop
	Seed      uint64  `json:"seed"`     // Config.Seed to repeat the run's key choice

	Requests   uint64        `json:"requests"` // OK + Failed
	OK         uint64        `json:"ok"`
	Failed     uint64        `json:"failed"`
	Unsent     uint64        `json:"unsent"` // open loop: due before the end, never sent
	Duration   time.Duration `json:"duration_ns"`
	Throughput float64       `json:"throughput_rps"` // OK per second
	Latency    Latency       `json:"latency_ns"`
	// WakeLag is, in an open loop, how late idle connections woke for
	// their next request: the generator's own error, included in Latency.
	// Latencies not well above it do not measure the server.
	WakeLag    Latency `json:"wake_lag_ns"`
	Errors     Errors  `json:"errors"`
	FirstError string  `json:"first_error,omitempty"`

	// Interrupted reports that the run was cancelled before its end.
	Interrupted bool `json:"interrupted"`

	// Histogram holds the latency of every successful request in
	// nanoseconds, for percentiles beyond those in Latency or for merging
	// runs.
	Histogram *hdrhistogram.Histogram `json:"-"`
}

// Latency summarizes a distribution of durations.
type Latency struct {
	P50  time.Duration `json:"p50"`
	P90  time.Duration `json:"p90"`
	P99  time.Duration `json:"p99"`
	P999 time.Duration `json:"p99_9"`
	Max  time.Duration `json:"max"`
	Mean time.Duration `json:"mean"`
}

// Errors counts the failed requests by Kind.
type Errors struct {
	Refused uint64 `json:"refused"`
	Reset   uint64 `json:"reset"`
	Timeout uint64 `json:"timeout"`
	Wrong   uint64 `json:"wrong"`
	Other   uint64 `json:"other"`
	Lost    uint64 `json:"lost"` // datagrams only: no reply within the timeout
}

// Total is the number of failed requests.
func (e Errors) Total() uint64 { return e.Refused + e.Reset + e.Timeout + e.Wrong + e.Other + e.Lost }

// result merges the shards into the Result of a run that took elapsed.
func (r *run) result(elapsed time.Duration, interrupted bool) *Result {
	cfg := &r.cfg
	res := &Result{
		Addr:        cfg.Addr,
		Loop:        "closed",
		Conns:       cfg.Conns,
		Pipeline:    cfg.Pipeline,
		Reconnect:   cfg.Reconnect,
		Keys:        cfg.Keys,
		Miss:        cfg.Miss,
		Rate:        cfg.Rate,
		Seed:        cfg.Seed,
		Duration:    elapsed,
		Interrupted: interrupted,
		Histogram:   newHistogram(),
	}
	lags := newHistogram()
	if cfg.Rate > 0 {
		res.Loop = "open"
	}
	var errs [numKinds]uint64
	var firstAt time.Time
	for _, s := range r.shards {
		s.mu.Lock()
		res.Histogram.Merge(s.hist)
		lags.Merge(s.lags)
		res.OK += s.ok
		res.Unsent += s.unsent
		for k, n := range s.errs {
			errs[k] += n
		}
		if s.first != "" && (res.FirstError == "" || s.firstAt.Before(firstAt)) {
			res.FirstError, firstAt = s.first, s.firstAt
		}
		s.mu.Unlock()
	}
	res.Errors = Errors{Refused: errs[Refused], Reset: errs[Reset], Timeout: errs[Timeout], Wrong: errs[Wrong], Other: errs[Other], Lost: errs[Lost]}
	res.Failed = res.Errors.Total()
	res.Requests = res.OK + res.Failed
	if s := elapsed.Seconds(); s > 0 {
		res.Throughput = float64(res.OK) / s
	}
	res.Latency = summarize(res.Histogram)
	res.WakeLag = summarize(lags)
	return res
}

func summarize(h *hdrhistogram.Histogram) Latency {
	if h.TotalCount() == 0 {
		return Latency{}
	}
	return Latency{
		P50:  time.Duration(h.ValueAtQuantile(50)),
		P90:  time.Duration(h.ValueAtQuantile(90)),
		P99:  time.Duration(h.ValueAtQuantile(99)),
		P999: time.Duration(h.ValueAtQuantile(99.9)),
		Max:  time.Duration(h.Max()),
		Mean: time.Duration(h.Mean()),
	}
}
