package compare

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/freqd/freqd/internal/procstat"
)

// processTree returns root and all its live descendants. A process that
// exits while the tree is read is left out.
func processTree(root int) ([]procstat.Stat, error) {
	top, err := procstat.Read(root)
	if err != nil {
		return nil, fmt.Errorf("server process %d: %w", root, err)
	}
	children := map[int][]procstat.Stat{}
	for _, s := range procstat.All() {
		children[s.PPID] = append(children[s.PPID], s)
	}
	tree := []procstat.Stat{top}
	for i := 0; i < len(tree); i++ {
		tree = append(tree, children[tree[i].PID]...)
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
		sum += s.CPU
	}
	return sum, nil
}

// treePSS is the proportional set size of the processes of tree, in
// bytes, and how many of them were still there to be read.
func treePSS(tree []procstat.Stat) (bytes uint64, procs int) {
	for _, s := range tree {
		kb, err := readPSS(s.PID)
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
func alive(p procstat.Stat) bool {
	s, err := procstat.Read(p.PID)
	return err == nil && s.Start == p.Start && s.Alive()
}
