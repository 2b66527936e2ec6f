package compare

import (
	"os"
	"testing"
)

// TestProcessTreeFindsThisProcess: the tree of this process's parent
// holds this process.
func TestProcessTreeFindsThisProcess(t *testing.T) {
	tree, err := processTree(os.Getppid())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range tree {
		found = found || p.PID == os.Getpid()
	}
	if !found {
		t.Errorf("the process tree of our parent %d does not hold us (%d)", os.Getppid(), os.Getpid())
	}
	if kb, err := readPSS(os.Getpid()); err != nil || kb == 0 {
		t.Errorf("own PSS: %d kB, %v", kb, err)
	}
}
