package freqfile

import (
	"cmp"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// writeShard writes the entries of set whose index is in keep as a shard,
// each with its rank in set (set is in rank order), and opens it.
func writeShard(t *testing.T, set []Entry, keep func(i int) bool) *Table {
	t.Helper()
	path := filepath.Join(t.TempDir(), "shard.freq")
	var n uint64
	for i := range set {
		if keep(i) {
			n++
		}
	}
	w, err := NewStreamWriter(path, n, BuildOptions{FoldCase: true, SetWords: uint64(len(set)), Meta: Metadata{"source": "test"}}, StreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range set {
		if keep(i) {
			if err := w.AddRanked([]byte(e.Word), e.Count, uint64(i)+1); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	tb, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.Close() })
	if err := tb.Verify(); err != nil {
		t.Fatal(err)
	}
	return tb
}

// A shard answers the ranks of the whole set, walks its own words in the
// set's order, and says what it is.
func TestShardKeepsTheSetsRanks(t *testing.T) {
	var set []Entry
	for i := range 3000 {
		set = append(set, Entry{Word: "w" + strings.Repeat("x", i%7) + strconv.Itoa(i), Count: uint64(100000 - i/2)})
	}
	slices.SortFunc(set, func(a, b Entry) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return strings.Compare(a.Word, b.Word)
	})
	odd := func(i int) bool { return i%3 == 1 }
	tb := writeShard(t, set, odd)
	if !tb.IsShard() || tb.SetWords() != 3000 || tb.Len() != 1000 {
		t.Fatalf("IsShard %v, SetWords %d, Len %d; want true, 3000, 1000", tb.IsShard(), tb.SetWords(), tb.Len())
	}
	if v, _ := tb.Meta(MetaSetWords); v != "3000" {
		t.Errorf("metadata %s = %q", MetaSetWords, v)
	}
	if v, _ := tb.Meta("source"); v != "test" {
		t.Errorf("the caller's metadata is lost: source = %q", v)
	}
	var total uint64
	pos := uint64(0)
	for i, e := range set {
		r, ok := tb.Rank([]byte(e.Word))
		n, found := tb.Lookup([]byte(e.Word))
		if !odd(i) {
			if ok || found {
				t.Fatalf("%s is in another shard, but this one finds it", e.Word)
			}
			continue
		}
		if !ok || r != uint64(i)+1 || !found || n != e.Count {
			t.Fatalf("%s: rank %d %v, count %d %v; want rank %d, count %d", e.Word, r, ok, n, found, i+1, e.Count)
		}
		pos++
		w, c, ok := tb.Entry(pos)
		if !ok || string(w) != e.Word || c != e.Count {
			t.Fatalf("Entry(%d) = %s %d %v, want %s %d", pos, w, c, ok, e.Word, e.Count)
		}
		total += e.Count
	}
	if tb.Total() != total {
		t.Errorf("Total %d: want the shard's own sum, %d", tb.Total(), total)
	}
}

// A table that is not a shard has its own ranks, and a shard must be
// written with its ranks.
func TestShardWritingRules(t *testing.T) {
	dir := t.TempDir()
	w, err := NewStreamWriter(filepath.Join(dir, "a"), 1, BuildOptions{SetWords: 5}, StreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Add([]byte("a"), 1); err == nil || !strings.Contains(err.Error(), "AddRanked") {
		t.Errorf("Add on a shard: %v", err)
	}
	w.Abort()
	w, _ = NewStreamWriter(filepath.Join(dir, "b"), 2, BuildOptions{SetWords: 5}, StreamOptions{})
	w.AddRanked([]byte("a"), 9, 3)
	if err := w.AddRanked([]byte("b"), 8, 3); err == nil || !strings.Contains(err.Error(), "ranks must increase") {
		t.Errorf("a rank given twice: %v", err)
	}
	w.Abort()
	w, _ = NewStreamWriter(filepath.Join(dir, "c"), 1, BuildOptions{SetWords: 5}, StreamOptions{})
	if err := w.AddRanked([]byte("a"), 9, 6); err == nil {
		t.Error("a rank past the set's words was taken")
	}
	w.Abort()
	w, _ = NewStreamWriter(filepath.Join(dir, "d"), 1, BuildOptions{}, StreamOptions{})
	if err := w.AddRanked([]byte("a"), 9, 1); err == nil {
		t.Error("AddRanked on a table that is not a shard was taken")
	}
	w.Abort()
	if _, err := NewStreamWriter(filepath.Join(dir, "e"), 6, BuildOptions{SetWords: 5}, StreamOptions{}); err == nil {
		t.Error("a shard larger than its set was started")
	}
	if err := WriteFile(filepath.Join(dir, "f"), []Entry{{"a", 1}}, BuildOptions{SetWords: 1}); err == nil {
		t.Error("WriteFile wrote a shard without ranks")
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 0 {
		t.Errorf("left behind: %v %v", entries, err)
	}
}

// A shard whose set.words metadata is missing or too small is refused at
// open: its ranks could not be bounded.
func TestShardNeedsItsSetSize(t *testing.T) {
	set := []Entry{{"a", 3}, {"b", 2}, {"c", 1}}
	tb := writeShard(t, set, func(int) bool { return true })
	b := append([]byte(nil), tb.data...)
	meta := []byte(MetaSetWords + "=3\n")
	i := strings.Index(string(b), string(meta))
	if i < 0 {
		t.Fatal("no set.words in the metadata")
	}
	for _, v := range []string{"2", "x"} {
		c := append([]byte(nil), b...)
		copy(c[i+len(MetaSetWords)+1:], v)
		reseal(c)
		if _, err := Parse(c); err == nil || !strings.Contains(err.Error(), "a shard whose metadata set.words="+v) {
			t.Errorf("set.words=%s: %v", v, err)
		}
	}
	if _, err := Parse(b); err != nil {
		t.Fatal(err)
	}
}
