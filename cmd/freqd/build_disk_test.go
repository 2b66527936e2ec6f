package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// tinyTmpfs mounts a tmpfs of size bytes on a new directory, or skips the
// test where mounting is not allowed (not root, no CAP_SYS_ADMIN).
func tinyTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v): needs root", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// TestBuildOnFullDisk: a build that runs out of space says so, leaves the
// old file byte for byte, and leaves no temporary file.
func TestBuildOnFullDisk(t *testing.T) {
	disk := tinyTmpfs(t, "64k")
	in := t.TempDir()
	var b strings.Builder
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&b, "word%06d\t%d\n", i, i+1)
	}
	writeTestFile(t, in, "big.tsv", b.String())
	writeTestFile(t, in, "small.tsv", "alpha\t1\n")
	out := filepath.Join(disk, "words.freq")
	if r := freqd(t, in, nil, "build", "-o", out, "small.tsv"); r.code != 0 {
		t.Fatalf("small build: %d %s", r.code, r.stderr)
	}
	before, _ := os.ReadFile(out)

	r := freqd(t, in, nil, "build", "-o", out, "big.tsv")
	if r.code != 1 || !strings.Contains(r.stderr, "no space left on device") {
		t.Errorf("build on a full disk: exit %d, stderr %q; want exit 1 naming the full disk", r.code, r.stderr)
	}
	if after, _ := os.ReadFile(out); !bytes.Equal(before, after) {
		t.Errorf("the existing file changed")
	}
	if names := dirNames(t, disk); len(names) != 1 {
		t.Errorf("left behind in the output directory: %v", names)
	}
}

// TestBuildIntoReadOnlyDirectory: root ignores permission bits, so the
// unwritable directory is a read-only mount; the error says what to do.
func TestBuildIntoReadOnlyDirectory(t *testing.T) {
	disk := tinyTmpfs(t, "1m")
	in := t.TempDir()
	writeTestFile(t, in, "small.tsv", "alpha\t1\n")
	out := filepath.Join(disk, "words.freq")
	if r := freqd(t, in, nil, "build", "-o", out, "small.tsv"); r.code != 0 {
		t.Fatalf("first build: %d %s", r.code, r.stderr)
	}
	before, _ := os.ReadFile(out)
	if err := exec.Command("mount", "-o", "remount,ro", disk).Run(); err != nil {
		t.Skipf("cannot remount read-only: %v", err)
	}
	r := freqd(t, in, nil, "build", "-o", out, "small.tsv")
	if r.code != 1 || !strings.Contains(r.stderr, "read-only file system") {
		t.Errorf("build into a read-only directory: exit %d, stderr %q", r.code, r.stderr)
	}
	if after, _ := os.ReadFile(out); !bytes.Equal(before, after) {
		t.Errorf("the existing file changed")
	}
}
