package freqfile

import (
	"bufio"
	"cmp"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// StreamOptions bound a StreamWriter.
type StreamOptions struct {
	// TmpDir holds the writer's temporary files; "" means the output's
	// directory. The files have no name (O_TMPFILE, or unlinked at once),
	// so the kernel frees them however the process ends.
	TmpDir string
	// MemoryLimit bounds the memory the writer's buffers hold, in bytes;
	// 0 means DefaultStreamMemory. The index is built a window of buckets
	// at a time, each window at most a quarter of the limit.
	MemoryLimit int64
	// BeforeLink, if set, is called when the file is complete, just before
	// it gets its name; returning false abandons it. A caller that exits
	// on a signal uses it to tell the moment after which it must not.
	BeforeLink func() bool
}

// DefaultStreamMemory is the memory a StreamWriter uses without a limit.
const DefaultStreamMemory = 256 << 20

// StreamWriter writes a frequency file from entries given one at a time in
// rank order (count descending, then word in byte order), in memory bounded
// by StreamOptions.MemoryLimit however many words there are. The result is
// byte for byte what WriteFile writes for the same entries.
//
// WriteTable needs every entry, the whole index and the rank array in
// memory at once: about 70 bytes a word, 7 GB for 100 million words. The
// index is laid out by hash, the rank array and the records by rank, and
// each needs offsets only the other knows, so the StreamWriter passes the
// entries through temporary files in four steps:
//
//  1. Add: each entry goes to the partition of its home bucket's window (a
//     range of buckets that fits in memory), with its rank.
//  2. Place: each window in turn, its entries grouped by home bucket, is
//     swept bucket by bucket: a bucket takes the best-ranked entries
//     waiting for it (its own and those displaced from earlier buckets),
//     which is where inserting in rank order puts them (see place). This
//     decides each entry's slot and whether its record fits in the bucket's
//     record line.
//  3. Offsets: the partitions are merged back into rank order; the records
//     that did not fit their line are laid out in the records section, the
//     rank array is written, and each entry's slot contents go to the
//     window of the bucket that holds it.
//  4. Write: each window's buckets are filled in memory and written in
//     order, then the rank array, the records and the metadata follow.
type StreamWriter struct {
	path string
	opts BuildOptions
	tmp  string
	mem  int64
	hook func() bool

	n, buckets, bmask uint64
	winShift          uint // buckets per window = 1 << winShift
	parts             []*spool
	lastRank          []uint64 // rank of the last entry of each partition
	hist              []uint8  // entries per home bucket, saturated at 255
	histBig           map[uint64]uint64

	added       uint64
	total       uint64
	allRecords  uint64 // bytes of every record, an upper bound on the records section
	prevCount   uint64
	prevWord    []byte
	fold        []byte
	scratch     []byte
	err         error
	tempBytes   int64
	peakTemp    int64
	liveSpools  []*spool
	longestDisp uint64
	lastSetRank uint64 // the last rank AddRanked took
}

// NewStreamWriter starts a frequency file of exactly n entries at path;
// Commit writes it, Abort gives up. Nothing appears at path before Commit.
func NewStreamWriter(path string, n uint64, opts BuildOptions, so StreamOptions) (*StreamWriter, error) {
	if so.MemoryLimit <= 0 {
		so.MemoryLimit = DefaultStreamMemory
	}
	if so.TmpDir == "" {
		so.TmpDir = filepath.Dir(path)
	}
	if opts.SetWords != 0 {
		if n > opts.SetWords {
			return nil, fmt.Errorf("build %s: a shard of %d words in a set of %d", path, n, opts.SetWords)
		}
		meta := Metadata{MetaSetWords: strconv.FormatUint(opts.SetWords, 10)}
		for k, v := range opts.Meta {
			if k != MetaSetWords {
				meta[k] = v
			}
		}
		opts.Meta = meta
	}
	w := &StreamWriter{path: path, opts: opts, tmp: so.TmpDir, mem: so.MemoryLimit, hook: so.BeforeLink, n: n, histBig: map[uint64]uint64{}}
	w.buckets = indexSlotsFor(n) / bucketSlots
	w.bmask = w.buckets - 1
	// A window's buckets take at most a quarter of the memory; its entries
	// in the place step about as much again.
	perWindow := max(uint64(so.MemoryLimit/4/bucketSize), 1)
	w.winShift = uint(bits.Len64(perWindow) - 1)
	w.winShift = min(w.winShift, uint(bits.TrailingZeros64(w.buckets)))
	windows := w.buckets >> w.winShift
	w.hist = make([]uint8, w.buckets)
	for range windows {
		s, err := w.newSpool()
		if err != nil {
			w.Abort()
			return nil, fmt.Errorf("build %s: %w", path, err)
		}
		w.parts = append(w.parts, s)
	}
	w.lastRank = make([]uint64, windows)
	if _, err := os.Stat(so.TmpDir); err != nil {
		w.Abort()
		return nil, fmt.Errorf("build %s: temporary directory: %w", path, err)
	}
	return w, nil
}

// Add appends the next entry. Entries must come in rank order: counts
// descending, equal counts by word in byte order.
func (w *StreamWriter) Add(word []byte, count uint64) error {
	if w.opts.SetWords != 0 && w.err == nil {
		w.err = fmt.Errorf("build %s: the entries of a shard carry their rank in the set; add them with AddRanked", w.path)
	}
	return w.add(word, count, w.added+1)
}

// AddRanked appends the next entry of a shard (BuildOptions.SetWords) with
// its rank in the whole set: ranks increase from entry to entry, up to
// SetWords, and the entries come in rank order as for Add.
func (w *StreamWriter) AddRanked(word []byte, count, rank uint64) error {
	switch {
	case w.err != nil:
	case w.opts.SetWords == 0:
		w.err = fmt.Errorf("build %s: AddRanked adds to a shard of a set; set BuildOptions.SetWords", w.path)
	case rank <= w.lastSetRank || rank > w.opts.SetWords:
		w.err = fmt.Errorf("build %s: rank %d after %d in a set of %d words: ranks must increase within the set", w.path, rank, w.lastSetRank, w.opts.SetWords)
	}
	w.lastSetRank = rank
	return w.add(word, count, rank)
}

// add appends an entry of the given rank.
func (w *StreamWriter) add(word []byte, count, rank uint64) error {
	if w.err != nil {
		return w.err
	}
	if err := w.check(word, count); err != nil {
		w.err = fmt.Errorf("build %s: %w", w.path, err)
		return w.err
	}
	w.added++
	w.allRecords += uint64(recordSize(unsafeStr(word), count, rank))
	h := Hash(word, hashSeed)
	home := h & w.bmask
	if w.hist[home] == 255 {
		w.histBig[home]++
	} else {
		w.hist[home]++
	}
	win := home >> w.winShift
	b := w.scratch[:0]
	b = binary.AppendUvarint(b, rank-w.lastRank[win])
	b = binary.AppendUvarint(b, count)
	b = binary.AppendUvarint(b, uint64(len(word)))
	b = append(b, word...)
	w.scratch = b
	w.lastRank[win] = rank
	if err := w.parts[win].write(b); err != nil {
		w.err = fmt.Errorf("build %s: %w", w.path, err)
		return w.err
	}
	w.prevCount = count
	w.prevWord = append(w.prevWord[:0], word...)
	return nil
}

// check applies WriteTable's rules to one entry, and the order.
func (w *StreamWriter) check(word []byte, count uint64) error {
	switch {
	case w.added == w.n:
		return fmt.Errorf("more than the %d entries announced", w.n)
	case len(word) == 0:
		return fmt.Errorf("entry %d (count %d) has an empty word; drop empty words before building", w.added, count)
	case len(word) > MaxWordLen:
		return fmt.Errorf("word %q is %d bytes, longer than the %d-byte limit; drop or shorten it", clip(string(word)), len(word), MaxWordLen)
	}
	if w.opts.FoldCase && !isFolded(word) {
		w.fold = Fold(w.fold[:0], word)
		return fmt.Errorf("word %q is not case-folded (folds to %q) but FoldCase is set; fold words with freqfile.Fold and sum the counts of words that fold alike", clip(string(word)), clip(string(w.fold)))
	}
	if w.added > 0 {
		c := cmp.Compare(w.prevCount, count)
		if c == 0 {
			c = -slices.Compare(w.prevWord, word)
		}
		if c < 0 {
			return fmt.Errorf("entry %q (count %d) comes after %q (count %d): entries must come by count, highest first, then by word", clip(string(word)), count, clip(string(w.prevWord)), w.prevCount)
		}
		if c == 0 {
			return fmt.Errorf("duplicate word %q (counts %d and %d); merge duplicates before building", clip(string(word)), count, count)
		}
	}
	var carry uint64
	w.total, carry = bits.Add64(w.total, count, 0)
	if carry != 0 {
		return fmt.Errorf("the sum of counts overflows 64 bits at word %q; scale the counts down", clip(string(word)))
	}
	return nil
}

// TempBytes is the most temporary disk the writer has used at once.
func (w *StreamWriter) TempBytes() int64 { return w.peakTemp }

// Abort releases the temporary files; nothing is written.
func (w *StreamWriter) Abort() {
	for _, s := range w.liveSpools {
		s.close()
	}
	w.liveSpools = nil
	if w.err == nil {
		w.err = errors.New("stream writer aborted")
	}
}

// Commit writes the file: atomically, as WriteFile does.
func (w *StreamWriter) Commit() (err error) {
	defer w.Abort()
	if w.err != nil {
		return w.err
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("build %s: %w", w.path, err)
		}
	}()
	if w.added != w.n {
		return fmt.Errorf("%d entries added, %d announced", w.added, w.n)
	}
	meta, err := w.opts.Meta.encode()
	if err != nil {
		return err
	}
	var hdr header
	hdr.metaSize = uint32(len(meta))
	hdr.words = w.n
	hdr.total = w.total
	hdr.seed = hashSeed
	if w.opts.FoldCase {
		hdr.flags |= flagFoldCase
	}
	if w.opts.SetWords != 0 {
		hdr.flags |= flagSetRanks
	}
	slots := w.buckets * bucketSlots
	hdr.layout(slots, w.allRecords)
	if hdr.fileSize > maxFileSize {
		return fmt.Errorf("%d words make a %d-byte file, over the format's %d-byte limit; split the table", w.n, hdr.fileSize, uint64(maxFileSize))
	}
	plc, err := w.place()
	if err != nil {
		return err
	}
	entries, ranks, records, err := w.offsets(plc, hdr.recordsOff)
	if err != nil {
		return err
	}
	hdr.probeLimit = w.longestDisp
	if w.n == 0 {
		hdr.probeLimit = 0
	}
	hdr.layout(slots, uint64(records.n))
	return w.write(&hdr, entries, ranks, records, meta)
}

// A placement says where the place step put an entry, in 16 bits: the slot
// in its bucket (3), whether its record is in the bucket's record line (1),
// where in the line (6), and how many buckets past its home bucket it went
// (6; a displacement of dispEscape or more is kept in a map).
type placement uint16

const (
	plcInline  = 1 << 3
	plcUsedSh  = 4
	plcDispSh  = 10
	dispEscape = 63
)

func (p placement) slot() int    { return int(p & 7) }
func (p placement) inline() bool { return p&plcInline != 0 }
func (p placement) used() int    { return int(p>>plcUsedSh) & 63 }

// placements holds each window's placements, in its partition's order, once
// every entry of the window is placed.
type placements struct {
	spools []*spool
	far    map[[2]uint64]uint64 // (window, index) → displacement ≥ dispEscape
}

// pending is an entry that waits for a bucket with a free slot.
type pending struct {
	rank uint64
	home uint64
	size int
	win  uint64 // window of the home bucket
	idx  int    // position in that window's partition
}

// winState is a window's placements while the sweep is in it or while some
// of its entries wait for later buckets.
type winState struct {
	plc      []placement
	unplaced int
}

// startBucket returns a bucket no entry probes past into from the one
// before, so that a sweep starting there sees every entry its buckets
// take. How many entries each bucket ends up with does not depend on the
// insertion order, only on how many call each bucket home, so it is found
// from the histogram: once around from bucket 0 with nothing waiting ends
// with what truly waits at bucket 0 (past the first bucket that keeps a
// free slot, the counts are exact), and a second time round finds a bucket
// with nothing waiting.
func (w *StreamWriter) startBucket() uint64 {
	homes := func(b uint64) uint64 {
		if n := uint64(w.hist[b]); n < 255 {
			return n
		}
		return 255 + w.histBig[b]
	}
	var carry uint64
	for b := range w.buckets {
		carry = (carry + homes(b)) - min(carry+homes(b), bucketSlots)
	}
	for b := range w.buckets {
		if carry == 0 {
			return b
		}
		carry = (carry + homes(b)) - min(carry+homes(b), bucketSlots)
	}
	return 0 // unreachable with fewer entries than slots
}

// place is step 2. It reproduces WriteTable's insertion of the entries in
// rank order, one bucket at a time: an entry is placed in the first bucket
// from its home with a free slot once every better-ranked entry is placed,
// and the entries of better rank that a bucket takes are its own or ones
// displaced from earlier buckets. So sweeping the buckets in order, each
// bucket takes the best-ranked of the entries waiting for it (displaced
// ones and those whose home it is), in rank order, up to its eight slots,
// and the rest wait for the next bucket; each entry's record goes in the
// bucket's record line if it fits after the records already there.
func (w *StreamWriter) place() (*placements, error) {
	windows := uint64(len(w.parts))
	out := &placements{spools: make([]*spool, windows), far: map[[2]uint64]uint64{}}
	start := w.startBucket()
	w.hist, w.histBig = nil, nil
	wb := uint64(1) << w.winShift
	states := map[uint64]*winState{}
	var wait []pending
	var cands []pending
	sw := &sweeper{w: w}

	// The sweep: the start bucket's window from the start bucket on, every
	// other window, then the start bucket's window up to the start bucket.
	sw0 := start >> w.winShift
	type segment struct{ win, from, to uint64 }
	segs := []segment{{sw0, start & (wb - 1), wb}}
	for i := uint64(1); i < windows; i++ {
		segs = append(segs, segment{(sw0 + i) % windows, 0, wb})
	}
	if start&(wb-1) != 0 {
		segs = append(segs, segment{sw0, 0, start & (wb - 1)})
	}
	for si, sg := range segs {
		if err := sw.load(sg.win); err != nil {
			return nil, err
		}
		st := states[sg.win]
		if st == nil {
			st = &winState{plc: make([]placement, len(sw.ranks)), unplaced: len(sw.ranks)}
			states[sg.win] = st
		}
		base := sg.win << w.winShift
		for rel := sg.from; rel < sg.to; rel++ {
			group := sw.order[sw.first[rel]:sw.first[rel+1]]
			if err := sw.checkDuplicates(group); err != nil {
				return nil, err
			}
			if len(wait) == 0 && len(group) == 0 {
				continue
			}
			// Merge the waiting entries and the bucket's own, both in rank
			// order.
			cands = cands[:0]
			i := 0
			for _, k := range group {
				r := sw.ranks[k]
				for i < len(wait) && wait[i].rank < r {
					cands = append(cands, wait[i])
					i++
				}
				cands = append(cands, pending{rank: r, home: base + rel, size: int(sw.sizes[k]), win: sg.win, idx: int(k)})
			}
			cands = append(cands, wait[i:]...)
			b := base + rel
			used := 0
			take := min(len(cands), bucketSlots)
			for s, c := range cands[:take] {
				p := placement(s)
				if used+c.size <= bucketSize-bucketLine {
					p |= plcInline | placement(used)<<plcUsedSh
					used += c.size
				}
				disp := (b - c.home) & w.bmask
				w.longestDisp = max(w.longestDisp, disp+1)
				if disp >= dispEscape {
					out.far[[2]uint64{c.win, uint64(c.idx)}] = disp
					disp = dispEscape
				}
				p |= placement(disp) << plcDispSh
				ws := states[c.win]
				ws.plc[c.idx] = p
				ws.unplaced--
			}
			wait = append(wait[:0], cands[take:]...)
		}
		// Windows whose entries are all placed are written out; the start
		// bucket's window only after its first buckets, swept last.
		for win, ws := range states {
			if ws.unplaced > 0 || (win == sw0 && si != len(segs)-1) {
				continue
			}
			s, err := w.newSpool()
			if err != nil {
				return nil, err
			}
			for _, p := range ws.plc {
				if err := s.write([]byte{byte(p), byte(p >> 8)}); err != nil {
					return nil, err
				}
			}
			out.spools[win] = s
			delete(states, win)
		}
	}
	if len(wait) > 0 || len(states) > 0 {
		return nil, errors.New("internal error: entries left unplaced")
	}
	return out, nil
}

// sweeper holds one window's entries, grouped by home bucket, for place.
type sweeper struct {
	w      *StreamWriter
	win    uint64
	loaded bool
	data   []byte   // the partition
	ranks  []uint64 // per entry, in partition order
	hashes []uint64
	words  []uint32 // offset of each word in data
	sizes  []uint16 // record size
	first  []uint32 // entries of home bucket rel are order[first[rel]:first[rel+1]]
	order  []uint32
}

// load reads window win's partition and groups its entries by home bucket,
// keeping rank order within a bucket (a counting sort).
func (sw *sweeper) load(win uint64) error {
	if sw.loaded && sw.win == win {
		return nil
	}
	w := sw.w
	sw.win, sw.loaded = win, true
	p := w.parts[win]
	data, err := p.readAll(sw.data[:0])
	if err != nil {
		return err
	}
	sw.data = data
	sw.ranks, sw.hashes, sw.words, sw.sizes = sw.ranks[:0], sw.hashes[:0], sw.words[:0], sw.sizes[:0]
	wb := uint64(1) << w.winShift
	if cap(sw.first) < int(wb)+1 {
		sw.first = make([]uint32, wb+1)
	}
	sw.first = sw.first[:wb+1]
	clear(sw.first)
	var rank uint64
	for off := 0; off < len(data); {
		d, n1 := binary.Uvarint(data[off:])
		c, n2 := binary.Uvarint(data[off+n1:])
		l, n3 := binary.Uvarint(data[off+n1+n2:])
		start := off + n1 + n2 + n3
		word := data[start : start+int(l)]
		off = start + int(l)
		rank += d
		h := Hash(word, hashSeed)
		sw.ranks = append(sw.ranks, rank)
		sw.hashes = append(sw.hashes, h)
		sw.words = append(sw.words, uint32(start))
		sw.sizes = append(sw.sizes, uint16(recordSize(unsafeStr(word), c, rank)))
		sw.first[(h&w.bmask)&(wb-1)+1]++
	}
	for i := 1; i <= int(wb); i++ {
		sw.first[i] += sw.first[i-1]
	}
	sw.order = slices.Grow(sw.order[:0], len(sw.ranks))[:len(sw.ranks)]
	next := slices.Clone(sw.first[:wb])
	for k, h := range sw.hashes {
		rel := (h & w.bmask) & (wb - 1)
		sw.order[next[rel]] = uint32(k)
		next[rel]++
	}
	return nil
}

// wordAt returns the word starting at data[off], whose length varint ends
// just before off.
func (sw *sweeper) wordAt(off int) []byte {
	// Lengths are at most MaxWordLen, two varint bytes; the byte before the
	// word has no continuation bit, the one before that may.
	l := uint64(sw.data[off-1])
	if off >= 2 && sw.data[off-2]&0x80 != 0 && l < 0x80 {
		l = uint64(sw.data[off-2]&0x7f) | l<<7
	}
	return sw.data[off : off+int(l)]
}

// checkDuplicates finds two entries with the same word among the entries
// of one home bucket: the only place duplicates can be, since equal words
// hash alike.
func (sw *sweeper) checkDuplicates(group []uint32) error {
	for i := 1; i < len(group); i++ {
		for j := range i {
			a, b := group[i], group[j]
			if sw.hashes[a] == sw.hashes[b] && string(sw.wordAt(int(sw.words[a]))) == string(sw.wordAt(int(sw.words[b]))) {
				return &DuplicateError{Word: string(sw.wordAt(int(sw.words[a])))}
			}
		}
	}
	return nil
}

// DuplicateError reports a word added twice to a StreamWriter.
type DuplicateError struct{ Word string }

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("duplicate word %q; merge duplicates before building", clip(e.Word))
}

// offsets is step 3: the partitions merged back into rank order, with
// their placements. It writes the rank array and the records section to
// spools, and each entry's slot (and record, if in the record line) to the
// spool of the window holding its bucket.
func (w *StreamWriter) offsets(plc *placements, recordsOff uint64) (entries []*spool, ranks, records *spool, err error) {
	windows := uint64(len(w.parts))
	if ranks, err = w.newSpool(); err != nil {
		return
	}
	if records, err = w.newSpool(); err != nil {
		return
	}
	entries = make([]*spool, windows)
	for i := range entries {
		if entries[i], err = w.newSpool(); err != nil {
			return
		}
	}
	h := make(partHeap, 0, windows)
	for win := range windows {
		pr := &partReader{win: win, r: w.parts[win].reader(), p: plc.spools[win].reader()}
		if err = pr.next(); err != nil {
			return
		}
		if pr.ok {
			h = append(h, pr)
		}
	}
	heap.Init(&h)
	var rec []byte
	var e []byte
	var word8 [8]byte
	for len(h) > 0 {
		pr := h[0]
		disp := uint64(pr.plc >> plcDispSh)
		if disp == dispEscape {
			disp = plc.far[[2]uint64{pr.win, uint64(pr.idx)}]
		}
		hash := Hash(pr.word, hashSeed)
		b := ((hash & w.bmask) + disp) & w.bmask
		var off uint64
		rec = appendRecord(rec[:0], unsafeStr(pr.word), pr.count, pr.rank)
		if pr.plc.inline() {
			off = headerSize + b*bucketSize + bucketLine + uint64(pr.plc.used())
		} else {
			off = recordsOff + uint64(records.n)
			if err = records.write(rec); err != nil {
				return
			}
		}
		binary.LittleEndian.PutUint64(word8[:], off)
		if err = ranks.write(word8[:]); err != nil {
			return
		}
		// bucket in window, slot and placement, tag, then the offset or
		// the record.
		e = binary.LittleEndian.AppendUint32(e[:0], uint32(b&(1<<w.winShift-1)))
		e = binary.LittleEndian.AppendUint16(e, uint16(pr.plc))
		e = binary.LittleEndian.AppendUint16(e, uint16(hashTag(hash)))
		if pr.plc.inline() {
			e = append(e, rec...)
		} else {
			e = append(e, word8[:6]...)
		}
		if err = entries[b>>w.winShift].write(e); err != nil {
			return
		}
		if err = pr.next(); err != nil {
			return
		}
		if pr.ok {
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
	}
	for win := range windows {
		w.parts[win].close()
		plc.spools[win].close()
	}
	return entries, ranks, records, nil
}

// partReader reads one partition, with its placements, in rank order.
type partReader struct {
	win   uint64
	r, p  *bufio.Reader
	ok    bool
	idx   int
	rank  uint64
	count uint64
	word  []byte
	plc   placement
}

func (pr *partReader) next() error {
	if pr.ok {
		pr.idx++
	}
	d, err := binary.ReadUvarint(pr.r)
	if err == io.EOF {
		pr.ok = false
		return nil
	}
	if err != nil {
		return err
	}
	pr.rank += d
	if pr.count, err = binary.ReadUvarint(pr.r); err != nil {
		return err
	}
	l, err := binary.ReadUvarint(pr.r)
	if err != nil {
		return err
	}
	pr.word = slices.Grow(pr.word[:0], int(l))[:l]
	if _, err = io.ReadFull(pr.r, pr.word); err != nil {
		return err
	}
	var p [2]byte
	if _, err = io.ReadFull(pr.p, p[:]); err != nil {
		return err
	}
	pr.plc = placement(binary.LittleEndian.Uint16(p[:]))
	pr.ok = true
	return nil
}

type partHeap []*partReader

func (h partHeap) Len() int           { return len(h) }
func (h partHeap) Less(i, j int) bool { return h[i].rank < h[j].rank }
func (h partHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *partHeap) Push(x any)        { *h = append(*h, x.(*partReader)) }
func (h *partHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// write is step 4: the file in order, through the body checksum, into an
// unnamed file that is linked at path only when complete.
func (w *StreamWriter) write(hdr *header, entries []*spool, ranks, records *spool, meta []byte) error {
	out, err := createUnnamed(filepath.Dir(w.path))
	if err != nil {
		return err
	}
	defer out.Close()
	if _, err := out.Seek(headerSize, io.SeekStart); err != nil {
		return err
	}
	var crc uint32
	bw := bufio.NewWriterSize(out, 1<<20)
	emit := func(b []byte) error {
		crc = crc32.Update(crc, castagnoli, b)
		_, err := bw.Write(b)
		return err
	}
	wb := uint64(1) << w.winShift
	chunk := make([]byte, wb*bucketSize)
	for win, s := range entries {
		clear(chunk)
		r := s.reader()
		var head [8]byte
		for {
			if _, err := io.ReadFull(r, head[:]); err == io.EOF {
				break
			} else if err != nil {
				return err
			}
			rel := binary.LittleEndian.Uint32(head[:])
			p := placement(binary.LittleEndian.Uint16(head[4:]))
			tag := uint64(binary.LittleEndian.Uint16(head[6:]))
			bk := chunk[uint64(rel)*bucketSize : (uint64(rel)+1)*bucketSize]
			var off uint64
			if p.inline() {
				line := bk[bucketLine+p.used():]
				n, err := readRecordInto(r, line)
				if err != nil {
					return err
				}
				_ = n
				off = headerSize + (uint64(win)*wb+uint64(rel))*bucketSize + bucketLine + uint64(p.used())
			} else {
				var o [8]byte
				if _, err := io.ReadFull(r, o[:6]); err != nil {
					return err
				}
				off = binary.LittleEndian.Uint64(o[:])
			}
			setSlot(bk, p.slot(), tag, off)
		}
		s.close()
		if err := emit(chunk); err != nil {
			return err
		}
	}
	chunk = nil
	for _, s := range []*spool{ranks, records} {
		r := s.reader()
		buf := make([]byte, 1<<20)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				if err := emit(buf[:n]); err != nil {
					return err
				}
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
		}
		s.close()
	}
	if err := emit(meta); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	hdr.bodyCRC = crc
	if _, err := out.WriteAt(hdr.encode(), 0); err != nil {
		return err
	}
	if err := out.Chmod(0o644); err != nil {
		return err
	}
	if err := out.Sync(); err != nil {
		return err
	}
	if w.hook != nil && !w.hook() {
		return errors.New("abandoned before it was complete")
	}
	return linkAt(out, w.path)
}

// readRecordInto copies one encoded record from r into dst.
func readRecordInto(r *bufio.Reader, dst []byte) (int, error) {
	l, err := binary.ReadUvarint(r)
	if err != nil {
		return 0, err
	}
	n := binary.PutUvarint(dst, l)
	if _, err := io.ReadFull(r, dst[n:n+int(l)]); err != nil {
		return 0, err
	}
	n += int(l)
	widths, err := r.ReadByte()
	if err != nil {
		return 0, err
	}
	dst[n] = widths
	n++
	fields := int(widths&0xf) + int(widths>>4)
	if _, err := io.ReadFull(r, dst[n:n+fields]); err != nil {
		return 0, err
	}
	return n + fields, nil
}

// spool is a temporary file written once, then read from its start.
type spool struct {
	w   *StreamWriter
	f   *os.File
	bw  *bufio.Writer
	n   int64
	red bool
}

func (w *StreamWriter) newSpool() (*spool, error) {
	f, err := createUnnamed(w.tmp)
	if err != nil {
		return nil, fmt.Errorf("temporary file in %s: %w", w.tmp, err)
	}
	s := &spool{w: w, f: f, bw: bufio.NewWriterSize(f, 256<<10)}
	w.liveSpools = append(w.liveSpools, s)
	return s, nil
}

func (s *spool) write(b []byte) error {
	n, err := s.bw.Write(b)
	s.n += int64(n)
	s.w.tempBytes += int64(n)
	s.w.peakTemp = max(s.w.peakTemp, s.w.tempBytes)
	if err != nil {
		return fmt.Errorf("temporary file in %s: %w", s.w.tmp, err)
	}
	return nil
}

// reader flushes the spool and reads it from the start.
func (s *spool) reader() *bufio.Reader {
	s.flush()
	return bufio.NewReaderSize(io.NewSectionReader(s.f, 0, s.n), 256<<10)
}

func (s *spool) flush() {
	if !s.red {
		s.red = true
		if err := s.bw.Flush(); err != nil {
			s.w.err = fmt.Errorf("temporary file in %s: %w", s.w.tmp, err)
		}
	}
}

// readAll reads the whole spool into buf.
func (s *spool) readAll(buf []byte) ([]byte, error) {
	s.flush()
	if s.w.err != nil {
		return nil, s.w.err
	}
	buf = slices.Grow(buf[:0], int(s.n))[:s.n]
	_, err := s.f.ReadAt(buf, 0)
	if err == io.EOF {
		err = nil
	}
	return buf, err
}

func (s *spool) close() {
	if s.f != nil {
		s.f.Close()
		s.f = nil
		s.w.tempBytes -= s.n
	}
}

// createUnnamed makes a file in dir that has no name until linkAt gives it
// one, so that a process killed while writing leaves nothing behind. It
// falls back to a named file removed at once where O_TMPFILE is not
// supported (some file systems).
func createUnnamed(dir string) (*os.File, error) {
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err == nil {
		return os.NewFile(uintptr(fd), filepath.Join(dir, "(unnamed)")), nil
	}
	f, err := os.CreateTemp(dir, ".freqd-tmp-*")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name())
	return f, nil
}

// linkAt gives the unnamed file f the name path, replacing any file there
// atomically, and syncs the directory so the name survives a crash.
func linkAt(f *os.File, path string) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp := filepath.Join(dir, "."+base+".tmp-"+strconv.Itoa(os.Getpid()))
	os.Remove(tmp)
	src := "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
	if err := unix.Linkat(unix.AT_FDCWD, src, unix.AT_FDCWD, tmp, unix.AT_SYMLINK_FOLLOW); err != nil {
		// An unlinked fallback file cannot be linked: copy it.
		if err := copyFile(f, tmp); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

func copyFile(f *os.File, path string) error {
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, io.NewSectionReader(f, 0, 1<<62)); err != nil {
		out.Close()
		os.Remove(path)
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		os.Remove(path)
		return err
	}
	return out.Close()
}

// unsafeStr views b as a string for the duration of a call that does not
// keep it.
func unsafeStr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
