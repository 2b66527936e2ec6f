// Package procstat reads /proc/PID/stat, the one place freqd does: the
// master (is a silent worker stopped?), the benchmarks (CPU per request,
// a server's process tree) and the tests (children, zombies) all ask it;
// and /proc/PID/statm, for the memory INFO reports (ReadMemory).
package procstat

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ClockTick is the unit of the CPU times in /proc/PID/stat. USER_HZ is 100
// on every architecture Linux supports, whatever the kernel's own HZ.
const ClockTick = 0.01 // seconds

// Stat is what freqd reads from one /proc/PID/stat line.
type Stat struct {
	PID, PPID int
	State     byte // R, S, D, T, Z...: proc(5)
	// Start is the process's start time in clock ticks after boot: with
	// the pid, it names one process even after the pid is reused.
	Start uint64
	// CPU is utime+stime+cutime+cstime: the process's own CPU and that of
	// the children it has reaped, in clock ticks.
	CPU uint64
}

// Alive reports whether the process has not exited (a zombie has).
func (s Stat) Alive() bool { return s.State != 'Z' && s.State != 'X' && s.State != 'x' }

// Stopped reports whether the process is stopped by a signal (SIGSTOP) or
// a tracer, and so cannot act on any signal but SIGKILL.
func (s Stat) Stopped() bool { return s.State == 'T' || s.State == 't' }

// Read reads /proc/PID/stat.
func Read(pid int) (Stat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return Stat{}, err
	}
	return Parse(b)
}

// Parse parses a /proc/PID/stat line: "pid (comm) state ppid ...", where
// comm may itself hold spaces and parentheses, so the fields after it are
// found from the last ')'.
func Parse(b []byte) (Stat, error) {
	open := bytes.IndexByte(b, '(')
	end := bytes.LastIndexByte(b, ')')
	if open < 1 || end < open {
		return Stat{}, fmt.Errorf("malformed /proc stat line %q", clip(b))
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b[:open])))
	if err != nil {
		return Stat{}, fmt.Errorf("malformed /proc stat line %q: pid: %v", clip(b), err)
	}
	// f[0] is field 3 of proc(5) (state): field n is f[n-3].
	f := strings.Fields(string(b[end+1:]))
	if len(f) < 20 {
		return Stat{}, fmt.Errorf("malformed /proc stat line %q: %d fields after comm", clip(b), len(f))
	}
	var v [5]uint64
	for i, n := range []int{14, 15, 16, 17, 22} { // utime stime cutime cstime starttime
		x, err := strconv.ParseInt(f[n-3], 10, 64)
		if err != nil || x < 0 {
			return Stat{}, fmt.Errorf("malformed /proc stat line %q: field %d is %q", clip(b), n, f[n-3])
		}
		v[i] = uint64(x)
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return Stat{}, fmt.Errorf("malformed /proc stat line %q: ppid %q", clip(b), f[1])
	}
	return Stat{PID: pid, PPID: ppid, State: f[0][0], CPU: v[0] + v[1] + v[2] + v[3], Start: v[4]}, nil
}

// All reads every process's stat; processes that exit while it reads are
// left out.
func All() []Stat {
	paths, _ := filepath.Glob("/proc/[0-9]*/stat")
	out := make([]Stat, 0, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if s, err := Parse(b); err == nil {
			out = append(out, s)
		}
	}
	return out
}

// Children lists the processes whose parent is pid and whose stat keep
// accepts.
func Children(pid int, keep func(Stat) bool) []int {
	var out []int
	for _, s := range All() {
		if s.PPID == pid && keep(s) {
			out = append(out, s.PID)
		}
	}
	return out
}

func clip(b []byte) []byte {
	if len(b) > 80 {
		return b[:80]
	}
	return b
}
