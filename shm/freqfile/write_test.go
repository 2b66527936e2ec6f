package freqfile

import (
	"bytes"
	"errors"
	"maps"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteTableRejectsBadEntries(t *testing.T) {
	tests := []struct {
		name    string
		entries []Entry
		opts    BuildOptions
		want    string // in the error
	}{
		{"empty word", []Entry{{"a", 1}, {"", 2}}, BuildOptions{}, "empty word"},
		{"too long", []Entry{{strings.Repeat("x", MaxWordLen+1), 1}}, BuildOptions{}, "longer than the 1024-byte limit"},
		{"duplicate", []Entry{{"a", 1}, {"b", 5}, {"a", 9}}, BuildOptions{}, `duplicate word "a"`},
		{"duplicate same count", []Entry{{"b", 5}, {"b", 5}}, BuildOptions{}, `duplicate word "b"`},
		{"unfolded", []Entry{{"a", 1}, {"The", 2}}, BuildOptions{FoldCase: true}, `"The" is not case-folded`},
		{"unfolded non-ASCII", []Entry{{"Éa", 1}}, BuildOptions{FoldCase: true}, "not case-folded"},
		{"total overflow", []Entry{{"a", math.MaxUint64}, {"b", 1}}, BuildOptions{}, "overflows"},
	}
	for i, tc := range tests {
		var buf bytes.Buffer
		err := WriteTable(&buf, tc.entries, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("case %d (%s): error %v, want one containing %q", i, tc.name, err, tc.want)
		}
		if buf.Len() != 0 {
			t.Errorf("case %d (%s): wrote %d bytes despite the error", i, tc.name, buf.Len())
		}
	}
}

func TestWriteTableAcceptsEdgeEntries(t *testing.T) {
	entries := []Entry{
		{strings.Repeat("y", MaxWordLen), math.MaxUint64 - 2},
		{"zero", 0},
		{"\xff\x00binary", 1},
		{"a", 1},
	}
	tab, _ := build(t, entries, BuildOptions{})
	for i, e := range entries {
		if c, ok := tab.Lookup([]byte(e.Word)); !ok || c != e.Count {
			t.Errorf("case %d (%.10q): Lookup = %d, %v; want %d", i, e.Word, c, ok, e.Count)
		}
	}
	// Equal counts rank by byte order: "\xff\x00binary" after "a".
	if w, _, _ := tab.Entry(2); string(w) != "a" {
		t.Errorf("rank 2 = %q, want \"a\"", w)
	}
}

func TestWriteTableIsDeterministic(t *testing.T) {
	entries := subtlex(t)[:5000]
	_, a := build(t, entries, BuildOptions{})
	reversed := append([]Entry(nil), entries...)
	for i, j := 0, len(reversed)-1; i < j; i, j = i+1, j-1 {
		reversed[i], reversed[j] = reversed[j], reversed[i]
	}
	_, b := build(t, reversed, BuildOptions{})
	if !bytes.Equal(a, b) {
		t.Error("the same entries in another order gave a different file")
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "words.freq")
	if err := WriteFile(path, []Entry{{"old", 1}}, BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	// Invalid entries: refused before anything is written.
	err = WriteFile(path, []Entry{{"dup", 1}, {"dup", 2}}, BuildOptions{})
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("WriteFile with duplicates: error %v, want one naming %s", err, path)
	}
	assertOnly(t, dir, "words.freq")
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatal("a failed WriteFile changed the existing file")
	}

	// A failure after the temporary file exists: the rename cannot replace
	// a non-empty directory. The temporary file must go.
	blocker := filepath.Join(dir, "blocked.freq")
	if err := os.MkdirAll(filepath.Join(blocker, "keep"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(blocker, []Entry{{"new", 2}}, BuildOptions{}); err == nil {
		t.Fatal("WriteFile over a non-empty directory succeeded")
	}
	assertOnly(t, dir, "blocked.freq", "words.freq")

	// Success replaces the file whole.
	if err := WriteFile(path, []Entry{{"new", 2}}, BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	tab, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer tab.Close()
	if _, ok := tab.Lookup([]byte("old")); ok {
		t.Error("the replaced file still has the old word")
	}
	if c, ok := tab.Lookup([]byte("new")); !ok || c != 2 {
		t.Errorf("Lookup(new) = %d, %v; want 2", c, ok)
	}
	assertOnly(t, dir, "blocked.freq", "words.freq")
}

// assertOnly fails unless dir holds exactly the given names.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, de := range des {
		got = append(got, de.Name())
	}
	if strings.Join(got, " ") != strings.Join(names, " ") {
		t.Errorf("directory holds %q, want %q (a temporary file left behind?)", got, names)
	}
}

// failingWriter fails after n bytes, like a full disk.
type failingWriter struct{ n int }

var errDiskFull = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errDiskFull
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteTableReportsWriteErrors(t *testing.T) {
	entries := subtlex(t)
	for i, n := range []int{0, 100, headerSize, 1 << 20, 2 << 20} {
		err := WriteTable(&failingWriter{n}, append([]Entry(nil), entries...), BuildOptions{})
		if !errors.Is(err, errDiskFull) {
			t.Errorf("case %d (fail after %d bytes): error %v, want %v", i, n, err, errDiskFull)
		}
	}
}

// TestWriteTableFindsDisplacedDuplicate: the first copy of a word overflows
// its full home bucket; the second copy must still be caught, in the next.
func TestWriteTableFindsDisplacedDuplicate(t *testing.T) {
	const n = 10 // nine words homed at one bucket and a duplicate
	buckets := indexSlotsFor(n) / bucketSlots
	words := homedAt(buckets, 0, 9, nil)
	var entries []Entry
	for i, w := range words {
		entries = append(entries, Entry{w, uint64(100 - i)})
	}
	entries = append(entries, Entry{words[8], 1}) // placed after the ninth
	err := WriteTable(&bytes.Buffer{}, entries, BuildOptions{})
	if want := `duplicate word "` + words[8] + `" (counts 92 and 1)`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want one containing %q", err, want)
	}
}

// TestMetadataRoundTrip writes a table with metadata and reads every entry
// back; the words and the body checksum cover the metadata too.
func TestMetadataRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	meta := Metadata{"source": "unit test", "shard": "1/3", "built": "2026-12-03T00:00:00Z"}
	err := WriteTable(&buf, []Entry{{"the", 10}, {"cat", 3}}, BuildOptions{FoldCase: true, Meta: meta})
	if err != nil {
		t.Fatal(err)
	}
	tab, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if err := tab.Verify(); err != nil {
		t.Fatal(err)
	}
	if got := tab.Metadata(); !maps.Equal(got, meta) {
		t.Errorf("metadata %v, want %v", got, meta)
	}
	if c, ok := tab.Lookup([]byte("cat")); !ok || c != 3 {
		t.Errorf("Lookup(cat) = %d, %v", c, ok)
	}
	if v, ok := tab.Meta("nosuch"); ok || v != "" {
		t.Errorf("Meta(nosuch) = %q, %v", v, ok)
	}
	// A flipped metadata byte fails the body checksum.
	b := bytes.Clone(buf.Bytes())
	b[len(b)-2] ^= 1
	if tab, err := Parse(b); err == nil {
		if err := tab.Verify(); !errors.Is(err, ErrCorrupt) {
			t.Errorf("flipped metadata byte: Verify %v, want ErrCorrupt", err)
		}
	}
}

// TestMetadataRefusedWhenItCannotBeStored: keys and values that would not
// read back as written are refused before anything is written.
func TestMetadataRefusedWhenItCannotBeStored(t *testing.T) {
	for _, m := range []Metadata{{"Upper": "x"}, {"a=b": "x"}, {"": "x"}, {"k": "two\nlines"}, {"k": strings.Repeat("x", MaxMetaSize)}} {
		var buf bytes.Buffer
		if err := WriteTable(&buf, []Entry{{"a", 1}}, BuildOptions{Meta: m}); err == nil {
			t.Errorf("metadata %q was accepted", m)
		}
	}
}
