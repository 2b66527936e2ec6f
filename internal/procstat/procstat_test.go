package procstat

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	// Fields 5 to 24, each holding its own number: utime..cstime (14-17)
	// sum to 62, and starttime (22) is 22.
	var tail string
	for n := 5; n <= 24; n++ {
		tail += " " + strconv.Itoa(n)
	}
	tail += "\n"
	tests := []struct {
		name, line string
		want       Stat
		wantErr    bool
	}{
		{"plain", "42 (freqd) S 7" + tail, Stat{PID: 42, PPID: 7, State: 'S', CPU: 14 + 15 + 16 + 17, Start: 22}, false},
		{"comm with spaces and parentheses", "42 (a) b (c) R 7" + tail, Stat{PID: 42, PPID: 7, State: 'R', CPU: 14 + 15 + 16 + 17, Start: 22}, false},
		{"truncated", "42 (freqd) S 7 1 2 3\n", Stat{}, true},
		{"no comm", "42 freqd S 7" + tail, Stat{}, true},
		{"negative time", "42 (freqd) S 7 1 2 3 4 5 6 7 8 9 10 -11 12 13 14 15 16 17 18 99 20\n", Stat{}, true},
	}
	for i, tc := range tests {
		got, err := Parse([]byte(tc.line))
		if (err != nil) != tc.wantErr {
			t.Errorf("case %d (%s): error %v, want error %v", i, tc.name, err, tc.wantErr)
			continue
		}
		if !tc.wantErr && got != tc.want {
			t.Errorf("case %d (%s): got %+v, want %+v", i, tc.name, got, tc.want)
		}
	}
}

// TestFieldPositions pins the field numbers against real lines: this
// process's own, and a child that is stopped, then a zombie.
func TestFieldPositions(t *testing.T) {
	for i := 0; i < 2e7; i++ { // burn some CPU so that utime is not 0
		_ = strings.Repeat("x", i%3)
	}
	s, err := Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.PID != os.Getpid() || s.PPID != os.Getppid() || !s.Alive() || s.CPU == 0 || s.Start == 0 {
		t.Errorf("own stat %+v: want pid %d, ppid %d, alive, some CPU and a start time", s, os.Getpid(), os.Getppid())
	}
	cmd := exec.Command("sleep", "10")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	syscall.Kill(pid, syscall.SIGSTOP)
	waitState(t, pid, Stat.Stopped)
	if kids := Children(os.Getpid(), Stat.Alive); len(kids) != 1 || kids[0] != pid {
		t.Errorf("children %v, want [%d]", kids, pid)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	waitState(t, pid, func(s Stat) bool { return !s.Alive() })
	cmd.Wait()
}

func waitState(t *testing.T, pid int, ok func(Stat) bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if s, err := Read(pid); err == nil && ok(s) {
			return
		}
	}
	t.Fatalf("process %d never reached the state", pid)
}
