package ingest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestExtensionNamesTheFormat pins a review finding: a one-line .tsv with a
// bad count was detected as prose and counted as the words "w" and "3".
func TestExtensionNamesTheFormat(t *testing.T) {
	dir := t.TempDir()
	for i, tc := range []struct {
		name, content string
		line          int
	}{
		{"short.tsv", "w\t-3\n", 1},
		{"short.csv", "w,1\nv,x3\n", 2}, // a CSV's first line may be a header
	} {
		path := filepath.Join(dir, tc.name)
		os.WriteFile(path, []byte(tc.content), 0o644)
		err := New(Options{}).AddFile(context.Background(), path)
		var le *LineError
		if !errors.As(err, &le) || le.Line != tc.line {
			t.Errorf("case %d (%s): %v; want a line error on line %d", i, tc.name, err, tc.line)
		}
	}
	for i, tc := range []struct {
		name string
		want Format
	}{{"a.tsv", TSV}, {"a.TSV.gz", TSV}, {"b.csv", CSV}, {"c.txt", Auto}, {"-", Auto}} {
		if got := formatFromName(tc.name); got != tc.want {
			t.Errorf("case %d (%s): %v, want %v", i, tc.name, got, tc.want)
		}
	}
}
