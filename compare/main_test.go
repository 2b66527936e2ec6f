package compare

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/freqd/freqd/ingest"
	"github.com/freqd/freqd/internal/procstat"
	"github.com/freqd/freqd/internal/testserver"
	"github.com/freqd/freqd/shm/freqfile"
)

// The tests run real servers: a freqd binary built once into a temporary
// directory, serving the embedded table.
var (
	freqdBin     string
	defaultTable *freqfile.Table
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	bin, cleanup, err := testserver.BuildTemp()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer cleanup()
	freqdBin = bin
	b, err := ingest.DefaultTable()
	if err == nil {
		defaultTable, err = freqfile.Parse(b)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "default table:", err)
		return 1
	}
	return m.Run()
}

// processesOf lists the live processes running the binary at path.
func processesOf(path string) []int {
	exes, _ := filepath.Glob("/proc/[0-9]*/exe")
	var pids []int
	for _, e := range exes {
		if target, err := os.Readlink(e); err == nil && target == path {
			if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(e))); err == nil {
				if s, err := procstat.Read(pid); err == nil && s.Alive() {
					pids = append(pids, pid)
				}
			}
		}
	}
	return pids
}
