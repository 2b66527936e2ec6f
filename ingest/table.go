package ingest

import (
	"encoding/binary"
	"hash/maphash"
	"math/bits"
)

// wordTable counts words: an open-addressing hash table (linear probing) whose
// slots are single uint64s pointing into the arena. A slot holds
//
//	tag (24 bits, from the high bits of the word's hash) << 40 | arena reference
//
// so a probe compares words only when the tags match (one in 8 million
// false matches), and an empty slot is 0 because tags always have their low
// bit set. The words themselves, and their counts, live in the arena.
//
// At most 3/4 of the slots are used before the table doubles; right after a
// doubling 3/8 are, so a slot costs 8/0.75 to 8/0.375 bytes, 11-21 bytes a word.
type wordTable struct {
	seed  maphash.Seed
	slots []uint64
	mask  uint64
	n     int
	arena arena
	// touched keeps loads made only to bring slots into the cache.
	touched uint64
}

// bytes is the memory the table holds.
func (t *wordTable) bytes() int64 { return int64(len(t.slots))*8 + t.arena.bytes }

const (
	minSlots = 1 << 10
	tagShift = refBits
)

// newWordTable returns an empty table hashing with seed: the tables of one
// Counter share theirs, so that a word's hash picks its table and orders
// the spilled runs the same way everywhere.
func newWordTable(seed maphash.Seed) *wordTable {
	t := &wordTable{seed: seed}
	t.alloc(minSlots)
	return t
}

func (t *wordTable) alloc(n int) {
	t.slots = make([]uint64, n)
	t.mask = uint64(n - 1)
}

// add adds n to word's count, inserting it if new, and returns the new count.
// ok is false when the sum would overflow; the count is then left unchanged.
func (t *wordTable) add(word []byte, n uint64) (sum uint64, ok bool) {
	return t.addHashed(maphash.Bytes(t.seed, word), word, n)
}

// addHashed is add with the word's hash, h = maphash.Bytes(t.seed, word).
func (t *wordTable) addHashed(h uint64, word []byte, n uint64) (sum uint64, ok bool) {
	tag := (h>>tagShift | 1) << tagShift
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := t.slots[i]
		if s == 0 {
			if t.n+1 > len(t.slots)/4*3 {
				t.grow()
				return t.addHashed(h, word, n)
			}
			t.slots[i] = tag | t.arena.add(word, n)
			t.n++
			return n, true
		}
		if s&^refMask != tag {
			continue
		}
		w, c := t.arena.record(s & refMask)
		if string(w) != string(word) {
			continue
		}
		old := binary.LittleEndian.Uint64(c)
		sum, carry := bits.Add64(old, n, 0)
		if carry != 0 {
			return old, false
		}
		binary.LittleEndian.PutUint64(c, sum)
		return sum, true
	}
}

// grow doubles the slots and re-inserts every word by walking the arena in
// order. The old slots are dropped before the new ones are made, so the peak
// is the new table alone plus what the collector has not yet reclaimed.
func (t *wordTable) grow() {
	size := len(t.slots) * 2
	t.slots = nil
	t.alloc(size)
	// The words are re-inserted a group at a time, their hashes first,
	// so that the loads of their slots overlap (see Counter.insert).
	var group [64]struct{ h, ref uint64 }
	k := 0
	insert := func() {
		var touch uint64
		for _, g := range group[:k] {
			touch |= t.slots[g.h&t.mask]
		}
		t.touched += touch & 1
		for _, g := range group[:k] {
			i := g.h & t.mask
			for t.slots[i] != 0 {
				i = (i + 1) & t.mask
			}
			t.slots[i] = (g.h>>tagShift|1)<<tagShift | g.ref
		}
		k = 0
	}
	t.arena.each(func(ref uint64, word []byte, _ uint64) {
		group[k].h, group[k].ref = maphash.Bytes(t.seed, word), ref
		if k++; k == len(group) {
			insert()
		}
	})
	insert()
}

// lookup returns word's count, for tests and diagnostics.
func (t *wordTable) lookup(word []byte) (uint64, bool) {
	h := maphash.Bytes(t.seed, word)
	tag := (h>>tagShift | 1) << tagShift
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := t.slots[i]
		if s == 0 {
			return 0, false
		}
		if s&^refMask == tag {
			if w, c := t.arena.record(s & refMask); string(w) == string(word) {
				return binary.LittleEndian.Uint64(c), true
			}
		}
	}
}
