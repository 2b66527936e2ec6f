package procstat

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
)

// HugeMapped returns the bytes of this process's mapping that starts at
// address start which are mapped with huge pages: the ShmemPmdMapped,
// FilePmdMapped and AnonHugePages lines of its entry in /proc/self/smaps.
func HugeMapped(start uintptr) (int64, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return hugeMapped(f, start)
}

// hugeMapped reads smaps text from r for the mapping at start.
func hugeMapped(r io.Reader, start uintptr) (int64, error) {
	sc := bufio.NewScanner(r)
	in := false
	var kb int64
	for sc.Scan() {
		line := sc.Bytes()
		if from, ok := header(line); ok {
			if in {
				return kb << 10, nil // the next mapping's header
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
				return 0, fmt.Errorf("smaps: %s: %w", line, err)
			}
			kb += n
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	if !in {
		return 0, fmt.Errorf("smaps: no mapping starts at %#x", start)
	}
	return kb << 10, nil
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
