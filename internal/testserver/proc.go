package testserver

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/freqd/freqd/internal/procstat"
)

// Children lists the processes whose parent is pid, excluding zombies: a
// master's live workers.
func Children(pid int) []int { return procstat.Children(pid, procstat.Stat.Alive) }

// Zombies lists pid's children that have exited and not been reaped.
func Zombies(pid int) []int {
	return procstat.Children(pid, func(s procstat.Stat) bool { return !s.Alive() })
}

// Alive says whether pid is a process that has not yet exited (a zombie
// has).
func Alive(pid int) bool {
	s, err := procstat.Read(pid)
	return err == nil && s.Alive()
}

// Stopped says whether pid is stopped by a signal (SIGSTOP).
func Stopped(pid int) bool {
	s, err := procstat.Read(pid)
	return err == nil && s.Stopped()
}

// KillTree kills pid and its children by pid. Stopped children are
// continued first so that nothing is left for init to reap later.
func KillTree(pid int) {
	if pid <= 0 {
		return
	}
	kids := Children(pid)
	syscall.Kill(pid, syscall.SIGKILL)
	for _, k := range kids {
		syscall.Kill(k, syscall.SIGKILL)
		syscall.Kill(k, syscall.SIGCONT)
	}
}

// OpenFDs counts a process's open descriptors.
func OpenFDs(pid int) (int, error) {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(ents), err
}

// FDTargets lists what a process's descriptors point at, for failure
// messages.
func FDTargets(pid int) []string {
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	var out []string
	for _, e := range ents {
		l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, e.Name()))
		out = append(out, e.Name()+"->"+l)
	}
	return out
}

// PeakRSS is a process's resident-set high-water mark (VmHWM) in bytes.
func PeakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no VmHWM line", pid)
}

// ListenInodes returns the inodes of the TCP sockets listening on port, so
// a test can tell that a listener is the same socket after a fault.
func ListenInodes(port int) []string {
	var out []string
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(line)
			const listening = "0A"
			if len(fs) < 10 || fs[3] != listening {
				continue
			}
			if strings.HasSuffix(fs[1], fmt.Sprintf(":%04X", port)) {
				out = append(out, fs[9])
			}
		}
	}
	sort.Strings(out)
	return out
}

// RSS is a process's resident set size (VmRSS) in bytes.
func RSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no VmRSS line", pid)
}
