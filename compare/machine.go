package compare

import (
	"bufio"
	"os"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// Machine describes the host a comparison ran on.
type Machine struct {
	CPU    string `json:"cpu"` // model name from /proc/cpuinfo
	Cores  int    `json:"cores"`
	Kernel string `json:"kernel"` // uname -sr
	Go     string `json:"go"`
	// Load is /proc/loadavg's 1, 5 and 15 minute load averages when the
	// comparison started: other work on the machine skews every figure.
	Load string `json:"load_average"`
}

// thisMachine describes the host, leaving out what it cannot read.
func thisMachine() Machine {
	m := Machine{CPU: "unknown CPU", Cores: runtime.NumCPU(), Go: runtime.Version()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.Load = strings.Join(f[:3], " ")
		}
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:])
	}
	return m
}
