package compare

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestParseStat(t *testing.T) {
	// Fields 5 to 24, each holding its own number: utime..cstime (14-17)
	// sum to 62, and starttime (22) is 22.
	var tail string
	for n := 5; n <= 24; n++ {
		tail += " " + strconv.Itoa(n)
	}
	tail += "\n"
	tests := []struct {
		name, line string
		want       procStat
		wantErr    bool
	}{
		{"plain", "42 (freqd) S 7" + tail, procStat{pid: 42, ppid: 7, state: 'S', cpu: 14 + 15 + 16 + 17, start: 22}, false},
		{"comm with spaces and parentheses", "42 (a) b (c) R 7" + tail, procStat{pid: 42, ppid: 7, state: 'R', cpu: 14 + 15 + 16 + 17, start: 22}, false},
		{"truncated", "42 (freqd) S 7 1 2 3\n", procStat{}, true},
		{"no comm", "42 freqd S 7" + tail, procStat{}, true},
		{"negative time", "42 (freqd) S 7 1 2 3 4 5 6 7 8 9 10 -11 12 13 14 15 16 17 18 99 20\n", procStat{}, true},
	}
	for i, tc := range tests {
		got, err := parseStat([]byte(tc.line))
		if (err != nil) != tc.wantErr {
			t.Errorf("case %d (%s): error %v, want error %v", i, tc.name, err, tc.wantErr)
			continue
		}
		if !tc.wantErr && got != tc.want {
			t.Errorf("case %d (%s): got %+v, want %+v", i, tc.name, got, tc.want)
		}
	}
}

// TestParseStatFieldPositions pins the field numbers against a real line:
// this process's own, whose parent and CPU the test knows another way.
func TestParseStatFieldPositions(t *testing.T) {
	for i := 0; i < 2e7; i++ { // burn some CPU so that utime is not 0
		_ = strings.Repeat("x", i%3)
	}
	s, err := readStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// The state is the main thread's, which may sleep while a test runs on
	// another: any state but zombie or dead.
	if s.pid != os.Getpid() || s.ppid != os.Getppid() || !strings.ContainsRune("RSD", rune(s.state)) || s.cpu == 0 || s.start == 0 {
		t.Errorf("own stat %+v: want pid %d, ppid %d, alive, some CPU and a start time", s, os.Getpid(), os.Getppid())
	}
	tree, err := processTree(os.Getppid())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range tree {
		found = found || p.pid == os.Getpid()
	}
	if !found {
		t.Errorf("the process tree of our parent %d does not hold us (%d)", os.Getppid(), os.Getpid())
	}
	if kb, err := readPSS(os.Getpid()); err != nil || kb == 0 {
		t.Errorf("own PSS: %d kB, %v", kb, err)
	}
}
