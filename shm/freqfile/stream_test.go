package freqfile

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// streamBuild writes entries (in any order) with a StreamWriter and returns
// the file's bytes.
func streamBuild(t *testing.T, entries []Entry, opts BuildOptions, mem int64) ([]byte, error) {
	t.Helper()
	sorted := slices.Clone(entries)
	slices.SortFunc(sorted, func(a, b Entry) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return strings.Compare(a.Word, b.Word)
	})
	dir := t.TempDir()
	path := filepath.Join(dir, "t.freq")
	w, err := NewStreamWriter(path, uint64(len(sorted)), opts, StreamOptions{MemoryLimit: mem})
	if err != nil {
		return nil, err
	}
	for _, e := range sorted {
		if err := w.Add([]byte(e.Word), e.Count); err != nil {
			w.Abort()
			return nil, err
		}
	}
	if err := w.Commit(); err != nil {
		return nil, err
	}
	assertOnly(t, dir, "t.freq")
	return os.ReadFile(path)
}

func randomEntries(rng *rand.Rand, n int) []Entry {
	seen := map[string]bool{}
	var out []Entry
	for len(out) < n {
		l := 1 + rng.IntN(30)
		if rng.IntN(50) == 0 {
			l = 100 + rng.IntN(900) // records that never fit a record line
		}
		b := make([]byte, l)
		for i := range b {
			b[i] = 'a' + byte(rng.IntN(26))
		}
		if seen[string(b)] {
			continue
		}
		seen[string(b)] = true
		c := uint64(1 + rng.IntN(5))
		if rng.IntN(10) == 0 {
			c = rng.Uint64() >> 20
		}
		out = append(out, Entry{string(b), c})
	}
	return out
}

// The StreamWriter must write exactly what WriteTable writes, whatever the
// window size: one bucket per window (so entries displaced past a window's
// end, and from the last bucket round to the first), a few, or all.
func TestStreamWriterMatchesWriteTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := []int{0, 1, 2, 7, 8, 9, 50, 300, 3000}
	mems := []int64{512, 2048, 64 << 10, 0}
	for _, n := range sizes {
		for trial := range 3 {
			entries := randomEntries(rng, n)
			_, want := build(t, entries, BuildOptions{Meta: Metadata{"source": "test"}})
			for _, mem := range mems {
				got, err := streamBuild(t, entries, BuildOptions{Meta: Metadata{"source": "test"}}, mem)
				if err != nil {
					t.Fatalf("%d entries, memory %d: %v", n, mem, err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("%d entries (trial %d), memory %d: the stream writer's file differs from WriteTable's", n, trial, mem)
				}
			}
		}
	}
}

// Crowded home buckets force displacements across windows and from the last
// bucket round to the first, the cases a windowed build gets wrong most
// easily.
func TestStreamWriterCrowdedBuckets(t *testing.T) {
	for _, n := range []int{40, 100} {
		buckets := indexSlotsFor(uint64(n)) / bucketSlots
		var words []string
		// The last bucket and the first overflow.
		words = append(words, homedAt(buckets, buckets-1, 12, nil)...)
		words = append(words, homedAt(buckets, 0, 8, nil)...)
		words = append(words, homedAt(buckets, buckets/2, 11, nil)...)
		for i := 0; len(words) < n; i++ {
			words = append(words, fmt.Sprintf("filler%d", i))
		}
		var entries []Entry
		for i, w := range words {
			entries = append(entries, Entry{w, uint64(1 + i%4)})
		}
		_, want := build(t, entries, BuildOptions{})
		if !wraps(t, want) {
			t.Fatalf("%d entries: no entry goes from the last bucket round to the first; the test needs one", n)
		}
		for _, mem := range []int64{512, 1024, 0} {
			got, err := streamBuild(t, entries, BuildOptions{}, mem)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%d crowded entries, memory %d: differs from WriteTable", len(entries), mem)
			}
		}
	}
}

// wraps reports whether file holds a word displaced from the last buckets
// round to the first: one in a bucket before its home.
func wraps(t *testing.T, file []byte) bool {
	tab, err := Parse(file)
	if err != nil {
		t.Fatal(err)
	}
	for b := uint64(0); b <= tab.bmask; b++ {
		bk := tab.index[b*bucketSize : (b+1)*bucketSize]
		for s := range bucketSlots {
			if binary.LittleEndian.Uint16(bk[2*s:]) == 0 {
				continue
			}
			r, ok := readRecord(file[slotOffset(bk, s):])
			if ok && Hash(r.word, hashSeed)&tab.bmask > b {
				return true
			}
		}
	}
	return false
}

func TestStreamWriterFolded(t *testing.T) {
	entries := subtlex(t)[:20000]
	var folded []Entry
	seen := map[string]bool{}
	for _, e := range entries {
		f := string(Fold(nil, []byte(e.Word)))
		if !seen[f] {
			seen[f] = true
			folded = append(folded, Entry{f, e.Count})
		}
	}
	opts := BuildOptions{FoldCase: true}
	_, want := build(t, folded, opts)
	got, err := streamBuild(t, folded, opts, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("folded table differs from WriteTable's")
	}
}

func TestStreamWriterRejects(t *testing.T) {
	tests := []struct {
		name    string
		entries []Entry // in the order added
		opts    BuildOptions
		want    string
	}{
		{"out of order", []Entry{{"a", 1}, {"b", 2}}, BuildOptions{}, "must come by count"},
		{"ties out of order", []Entry{{"b", 2}, {"a", 2}}, BuildOptions{}, "must come by count"},
		{"adjacent duplicate", []Entry{{"a", 2}, {"a", 2}}, BuildOptions{}, `duplicate word "a"`},
		{"unfolded", []Entry{{"The", 2}}, BuildOptions{FoldCase: true}, "not case-folded"},
		{"empty", []Entry{{"", 2}}, BuildOptions{}, "empty word"},
	}
	for _, tc := range tests {
		dir := t.TempDir()
		w, err := NewStreamWriter(filepath.Join(dir, "t.freq"), uint64(len(tc.entries)), tc.opts, StreamOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range tc.entries {
			if err = w.Add([]byte(e.Word), e.Count); err != nil {
				break
			}
		}
		if err == nil {
			err = w.Commit()
		} else {
			w.Abort()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
		assertOnly(t, dir)
	}
	// A duplicate with another count is found when the index is laid out.
	_, err := streamBuild(t, []Entry{{"x", 9}, {"dup", 5}, {"y", 3}, {"dup", 2}}, BuildOptions{}, 0)
	var de *DuplicateError
	if !errors.As(err, &de) || de.Word != "dup" {
		t.Errorf("duplicate with two counts: %v, want a DuplicateError for dup", err)
	}
}

// A word added twice with two counts is refused however the index is
// built: in memory, or by windows, where the two entries may lie in two
// windows (displaced past a window's end, or from the last bucket round to
// the first).
func TestStreamWriterFindsDuplicates(t *testing.T) {
	sawCrossers, sawSpool, sawMemory := false, false, false
	for _, n := range []int{40, 300} {
		buckets := indexSlotsFor(uint64(n)) / bucketSlots
		for _, crowded := range []uint64{buckets - 1, buckets/2 - 1, 0} {
			// Twelve words call the crowded bucket home and rank first,
			// so four of them overflow into the next bucket.
			words := homedAt(buckets, crowded, 12, nil)
			var entries []Entry
			for i, w := range words {
				entries = append(entries, Entry{w, uint64(1000 - i)})
			}
			for i := 0; len(entries) < n-1; i++ {
				entries = append(entries, Entry{fmt.Sprintf("filler%d", i), 2})
			}
			for k := range words {
				// The copy ranks last, so it goes as far as any entry of
				// that home: with the original in the home bucket, or
				// both displaced.
				all := append(slices.Clone(entries), Entry{words[k], 1})
				for _, mem := range []int64{512, 9000, 12000, 0} {
					w, err := streamWrite(t, all, mem)
					var de *DuplicateError
					if !errors.As(err, &de) || de.Word != words[k] {
						t.Fatalf("%d entries, crowded bucket %d, copy of word %d, memory %d: error %v, want a DuplicateError for %q",
							n, crowded, k, mem, err, words[k])
					}
					sawCrossers = sawCrossers || len(w.p.crossers) > 0
					sawSpool = sawSpool || w.p.spoolSize > 0
					sawMemory = sawMemory || w.p.spoolSize == 0
				}
			}
		}
	}
	if !sawCrossers || !sawSpool || !sawMemory {
		t.Fatalf("cases not exercised: crossers %v, spooled %v, in memory %v", sawCrossers, sawSpool, sawMemory)
	}
}

// streamWrite is streamBuild returning the writer.
func streamWrite(t *testing.T, entries []Entry, mem int64) (*StreamWriter, error) {
	t.Helper()
	sorted := slices.Clone(entries)
	slices.SortFunc(sorted, func(a, b Entry) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return strings.Compare(a.Word, b.Word)
	})
	dir := t.TempDir()
	w, err := NewStreamWriter(filepath.Join(dir, "t.freq"), uint64(len(sorted)), BuildOptions{}, StreamOptions{MemoryLimit: mem})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range sorted {
		if err := w.Add([]byte(e.Word), e.Count); err != nil {
			w.Abort()
			assertOnly(t, dir)
			return w, err
		}
	}
	err = w.Commit()
	if err != nil {
		assertOnly(t, dir)
	}
	return w, err
}

func BenchmarkStreamWriter(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	entries := randomEntries(rng, 200000)
	slices.SortFunc(entries, func(a, b Entry) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return strings.Compare(a.Word, b.Word)
	})
	dir := b.TempDir()
	for i := 0; b.Loop(); i++ {
		w, err := NewStreamWriter(filepath.Join(dir, fmt.Sprint(i%2)), uint64(len(entries)), BuildOptions{}, StreamOptions{MemoryLimit: 1 << 20})
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range entries {
			if err := w.Add([]byte(e.Word), e.Count); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

// A shard's records hold ranks in the set, which change their sizes and
// so where they go: the file must be the same whatever the window size
// and however much of it waits on disk, and answer the set's ranks.
func TestStreamWriterShardWhateverItsMemory(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	entries := randomEntries(rng, 3000)
	slices.SortFunc(entries, func(a, b Entry) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return strings.Compare(a.Word, b.Word)
	})
	// Every third word of a set whose ranks need five-byte varints.
	const first = 1 << 34
	setWords := uint64(first + 3*len(entries))
	var want []byte
	for _, mem := range []int64{0, 64 << 10, 2048, 512} {
		dir := t.TempDir()
		path := filepath.Join(dir, "s.freq")
		w, err := NewStreamWriter(path, uint64(len(entries)), BuildOptions{SetWords: setWords}, StreamOptions{MemoryLimit: mem})
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range entries {
			if err := w.AddRanked([]byte(e.Word), e.Count, first+3*uint64(i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Commit(); err != nil {
			t.Fatalf("memory %d: %v", mem, err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if want == nil {
			want = got
			tb, err := Parse(got)
			if err != nil {
				t.Fatal(err)
			}
			if err := tb.Verify(); err != nil {
				t.Fatal(err)
			}
			for i, e := range entries {
				if r, ok := tb.Rank([]byte(e.Word)); !ok || r != first+3*uint64(i) {
					t.Fatalf("%s: rank %d %v, want %d", e.Word, r, ok, first+3*uint64(i))
				}
				if word, _, ok := tb.Entry(uint64(i) + 1); !ok || string(word) != e.Word {
					t.Fatalf("Entry(%d) = %s %v, want %s", i+1, word, ok, e.Word)
				}
			}
		} else if !bytes.Equal(got, want) {
			t.Fatalf("memory %d: the shard differs from the one written in memory", mem)
		}
	}
}
