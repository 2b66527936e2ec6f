package procname

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func cmdline(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSetTitle retitles the test process itself and reads the result as
// ps does: the title, then NUL padding to the original length; os.Args,
// which Go pointed into that memory, is unchanged.
func TestSetTitle(t *testing.T) {
	before := cmdline(t)
	args := slices.Clone(os.Args)
	if MaxTitle() != len(before)-1 {
		t.Fatalf("MaxTitle %d; the command line is %d bytes", MaxTitle(), len(before))
	}
	if err := SetTitle("freqd: test title"); err != nil {
		t.Fatal(err)
	}
	got := cmdline(t)
	if len(got) != len(before) || strings.TrimRight(got, "\x00") != "freqd: test title" {
		t.Errorf("cmdline %q; want the title padded with NULs to %d bytes", got, len(before))
	}
	if !slices.Equal(os.Args, args) {
		t.Errorf("os.Args changed to %q, was %q", os.Args, args)
	}

	long := strings.Repeat("x", MaxTitle()+1)
	if err := SetTitle(long); !errors.Is(err, ErrTooLong) {
		t.Errorf("SetTitle of %d bytes: %v; want ErrTooLong", len(long), err)
	}
	if cmdline(t) != got {
		t.Errorf("a refused title changed the command line to %q", cmdline(t))
	}
	if err := SetTitle(strings.Repeat("y", MaxTitle())); err != nil {
		t.Errorf("SetTitle of exactly MaxTitle bytes: %v", err)
	}
	if c := cmdline(t); !strings.HasSuffix(c, "y\x00") || len(c) != len(before) {
		t.Errorf("cmdline %q; want the full title and the final NUL", c)
	}
}

// TestSetComm renames every thread of the test process.
func TestSetComm(t *testing.T) {
	if err := SetComm("freqd-test-comm-long"); err != nil {
		t.Fatal(err)
	}
	tasks, err := filepath.Glob("/proc/self/task/*/comm")
	if err != nil || len(tasks) == 0 {
		t.Fatal(tasks, err)
	}
	for _, task := range tasks {
		b, err := os.ReadFile(task)
		if err == nil && string(b) != "freqd-test-comm\n" { // cut to 15 bytes
			t.Errorf("%s is %q; want freqd-test-comm", task, b)
		}
	}
}
