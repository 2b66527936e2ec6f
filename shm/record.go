package shm

import "encoding/binary"

// A record holds everything a lookup answers, so a hit reads one index slot
// and one record: two cache misses. Varints keep a typical record (a short
// word with a small count) at about 15 bytes, well inside one cache line:
//
//	uvarint  word length in bytes (1..MaxWordLen)
//	bytes    the word
//	uvarint  count
//	uvarint  rank (1 = most frequent)

// recordSize returns the encoded size of a record.
func recordSize(word string, count, rank uint64) int {
	return uvarintLen(uint64(len(word))) + len(word) + uvarintLen(count) + uvarintLen(rank)
}

// appendRecord appends the encoding of a record to dst.
func appendRecord(dst []byte, word string, count, rank uint64) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(word)))
	dst = append(dst, word...)
	dst = binary.AppendUvarint(dst, count)
	return binary.AppendUvarint(dst, rank)
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
	n, k := binary.Uvarint(b)
	if k <= 0 || n == 0 || n > MaxWordLen || n > uint64(len(b)-k) {
		return nil, nil, false
	}
	end := k + int(n)
	return b[k:end:end], b[end:], true
}

// readCountRank decodes the count and rank that follow a record's word.
func readCountRank(b []byte) (count, rank uint64, ok bool) {
	count, k := binary.Uvarint(b)
	if k <= 0 {
		return 0, 0, false
	}
	rank, j := binary.Uvarint(b[k:])
	if j <= 0 {
		return 0, 0, false
	}
	return count, rank, true
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
