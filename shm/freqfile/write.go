package freqfile

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/freqd/freqd/word"
)

// Entry is one word and its count, the unit WriteTable takes.
type Entry struct {
	Word  string
	Count uint64
}

// BuildOptions are the choices recorded in a frequency file's header and
// metadata.
type BuildOptions struct {
	// FoldCase marks the table as case-folded: its lookups fold the query
	// first. The caller must already have folded every word and summed the
	// counts of words that fold alike ("I" and "i"); WriteTable rejects a
	// word that is not folded rather than write a table in which it could
	// never be found. Without normalization rules in Meta, folding is Fold.
	FoldCase bool
	// Meta is stored in the file as its metadata (see Metadata). Its
	// "normalize." entries (word.Rules.Meta) are the rules the table's
	// words were normalized by, which its lookups apply to queries:
	// WriteTable checks that every word is in their normal form, and that
	// they fold case exactly when FoldCase says so.
	Meta Metadata
	// SetWords, when not 0, makes the table one shard of a set of that
	// many words, split by the caller: each entry carries its rank in the
	// whole set (StreamWriter.AddRanked), so that Rank answers as the
	// whole set's table would. The file records it in the metadata key
	// set.words and a header flag that readers older than shards refuse.
	SetWords uint64
}

// MetaSetWords is the metadata key holding the number of words of the set
// a shard belongs to (BuildOptions.SetWords).
const MetaSetWords = "set.words"

// hashSeed is the seed WriteTable hashes with. It is stored in the header,
// so a reader never assumes it; a fixed value makes builds reproducible:
// the same entries always give the same bytes.
const hashSeed = 0

// chunkSize is how much of the body is encoded between writes.
const chunkSize = 1 << 20

// WriteTable writes entries as a frequency file to w.
//
// It sorts entries in place by count, highest first, then by word (byte
// order) among equal counts; that order defines the rank, 1 being the most
// frequent. It rejects empty words, words longer than MaxWordLen bytes,
// duplicate words, unfolded words when opts.FoldCase is set, and counts whose
// sum overflows a uint64, and writes nothing in those cases.
func WriteTable(w io.Writer, entries []Entry, opts BuildOptions) error {
	p, err := plan(entries, opts)
	if err != nil {
		return err
	}
	return p.writeTo(w)
}

// WriteFile writes entries as a frequency file at path, atomically: it
// writes a temporary file in the same directory, syncs it, renames it over
// path and syncs the directory. A reader (or a crash) sees the old file or
// the new one, never a mixture; on error the old file is untouched and no
// temporary file is left behind.
func WriteFile(path string, entries []Entry, opts BuildOptions) (err error) {
	p, err := plan(entries, opts)
	if err != nil {
		return fmt.Errorf("build %s: %w", path, err)
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("build %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
			err = fmt.Errorf("build %s: %w", path, err)
		}
	}()
	if err = p.writeTo(f); err != nil {
		return err
	}
	// The file is immutable once written; anyone may read it.
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	// Without this, a crash can lose the rename even though the data is safe.
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err = d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// tablePlan is a table laid out in memory, ready to be written.
type tablePlan struct {
	entries []Entry  // in rank order
	meta    []byte   // the metadata section
	hdr     header   // body checksum still zero
	index   []byte   // the index section, as written
	ranks   []uint64 // record offset of each rank
}

// normalCheck checks that words are in the normal form their table's rules
// give them, so that no word is written that a lookup could never find:
// the rules in the metadata, or Fold on a table that records none and
// folds case.
type normalCheck struct {
	rules word.Rules
	fold  bool // the header's case-folding flag
	buf   []byte
}

func newNormalCheck(opts BuildOptions) (*normalCheck, error) {
	rules, err := word.FromMeta(opts.Meta, opts.FoldCase)
	if err != nil {
		return nil, fmt.Errorf("normalization rules: %w", err)
	}
	return &normalCheck{rules: rules, fold: opts.FoldCase}, nil
}

func (c *normalCheck) check(w []byte) error {
	// ASCII without capitals, nearly every word, is normal under any
	// rules; ASCII with capitals is normal only where case is kept.
	if folded, ascii := isFoldedASCII(w); ascii && (folded || !c.fold) {
		return nil
	}
	switch {
	case c.rules.Recorded():
		c.buf = c.rules.AppendNormal(c.buf[:0], w)
		if string(c.buf) != string(w) {
			return fmt.Errorf("word %q is not in the normal form of the table's rules (%q); normalize words with word.Rules.AppendNormal and sum the counts of words that normalize alike", clip(string(w)), clip(string(c.buf)))
		}
	case c.fold:
		c.buf = Fold(c.buf[:0], w)
		if string(c.buf) != string(w) {
			return fmt.Errorf("word %q is not case-folded (folds to %q) but FoldCase is set; fold words with freqfile.Fold and sum the counts of words that fold alike", clip(string(w)), clip(string(c.buf)))
		}
	}
	return nil
}

// plan validates and sorts entries and lays out the file.
func plan(entries []Entry, opts BuildOptions) (*tablePlan, error) {
	if opts.SetWords != 0 {
		return nil, errors.New("a shard of a set is written with a StreamWriter, whose AddRanked takes each word's rank in the set")
	}
	nc, err := newNormalCheck(opts)
	if err != nil {
		return nil, err
	}
	var total uint64
	for i, e := range entries {
		if e.Word == "" {
			return nil, fmt.Errorf("entry %d (count %d) has an empty word; drop empty words before building", i, e.Count)
		}
		if len(e.Word) > MaxWordLen {
			return nil, fmt.Errorf("word %q is %d bytes, longer than the %d-byte limit; drop or shorten it", clip(e.Word), len(e.Word), MaxWordLen)
		}
		if err := nc.check([]byte(e.Word)); err != nil {
			return nil, err
		}
		var carry uint64
		total, carry = bits.Add64(total, e.Count, 0)
		if carry != 0 {
			return nil, fmt.Errorf("the sum of counts overflows 64 bits at word %q; scale the counts down", clip(e.Word))
		}
	}
	slices.SortFunc(entries, func(a, b Entry) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return strings.Compare(a.Word, b.Word)
	})

	meta, err := opts.Meta.encode()
	if err != nil {
		return nil, err
	}
	p := &tablePlan{entries: entries, meta: meta}
	p.hdr.metaSize = uint32(len(meta))
	n := uint64(len(entries))
	p.hdr.words = n
	p.hdr.total = total
	p.hdr.seed = hashSeed
	if opts.FoldCase {
		p.hdr.flags |= flagFoldCase
	}
	slots := indexSlotsFor(n)
	// Refuse a table over the size limit before building its index: with
	// every record in the records section, the file is as large as it gets.
	var allRecords uint64
	for i, e := range entries {
		allRecords += uint64(recordSize(e.Word, e.Count, uint64(i)+1))
	}
	p.hdr.layout(slots, allRecords)
	if p.hdr.fileSize > maxFileSize {
		return nil, fmt.Errorf("%d words make a %d-byte file, over the format's %d-byte limit; split the table", n, p.hdr.fileSize, uint64(maxFileSize))
	}
	p.ranks = make([]uint64, n)
	recordsSize, err := p.buildIndex(slots)
	if err != nil {
		return nil, err
	}
	p.hdr.layout(slots, recordsSize)
	p.fillOffsets()
	return p, nil
}

// buildIndex fills the bucketed index. Words go in by rank, so the most
// frequent words take the slots of their home buckets, and the room for
// records in them, and the queries that matter most finish at the first
// bucket; rarer words overflow into the buckets that follow. A record that
// fits in its bucket's record line is written there; the others go to the
// records section, which starts at p.hdr.recordsOff whatever its size, in
// the order they come: rank order. p.ranks gets each record's offset, and
// each slot holds its word's rank index until fillOffsets. It returns the
// size of the records section.
func (p *tablePlan) buildIndex(slots uint64) (recordsSize uint64, err error) {
	p.index = make([]byte, slots*slotBytes)
	mask := slots/bucketSlots - 1
	lineUsed := make([]uint8, slots/bucketSlots) // bytes of each record line taken
	var longest uint64
	for i, e := range p.entries {
		h := Hash([]byte(e.Word), p.hdr.seed)
		tag := hashTag(h)
		b := h & mask
		// N < S leaves an empty slot somewhere, so this ends. Every bucket
		// before it is full: a duplicate of e, placed earlier, is in one of
		// them or in this bucket's used slots.
	probe:
		for dist := uint64(1); ; dist++ {
			bk := p.index[b*bucketSize : (b+1)*bucketSize]
			for s := range bucketSlots {
				t := uint64(binary.LittleEndian.Uint16(bk[2*s:]))
				if t == 0 {
					setSlot(bk, s, tag, uint64(i))
					longest = max(longest, dist)
					size := recordSize(e.Word, e.Count, uint64(i)+1)
					if used := int(lineUsed[b]); used+size <= bucketSize-bucketLine {
						// In place: the slice has room for size bytes.
						appendRecord(bk[bucketLine+used:bucketLine+used], e.Word, e.Count, uint64(i)+1)
						lineUsed[b] += uint8(size)
						p.ranks[i] = headerSize + b*bucketSize + bucketLine + uint64(used)
					} else {
						p.ranks[i] = p.hdr.recordsOff + recordsSize
						recordsSize += uint64(size)
					}
					break probe
				}
				if t == tag {
					if prev := p.entries[slotOffset(bk, s)]; prev.Word == e.Word {
						return 0, fmt.Errorf("duplicate word %q (counts %d and %d); merge duplicates before building", clip(e.Word), prev.Count, e.Count)
					}
				}
			}
			b = (b + 1) & mask
		}
	}
	p.hdr.probeLimit = longest
	return recordsSize, nil
}

// fillOffsets replaces the rank index each slot holds with the offset of
// that word's record.
func (p *tablePlan) fillOffsets() {
	for b := 0; b < len(p.index); b += bucketSize {
		bk := p.index[b : b+bucketSize]
		for s := range bucketSlots {
			if tag := binary.LittleEndian.Uint16(bk[2*s:]); tag != 0 {
				setSlot(bk, s, uint64(tag), p.ranks[slotOffset(bk, s)])
			}
		}
	}
}

// setSlot writes a tag and a 48-bit value into slot s of bucket bk.
func setSlot(bk []byte, s int, tag, v uint64) {
	binary.LittleEndian.PutUint16(bk[2*s:], uint16(tag))
	o := bk[bucketOffsets+6*s:]
	binary.LittleEndian.PutUint32(o, uint32(v))
	binary.LittleEndian.PutUint16(o[4:], uint16(v>>32))
}

// writeTo writes the file. The header, which comes first, holds the body's
// checksum, so the body is encoded twice: once into the checksum, once into
// w. Encoding is cheap next to I/O, and it keeps w a plain io.Writer.
func (p *tablePlan) writeTo(w io.Writer) error {
	var crc uint32
	p.emitBody(func(b []byte) error {
		crc = crc32.Update(crc, castagnoli, b)
		return nil
	})
	p.hdr.bodyCRC = crc
	if _, err := w.Write(p.hdr.encode()); err != nil {
		return err
	}
	return p.emitBody(func(b []byte) error {
		_, err := w.Write(b)
		return err
	})
}

// emitBody encodes the index, the rank array and the records in order and
// passes them to fn in chunks of about chunkSize bytes.
func (p *tablePlan) emitBody(fn func([]byte) error) error {
	buf := make([]byte, 0, chunkSize+maxRecordSize)
	flush := func(force bool) error {
		if len(buf) < chunkSize && !(force && len(buf) > 0) {
			return nil
		}
		err := fn(buf)
		buf = buf[:0]
		return err
	}
	for b := 0; b < len(p.index); b += bucketSize {
		buf = append(buf, p.index[b:b+bucketSize]...)
		if err := flush(false); err != nil {
			return err
		}
	}
	for _, v := range p.ranks {
		buf = binary.LittleEndian.AppendUint64(buf, v)
		if err := flush(false); err != nil {
			return err
		}
	}
	for i, e := range p.entries {
		if p.ranks[i] < p.hdr.recordsOff {
			continue // in its bucket's record line, written with the index
		}
		buf = appendRecord(buf, e.Word, e.Count, uint64(i)+1)
		if err := flush(false); err != nil {
			return err
		}
	}
	buf = append(buf, p.meta...)
	return flush(true)
}

// clip shortens a word for an error message.
func clip(s string) string {
	const n = 40
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
