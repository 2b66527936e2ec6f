package ingest

import (
	"encoding/binary"
	"hash/maphash"
	"math/bits"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
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
	// mapped is the mapping that holds large slots, apart from the Go
	// heap; unmap is the cleanup that returns it if the table is dropped
	// without release.
	mapped []byte
	unmap  runtime.Cleanup
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

// hugePage is the size of a transparent huge page on x86-64 and arm64.
const hugePage = 2 << 20

// alloc gives the table n empty slots. Slots of a large table are probed
// at random, nearly every probe of a new word a TLB miss and, the first
// time, a page fault: in a mapping of their own, 2-MiB aligned and
// advised MADV_HUGEPAGE, the kernel can back them with huge pages where
// the Go heap would not ask for them. If it cannot, they are ordinary
// memory.
func (t *wordTable) alloc(n int) {
	t.release()
	t.mask = uint64(n - 1)
	if n*8 >= hugePage {
		mem, err := unix.Mmap(-1, 0, n*8+hugePage, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
		if err == nil {
			skip := -int(uintptr(unsafe.Pointer(&mem[0]))) & (hugePage - 1)
			body := mem[skip : skip+n*8]
			unix.Madvise(body, unix.MADV_HUGEPAGE) // advice: may be refused
			t.slots = unsafe.Slice((*uint64)(unsafe.Pointer(&body[0])), n)
			t.mapped = mem
			t.unmap = runtime.AddCleanup(t, func(m []byte) { unix.Munmap(m) }, mem)
			return
		}
	}
	t.slots = make([]uint64, n)
}

// release drops the slots, unmapping them at once if they are mapped; the
// words in the arena stay.
func (t *wordTable) release() {
	t.slots = nil
	if t.mapped != nil {
		t.unmap.Stop()
		unix.Munmap(t.mapped)
		t.mapped = nil
	}
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
	t.alloc(len(t.slots) * 2)
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
