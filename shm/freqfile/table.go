package freqfile

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"maps"
	"math/bits"
	"strconv"
	"sync"

	"github.com/freqd/freqd/word"
)

// Table is a frequency file opened for lookups. Its methods read the file in
// place: nothing is copied or decoded at open, so a table of 100 million
// words opens as fast as one of ten thousand. Lookups are safe for
// concurrent use; Close is not, and must come after the last lookup.
type Table struct {
	data  []byte // the whole file
	index []byte // the index section
	ranks []byte // the rank array
	hdr   header
	bmask uint64 // index buckets - 1
	hseed uint64 // the header's hash seed through mixSeed
	meta  Metadata
	rules word.Rules // how the words were normalized, and queries are
	qnorm uint8      // which query path the rules take (qnormNone...)
	// setWords bounds the ranks records hold: the words of the whole set
	// for a shard (flagSetRanks), the table's own otherwise.
	setWords uint64
	mapped   []byte // the mapping to release at Close, if any

	idOnce sync.Once // ID is computed once, on first use
	id     uint32
}

// The query paths, one per kind of rules, chosen once at open so that a
// lookup takes one predictable branch.
const (
	qnormNone  = iota // the query is looked up as given
	qnormLower        // Fold, the rule of tables that record none
	qnormFold         // the word package's rules, case folded
	qnormKeep         // the word package's rules, case kept
)

// errClosed is returned by methods of a closed Table.
var errClosed = errors.New("frequency table is closed")

// Parse opens the frequency file held in b, which must stay unchanged while
// the table is in use. Like Open it checks only the header.
func Parse(b []byte) (*Table, error) {
	h, err := decodeHeader(b)
	if err != nil {
		return nil, err
	}
	meta, err := decodeMeta(b[h.fileSize-uint64(h.metaSize) : h.fileSize])
	if err != nil {
		return nil, err
	}
	setWords := h.words
	if h.flags&flagSetRanks != 0 {
		v, ok := meta[MetaSetWords]
		n, err := strconv.ParseUint(v, 10, 64)
		if !ok || err != nil || n < h.words {
			return nil, corruptf("a shard whose metadata %s=%s is not a word count of at least its own %d words", MetaSetWords, clip(v), h.words)
		}
		setWords = n
	}
	rules, err := word.FromMeta(meta, h.flags&flagFoldCase != 0)
	if err != nil {
		return nil, err
	}
	var qnorm uint8
	switch {
	case rules.Case == word.CaseLower:
		qnorm = qnormLower
	case rules.Case == word.CaseFold:
		qnorm = qnormFold
	case rules.NFC || rules.Apostrophes:
		qnorm = qnormKeep
	}
	return &Table{
		setWords: setWords,
		meta:     meta,
		rules:    rules,
		qnorm:    qnorm,
		data:     b,
		index:    b[h.indexOff:h.ranksOff:h.ranksOff],
		ranks:    b[h.ranksOff:h.recordsOff:h.recordsOff],
		hdr:      h,
		bmask:    h.indexSlots/bucketSlots - 1,
		hseed:    mixSeed(h.seed),
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
		return corruptf("body checksum mismatch (computed %#08x, header says %#08x)", got, t.hdr.bodyCRC)
	}
	return nil
}

// Lookup returns the count of word. The query is normalized first by the
// table's rules (Rules), as its words were at build: on the default rules
// "The" finds "the", "ΣΟΦΟΣ" "σοφοσ". It does not allocate for a query in
// ASCII.
func (t *Table) Lookup(word []byte) (count uint64, ok bool) {
	rest, ok := t.query(word)
	if !ok {
		return 0, false
	}
	return readCount(rest)
}

// LookupNormal is Lookup for a word the caller has normalized by the
// table's rules already, as TAG does once for each word of a text: it
// spares the check.
func (t *Table) LookupNormal(word []byte) (count uint64, ok bool) {
	rest, ok := t.find(word)
	if !ok {
		return 0, false
	}
	return readCount(rest)
}

// Rank returns the position of word in frequency order, 1 being the most
// frequent (ties broken by byte order of the words).
func (t *Table) Rank(word []byte) (rank uint64, ok bool) {
	rest, ok := t.query(word)
	if !ok {
		return 0, false
	}
	_, rank, ok = readCountRank(rest)
	if !ok || rank == 0 || rank > t.setWords {
		return 0, false
	}
	return rank, true
}

// Entry returns the word of the given rank (1..Len) and its count. The word
// aliases the table's memory: do not modify it, and do not keep it past Close.
// On a shard, rank is the position among the shard's own words, in the
// set's rank order; Rank gives the word's rank in the whole set.
func (t *Table) Entry(rank uint64) (word []byte, count uint64, ok bool) {
	if rank == 0 || rank > t.hdr.words {
		return nil, 0, false
	}
	off := binary.LittleEndian.Uint64(t.ranks[(rank-1)*8:])
	rec, ok := t.record(off)
	// A record that names another rank means a damaged file: say nothing
	// rather than something wrong. A shard's records hold ranks in the
	// set, at least their position among the shard's words.
	if !ok || rec.rank != rank && (t.hdr.flags&flagSetRanks == 0 || rec.rank < rank || rec.rank > t.setWords) {
		return nil, 0, false
	}
	return rec.word, rec.count, true
}

// IsShard reports whether the table is one shard of a set (written with
// BuildOptions.SetWords): its ranks are the whole set's.
func (t *Table) IsShard() bool { return t.hdr.flags&flagSetRanks != 0 }

// SetWords returns the number of words of the set a shard belongs to,
// which bounds the ranks it answers; Len for a table that is not a shard.
func (t *Table) SetWords() uint64 { return t.setWords }

// Meta returns the metadata entry key, and whether the table has one.
func (t *Table) Meta(key string) (string, bool) {
	v, ok := t.meta[key]
	return v, ok
}

// Metadata returns a copy of every metadata entry.
func (t *Table) Metadata() Metadata { return maps.Clone(t.meta) }

// Len returns the number of words.
func (t *Table) Len() uint64 { return t.hdr.words }

// Total returns the sum of all counts.
func (t *Table) Total() uint64 { return t.hdr.total }

// FoldsCase reports whether the table was built with case folding.
func (t *Table) FoldsCase() bool { return t.hdr.flags&flagFoldCase != 0 }

// Rules returns how the table's words were normalized, which its lookups
// apply to queries: the rules its metadata records, or word.Legacy for a
// table that records none.
func (t *Table) Rules() word.Rules { return t.rules }

// Size returns the size of the file in bytes.
func (t *Table) Size() int64 { return int64(t.hdr.fileSize) }

// Checksum returns the body checksum (CRC-32C) stored in the header: it
// changes with any byte of the body, the build time included. ID is what
// names the table's contents.
func (t *Table) Checksum() uint64 { return uint64(t.hdr.bodyCRC) }

// record decodes the record at file offset off, if off lies past the
// header and a well-formed record starts there.
func (t *Table) record(off uint64) (record, bool) {
	if !t.bodyOffset(off) {
		return record{}, false
	}
	return readRecord(t.data[off:])
}

// AppendKey appends to dst the word a lookup of query searches the table
// for: the query normalized by the table's rules (folded, in NFC, with one
// apostrophe, as the table records), the query itself on a table without
// rules. Sharding goes by it: a word lives in the shard that serves the
// hash slot of its key, whatever the case, composition or apostrophe a
// client sends it in. It takes query's paths, so the two cannot disagree.
func (t *Table) AppendKey(dst, query []byte) []byte {
	switch t.qnorm {
	case qnormLower:
		return Fold(dst, query)
	case qnormFold:
		if folded, ascii := isFoldedASCII(query); folded {
			return append(dst, query...)
		} else if ascii {
			return Fold(dst, query)
		}
		return t.rules.AppendNormal(dst, query)
	case qnormKeep:
		if _, ascii := isFoldedASCII(query); ascii {
			return append(dst, query...)
		}
		return t.rules.AppendNormal(dst, query)
	default:
		return append(dst, query...)
	}
}

// query finds the record of a query word, normalizing it first by the
// table's rules, and returns the record's bytes that follow the word.
func (t *Table) query(word []byte) ([]byte, bool) {
	switch t.qnorm {
	case qnormLower:
		if isFolded(word) {
			return t.find(word)
		}
	case qnormFold:
		// ASCII, nearly every query, is normal when it has no capital:
		// the same test as isFolded's, and the same folding after it.
		// Other queries go through the rules, which Fold does not know.
		if folded, ascii := isFoldedASCII(word); folded {
			return t.find(word)
		} else if !ascii {
			return t.findNormalized(word)
		}
	case qnormKeep:
		if _, ascii := isFoldedASCII(word); ascii {
			return t.find(word)
		}
		return t.findNormalized(word)
	default:
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

// findNormalized normalizes a query that is not ASCII by the table's
// rules. It is a separate function so that the common path does not pay
// for its buffer.
//
//go:noinline
func (t *Table) findNormalized(w []byte) ([]byte, bool) {
	var buf [128]byte
	normal := t.rules.AppendNormal(buf[:0], w)
	if len(normal) > MaxWordLen {
		return nil, false // longer than any word a table holds
	}
	return t.find(normal)
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
// the word.
//
// A bucket's eight tags are tested at once, and the loop over matches runs
// once per candidate, so a miss, nearly always one bucket with no match and
// an empty slot, takes the same branches every time. Predicted branches let
// the CPU start the next lookup's cache miss before this one's arrives;
// a linear probe that ends after a data-dependent number of slots does not.
// At most probeLimit buckets are read, the longest displacement the writer
// produced, so a miss ends even in a damaged index without empty slots; a
// record is read only when a 16-bit tag matches.
//
// A candidate word of up to shortWord bytes, nearly every query, is compared
// as two numbers loaded at offsets that depend on the query's length alone
// (wordBits), so the compare's branches resolve before the record arrives
// from memory. A compare that branches on the length it loads (the
// runtime's memequal) mispredicts for words of mixed lengths, and each
// misprediction discards the work the CPU had begun on the next lookup: the
// short compare took uniform hits on SUBTLEX-US from 50 to 34 ns.
func (t *Table) find(word []byte) ([]byte, bool) {
	h := hashMixed(word, t.hseed)
	pat := hashTag(h) * lanes16
	b := h & t.bmask
	n := uint64(len(word))
	short := n <= shortWord
	for range t.hdr.probeLimit {
		bk := t.index[b*bucketSize:][:bucketLine:bucketLine]
		lo := binary.LittleEndian.Uint64(bk)
		hi := binary.LittleEndian.Uint64(bk[8:])
		// One mask for both halves: slot i's lane at bit 16i (slots 0-3) or
		// 16(i-4)+1 (slots 4-7).
		for m := zeroLanes(lo^pat)>>15 | zeroLanes(hi^pat)>>14; m != 0; m &= m - 1 {
			tz := bits.TrailingZeros64(m)
			off := slotOffset(bk, tz>>4|(tz&1)<<2)
			if !t.bodyOffset(off) {
				continue
			}
			if short {
				// The record's length is one byte (n < 128), and at least
				// a widths byte and a rank byte follow the word.
				end := off + 1 + n
				if end+2 > uint64(len(t.data)) || uint64(t.data[off]) != n {
					continue
				}
				// Packing the query here rather than before the loop
				// spares a miss, which reaches no candidate, the branch
				// on the query's length.
				qa, qb := wordBits(word)
				if ra, rb := wordBits(t.data[off+1 : end]); ra == qa && rb == qb {
					return t.data[end:], true
				}
				continue
			}
			w, rest, ok := readWord(t.data[off:])
			if ok && string(w) == string(word) {
				return rest, true
			}
		}
		if zeroLanes(lo)|zeroLanes(hi) != 0 {
			return nil, false // an empty slot: the writer would have used it
		}
		b = (b + 1) & t.bmask
	}
	return nil, false
}

// bodyOffset reports whether off, an offset read from the file, lies past
// the header: where a record may start, in a bucket's record line or in
// the records section. It does not tell one section from another (a
// damaged offset into a tag line reads garbage, which the word compare and
// Verify catch), because a branch on which section a record is in would
// mispredict on every other hit.
func (t *Table) bodyOffset(off uint64) bool {
	return off-headerSize < uint64(len(t.data))-headerSize
}

// shortWord is the longest word find compares with wordBits.
const shortWord = 16

// wordBits packs a word of at most shortWord bytes into two numbers which,
// for two words of the same length, are equal exactly when the words are:
// two overlapping 8-byte loads, two 4-byte loads, or the first, middle and
// last bytes. The branch is on the length alone. Longer words give 0, 0.
func wordBits(p []byte) (a, b uint64) {
	switch n := len(p); {
	case n > shortWord:
	case n >= 8:
		return binary.LittleEndian.Uint64(p), binary.LittleEndian.Uint64(p[n-8:])
	case n >= 4:
		return uint64(binary.LittleEndian.Uint32(p)), uint64(binary.LittleEndian.Uint32(p[n-4:]))
	case n > 0:
		return uint64(p[0]) | uint64(p[n>>1])<<8 | uint64(p[n-1])<<16, 0
	}
	return 0, 0
}

// lanes16 has 1 in each 16-bit lane: multiplying a tag by it repeats the tag
// in every lane.
const lanes16 = 0x0001_0001_0001_0001

// zeroLanes sets bit 15 of each 16-bit lane of x that is zero. A lane above
// a zero lane may be flagged too (the subtraction's borrow), never one below
// the lowest zero lane: for tags that is a false candidate, which the word
// compare rejects, and "any lane zero" is exact.
func zeroLanes(x uint64) uint64 {
	return (x - lanes16) &^ x & 0x8000_8000_8000_8000
}
