package compare

import (
	"math"
	"slices"
	"testing"
)

// infoText is INFO workers as a pre-forked worker answers it.
const infoText = "# Workers\r\nmode:fdpass\r\nmaster_pid:100\r\nworker_slot:1\r\nworker_pid:102\r\ngeneration:1\r\nworkers:2\r\n" +
	"worker0:pid=101,generation=1,state=busy,restarts=0,uptime=3,accepted=10,open=4,requests=900,errors=0\r\n" +
	"worker1:pid=102,generation=1,state=idle,restarts=1,uptime=3,accepted=31,open=1,requests=80,errors=0\r\n"

func TestParseWorkers(t *testing.T) {
	wi, err := parseWorkers(infoText)
	if err != nil {
		t.Fatal(err)
	}
	want := []workerInfo{{0, 101, "busy", 10, 4}, {1, 102, "idle", 31, 1}}
	if wi.servedBy != 102 || !slices.Equal(wi.workers, want) {
		t.Errorf("got %+v, want served by 102 and %+v", wi, want)
	}
	for i, bad := range []string{
		"# Workers\r\nworkers:0\r\n",
		"# Workers\r\nworker0:pid=x,accepted=1\r\n",
		"# Workers\r\nworker0:generation=1,accepted=1\r\n",
		"# Workers\r\nworker0:pid=1,accepted=-1\r\n",
	} {
		if _, err := parseWorkers(bad); err == nil {
			t.Errorf("case %d (%q): parsed; want an error", i, bad)
		}
	}
}

func TestSpread(t *testing.T) {
	w := func(slot, pid int, accepted uint64) workerInfo {
		return workerInfo{slot: slot, pid: pid, accepted: accepted}
	}
	tests := []struct {
		name          string
		before, after workersInfo
		want          []uint64
	}{
		{"difference per slot", workersInfo{workers: []workerInfo{w(0, 1, 5), w(1, 2, 0)}},
			workersInfo{workers: []workerInfo{w(1, 2, 30), w(0, 1, 15)}}, []uint64{10, 30}},
		{"replaced worker counts from zero", workersInfo{workers: []workerInfo{w(0, 1, 50), w(1, 2, 0)}},
			workersInfo{workers: []workerInfo{w(0, 9, 7), w(1, 2, 10)}}, []uint64{7, 10}},
		{"the reading connection is left out", workersInfo{workers: []workerInfo{w(0, 1, 1), w(1, 2, 0)}},
			workersInfo{servedBy: 2, workers: []workerInfo{w(0, 1, 4), w(1, 2, 5)}}, []uint64{3, 4}},
	}
	for i, tc := range tests {
		s := spread(tc.before, tc.after)
		if !slices.Equal(s.Accepted, tc.want) {
			t.Errorf("case %d (%s): accepted %v, want %v", i, tc.name, s.Accepted, tc.want)
			continue
		}
		lo, hi := slices.Min(tc.want), slices.Max(tc.want)
		mean := float64(tc.want[0]+tc.want[1]) / 2
		sd := math.Abs(float64(tc.want[0]) - mean) // two values: both are this far from the mean
		if s.Min != lo || s.Max != hi || math.Abs(s.Stddev-sd) > 1e-9 {
			t.Errorf("case %d (%s): min/max/σ %d/%d/%g, want %d/%d/%g", i, tc.name, s.Min, s.Max, s.Stddev, lo, hi, sd)
		}
	}
}
