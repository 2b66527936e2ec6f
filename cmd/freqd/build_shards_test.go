package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/freqd/freqd/cluster"
	"github.com/freqd/freqd/internal/testserver"
	"github.com/freqd/freqd/shm/freqfile"
)

// TestBuildShards splits the embedded table in three, and builds one of
// the shards alone: every word is in the shard of its slot with its rank
// in the whole table, and the shard built alone holds what the same shard
// of the split does.
func TestBuildShards(t *testing.T) {
	dir := t.TempDir()
	r := freqd(t, dir, nil, "build", "-o", "sub.freq", "--shards", "3", "--default")
	if r.code != 0 {
		t.Fatalf("build exited %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"wrote sub.1-of-3.freq: slots 0-5460", "wrote sub.3-of-3.freq: slots 10923-16383", "74,286 words"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("build said %q, without %q", r.stderr, want)
		}
	}
	if r := freqd(t, dir, nil, "build", "-o", "whole.freq", "--default"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if r := freqd(t, dir, nil, "build", "-o", "alone.freq", "--slots", "5461-10922", "--default"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	whole := open(t, filepath.Join(dir, "whole.freq"))
	var shards []*freqfile.Table
	var infos []cluster.ShardInfo
	for _, name := range []string{"sub.1-of-3.freq", "sub.2-of-3.freq", "sub.3-of-3.freq", "alone.freq"} {
		tb := open(t, filepath.Join(dir, name))
		info, ok, err := cluster.ReadShard(tb)
		if !ok || err != nil {
			t.Fatalf("%s is not a shard: %v", name, err)
		}
		shards, infos = append(shards, tb), append(infos, info)
	}
	if infos[3].SetID != infos[0].SetID || infos[3].Index != 0 || infos[1].Index != 2 || infos[1].Count != 3 {
		t.Errorf("shard infos %+v", infos)
	}
	var sum uint64
	for i := range 3 {
		sum += shards[i].Len()
		if infos[i].SetTotal != whole.Total() || infos[i].SetWords != whole.Len() {
			t.Errorf("shard %d: set of %d words, total %d; the whole table has %d, %d", i+1, infos[i].SetWords, infos[i].SetTotal, whole.Len(), whole.Total())
		}
	}
	if sum != whole.Len() {
		t.Errorf("the shards hold %d words, the whole table %d", sum, whole.Len())
	}
	for w := range testserver.Subtlex() {
		rank, _ := whole.Rank([]byte(w))
		count, _ := whole.Lookup([]byte(w))
		slot := cluster.Slot([]byte(w))
		for i, tb := range shards {
			r, ok := tb.Rank([]byte(w))
			n, _ := tb.Lookup([]byte(w))
			if mine := infos[i].Slots.Contains(slot); ok != mine || ok && (r != rank || n != count) {
				t.Fatalf("%s (slot %d) in shard %d: found %v, rank %d count %d; whole table: rank %d count %d", w, slot, i+1, ok, r, n, rank, count)
			}
		}
	}
	if r := freqd(t, dir, nil, "build", "-o", "x.freq", "--shards", "3", "--slots", "0-100", "--default"); r.code != 2 || !strings.Contains(r.stderr, "is not one of the 3 shards' ranges: 0-5460, 5461-10922, 10923-16383") {
		t.Errorf("--slots outside --shards: exit %d, %s", r.code, r.stderr)
	}
	if r := freqd(t, dir, nil, "build", "-o", "x.freq", "--slots", "9-2", "--default"); r.code != 2 || !strings.Contains(r.stderr, "--slots: slots 9-2") {
		t.Errorf("a reversed range: exit %d, %s", r.code, r.stderr)
	}
}

func open(t *testing.T, path string) *freqfile.Table {
	t.Helper()
	tb, err := freqfile.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.Close() })
	return tb
}

// TestBuildShardsOfRankedLists builds shards from word lists already in
// rank order, which skip counting, and checks each is the shard that
// counting the same words in no order writes (the same table id), also
// when folding makes a word appear twice ("The" early, "the" late) in a
// shard that is written last or, with --slots, not at all.
func TestBuildShardsOfRankedLists(t *testing.T) {
	var words []string
	for i := range 3000 {
		words = append(words, fmt.Sprintf("w%04d\t%d\n", i, 100000-i*3))
	}
	// "the" is in slot 14920, of shard 3, after "The" folds
	// into it: shard 1 is written first, and --slots of shard 2 never
	// sees them.
	clean := strings.Join(words, "")
	folded := "The\t999999\n" + clean + "the\t1\n"
	for name, ranked := range map[string]string{"clean": clean, "folded": folded} {
		lines := strings.Split(strings.TrimSuffix(ranked, "\n"), "\n")
		rand.New(rand.NewPCG(1, 2)).Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
		mixed := strings.Join(lines, "\n") + "\n"
		ids := map[string][2]uint32{}
		for k, content := range []string{ranked, mixed} {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "words.tsv"), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			if r := freqd(t, dir, nil, "build", "-o", "s.freq", "--shards", "3", "words.tsv"); r.code != 0 {
				t.Fatalf("%s: build exited %d: %s", name, r.code, r.stderr)
			}
			if r := freqd(t, dir, nil, "build", "-o", "alone.freq", "--slots", "5461-10922", "words.tsv"); r.code != 0 {
				t.Fatalf("%s: build --slots exited %d: %s", name, r.code, r.stderr)
			}
			for _, f := range []string{"s.1-of-3.freq", "s.2-of-3.freq", "s.3-of-3.freq", "alone.freq"} {
				v := ids[f]
				v[k] = open(t, filepath.Join(dir, f)).ID()
				ids[f] = v
			}
			assertFiles(t, dir, "alone.freq", "s.1-of-3.freq", "s.2-of-3.freq", "s.3-of-3.freq", "words.tsv")
		}
		for f, v := range ids {
			if v[0] != v[1] {
				t.Errorf("%s: %s from the list in rank order has id %08x, from the same words in no order %08x", name, f, v[0], v[1])
			}
		}
	}
}

// assertFiles fails unless dir holds exactly the names given, in order.
func assertFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if !slices.Equal(got, names) {
		t.Errorf("%s holds %v, want %v", dir, got, names)
	}
}
