package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/freqd/freqd/ingest"
	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/internal/testserver"
	"github.com/freqd/freqd/shm/freqfile"
)

// TestStatusNamesTheTable runs freqd status against two replicas of one
// table file, served differently (a sealed copy under fdpass, the mapped
// file under accept), and against a server of the embedded table: the
// replicas print the same table line, the file's own id, words, total and
// build time, and the other server a line of its own.
func TestStatusNamesTheTable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "replica.freq")
	if err := testserver.BuildTable(freqdBin, path, testserver.Table{"alpha": 30, "beta": 20, "gamma": 10}); err != nil {
		t.Fatal(err)
	}
	file, err := freqfile.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	built, ok := file.Meta("built")
	if !ok {
		t.Fatal("freqd build recorded no build time")
	}
	want := fmt.Sprintf("table %08x: 3 words, total count 60, built %s", file.ID(), built)
	file.Close()

	replicas := []*testserver.Server{
		testserver.Start(t, freqdBin, mode.FDPass, 1, "--data", path, "--data-mode", "copy"),
		testserver.Start(t, freqdBin, mode.Accept, 1, "--data", path, "--data-mode", "map"),
	}
	for _, s := range replicas {
		if got := statusTableLine(t, s.TCP); got != want {
			t.Errorf("freqd status --addr %s: table line %q; want %q", s.TCP, got, want)
		}
	}

	// A table of n-grams counts phrases, and says so.
	phrases := filepath.Join(t.TempDir(), "bigrams.freq")
	if err := testserver.BuildTable(freqdBin, phrases, testserver.Table{"new york": 30, "of the": 20}); err != nil {
		t.Fatal(err)
	}
	if got := statusTableLine(t, testserver.Start(t, freqdBin, mode.Accept, 1, "--data", phrases).TCP); !strings.Contains(got, ": 2 phrases, total count 50,") {
		t.Errorf("freqd status of a table of phrases: table line %q; want it to count 2 phrases", got)
	}

	b, err := ingest.DefaultTable()
	if err != nil {
		t.Fatal(err)
	}
	embedded, err := freqfile.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	want = fmt.Sprintf("table %08x: %s words, total count %s, no build time recorded",
		embedded.ID(), groupDigits(embedded.Len()), groupDigits(embedded.Total()))
	s := testserver.Start(t, freqdBin, mode.FDPass, 1)
	if got := statusTableLine(t, s.TCP); got != want {
		t.Errorf("freqd status of the embedded table: table line %q; want %q", got, want)
	}
}

// statusTableLine runs freqd status against addr and returns the line
// that names the table.
func statusTableLine(t *testing.T, addr string) string {
	t.Helper()
	r := freqd(t, t.TempDir(), nil, "status", "--addr", addr)
	if r.code != 0 {
		t.Fatalf("freqd status --addr %s: exit %d, %s", addr, r.code, r.stderr)
	}
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(line, "table ") {
			return line
		}
	}
	t.Fatalf("freqd status --addr %s printed no table line:\n%s", addr, r.stdout)
	return ""
}
