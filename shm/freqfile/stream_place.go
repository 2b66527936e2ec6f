package freqfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/bits"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// placer places a StreamWriter's entries, writes the rank array and the
// records, and gathers each entry's slot, by window of buckets, for the
// index. It runs on a goroutine of its own while entries are added, then
// fills the windows on every core at Commit.
//
// A window is at most maxWindowBuckets buckets, 1 MiB, so that filling one
// stays in the core's cache: filled in rank order, the index would take a
// cache and TLB miss for nearly every entry. Each window's entries wait in
// a bin of memory blocks, in rank order; when the bins outgrow the memory
// limit they are all written to one temporary file, each bin's part in
// one piece (a segment), and the blocks reused.
type placer struct {
	w    *StreamWriter
	err  error
	seed uint64 // hashSeed through mixSeed

	// state holds, per bucket, the slots taken (low 4 bits) and the bytes
	// of its record line taken (the rest).
	state []uint16
	// rank is the last entry's rank: its position in the table, or for a
	// shard its rank in the set, which its record holds.
	rank    uint64
	longest uint64 // the longest probe, in buckets
	ranks   sectionWriter
	records sectionWriter
	hashes  []uint64
	touched uint64 // keeps the loads of place's first pass

	winShift  uint // a window is 1<<winShift buckets
	bins      []bin
	blockSize int
	held      int64 // bytes of the blocks the bins hold
	budget    int64 // bytes the bins may hold before they are spooled
	spare     [][]byte
	spool     *os.File
	spoolSize int64
	out       []byte // spoolBins' buffer
	crossers  map[crossKey][]string
}

// maxWindowBuckets is the most buckets in a window: 1 MiB of index.
const maxWindowBuckets = 1 << 13

// bin holds one window's entries: segments of the spool, then blocks of
// memory, in rank order.
type bin struct {
	segs   []segment
	blocks [][]byte
}

type segment struct{ off, size int64 }

// A crosser is an entry placed in another window than its home bucket's.
// Two entries with the same word have the same home and tag, and each
// window checks its own entries for duplicates as it is filled; a pair
// that a window cannot see whole involves a crosser, so crossers are kept
// with their words (they are few: only entries displaced past a window's
// end) and checked against each other as they come and against the
// entries of their home window when it is filled.
type crossKey struct{ home, tag uint64 }

// The binned form of an entry: its bucket and home bucket (relative to
// the window; crosser for a crosser), its tag, slot and where its record
// lies in the record line (or noLine), then the record itself if it is
// there, or else its offset (6 bytes).
const (
	entryHead = 2 + 2 + 2 + 1 + 1
	crosser   = 1<<16 - 1
	noLine    = 0xff
)

func (p *placer) init(w *StreamWriter, mem int64) error {
	p.w = w
	p.seed = mixSeed(hashSeed)
	p.state = make([]uint16, w.buckets)
	buf := int(min(max(mem/16, 4<<10), 1<<20))
	p.ranks = sectionWriter{f: w.out, start: int64(w.ranksOff), buf: make([]byte, 0, buf)}
	p.records = sectionWriter{f: w.out, start: int64(w.recordsOff), buf: make([]byte, 0, buf)}
	// Windows shrink with the memory limit too, so that a small limit
	// (in tests) exercises every case of a large table.
	winBuckets := min(uint64(maxWindowBuckets), w.buckets, uint64(max(mem/4/bucketSize, 1)))
	p.winShift = uint(bits.Len64(winBuckets) - 1)
	windows := w.buckets >> p.winShift
	p.bins = make([]bin, windows)
	p.budget = mem - int64(len(p.state))*2 - 2*int64(buf) - int64(runtime.GOMAXPROCS(0))<<p.winShift*bucketSize
	p.blockSize = int(min(max(p.budget/4/int64(windows), 256), 64<<10))
	// However small the limit, the bins hold a few blocks between writes.
	p.budget = max(p.budget, 8*int64(p.blockSize))
	p.crossers = map[crossKey][]string{}
	return nil
}

func (p *placer) run(todo <-chan *addBatch, free chan<- *addBatch, done chan<- struct{}, failed *atomic.Bool) {
	defer close(done)
	for b := range todo {
		if p.err == nil {
			if p.err = p.place(b); p.err != nil {
				failed.Store(true)
			}
		}
		b.words, b.ends, b.counts, b.ranks = b.words[:0], b.ends[:0], b.counts[:0], b.ranks[:0]
		free <- b
	}
}

// place places a batch of entries in rank order: each goes to the first
// bucket from its home with a free slot, its record into that bucket's
// record line if it fits after the records already there, or else to the
// records section. That is where WriteTable puts it.
func (p *placer) place(bt *addBatch) error {
	w := p.w
	// Hashing the batch first lets the loads of the home buckets' states,
	// cache misses nearly all, overlap: no load waits for another.
	p.hashes = slices.Grow(p.hashes[:0], len(bt.ends))[:len(bt.ends)]
	var start uint32
	var touch uint16
	for i, end := range bt.ends {
		h := hashMixed(bt.words[start:end], p.seed)
		start = end
		p.hashes[i] = h
		touch |= p.state[h&w.bmask]
	}
	p.touched += uint64(touch & 1)
	start = 0
	for i, end := range bt.ends {
		word := bt.words[start:end]
		start = end
		count := bt.counts[i]
		if len(bt.ranks) > 0 {
			p.rank = bt.ranks[i]
		} else {
			p.rank++
		}
		h := p.hashes[i]
		home := h & w.bmask
		tag := hashTag(h)
		b := home
		for p.state[b]&0xf == bucketSlots {
			b = (b + 1) & w.bmask
		}
		st := p.state[b]
		slot, used := int(st&0xf), int(st>>4)
		size := recordSize(unsafeStr(word), count, p.rank)
		var off uint64
		line := noLine
		if used+size <= bucketSize-bucketLine {
			off = headerSize + b*bucketSize + bucketLine + uint64(used)
			p.state[b] = st + 1 + uint16(size)<<4
			line = used
		} else {
			off = w.recordsOff + uint64(p.records.size())
			if off+uint64(size) > maxFileSize {
				return fmt.Errorf("%d words make a file over the format's %d-byte limit; split the table", w.n, uint64(maxFileSize))
			}
			p.state[b] = st + 1
			dst, err := p.records.reserve(size)
			if err != nil {
				return err
			}
			appendRecord(dst[:0], unsafeStr(word), count, p.rank)
		}
		p.longest = max(p.longest, (b-home)&w.bmask+1)
		dst, err := p.ranks.reserve(8)
		if err != nil {
			return err
		}
		binary.LittleEndian.PutUint64(dst, off)
		if err := p.bin(word, count, home, b, slot, tag, off, line, size); err != nil {
			return err
		}
	}
	return nil
}

// bin adds an entry to its window's bin, and records a crosser.
func (p *placer) bin(word []byte, count, home, b uint64, slot int, tag, off uint64, line, size int) error {
	win, relMask := b>>p.winShift, uint64(1)<<p.winShift-1
	relHome := uint16(home & relMask)
	if home>>p.winShift != win {
		relHome = crosser
		k := crossKey{home, tag}
		for _, other := range p.crossers[k] {
			if other == string(word) {
				return &DuplicateError{Word: other}
			}
		}
		p.crossers[k] = append(p.crossers[k], string(word))
	}
	n := entryHead + 6
	if line != noLine {
		n = entryHead + size
	}
	bn := &p.bins[win]
	k := len(bn.blocks)
	if k == 0 || len(bn.blocks[k-1])+n > cap(bn.blocks[k-1]) {
		if p.held > 0 && p.held+int64(p.blockSize) > p.budget {
			if err := p.spoolBins(); err != nil {
				return err
			}
		}
		var blk []byte
		if n := len(p.spare); n > 0 {
			blk, p.spare = p.spare[n-1][:0], p.spare[:n-1]
		} else {
			blk = make([]byte, 0, p.blockSize)
		}
		bn.blocks = append(bn.blocks, blk)
		p.held += int64(p.blockSize)
		k = len(bn.blocks)
	}
	blk := bn.blocks[k-1]
	e := blk[len(blk) : len(blk)+n]
	bn.blocks[k-1] = blk[:len(blk)+n]
	binary.LittleEndian.PutUint16(e, uint16(b&relMask))
	binary.LittleEndian.PutUint16(e[2:], relHome)
	binary.LittleEndian.PutUint16(e[4:], uint16(tag))
	e[6], e[7] = byte(slot), byte(line)
	if line != noLine {
		appendRecord(e[entryHead:entryHead], unsafeStr(word), count, p.rank)
	} else {
		binary.LittleEndian.PutUint32(e[entryHead:], uint32(off))
		binary.LittleEndian.PutUint16(e[entryHead+4:], uint16(off>>32))
	}
	return nil
}

// spoolBins writes every bin's blocks to the spool, each bin's in one
// segment, and keeps the blocks for reuse.
func (p *placer) spoolBins() error {
	if p.spool == nil {
		f, err := createUnnamed(p.w.tmp)
		if err != nil {
			return fmt.Errorf("temporary file in %s: %w", p.w.tmp, err)
		}
		p.spool = f
	}
	if p.out == nil {
		p.out = make([]byte, 0, min(p.budget, 1<<20))
	}
	out := p.out[:0]
	pos := p.spoolSize
	write := func() error {
		if _, err := p.spool.WriteAt(out, pos); err != nil {
			return fmt.Errorf("temporary file in %s: %w", p.w.tmp, err)
		}
		pos += int64(len(out))
		out = out[:0]
		return nil
	}
	for i := range p.bins {
		bn := &p.bins[i]
		if len(bn.blocks) == 0 {
			continue
		}
		sg := segment{off: pos + int64(len(out))}
		for _, blk := range bn.blocks {
			if len(out)+len(blk) > cap(out) {
				if err := write(); err != nil {
					return err
				}
			}
			out = append(out, blk...)
			sg.size += int64(len(blk))
			p.spare = append(p.spare, blk)
		}
		bn.segs = append(bn.segs, sg)
		bn.blocks = bn.blocks[:0]
	}
	if err := write(); err != nil {
		return err
	}
	p.spoolSize = pos
	p.held = 0
	return nil
}

// close releases the spool.
func (p *placer) close() {
	if p.spool != nil {
		p.spool.Close()
		p.spool = nil
	}
	p.bins, p.spare = nil, nil
}

// writeIndex fills the windows, on every core, writes them into the file
// and returns the index's checksum. The records section must be flushed.
func (p *placer) writeIndex() (uint32, error) {
	windows := len(p.bins)
	// A window's entries are checked against the crossers whose home it
	// is only from the first such home on.
	low := make([]uint64, windows)
	for i := range low {
		low[i] = p.w.buckets
	}
	for k := range p.crossers {
		win := k.home >> p.winShift
		low[win] = min(low[win], k.home)
	}
	chunkSize := int64(bucketSize) << p.winShift
	crcs := make([]uint32, windows)
	var (
		next    atomic.Int64
		mu      sync.Mutex
		failed  = windows
		failure error
		wg      sync.WaitGroup
	)
	for range min(runtime.GOMAXPROCS(0), windows) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			chunk := make([]byte, chunkSize)
			var buf []byte
			for {
				win := int(next.Add(1) - 1)
				mu.Lock()
				stop := win >= failed
				mu.Unlock()
				if win >= windows || stop {
					return
				}
				var err error
				buf, err = p.fillWindow(win, chunk, buf, low[win])
				if err == nil {
					crcs[win] = crc32.Checksum(chunk, castagnoli)
					_, err = p.w.out.WriteAt(chunk, headerSize+int64(win)*chunkSize)
				}
				if err != nil {
					mu.Lock()
					if win < failed {
						failed, failure = win, err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if failure != nil {
		return 0, failure
	}
	var crc uint32
	for _, c := range crcs {
		crc = crcCombine(crc, c, chunkSize)
	}
	return crc, nil
}

// fillWindow fills chunk with window win's buckets from its bin; buf is
// a buffer to read segments into, returned grown.
func (p *placer) fillWindow(win int, chunk, buf []byte, lowHome uint64) ([]byte, error) {
	clear(chunk)
	first := uint64(win) << p.winShift
	bn := &p.bins[win]
	for _, sg := range bn.segs {
		if int64(cap(buf)) < sg.size {
			buf = make([]byte, sg.size)
		}
		buf = buf[:sg.size]
		if _, err := p.spool.ReadAt(buf, sg.off); err != nil {
			return buf, fmt.Errorf("temporary file in %s: %w", p.w.tmp, err)
		}
		if err := p.fillFrom(buf, chunk, first, lowHome); err != nil {
			return buf, err
		}
	}
	for _, blk := range bn.blocks {
		if err := p.fillFrom(blk, chunk, first, lowHome); err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// fillFrom fills chunk, the window whose first bucket is first, with the
// binned entries in data.
func (p *placer) fillFrom(data, chunk []byte, first, lowHome uint64) error {
	for len(data) > 0 {
		rel := uint64(binary.LittleEndian.Uint16(data))
		relHome := binary.LittleEndian.Uint16(data[2:])
		tag := uint64(binary.LittleEndian.Uint16(data[4:]))
		slot, line := int(data[6]), int(data[7])
		b := first + rel
		var rec []byte
		var off uint64
		if line != noLine {
			n := recordLen(data[entryHead:])
			rec = data[entryHead : entryHead+n]
			data = data[entryHead+n:]
			off = headerSize + b*bucketSize + bucketLine + uint64(line)
		} else {
			off = binary.LittleEndian.Uint64(data[entryHead-2:]) >> 16
			data = data[entryHead+6:]
		}
		if relHome == crosser {
			p.put(chunk[rel*bucketSize:(rel+1)*bucketSize], slot, tag, off, line, rec)
			continue
		}
		home := first + uint64(relHome)
		if err := p.fill(chunk, first, home, b, slot, tag, off, line, rec); err != nil {
			return err
		}
		if home < lowHome {
			continue
		}
		if others := p.crossers[crossKey{home, tag}]; len(others) > 0 {
			word, err := p.wordAt(off, rec, chunk, first)
			if err != nil {
				return err
			}
			for _, o := range others {
				if o == string(word) {
					return &DuplicateError{Word: o}
				}
			}
		}
	}
	return nil
}

// recordLen returns the length of the record at the start of b, which the
// writer encoded.
func recordLen(b []byte) int {
	n, k := uint64(b[0]), 1
	if n >= 0x80 {
		n, k = binary.Uvarint(b)
	}
	end := k + int(n)
	return end + 1 + int(b[end]&0xf) + int(b[end]>>4)
}

// fill puts an entry in its slot of chunk, the buckets from first on,
// after checking that no entry before it has the same word: one would
// have the same home bucket and tag and lie between the home bucket and
// this one, every bucket between them being full.
func (p *placer) fill(chunk []byte, first, home, b uint64, slot int, tag, off uint64, line int, rec []byte) error {
	mask := p.w.bmask
	var word []byte
	for c := home; ; c = (c + 1) & mask {
		bk := chunk[(c-first)*bucketSize : (c-first+1)*bucketSize]
		for s := range bucketSlots {
			if uint64(binary.LittleEndian.Uint16(bk[2*s:])) != tag {
				continue
			}
			if word == nil {
				var err error
				if word, err = p.wordAt(off, rec, chunk, first); err != nil {
					return err
				}
			}
			other, err := p.wordAt(slotOffset(bk, s), nil, chunk, first)
			if err != nil {
				return err
			}
			if string(other) == string(word) {
				return &DuplicateError{Word: string(word)}
			}
		}
		if c == b {
			break
		}
	}
	p.put(chunk[(b-first)*bucketSize:(b-first+1)*bucketSize], slot, tag, off, line, rec)
	return nil
}

// put writes an entry's slot, and its record if it is in the line, into
// its bucket bk.
func (p *placer) put(bk []byte, slot int, tag, off uint64, line int, rec []byte) {
	setSlot(bk, slot, tag, off)
	if line != noLine {
		copy(bk[bucketLine+line:], rec)
	}
}

// wordAt returns the word of the record at file offset off: rec if given,
// in chunk (whose first bucket is first) if it is in the index, else in
// the records section.
func (p *placer) wordAt(off uint64, rec, chunk []byte, first uint64) ([]byte, error) {
	w := p.w
	if rec == nil {
		if off < w.ranksOff {
			rec = chunk[off-headerSize-first*bucketSize:]
		} else {
			var err error
			if rec, err = p.records.readAt(int64(off-w.recordsOff), maxRecordSize); err != nil {
				return nil, err
			}
		}
	}
	word, _, ok := readWord(rec)
	if !ok {
		return nil, errors.New("internal error: a record the writer wrote does not read back")
	}
	return word, nil
}

// DuplicateError reports a word added twice to a StreamWriter.
type DuplicateError struct{ Word string }

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("duplicate word %q; merge duplicates before building", clip(e.Word))
}

// sectionWriter writes a section of the output file in order, from a
// buffer, and checksums it.
type sectionWriter struct {
	f       *os.File
	start   int64 // the section's offset in the file
	buf     []byte
	flushed int64 // bytes of the section in the file
	crc     uint32
}

// reserve returns the next n bytes of the section, to be written into.
func (s *sectionWriter) reserve(n int) ([]byte, error) {
	if len(s.buf)+n > cap(s.buf) {
		if err := s.flush(); err != nil {
			return nil, err
		}
	}
	k := len(s.buf)
	s.buf = s.buf[:k+n]
	return s.buf[k : k+n], nil
}

func (s *sectionWriter) flush() error {
	if len(s.buf) == 0 {
		return nil
	}
	s.crc = crc32.Update(s.crc, castagnoli, s.buf)
	if _, err := s.f.WriteAt(s.buf, s.start+s.flushed); err != nil {
		return err
	}
	s.flushed += int64(len(s.buf))
	s.buf = s.buf[:0]
	return nil
}

// size is the bytes written to the section so far.
func (s *sectionWriter) size() int64 { return s.flushed + int64(len(s.buf)) }

// readAt returns up to n bytes of the section from offset off, which it
// has written: from the buffer, or from the file. Once the section is
// flushed it is safe for concurrent use.
func (s *sectionWriter) readAt(off int64, n int) ([]byte, error) {
	n = int(min(int64(n), s.size()-off))
	if off >= s.flushed {
		return s.buf[off-s.flushed : off-s.flushed+int64(n)], nil
	}
	if off+int64(n) > s.flushed {
		if err := s.flush(); err != nil {
			return nil, err
		}
	}
	b := make([]byte, n)
	_, err := s.f.ReadAt(b, s.start+off)
	return b, err
}
