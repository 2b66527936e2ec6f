package testserver

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// BuildTemp is Build into a new temporary directory; cleanup removes it.
func BuildTemp(flags ...string) (bin string, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "freqd-test-")
	if err != nil {
		return "", nil, err
	}
	if bin, err = Build(dir, flags...); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return bin, func() { os.RemoveAll(dir) }, nil
}

// Main is the TestMain of a package whose tests run the real binary: it
// builds freqd once (with flags), sets *bin, runs the tests, removes the
// build and exits with the tests' status.
func Main(m *testing.M, bin *string, flags ...string) {
	b, cleanup, err := BuildTemp(flags...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*bin = b
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// Build compiles the freqd command into dir with extra `go build` flags
// (such as -race) and returns the binary's path. It returns an error rather
// than taking a testing.TB so that a TestMain can build once for a whole
// package.
func Build(dir string, flags ...string) (string, error) {
	bin := filepath.Join(dir, "freqd")
	args := append(append([]string{"build"}, flags...), "-o", bin, "github.com/freqd/freqd/cmd/freqd")
	cmd := exec.Command("go", args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build freqd: %w\n%s", err, out)
	}
	return bin, nil
}

// BuildTable writes the frequency file path holding t's words with the real
// `freqd build` of bin, atomically: a server reading path sees the old file
// or the new one, never half of one.
func BuildTable(bin, path string, t Table) error {
	words := make([]string, 0, len(t))
	for w := range t {
		words = append(words, w)
	}
	sort.Strings(words)
	var b strings.Builder
	for _, w := range words {
		fmt.Fprintf(&b, "%s\t%d\n", w, t[w])
	}
	in := path + ".tsv"
	if err := os.WriteFile(in, []byte(b.String()), 0o644); err != nil {
		return err
	}
	defer os.Remove(in)
	if out, err := exec.Command(bin, "build", "-o", path, in).CombinedOutput(); err != nil {
		return fmt.Errorf("freqd build -o %s: %w\n%s", path, err, out)
	}
	return nil
}
