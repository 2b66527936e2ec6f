package freqfile

import (
	"encoding/binary"
	"math/bits"
)

// A record holds everything a lookup answers, so a hit reads one index
// bucket, whose second line holds the record if it fitted there, and at
// most one record elsewhere. A typical record (a short word with a small
// count) is about 10 bytes, well inside one cache line:
//
//	uvarint  word length in bytes (1..MaxWordLen)
//	bytes    the word
//	byte     widths: low nibble = bytes of count (0..8), high = bytes of rank (1..8)
//	count    little-endian, in the fewest bytes that hold it
//	rank     little-endian, likewise (1 = most frequent)
//
// Fixed-width little-endian fields, unlike varints, decode with one 8-byte
// load and a mask: no loop, no branch that depends on the value. The widths
// byte keeps them as small as varints would be.

// recordSize returns the encoded size of a record.
func recordSize(word string, count, rank uint64) int {
	return uvarintLen(uint64(len(word))) + len(word) + 1 + byteWidth(count) + byteWidth(rank)
}

// appendRecord appends the encoding of a record to dst.
func appendRecord(dst []byte, word string, count, rank uint64) []byte {
	cw, rw := byteWidth(count), byteWidth(rank)
	dst = binary.AppendUvarint(dst, uint64(len(word)))
	dst = append(dst, word...)
	dst = append(dst, byte(cw|rw<<4))
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], count)
	dst = append(dst, b[:cw]...)
	binary.LittleEndian.PutUint64(b[:], rank)
	return append(dst, b[:rw]...)
}

// uvarintLen returns the length of the uvarint encoding of v.
func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// byteWidth returns the number of bytes v needs, 0 for 0.
func byteWidth(v uint64) int { return (bits.Len64(v) + 7) / 8 }

// widthMask keeps the low w bytes of a 64-bit load (w ≤ 8; Go defines
// 1<<64 as 0, so w = 8 keeps all of them).
func widthMask(w uint) uint64 { return 1<<(8*w) - 1 }

// record is a decoded record; word aliases the table.
type record struct {
	word  []byte
	count uint64
	rank  uint64
}

// readWord decodes the word of the record at the start of b. It returns
// ok=false, never a panic, when b does not hold a well-formed word: b comes
// from the file and may be damaged.
func readWord(b []byte) (word, rest []byte, ok bool) {
	if len(b) == 0 {
		return nil, nil, false
	}
	// Words shorter than 128 bytes, nearly all of them, have a one-byte
	// length; binary.Uvarint is a loop the compiler does not inline.
	n, k := uint64(b[0]), 1
	if n >= 0x80 {
		n, k = binary.Uvarint(b)
		if k <= 0 {
			return nil, nil, false
		}
	}
	if n == 0 || n > MaxWordLen || n > uint64(len(b)-k) {
		return nil, nil, false
	}
	end := k + int(n)
	return b[k:end:end], b[end:], true
}

// readWidths decodes the widths byte at the start of b, the rest of a record
// after its word. It rejects widths no writer produces and fields that run
// past the end of b, so that a damaged record reads the same to Lookup,
// which needs only the count, and to Rank.
func readWidths(b []byte) (cw, rw uint, ok bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	cw, rw = uint(b[0]&0xf), uint(b[0]>>4)
	// rw-1 wraps for rw = 0, so one compare rejects 0 and 9..15.
	return cw, rw, cw <= 8 && rw-1 < 8 && 1+cw+rw <= uint(len(b))
}

// readCount decodes the count of a record from b, the rest of the record
// after its word: all a Lookup needs.
func readCount(b []byte) (uint64, bool) {
	cw, _, ok := readWidths(b)
	if !ok {
		return 0, false
	}
	if len(b) >= 1+8 {
		return binary.LittleEndian.Uint64(b[1:]) & widthMask(cw), true
	}
	return readLE(b[1:], cw), true
}

// readCountRank decodes the count and rank of a record from b, the rest of
// the record after its word.
func readCountRank(b []byte) (count, rank uint64, ok bool) {
	cw, rw, ok := readWidths(b)
	if !ok {
		return 0, 0, false
	}
	if len(b) >= 1+8+8 {
		count = binary.LittleEndian.Uint64(b[1:]) & widthMask(cw)
		rank = binary.LittleEndian.Uint64(b[1+cw:]) & widthMask(rw)
		return count, rank, true
	}
	return readLE(b[1:], cw), readLE(b[1+cw:], rw), true
}

// readLE decodes the w-byte little-endian number at the start of b byte by
// byte, for the last records of the file, where an 8-byte load would run
// past the end. The caller has checked that b holds w bytes.
func readLE(b []byte, w uint) uint64 {
	var v uint64
	for i, c := range b[:w] {
		v |= uint64(c) << (8 * i)
	}
	return v
}

// readRecord decodes the whole record at the start of b.
func readRecord(b []byte) (record, bool) {
	word, rest, ok := readWord(b)
	if !ok {
		return record{}, false
	}
	count, rank, ok := readCountRank(rest)
	if !ok {
		return record{}, false
	}
	return record{word: word, count: count, rank: rank}, true
}
