package ingest

import (
	"fmt"
	"hash/maphash"
	"math"
	"testing"
	"unsafe"
)

// TestWordTableGrows counts enough words to force many doublings and checks
// every count afterwards against a map, the obvious implementation.
func TestWordTableGrows(t *testing.T) {
	tab := newWordTable(maphash.MakeSeed())
	want := map[string]uint64{}
	for i := range 200_000 {
		w := fmt.Sprintf("w%d", i%50_000)
		n := uint64(i%7 + 1)
		if _, ok := tab.add([]byte(w), n); !ok {
			t.Fatalf("add %q: unexpected overflow", w)
		}
		want[w] += n
	}
	if tab.n != len(want) {
		t.Fatalf("table holds %d words, want %d", tab.n, len(want))
	}
	for w, n := range want {
		if got, ok := tab.lookup([]byte(w)); !ok || got != n {
			t.Fatalf("lookup %q = %d, %v; want %d", w, got, ok, n)
		}
	}
	if _, ok := tab.lookup([]byte("absent")); ok {
		t.Fatal("lookup of an absent word succeeded")
	}
	seen := 0
	tab.arena.each(func(_ uint64, w []byte, c uint64) {
		seen++
		if want[string(w)] != c {
			t.Fatalf("arena record %q has count %d, want %d", w, c, want[string(w)])
		}
	})
	if seen != len(want) {
		t.Fatalf("arena walk saw %d records, want %d", seen, len(want))
	}
}

func TestWordTableOverflowLeavesCount(t *testing.T) {
	tab := newWordTable(maphash.MakeSeed())
	tab.add([]byte("big"), math.MaxUint64-1)
	if _, ok := tab.add([]byte("big"), 2); ok {
		t.Fatal("sum past 2^64-1 was accepted")
	}
	if got, _ := tab.lookup([]byte("big")); got != math.MaxUint64-1 {
		t.Fatalf("count after a refused add = %d, want %d", got, uint64(math.MaxUint64-1))
	}
}

// TestArenaChunkBoundary fills past one chunk with long words, so records
// straddle no boundary and references into later chunks resolve.
func TestArenaChunkBoundary(t *testing.T) {
	var a arena
	word := make([]byte, 1000)
	refs := map[uint64]byte{}
	for i := range 3 * chunkSize / 1000 {
		for j := range word {
			word[j] = 'a' + byte(i%26)
		}
		refs[a.add(word, uint64(i))] = word[0]
	}
	if len(a.chunks) < 3 {
		t.Fatalf("expected at least 3 chunks, got %d", len(a.chunks))
	}
	for ref, first := range refs {
		w, _ := a.record(ref)
		if len(w) != 1000 || w[0] != first || w[999] != first {
			t.Fatalf("record %#x: got %d bytes starting %q, want 1000 of %q", ref, len(w), w[:1], first)
		}
	}
}

// TestWordTableLargeSlots grows a table past the size at which its slots
// are mapped apart from the heap, 2-MiB aligned so that they can be huge
// pages, and checks the counts across those doublings and that release
// returns the mapping.
func TestWordTableLargeSlots(t *testing.T) {
	tab := newWordTable(maphash.MakeSeed())
	const words = 400_000 // 2^19 slots after the last doubling: 4 MiB
	for i := range 2 * words {
		tab.add(fmt.Appendf(nil, "word%d", i%words), 1)
	}
	if len(tab.slots)*8 < hugePage || tab.mapped == nil {
		t.Fatalf("%d slots (%d bytes), mapped %v: want a mapping of at least %d bytes", len(tab.slots), len(tab.slots)*8, tab.mapped != nil, hugePage)
	}
	if addr := uintptr(unsafe.Pointer(&tab.slots[0])); addr%hugePage != 0 {
		t.Fatalf("slots at %#x, not %d-aligned", addr, hugePage)
	}
	for i := range words {
		w := fmt.Sprintf("word%d", i)
		if got, ok := tab.lookup([]byte(w)); !ok || got != 2 {
			t.Fatalf("lookup %q = %d, %v; want 2", w, got, ok)
		}
	}
	tab.release()
	if tab.slots != nil || tab.mapped != nil {
		t.Fatal("release left the slots or their mapping")
	}
	n := 0
	tab.arena.each(func(uint64, []byte, uint64) { n++ })
	if n != words {
		t.Fatalf("after release the arena holds %d words, want %d", n, words)
	}
}
