package master

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// WritePidfile writes this process's pid atomically (temp file, rename), so
// a reader never sees an empty or half-written pidfile.
func WritePidfile(path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".freqd-pid-*")
	if err != nil {
		return fmt.Errorf("pidfile %s: %w", path, err)
	}
	_, err = tmp.WriteString(strconv.Itoa(os.Getpid()) + "\n")
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("pidfile %s: %w", path, err)
	}
	return nil
}

// RemovePidfile removes the pidfile if it still names this process: a newer
// master may have written its own since.
func RemovePidfile(path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	if pid, err := strconv.Atoi(string(trimNL(b))); err == nil && pid == os.Getpid() {
		os.Remove(path)
	}
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
