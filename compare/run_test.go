package compare

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/freqd/freqd/internal/mode"
)

// TestRunComparesTwoDesigns runs a pre-forked design and a baseline for a
// second each and checks every output: the table's rows, plausible figures,
// the JSON and the chart, and that no server process outlives the run.
func TestRunComparesTwoDesigns(t *testing.T) {
	rep, err := Run(context.Background(), Config{
		Modes: []mode.Mode{mode.FDPass, mode.Epoll}, Table: defaultTable, Binary: freqdBin,
		Workers: 2, Conns: 8, Duration: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if left := processesOf(freqdBin); len(left) > 0 {
		t.Errorf("server processes %v outlive the run", left)
	}
	if len(rep.Results) != 2 {
		t.Fatalf("%d results, want 2", len(rep.Results))
	}
	for i, r := range rep.Results {
		if r.Error != "" || r.Load == nil {
			t.Fatalf("case %d (%s): not measured: %s", i, r.Mode, r.Error)
		}
		l := r.Load
		switch {
		case l.Throughput < 100:
			t.Errorf("case %d (%s): throughput %.0f req/s; a local server answers thousands", i, r.Mode, l.Throughput)
		case l.Errors.Wrong != 0 || l.Failed != 0:
			t.Errorf("case %d (%s): %d failed, %d wrong; want none", i, r.Mode, l.Failed, l.Errors.Wrong)
		case !(l.Latency.P50 > 0 && l.Latency.P50 <= l.Latency.P99 && l.Latency.P99 <= l.Latency.Max):
			t.Errorf("case %d (%s): latencies out of order: %+v", i, r.Mode, l.Latency)
		case r.ServerCPU <= 0 || r.CPUPerRequest <= 0 || r.CPUPerRequest > 10000:
			t.Errorf("case %d (%s): server CPU %.2fs, %.1fµs per request; want some, and under 10ms a request", i, r.Mode, r.ServerCPU, r.CPUPerRequest)
		case r.PSS < 1<<20 || r.PSS > 1<<30:
			t.Errorf("case %d (%s): PSS %d bytes; want a few MiB", i, r.Mode, r.PSS)
		}
	}
	fd, ep := rep.Results[0], rep.Results[1]
	if fd.Processes != 3 {
		t.Errorf("fdpass: %d processes, want the master and 2 workers", fd.Processes)
	}
	if ep.Processes != 1 || ep.Spread != nil {
		t.Errorf("epoll: %d processes and spread %+v; want one process and no spread", ep.Processes, ep.Spread)
	}
	// 8 keep-alive connections, each accepted once by one of two workers.
	if s := fd.Spread; s == nil || len(s.Accepted) != 2 || s.Accepted[0]+s.Accepted[1] != 8 {
		t.Errorf("fdpass spread %+v; want 8 connections over 2 workers", fd.Spread)
	}

	var md strings.Builder
	if err := rep.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| fdpass | ", "| epoll | ", "| N/A |", "shares its cores"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, md.String())
		}
	}

	dir := t.TempDir()
	files, err := rep.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(files.JSON)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("results JSON does not parse: %v", err)
	}
	if len(back.Results) != 2 || back.Results[0].Load.OK != fd.Load.OK || back.Scenario != "keepalive" {
		t.Errorf("JSON round trip: scenario %q, %d results; want keepalive, 2, same counts", back.Scenario, len(back.Results))
	}
	svg, err := os.ReadFile(files.Chart)
	if err != nil {
		t.Fatal(err)
	}
	// The chart names the designs it shows, and only those.
	if c := string(svg); !strings.Contains(c, "<svg") || !strings.Contains(c, ">fdpass<") ||
		!strings.Contains(c, ">epoll<") || strings.Contains(c, ">reuseport<") {
		t.Errorf("chart %s is not an SVG of fdpass and epoll (%d bytes)", files.Chart, len(svg))
	}
}

// TestRunKillsWorkers kills fdpass workers during a connection-per-request
// load and checks that the kills happened, the killed workers were
// replaced, and no answer was wrong.
func TestRunKillsWorkers(t *testing.T) {
	rep, err := Run(context.Background(), Config{
		Modes: []mode.Mode{mode.FDPass, mode.Goroutine}, Table: defaultTable, Binary: freqdBin,
		Workers: 2, Conns: 4, Duration: 1500 * time.Millisecond, Reconnect: true, KillEvery: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if left := processesOf(freqdBin); len(left) > 0 {
		t.Errorf("server processes %v outlive the run", left)
	}
	if rep.Scenario != "reconnect-kill" {
		t.Errorf("scenario %q, want reconnect-kill", rep.Scenario)
	}
	fd, gr := rep.Results[0], rep.Results[1]
	if fd.Error != "" || gr.Error != "" {
		t.Fatalf("not measured: %q, %q", fd.Error, gr.Error)
	}
	if fd.Chaos == nil || fd.Chaos.Kills < 2 {
		t.Fatalf("fdpass: chaos %+v; want at least 2 kills in 1.5s at one per 300ms", fd.Chaos)
	}
	if fd.Load.Errors.Wrong != 0 || fd.Load.OK == 0 {
		t.Errorf("fdpass under kills: %d ok, %d wrong; want answers and none wrong", fd.Load.OK, fd.Load.Errors.Wrong)
	}
	if fd.Chaos.Beyond != fd.Load.Failed-min(fd.Load.Failed, fd.Chaos.InFlightBound) {
		t.Errorf("fdpass: beyond bound %d with %d failed and bound %d", fd.Chaos.Beyond, fd.Load.Failed, fd.Chaos.InFlightBound)
	}
	// A worker killed soon after it started is restarted after a back-off,
	// so the slot may be empty when the run ends; the other is serving.
	if fd.Spread == nil || len(fd.Spread.Accepted) == 0 {
		t.Errorf("fdpass: no worker serving after the kills: spread %+v", fd.Spread)
	}
	if gr.Chaos != nil {
		t.Errorf("goroutine has no workers to kill; chaos %+v", gr.Chaos)
	}
	var md strings.Builder
	rep.WriteMarkdown(&md)
	if !strings.Contains(md.String(), "| N/A | N/A | N/A |") {
		t.Errorf("the baseline's kill columns are not N/A:\n%s", md.String())
	}
}
