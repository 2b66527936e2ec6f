package ingest

import (
	"encoding/binary"
	"unsafe"
)

// The arena holds every distinct word once, with its running count, as
// records laid back to back:
//
//	uvarint(len(word)) | word | count (8 bytes, little-endian)
//
// in chunks of a fixed size that are never moved or reallocated. Fixed chunks
// mean that growing never copies what is already stored (an append-doubled
// slice would briefly need three times the memory), and that strings made over
// a record's bytes stay valid for as long as the chunk is referenced.
//
// A record is addressed by a 40-bit reference: chunk index << chunkBits | offset.

const (
	chunkBits = 20
	chunkSize = 1 << chunkBits // 1 MiB: small waste at each chunk's end, few chunks
	firstSize = 16 << 10       // the first chunk: a small table stays small
	refBits   = 40             // 2^40 bytes of words: far beyond any real vocabulary
	refMask   = 1<<refBits - 1
	countSize = 8
)

type arena struct {
	chunks [][]byte // all full but the last; len is the used part
	bytes  int64    // capacity of the chunks
}

// add stores a new record and returns its reference. The word must be at most
// freqfile.MaxWordLen bytes, which keeps every record smaller than a chunk.
func (a *arena) add(word []byte, count uint64) uint64 {
	need := binary.MaxVarintLen16 + len(word) + countSize
	last := len(a.chunks) - 1
	if last < 0 || len(a.chunks[last])+need > cap(a.chunks[last]) {
		// Chunks double from firstSize to chunkSize, so the many small
		// tables of a parallel build cost little until they fill.
		size := firstSize
		if last >= 0 {
			size = min(2*cap(a.chunks[last]), chunkSize)
		}
		a.chunks = append(a.chunks, make([]byte, 0, size))
		a.bytes += int64(size)
		last++
	}
	c := a.chunks[last]
	off := len(c)
	c = binary.AppendUvarint(c, uint64(len(word)))
	c = append(c, word...)
	c = binary.LittleEndian.AppendUint64(c, count)
	a.chunks[last] = c
	return uint64(last)<<chunkBits | uint64(off)
}

// record returns the word bytes and the position of the count of the record
// at ref. The word aliases the arena: it must not be modified.
func (a *arena) record(ref uint64) (word []byte, count []byte) {
	c := a.chunks[ref>>chunkBits]
	off := int(ref & (chunkSize - 1))
	n, w := binary.Uvarint(c[off:])
	start := off + w
	end := start + int(n)
	return c[start:end:end], c[end : end+countSize]
}

// first returns the first byte of the record at ref: a load that brings
// the record into the cache.
func (a *arena) first(ref uint64) byte {
	return a.chunks[ref>>chunkBits][ref&(chunkSize-1)]
}

// each calls fn for every record in insertion order, reading the arena
// sequentially (which is what makes rehashing and draining cache-friendly).
func (a *arena) each(fn func(ref uint64, word []byte, count uint64)) {
	for i, c := range a.chunks {
		for off := 0; off < len(c); {
			n, w := binary.Uvarint(c[off:])
			start := off + w
			end := start + int(n)
			fn(uint64(i)<<chunkBits|uint64(off), c[start:end:end], binary.LittleEndian.Uint64(c[end:]))
			off = end + countSize
		}
	}
}

// unsafeString views b as a string without copying. The arena never writes a
// word's bytes again once stored, so the string is immutable as Go requires.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
