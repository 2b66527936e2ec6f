package procstat

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Mapping is what /proc/self/smaps says of one mapping of this process.
type Mapping struct {
	// HugeBytes is how much of it is mapped with huge pages: its
	// ShmemPmdMapped, FilePmdMapped and AnonHugePages lines.
	HugeBytes int64
	// Flags are its VmFlags, "hg" among them for a mapping advised
	// MADV_HUGEPAGE.
	Flags []string
}

// SelfMapping reads the entry of /proc/self/smaps for the mapping that
// starts at address start.
func SelfMapping(start uintptr) (Mapping, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return Mapping{}, err
	}
	defer f.Close()
	return readMapping(f, start)
}

// readMapping reads smaps text from r for the mapping at start.
func readMapping(r io.Reader, start uintptr) (Mapping, error) {
	sc := bufio.NewScanner(r)
	in := false
	var m Mapping
	var kb int64
	for sc.Scan() {
		line := sc.Bytes()
		if from, ok := header(line); ok {
			if in {
				break // the next mapping's header
			}
			in = from == uint64(start)
			continue
		}
		if !in {
			continue
		}
		name, rest, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		switch string(name) {
		case "ShmemPmdMapped", "FilePmdMapped", "AnonHugePages":
			fields := bytes.Fields(rest)
			if len(fields) == 0 {
				continue
			}
			n, err := strconv.ParseInt(string(fields[0]), 10, 64)
			if err != nil {
				return Mapping{}, fmt.Errorf("smaps: %s: %w", line, err)
			}
			kb += n
		case "VmFlags":
			m.Flags = strings.Fields(string(rest))
		}
	}
	if err := sc.Err(); err != nil {
		return Mapping{}, err
	}
	if !in {
		return Mapping{}, fmt.Errorf("smaps: no mapping starts at %#x", start)
	}
	m.HugeBytes = kb << 10
	return m, nil
}

// header returns the start address of a mapping's first line in smaps
// ("7f..-7f.. r--s ...", zero-padded to at least 8 digits), and false for
// its "Name: value" lines, whose names are not hexadecimal.
func header(line []byte) (uint64, bool) {
	hex, _, ok := bytes.Cut(line, []byte("-"))
	if !ok || len(hex) == 0 || len(hex) > 16 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(hex), 16, 64)
	return n, err == nil
}
