package main

import (
	"path/filepath"
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
