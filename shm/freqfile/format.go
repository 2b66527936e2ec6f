package freqfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/bits"
)

// The on-disk layout, documented byte by byte in docs/format.md. Everything
// is little-endian. A file is four contiguous sections:
//
//	header   headerSize bytes
//	index    index slots / 8 buckets of 128 bytes, probed bucket by bucket:
//	         a line of tags and offsets, then a line of records
//	ranks    words × 8 bytes, the record offset of each rank
//	records  the records that did not fit in their bucket, in rank order
//	metadata "key=value\n" lines (version 3 files may have none)
const (
	// Magic opens every frequency file.
	Magic = "FREQDTBL"
	// Version is the format version this package writes and reads. Older
	// versions are refused, since a rebuild is cheap: version 1 (8-byte
	// slots, varint records) had misses slower than a Go map's, version 2
	// (64-byte buckets, every record apart) hits slower.
	Version = 3
	// MaxWordLen is the longest word, in bytes, a table can hold.
	MaxWordLen = 1024
)

const (
	headerSize = 128

	flagFoldCase = 1 << 0 // words were folded with Fold
	// flagSetRanks marks one shard of a set: each record's rank is the
	// word's rank in the whole set (1..set.words), and the rank array
	// lists the shard's records in that order. A reader that predates it
	// refuses the file (unknown flags) rather than misread its ranks.
	flagSetRanks = 1 << 1
	flagsKnown   = flagFoldCase | flagSetRanks

	// An index slot is a 16-bit hash tag and a 48-bit record offset, so
	// offsets, and the file, are limited to 256 TiB.
	tagBits     = 16
	offsetBits  = 48
	maxFileSize = 1 << offsetBits

	// A bucket is two cache lines. The first holds the eight tags, so that
	// one pair of 8-byte loads tests them all, then the eight 6-byte
	// offsets; a miss reads only that line. The second holds the records
	// of the bucket's words, as many as fit in rank order, so that most
	// hits read the two lines of one bucket and nothing else.
	bucketSize    = 128
	bucketLine    = 64 // where the records start
	bucketSlots   = 8
	slotBytes     = bucketSize / bucketSlots // index bytes per slot
	bucketOffsets = 2 * bucketSlots          // where the offsets start
	minIndexSlots = bucketSlots              // one bucket

	// A record is a length varint, the word, a widths byte, the count in 0
	// to 8 bytes and the rank in 1 to 8.
	maxRecordSize = 2 + MaxWordLen + 1 + 8 + 8
)

// Header field offsets.
const (
	hMagic       = 0
	hVersion     = 8
	hFlags       = 12
	hWords       = 16
	hTotal       = 24
	hSeed        = 32
	hIndexOff    = 40
	hIndexSlots  = 48
	hProbeLimit  = 56
	hRanksOff    = 64
	hRecordsOff  = 72
	hRecordsSize = 80
	hFileSize    = 88
	hBodyCRC     = 96
	hMetaSize    = 100 // bytes of metadata at the end of the file
	hReserved    = 104 // through 123, zero
	hHeaderCRC   = 124
)

// castagnoli is CRC-32C, which amd64 and arm64 compute in hardware.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt matches (with errors.Is) every error that reports a damaged or
// malformed file, or one in a format version this freqd no longer reads, so
// a caller can tell "rebuild the file" from "cannot read the file".
var ErrCorrupt = errors.New("corrupt frequency file")

// corruptError is a message about a damaged file that matches ErrCorrupt.
type corruptError struct{ msg string }

func (e *corruptError) Error() string        { return e.msg }
func (e *corruptError) Is(target error) bool { return target == ErrCorrupt }

// corruptf reports a damaged file; the caller adds the file's name.
func corruptf(format string, args ...any) error {
	return &corruptError{fmt.Sprintf(format, args...) + "; rebuild it with 'freqd build'"}
}

// header is the decoded fixed-size header.
type header struct {
	flags       uint32
	words       uint64
	total       uint64
	seed        uint64
	indexOff    uint64
	indexSlots  uint64
	probeLimit  uint64
	ranksOff    uint64
	recordsOff  uint64
	recordsSize uint64
	fileSize    uint64
	bodyCRC     uint32
	metaSize    uint32
}

// layout fills in the section offsets of a file holding words records in
// recordsSize bytes behind an index of indexSlots slots, and h.metaSize
// bytes of metadata after them.
func (h *header) layout(indexSlots, recordsSize uint64) {
	h.indexOff = headerSize
	h.indexSlots = indexSlots
	h.ranksOff = h.indexOff + indexSlots*slotBytes
	h.recordsOff = h.ranksOff + h.words*8
	h.recordsSize = recordsSize
	h.fileSize = h.recordsOff + recordsSize + uint64(h.metaSize)
}

// encode returns the header bytes, header checksum included.
func (h *header) encode() []byte {
	b := make([]byte, headerSize)
	le := binary.LittleEndian
	copy(b[hMagic:], Magic)
	le.PutUint32(b[hVersion:], Version)
	le.PutUint32(b[hFlags:], h.flags)
	le.PutUint64(b[hWords:], h.words)
	le.PutUint64(b[hTotal:], h.total)
	le.PutUint64(b[hSeed:], h.seed)
	le.PutUint64(b[hIndexOff:], h.indexOff)
	le.PutUint64(b[hIndexSlots:], h.indexSlots)
	le.PutUint64(b[hProbeLimit:], h.probeLimit)
	le.PutUint64(b[hRanksOff:], h.ranksOff)
	le.PutUint64(b[hRecordsOff:], h.recordsOff)
	le.PutUint64(b[hRecordsSize:], h.recordsSize)
	le.PutUint64(b[hFileSize:], h.fileSize)
	le.PutUint32(b[hBodyCRC:], h.bodyCRC)
	le.PutUint32(b[hMetaSize:], h.metaSize)
	le.PutUint32(b[hHeaderCRC:], crc32.Checksum(b[:hHeaderCRC], castagnoli))
	return b
}

// decodeHeader checks the header of the file b and decodes it. It reads only
// the header: the cost does not depend on the number of words. Every offset
// and size is checked against the file's real length, so that what the table
// reads later through them lies inside b.
func decodeHeader(b []byte) (header, error) {
	var h header
	le := binary.LittleEndian
	switch {
	case len(b) == 0:
		return h, &corruptError{"empty file (0 bytes), not a frequency file; build one with 'freqd build'"}
	case len(b) < len(Magic) || string(b[:len(Magic)]) != Magic:
		return h, &corruptError{"not a freqd frequency file (bad magic); build one with 'freqd build'"}
	case len(b) < hVersion+4:
		return h, corruptf("truncated header (%d of %d bytes)", len(b), headerSize)
	}
	// The magic and the version are the only fields every version keeps in
	// place, so the version is checked before the rest of the header.
	if v := le.Uint32(b[hVersion:]); v != Version {
		switch {
		case v > Version:
			return h, fmt.Errorf("format version %d is newer than this freqd reads (version %d); upgrade freqd or rebuild the file with this one", v, Version)
		case v > 0:
			// Written by an older freqd from the same input: rebuilding is
			// the fix, and cheaper than keeping a reader for every version.
			return h, corruptf("format version %d is older than this freqd reads (version %d)", v, Version)
		}
		return h, corruptf("unknown format version %d", v)
	}
	if len(b) < headerSize {
		return h, corruptf("truncated header (%d of %d bytes)", len(b), headerSize)
	}
	if got, want := crc32.Checksum(b[:hHeaderCRC], castagnoli), le.Uint32(b[hHeaderCRC:]); got != want {
		return h, corruptf("header checksum mismatch (computed %#08x, stored %#08x)", got, want)
	}
	h = header{
		flags:       le.Uint32(b[hFlags:]),
		words:       le.Uint64(b[hWords:]),
		total:       le.Uint64(b[hTotal:]),
		seed:        le.Uint64(b[hSeed:]),
		indexOff:    le.Uint64(b[hIndexOff:]),
		indexSlots:  le.Uint64(b[hIndexSlots:]),
		probeLimit:  le.Uint64(b[hProbeLimit:]),
		ranksOff:    le.Uint64(b[hRanksOff:]),
		recordsOff:  le.Uint64(b[hRecordsOff:]),
		recordsSize: le.Uint64(b[hRecordsSize:]),
		fileSize:    le.Uint64(b[hFileSize:]),
		bodyCRC:     le.Uint32(b[hBodyCRC:]),
		metaSize:    le.Uint32(b[hMetaSize:]),
	}
	if err := h.check(uint64(len(b))); err != nil {
		return header{}, err
	}
	for _, c := range b[hReserved:hHeaderCRC] {
		if c != 0 {
			return header{}, fmt.Errorf("header has reserved bytes set: the file was written by a newer freqd; upgrade freqd or rebuild the file with this one")
		}
	}
	return h, nil
}

// check validates the header's fields against each other and against the
// actual file size n. The checksum has already passed, so a failure here
// means a file written wrongly (or on purpose), not a flipped bit.
func (h *header) check(n uint64) error {
	if h.flags&^flagsKnown != 0 {
		return fmt.Errorf("unknown header flags %#x: the file was written by a newer freqd; upgrade freqd or rebuild the file with this one", h.flags&^flagsKnown)
	}
	if h.fileSize != n {
		if n < h.fileSize {
			return corruptf("truncated: header says %d bytes, file has %d", h.fileSize, n)
		}
		return corruptf("header says %d bytes, file has %d (trailing data)", h.fileSize, n)
	}
	if n > maxFileSize {
		return corruptf("file of %d bytes exceeds the format's %d-byte limit", n, uint64(maxFileSize))
	}
	slots := h.indexSlots
	if slots < minIndexSlots || slots&(slots-1) != 0 || slots > n/slotBytes {
		return corruptf("index slot count %d is not a power of two between %d and the file size / %d", slots, minIndexSlots, slotBytes)
	}
	if h.words >= slots {
		return corruptf("%d words do not fit an index of %d slots", h.words, slots)
	}
	// A lookup probes at most probeLimit buckets; more than there are would
	// visit one twice, and none at all would hide every word.
	if buckets := slots / bucketSlots; h.probeLimit > buckets {
		return corruptf("probe limit %d exceeds the %d index buckets", h.probeLimit, buckets)
	}
	if h.probeLimit == 0 && h.words != 0 {
		return corruptf("probe limit 0 for %d words", h.words)
	}
	// slots ≤ n/16 and words < slots keep these sums far from overflowing;
	// recordsSize is compared, never added, since it is not bounded yet.
	ranksOff := headerSize + slots*slotBytes
	recordsOff := ranksOff + h.words*8
	meta := uint64(h.metaSize)
	if h.indexOff != headerSize || h.ranksOff != ranksOff || h.recordsOff != recordsOff ||
		meta > MaxMetaSize || recordsOff+meta > n || h.recordsSize != n-recordsOff-meta {
		return corruptf("section offsets (index %d, ranks %d, records %d+%d, metadata %d) do not tile the %d-byte file",
			h.indexOff, h.ranksOff, h.recordsOff, h.recordsSize, meta, n)
	}
	if h.words == 0 && h.total != 0 {
		return corruptf("an empty table with a total count of %d", h.total)
	}
	return nil
}

// hashTag returns the index tag of a word's hash: its top 16 bits, which the
// home bucket (low bits) does not use, with 0, which marks an empty slot,
// read as 1 ((t-1)>>63 is 1 only for t = 0: no branch in the lookup path).
func hashTag(h uint64) uint64 {
	t := h >> (64 - tagBits)
	return t | (t-1)>>63
}

// slotOffset returns the 48-bit value in slot s (0..7) of the bucket whose
// first line is bk: one 8-byte load that ends where the offset does,
// shifted past the two bytes before it.
func slotOffset(bk []byte, s int) uint64 {
	return binary.LittleEndian.Uint64(bk[bucketOffsets+6*s-2:]) >> 16
}

// indexSlotsFor returns the index size for n words: the smallest power of
// two that keeps the load factor at or below 0.7, and at least one bucket.
// At that load few buckets overflow, so nearly every lookup reads one.
func indexSlotsFor(n uint64) uint64 {
	need := n + n*3/7 + 1 // n / 0.7, rounded up, and at least one empty slot
	if need <= minIndexSlots {
		return minIndexSlots
	}
	return 1 << bits.Len64(need-1)
}
