package compare

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// clockTick is the unit of the CPU times in /proc/PID/stat. USER_HZ is 100
// on every architecture Linux supports, whatever the kernel's own HZ.
const clockTick = 0.01 // seconds

// procStat is what compare reads from one /proc/PID/stat line.
type procStat struct {
	pid, ppid int
	state     byte // R, S, D, Z...: proc(5)
	// start is the process's start time in clock ticks after boot: with
	// the pid, it names one process even after the pid is reused.
	start uint64
	// cpu is utime+stime+cutime+cstime: the process's own CPU and that of
	// the children it has reaped, in clock ticks.
	cpu uint64
}

// readStat reads /proc/PID/stat.
func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	return parseStat(b)
}

// parseStat parses a /proc/PID/stat line: "pid (comm) state ppid ...", where
// comm may itself hold spaces and parentheses, so the fields after it are
// found from the last ')'.
func parseStat(b []byte) (procStat, error) {
	open := bytes.IndexByte(b, '(')
	end := bytes.LastIndexByte(b, ')')
	if open < 1 || end < open {
		return procStat{}, fmt.Errorf("malformed /proc stat line %q", clip(b))
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b[:open])))
	if err != nil {
		return procStat{}, fmt.Errorf("malformed /proc stat line %q: pid: %v", clip(b), err)
	}
	// f[0] is field 3 of proc(5) (state): field n is f[n-3].
	f := strings.Fields(string(b[end+1:]))
	if len(f) < 20 {
		return procStat{}, fmt.Errorf("malformed /proc stat line %q: %d fields after comm", clip(b), len(f))
	}
	var v [5]uint64
	for i, n := range []int{14, 15, 16, 17, 22} { // utime stime cutime cstime starttime
		x, err := strconv.ParseInt(f[n-3], 10, 64)
		if err != nil || x < 0 {
			return procStat{}, fmt.Errorf("malformed /proc stat line %q: field %d is %q", clip(b), n, f[n-3])
		}
		v[i] = uint64(x)
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return procStat{}, fmt.Errorf("malformed /proc stat line %q: ppid %q", clip(b), f[1])
	}
	return procStat{pid: pid, ppid: ppid, state: f[0][0], cpu: v[0] + v[1] + v[2] + v[3], start: v[4]}, nil
}

// processTree returns root and all its live descendants. A process that
// exits while the tree is read is left out.
func processTree(root int) ([]procStat, error) {
	top, err := readStat(root)
	if err != nil {
		return nil, fmt.Errorf("server process %d: %w", root, err)
	}
	paths, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return nil, err
	}
	children := map[int][]procStat{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // exited since the glob
		}
		if s, err := parseStat(b); err == nil {
			children[s.ppid] = append(children[s.ppid], s)
		}
	}
	tree := []procStat{top}
	for i := 0; i < len(tree); i++ {
		tree = append(tree, children[tree[i].pid]...)
	}
	return tree, nil
}

// treeCPU is the CPU, in clock ticks, used so far by root, its live
// descendants and the descendants they have reaped.
func treeCPU(root int) (uint64, error) {
	tree, err := processTree(root)
	if err != nil {
		return 0, err
	}
	var sum uint64
	for _, s := range tree {
		sum += s.cpu
	}
	return sum, nil
}

// treePSS is the proportional set size of the processes of tree, in
// bytes, and how many of them were still there to be read.
func treePSS(tree []procStat) (bytes uint64, procs int) {
	for _, s := range tree {
		kb, err := readPSS(s.pid)
		if err != nil {
			continue // exited since the tree was read
		}
		bytes += kb << 10
		procs++
	}
	return bytes, procs
}

// readPSS returns the Pss line of /proc/PID/smaps_rollup, in kB.
func readPSS(pid int) (uint64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "Pss:"); ok {
			return strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("/proc/%d/smaps_rollup has no Pss line", pid)
}

// alive reports whether process p (the pid that started at p.start) still
// exists and is not a zombie waiting to be reaped.
func alive(p procStat) bool {
	s, err := readStat(p.pid)
	return err == nil && s.start == p.start && s.state != 'Z'
}

// clip shortens b for an error message.
func clip(b []byte) []byte {
	if len(b) > 80 {
		return b[:80]
	}
	return b
}
