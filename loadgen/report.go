package loadgen

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteText writes the result for a person to read, in the order the
// questions come: what was run, how much got through, how fast, what failed.
func (r *Result) WriteText(w io.Writer) error {
	var b strings.Builder
	conns := "connections (keep-alive)"
	switch {
	case r.Reconnect:
		conns = "connections (a new connection per round trip)"
	case isDatagramAddr(r.Addr):
		conns = "clients (datagrams)"
	}
	fmt.Fprintf(&b, "target      %s, %s loop, %d %s, pipeline %d, %s keys", r.Addr, r.Loop, r.Conns, conns, r.Pipeline, r.Keys)
	if r.Miss > 0 {
		fmt.Fprintf(&b, ", %g%% absent", 100*r.Miss)
	}
	b.WriteByte('\n')
	if r.Loop == "open" {
		fmt.Fprintf(&b, "rate        %.0f req/s asked; latency counted from each request's intended send time\n", r.Rate)
	}
	fmt.Fprintf(&b, "requests    %d in %s: %d ok, %d failed", r.Requests, round(r.Duration), r.OK, r.Failed)
	if r.Interrupted {
		b.WriteString(" (interrupted)")
	}
	b.WriteByte('\n')
	if r.Unsent > 0 {
		fmt.Fprintf(&b, "unsent      %d due but never sent: the server, or this host, did not keep up with the rate\n", r.Unsent)
	}
	fmt.Fprintf(&b, "throughput  %.0f req/s\n", r.Throughput)
	if r.OK > 0 {
		l := r.Latency
		fmt.Fprintf(&b, "latency     p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (mean %s)\n",
			round(l.P50), round(l.P90), round(l.P99), round(l.P999), round(l.Max), round(l.Mean))
	}
	if r.Loop == "open" && r.WakeLag.Max > 0 {
		l := r.WakeLag
		fmt.Fprintf(&b, "wake lag    p50 %s  p99 %s  max %s  (the generator's own lateness, part of the latencies above)\n",
			round(l.P50), round(l.P99), round(l.Max))
	}
	e := r.Errors
	fmt.Fprintf(&b, "errors      refused %d  reset %d  timeout %d  wrong %d  other %d", e.Refused, e.Reset, e.Timeout, e.Wrong, e.Other)
	if isDatagramAddr(r.Addr) {
		fmt.Fprintf(&b, "  lost %d", e.Lost)
	}
	b.WriteByte('\n')
	if r.FirstError != "" {
		fmt.Fprintf(&b, "first error %s\n", r.FirstError)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// round keeps three significant digits of d, enough to read and compare.
func round(d time.Duration) time.Duration {
	unit := time.Duration(1)
	for d >= 1000*unit && unit < time.Second {
		unit *= 10
	}
	return d.Round(unit)
}
