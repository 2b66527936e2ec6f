package shm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Table is a frequency file opened for lookups. Its methods read the file in
// place: nothing is copied or decoded at open, so a table of 100 million
// words opens as fast as one of ten thousand. Lookups are safe for
// concurrent use; Close is not, and must come after the last lookup.
type Table struct {
	data   []byte // the whole file
	index  []byte // the index section
	ranks  []byte // the rank array
	hdr    header
	mask   uint64 // index slots - 1
	name   string // for error messages; empty for Parse
	mapped []byte // the mapping to release at Close, if any
}

// errClosed is returned by methods of a closed Table.
var errClosed = errors.New("frequency table is closed")

// Parse opens the frequency file held in b, which must stay unchanged while
// the table is in use. Like Open it checks only the header.
func Parse(b []byte) (*Table, error) {
	h, err := decodeHeader(b)
	if err != nil {
		return nil, err
	}
	return &Table{
		data:  b,
		index: b[h.indexOff:h.ranksOff:h.ranksOff],
		ranks: b[h.ranksOff:h.recordsOff:h.recordsOff],
		hdr:   h,
		mask:  h.indexSlots - 1,
	}, nil
}

// Verify checks the body checksum: a full read of the file, which Open skips
// so that opening stays cheap. Call it once before serving a file, from the
// process that then shares it.
func (t *Table) Verify() error {
	if len(t.data) < headerSize {
		return errClosed
	}
	if got := crc32.Checksum(t.data[headerSize:], castagnoli); got != t.hdr.bodyCRC {
		err := corruptf("body checksum mismatch (computed %#08x, header says %#08x)", got, t.hdr.bodyCRC)
		if t.name != "" {
			err = fmt.Errorf("verify %s: %w", t.name, err)
		}
		return err
	}
	return nil
}

// Lookup returns the count of word. On a case-folded table the query is
// folded first, so "The" finds "the". It does not allocate.
func (t *Table) Lookup(word []byte) (count uint64, ok bool) {
	rest, ok := t.query(word)
	if !ok {
		return 0, false
	}
	count, k := binary.Uvarint(rest) // the rank that follows is not needed
	return count, k > 0
}

// Rank returns the position of word in frequency order, 1 being the most
// frequent (ties broken by byte order of the words).
func (t *Table) Rank(word []byte) (rank uint64, ok bool) {
	rest, ok := t.query(word)
	if !ok {
		return 0, false
	}
	_, rank, ok = readCountRank(rest)
	if !ok || rank == 0 || rank > t.hdr.words {
		return 0, false
	}
	return rank, true
}

// Entry returns the word of the given rank (1..Len) and its count. The word
// aliases the table's memory: do not modify it, and do not keep it past Close.
func (t *Table) Entry(rank uint64) (word []byte, count uint64, ok bool) {
	if rank == 0 || rank > t.hdr.words {
		return nil, 0, false
	}
	off := binary.LittleEndian.Uint64(t.ranks[(rank-1)*8:])
	rec, ok := t.record(off)
	// A record that names another rank means a damaged file: say nothing
	// rather than something wrong.
	if !ok || rec.rank != rank {
		return nil, 0, false
	}
	return rec.word, rec.count, true
}

// Len returns the number of words.
func (t *Table) Len() uint64 { return t.hdr.words }

// Total returns the sum of all counts.
func (t *Table) Total() uint64 { return t.hdr.total }

// FoldsCase reports whether the table was built with case folding.
func (t *Table) FoldsCase() bool { return t.hdr.flags&flagFoldCase != 0 }

// Size returns the size of the file in bytes.
func (t *Table) Size() int64 { return int64(t.hdr.fileSize) }

// Checksum returns the body checksum (CRC-32C) stored in the header; it
// identifies the table's contents, e.g. in INFO or when comparing replicas.
func (t *Table) Checksum() uint64 { return uint64(t.hdr.bodyCRC) }

// record decodes the record at file offset off, if off lies in the records
// section and a well-formed record starts there.
func (t *Table) record(off uint64) (record, bool) {
	if off < t.hdr.recordsOff || off >= uint64(len(t.data)) {
		return record{}, false
	}
	return readRecord(t.data[off:])
}

// query finds the record of a query word, folding it first on a folded
// table, and returns the record's bytes that follow the word.
func (t *Table) query(word []byte) ([]byte, bool) {
	if t.hdr.flags&flagFoldCase == 0 || isFolded(word) {
		return t.find(word)
	}
	// Queries are short: fold into a stack buffer. Folding can lengthen a
	// word (Ⱥ, 2 bytes, becomes ⱥ, 3), so a long query takes the slow path.
	var buf [64]byte
	if folded, ok := foldInto(buf[:], word); ok {
		return t.find(folded)
	}
	return t.findLongFolded(word)
}

// findLongFolded folds a query too long for query's buffer. It is a separate
// function so that the common path does not pay for clearing a big buffer.
//
//go:noinline
func (t *Table) findLongFolded(word []byte) ([]byte, bool) {
	var buf [MaxWordLen]byte
	if folded, ok := foldInto(buf[:], word); ok {
		return t.find(folded)
	}
	return nil, false // longer than any word a table holds
}

// find looks word up in the index and returns the rest of its record after
// the word. It probes at most probeLimit slots, the longest displacement the
// writer produced, so a miss ends at an empty slot or at that limit even in a
// damaged index; and it reads a record only when the slot's 16-bit hash tag
// matches, so nearly every miss costs one cache line of index.
func (t *Table) find(word []byte) ([]byte, bool) {
	h := Hash(word, t.hdr.seed)
	tag := h >> offsetBits
	pos := h & t.mask
	for range t.hdr.probeLimit {
		s := binary.LittleEndian.Uint64(t.index[pos*8:])
		if s == 0 {
			return nil, false
		}
		if s>>offsetBits == tag {
			if off := s & offsetMask; off >= t.hdr.recordsOff && off < uint64(len(t.data)) {
				w, rest, ok := readWord(t.data[off:])
				if ok && string(w) == string(word) {
					return rest, true
				}
			}
		}
		pos = (pos + 1) & t.mask
	}
	return nil, false
}
