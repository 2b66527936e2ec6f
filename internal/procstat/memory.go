package procstat

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// Memory is a process's resident memory in bytes, from /proc/PID/statm.
type Memory struct {
	// RSS is every resident page, those it shares with other processes
	// (the binary's text, a mapped table) included.
	RSS uint64
	// Private is RSS less the pages backed by a file or by shared
	// memory: its heap, stacks and buffers, what it holds of its own.
	Private uint64
}

// pageSize is the unit of statm.
var pageSize = uint64(os.Getpagesize())

// ReadMemory returns the memory of process pid; 0 means this process.
// Any process may read it: a worker running as another user reads its
// master's.
func ReadMemory(pid int) (Memory, error) {
	path := "/proc/self/statm"
	if pid != 0 {
		path = "/proc/" + strconv.Itoa(pid) + "/statm"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Memory{}, err
	}
	return parseStatm(b)
}

// parseStatm reads statm's second and third fields: resident pages, and
// resident pages backed by a file or shared memory.
func parseStatm(b []byte) (Memory, error) {
	f := bytes.Fields(b)
	if len(f) < 3 {
		return Memory{}, fmt.Errorf("procstat: statm %q has fewer than 3 fields", b)
	}
	resident, err1 := strconv.ParseUint(string(f[1]), 10, 64)
	shared, err2 := strconv.ParseUint(string(f[2]), 10, 64)
	if err1 != nil || err2 != nil {
		return Memory{}, fmt.Errorf("procstat: statm %q is not numeric", b)
	}
	u := Memory{RSS: resident * pageSize}
	if shared < resident {
		u.Private = (resident - shared) * pageSize
	}
	return u, nil
}
