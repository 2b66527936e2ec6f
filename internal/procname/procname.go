// Package procname names a process as ps, top and pgrep show it: its
// command name (comm, /proc/PID/comm) and its command line
// (/proc/PID/cmdline), the way nginx ("nginx: master process") and
// PostgreSQL ("postgres: checkpointer") name theirs.
//
// The kernel takes comm from the file a process executed, so a worker
// started through /proc/self/exe is called "exe"; SetComm renames it.
// The command line is the argv area at the top of the process's stack: the
// kernel shows whatever it holds, so SetTitle overwrites it in place. The
// area cannot grow, so a title longer than the original command line is
// refused rather than cut (a parent that wants a long title for a child
// passes it as the child's argv[0]).
//
// Go's os.Args strings point into that very area, without a copy, and a
// string must never change under the code that holds it. The package's
// init therefore replaces os.Args with copies before any code of freqd
// runs, and SetTitle writes only through /proc/self/mem, never through a
// Go string.
package procname

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// area is where the argv strings live, as the kernel recorded it
// (arg_start and arg_end in /proc/self/stat); zero when unknown.
var area struct{ start, end uint64 }

func init() {
	// Copy the arguments before anything else keeps one of them. Only
	// packages initialised before this one can hold the originals; of
	// those, flag names its default set after os.Args[0], so it is
	// renamed with the copy.
	args := make([]string, len(os.Args))
	for i, a := range os.Args {
		args[i] = strings.Clone(a)
	}
	os.Args = args
	if len(args) > 0 {
		flag.CommandLine.Init(args[0], flag.CommandLine.ErrorHandling())
	}
	area.start, area.end, _ = argvArea()
}

// argvArea reads arg_start and arg_end, fields 48 and 49 of
// /proc/self/stat (proc(5); Linux 3.5 and later).
func argvArea() (start, end uint64, err error) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, 0, err
	}
	// Field 2, comm, is in parentheses and may hold spaces and ')'; the
	// fields after it start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, errors.New("unexpected /proc/self/stat")
	}
	f := strings.Fields(string(b[i+1:]))
	const argStart = 48 - 3 // f[0] is field 3
	if len(f) < argStart+2 {
		return 0, 0, errors.New("/proc/self/stat has no arg_start (Linux before 3.5)")
	}
	if start, err = strconv.ParseUint(f[argStart], 10, 64); err != nil {
		return 0, 0, err
	}
	if end, err = strconv.ParseUint(f[argStart+1], 10, 64); err != nil {
		return 0, 0, err
	}
	if end <= start {
		return 0, 0, errors.New("empty argument area")
	}
	return start, end, nil
}

// MaxTitle is the longest title SetTitle accepts in this process: the
// length of its original command line, less the final NUL.
func MaxTitle() int {
	if area.end <= area.start {
		return 0
	}
	return int(area.end-area.start) - 1
}

// ErrTooLong is returned for a title that does not fit in the argv area.
var ErrTooLong = errors.New("title longer than the original command line")

// SetTitle makes the process's command line read title. The rest of the
// area is filled with NULs, which ps shows as nothing; the last byte stays
// NUL, so the kernel does not read on into the environment.
func SetTitle(title string) error {
	if area.end <= area.start {
		return errors.New("the argument area is unknown")
	}
	if strings.IndexByte(title, 0) >= 0 {
		return errors.New("title holds a NUL byte")
	}
	if len(title) > MaxTitle() {
		return fmt.Errorf("%w (%d bytes, %d available)", ErrTooLong, len(title), MaxTitle())
	}
	buf := make([]byte, area.end-area.start)
	copy(buf, title)
	mem, err := os.OpenFile("/proc/self/mem", os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer mem.Close()
	if _, err := mem.WriteAt(buf, int64(area.start)); err != nil {
		return fmt.Errorf("write the argument area: %w", err)
	}
	return nil
}

// SetComm sets the command name of every thread of the process to name,
// cut to the kernel's 15 bytes. comm is per thread and a new thread takes
// its creator's: renaming the threads that exist renames those to come,
// and /proc/PID/comm, which ps and pgrep read, is the main thread's.
func SetComm(name string) error {
	if len(name) > 15 {
		name = name[:15]
	}
	// A thread the runtime starts while a pass runs may copy an old name:
	// the next pass renames the threads it had not seen, until none is new.
	done := map[string]bool{}
	for pass := 0; pass < 4; pass++ {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		renamed := 0
		for _, t := range tasks {
			if done[t.Name()] {
				continue
			}
			done[t.Name()] = true
			renamed++
			err := os.WriteFile("/proc/self/task/"+t.Name()+"/comm", []byte(name), 0)
			if err != nil && !errors.Is(err, os.ErrNotExist) { // a thread may have exited
				return fmt.Errorf("set the command name: %w", err)
			}
		}
		if renamed == 0 {
			return nil
		}
	}
	return nil
}
