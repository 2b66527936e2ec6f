package cluster

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/freqd/freqd/shm/freqfile"
)

// testSet is a set of words in rank order: some share a count, some have
// hash tags, some are capitalised (a table kept in its own case).
func testSet() []freqfile.Entry {
	var set []freqfile.Entry
	for i := range 5000 {
		w := fmt.Sprintf("w%d", i)
		switch i % 5 {
		case 1:
			w = fmt.Sprintf("{tag%d}w%d", i%7, i)
		case 2:
			w = fmt.Sprintf("W%dx", i)
		}
		set = append(set, freqfile.Entry{Word: w, Count: uint64(10000 - i/3)})
	}
	sortRank(set)
	return set
}

func sortRank(set []freqfile.Entry) {
	slices.SortFunc(set, func(a, b freqfile.Entry) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return strings.Compare(a.Word, b.Word)
	})
}

func writeSet(t *testing.T, set []freqfile.Entry, files []ShardFile) *SetWriter {
	t.Helper()
	w, err := NewSetWriter(files, freqfile.BuildOptions{Meta: freqfile.Metadata{"source": "test"}}, freqfile.StreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range set {
		if err := w.Add([]byte(e.Word), e.Count); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	return w
}

// Every word goes to the shard of its slot, with its rank in the set, and
// every shard knows the set.
func TestSetWriterSplitsBySlot(t *testing.T) {
	set := testSet()
	dir := t.TempDir()
	var files []ShardFile
	for i, r := range Split(3) {
		files = append(files, ShardFile{Slots: r, Path: filepath.Join(dir, fmt.Sprintf("s%d.freq", i+1)), Index: i + 1, Count: 3})
	}
	w := writeSet(t, set, files)
	var total uint64
	for _, e := range set {
		total += e.Count
	}
	var tables []*freqfile.Table
	for i, f := range files {
		tb, err := freqfile.Open(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		defer tb.Close()
		info, ok, err := ReadShard(tb)
		if !ok || err != nil {
			t.Fatalf("%s: ReadShard %v %v", f.Path, ok, err)
		}
		want := ShardInfo{SetID: w.SetID(), SetWords: uint64(len(set)), SetTotal: total, Slots: f.Slots, Index: i + 1, Count: 3}
		if info != want {
			t.Errorf("%s: %+v, want %+v", f.Path, info, want)
		}
		if tb.Len() != w.ShardWords(i) || tb.Len() < 1000 {
			t.Errorf("%s holds %d words (writer says %d)", f.Path, tb.Len(), w.ShardWords(i))
		}
		if v, _ := tb.Meta("source"); v != "test" {
			t.Errorf("%s lost the build's metadata", f.Path)
		}
		tables = append(tables, tb)
	}
	for r, e := range set {
		slot := Slot([]byte(e.Word))
		for i, tb := range tables {
			rank, found := tb.Rank([]byte(e.Word))
			if mine := files[i].Slots.Contains(slot); found != mine || found && rank != uint64(r+1) {
				t.Fatalf("%s (slot %d) in %s: found %v rank %d, want found %v rank %d", e.Word, slot, files[i].Path, found, rank, mine, r+1)
			}
		}
	}
	tagged := 0
	for _, e := range set {
		if strings.HasPrefix(e.Word, "{tag3}") {
			tagged++
			if Slot([]byte(e.Word)) != Slot([]byte("tag3")) {
				t.Fatal("a {tag} does not choose the slot")
			}
		}
	}
	if tagged == 0 {
		t.Fatal("no tagged words in the test set")
	}
}

// A shard built alone (--slots) is the same file as that shard of the
// whole split, and the set's id depends on the words and counts only.
func TestSetWriterOneShardAlone(t *testing.T) {
	set := testSet()
	dir := t.TempDir()
	r := Split(3)[1]
	all := writeSet(t, set, []ShardFile{
		{Slots: Split(3)[0], Path: filepath.Join(dir, "a0")},
		{Slots: r, Path: filepath.Join(dir, "a1")},
		{Slots: Split(3)[2], Path: filepath.Join(dir, "a2")},
	})
	alone := writeSet(t, set, []ShardFile{{Slots: r, Path: filepath.Join(dir, "b1")}})
	a, _ := os.ReadFile(filepath.Join(dir, "a1"))
	b, _ := os.ReadFile(filepath.Join(dir, "b1"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("the shard built alone differs from the same shard of the whole set (%d and %d bytes)", len(a), len(b))
	}
	if all.SetID() != alone.SetID() || len(all.SetID()) != 16 {
		t.Errorf("set ids %s and %s", all.SetID(), alone.SetID())
	}
	set[7].Count++
	sortRank(set)
	other := writeSet(t, set, []ShardFile{{Slots: r, Path: filepath.Join(dir, "c1")}})
	if other.SetID() == all.SetID() {
		t.Error("a set with another count has the same id")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 5 {
		t.Errorf("files left: %v", entries)
	}
}
