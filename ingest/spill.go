package ingest

import (
	"bufio"
	"bytes"
	"cmp"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math/bits"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"

	"github.com/freqd/freqd/shm/freqfile"
	"golang.org/x/sys/unix"
)

// A build that outgrows its memory works like an external sort. When the
// hash tables pass their budget, each table's words are sorted by hash and
// written to a run: a temporary file of "count, length, word" records, one
// section per table, so that the sections of all runs for one table can be
// merged on their own. At the end the runs are merged, summing the counts
// of a word spilled more than once; the merged words, in hash order, are
// gathered into sorted runs by rank (count descending, then word), and
// those are merged into the table writer, which takes words in rank
// order. Temporary files have no name (see tempFile), so an interrupted or
// killed build leaves none behind.

// spiller holds a Counter's runs.
type spiller struct {
	dir   string
	runs  []*hashRun
	total uint64
	mu    sync.Mutex
	bytes int64 // temporary bytes now on disk
	peak  int64
}

// hashRun is one spill: per shard, a section of records sorted by hash.
type hashRun struct {
	f        *os.File
	sections [nShards]struct{ off, size int64 }
}

// tempFile makes a file with no name in dir, which the kernel frees when
// it is closed or the process ends, however it ends: a build that is
// interrupted, killed or runs out of memory leaves no temporary file.
// Where O_TMPFILE is not supported, the file is named and removed at once.
func tempFile(dir string) (*os.File, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err == nil {
		return os.NewFile(uintptr(fd), filepath.Join(dir, "(temporary)")), nil
	}
	f, err := os.CreateTemp(dir, ".freqd-build-*")
	if err != nil {
		return nil, fmt.Errorf("temporary file: %w (choose another directory with --tmp-dir)", err)
	}
	os.Remove(f.Name())
	return f, nil
}

func (s *spiller) grew(n int64) {
	s.mu.Lock()
	s.bytes += n
	s.peak = max(s.peak, s.bytes)
	s.mu.Unlock()
}

// spillNow spills the shards unless another worker just did.
func (c *Counter) spillNow() error {
	c.gate.Lock()
	defer c.gate.Unlock()
	if c.mem.Load() <= c.budget {
		return nil
	}
	return c.spillLocked()
}

// hashElem is a word of a shard being spilled: its hash and where it is.
type hashElem struct{ h, ref uint64 }

// spillLocked writes every shard's words, sorted by hash, as one run and
// empties the shards. The caller holds the gate exclusively.
func (c *Counter) spillLocked() error {
	if c.spill == nil {
		c.spill = &spiller{dir: c.opts.TmpDir}
	}
	f, err := tempFile(c.spill.dir)
	if err != nil {
		return err
	}
	run := &hashRun{f: f}
	c.spill.runs = append(c.spill.runs, run)
	var sorted [nShards][]hashElem
	parallel(c.opts.Workers, nShards, func(s int) {
		t := c.shards[s].t
		t.release() // the index is not needed to walk the words
		elems := make([]hashElem, 0, t.n)
		t.arena.each(func(ref uint64, word []byte, _ uint64) {
			elems = append(elems, hashElem{maphash.Bytes(c.seed, word), ref})
		})
		slices.SortFunc(elems, func(a, b hashElem) int {
			if a.h != b.h {
				return cmp.Compare(a.h, b.h)
			}
			wa, _ := t.arena.record(a.ref)
			wb, _ := t.arena.record(b.ref)
			return bytes.Compare(wa, wb)
		})
		sorted[s] = elems
	})
	bw := bufio.NewWriterSize(f, 1<<20)
	var off int64
	var rec []byte
	for s := range nShards {
		t := c.shards[s].t
		start := off
		for _, e := range sorted[s] {
			word, cnt := t.arena.record(e.ref)
			rec = appendRunRecord(rec[:0], binary.LittleEndian.Uint64(cnt), word)
			bw.Write(rec)
			off += int64(len(rec))
		}
		run.sections[s] = struct{ off, size int64 }{start, off - start}
		sorted[s] = nil
		c.spill.total += c.shards[s].total
		c.shards[s].total = 0
		c.shards[s].t = newWordTable(c.seed)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write a temporary file: %w (choose another directory with --tmp-dir)", err)
	}
	c.spill.grew(off)
	var m int64
	for s := range nShards {
		m += c.shards[s].t.bytes()
	}
	c.mem.Store(m)
	c.statsMu.Lock()
	c.stats.Spills++
	c.statsMu.Unlock()
	debug.FreeOSMemory()
	return nil
}

func appendRunRecord(b []byte, count uint64, word []byte) []byte {
	b = binary.AppendUvarint(b, count)
	b = binary.AppendUvarint(b, uint64(len(word)))
	return append(b, word...)
}

// runReader reads the records of a run section in order.
type runReader struct {
	r     *bufio.Reader
	word  []byte
	count uint64
	h     uint64
	ok    bool
}

func newRunReader(f *os.File, off, size int64) *runReader {
	return &runReader{r: bufio.NewReaderSize(io.NewSectionReader(f, off, size), 64<<10)}
}

func (rr *runReader) next() error {
	c, err := binary.ReadUvarint(rr.r)
	if err == io.EOF {
		rr.ok = false
		return nil
	}
	if err != nil {
		return fmt.Errorf("read a temporary file: %w", err)
	}
	l, err := binary.ReadUvarint(rr.r)
	if err != nil {
		return fmt.Errorf("read a temporary file: %w", err)
	}
	rr.word = slices.Grow(rr.word[:0], int(l))[:l]
	if _, err := io.ReadFull(rr.r, rr.word); err != nil {
		return fmt.Errorf("read a temporary file: %w", err)
	}
	rr.count = c
	rr.ok = true
	return nil
}

// parallel runs fn(0..n-1) on up to workers goroutines.
func parallel(workers, n int, fn func(i int)) {
	var next sync.Mutex
	i := 0
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				next.Lock()
				k := i
				i++
				next.Unlock()
				if k >= n {
					return
				}
				fn(k)
			}
		}()
	}
	wg.Wait()
}

// rankElem is a word in rank sorting: its count, its first eight bytes
// (big-endian, so that comparing them compares the words' starts) and
// where the word is.
type rankElem struct {
	count, prefix, ref uint64
}

func wordPrefix(w []byte) uint64 {
	var b [8]byte
	copy(b[:], w)
	return binary.BigEndian.Uint64(b[:])
}

// WriteFile writes what the Counter holds as a frequency file at path,
// through freqfile.StreamWriter: the file appears atomically, and only when
// complete. Words below Options.MinCount are dropped. The metadata records
// the rules the words were normalized by (BuildOptions), and opts.FoldCase
// is set from them. A table of phrases
// records their length in the metadata key "ngram" ("2", or "1-3" when
// lengths vary); so does one built from Google Books n-grams. The Counter
// accepts no more input afterwards. beforeLink, if not nil, is called when
// the file is complete, before it gets its name (see
// freqfile.StreamOptions.BeforeLink).
func (c *Counter) WriteFile(path string, opts freqfile.BuildOptions, beforeLink func() bool) (Stats, error) {
	if c.drained {
		return c.stats, errors.New("ingest: Counter used after it was written; make a new one")
	}
	// The rules are known once every input has been read: the counting
	// passes, and the first pass over inputs already in rank order.
	opts = c.BuildOptions(opts)
	so := freqfile.StreamOptions{TmpDir: c.opts.TmpDir, MemoryLimit: c.opts.MemoryLimit / 2, BeforeLink: beforeLink}
	if c.sorted != nil {
		st := c.stats
		err := c.writeSorted(path, phraseMeta(opts, st), so, &st)
		if err != errFallback {
			c.drained = true
			c.stats = st
			return st, err
		}
		if err := c.countSorted(); err != nil {
			c.drained = true
			return c.stats, err
		}
	}
	c.drained = true
	st := c.stats
	opts = phraseMeta(opts, st)
	var err error
	if c.spill == nil {
		err = c.writeInMemory(path, opts, so, &st)
	} else {
		err = c.writeMerged(path, opts, so, &st)
	}
	if c.spill != nil {
		for _, r := range c.spill.runs {
			r.f.Close()
		}
		st.TempBytes = max(st.TempBytes, c.spill.peak)
	}
	c.stats = st
	return st, err
}

// phraseMeta adds to opts' metadata the length of a table's phrases
// ("ngram": "2", or "1-3" when lengths vary), if it has any.
func phraseMeta(opts freqfile.BuildOptions, st Stats) freqfile.BuildOptions {
	if st.MaxTokens > 1 || st.Ngram {
		meta := freqfile.Metadata{}
		for k, v := range opts.Meta {
			meta[k] = v
		}
		if st.MinTokens == st.MaxTokens {
			meta["ngram"] = strconv.Itoa(st.MaxTokens)
		} else {
			meta["ngram"] = fmt.Sprintf("%d-%d", st.MinTokens, st.MaxTokens)
		}
		opts.Meta = meta
	}
	return opts
}

// writeInMemory sorts the words in memory and streams them to the writer.
// Each table's words are sorted on their own, on every core, and copied in
// rank order into a run that replaces the table; the runs are merged into
// the writer. Copying costs a pass over each table's words in rank order,
// a cache miss each, but within one table at a time and on every core,
// where the merge would otherwise take them in the order of all the
// tables, on one core; and the runs take half the memory of the tables
// and their sort keys.
func (c *Counter) writeInMemory(path string, opts freqfile.BuildOptions, so freqfile.StreamOptions, st *Stats) error {
	c.setPhase("sorting")
	runs := make([][]byte, nShards)
	kept := make([]int, nShards)
	dropped := make([]uint64, nShards)
	totals := make([]uint64, nShards)
	parallel(c.opts.Workers, nShards, func(s int) {
		t := c.shards[s].t
		t.release()
		elems := make([]rankElem, 0, t.n)
		size := 0
		t.arena.each(func(ref uint64, w []byte, count uint64) {
			if count < c.opts.MinCount {
				dropped[s]++
				return
			}
			totals[s] += count
			size += runRecordSize(w)
			elems = append(elems, rankElem{count, wordPrefix(w), ref})
		})
		word := func(ref uint64) []byte {
			w, _ := t.arena.record(ref)
			return w
		}
		sortRank(elems, word)
		run := make([]byte, 0, size)
		// In rank order the words are scattered over the table's
		// memory: touching a batch of them first lets those cache
		// misses overlap, since no load in the loop waits for another.
		var touch byte
		for i := 0; i < len(elems); i += 64 {
			batch := elems[i:min(i+64, len(elems))]
			for _, e := range batch {
				touch |= t.arena.first(e.ref)
			}
			for _, e := range batch {
				run = appendSortedRecord(run, e.count, word(e.ref))
			}
		}
		t.touched += uint64(touch & 1)
		runs[s], kept[s] = run, len(elems)
		c.shards[s].t = nil
	})
	n := 0
	for s := range runs {
		n += kept[s]
		st.Dropped += dropped[s]
		st.Total += totals[s]
	}
	if n == 0 {
		return errNoWords
	}
	c.setPhase("writing")
	sw, err := c.newWriter(path, uint64(n), opts, so)
	if err != nil {
		return err
	}
	m := newRunMerge(runs)
	for m.next() {
		if err := sw.Add(m.word, m.count); err != nil {
			sw.Abort()
			return err
		}
	}
	st.Words = uint64(n)
	// The words are in the writer's files now: free them before it lays
	// out the index.
	runs, m = nil, nil
	debug.FreeOSMemory()
	err = sw.Commit()
	st.TempBytes = sw.TempBytes()
	return err
}

// A sorted run holds records "count (8 bytes, little-endian), length
// (uvarint), word" in rank order.
func runRecordSize(word []byte) int {
	n := len(word)
	return 8 + (bits.Len(uint(n)|1)+6)/7 + n
}

func appendSortedRecord(b []byte, count uint64, word []byte) []byte {
	b = binary.LittleEndian.AppendUint64(b, count)
	b = binary.AppendUvarint(b, uint64(len(word)))
	return append(b, word...)
}

// runMerge merges sorted runs: a binary heap of the runs by their next
// record. After next returns true, word and count are the record's.
type runMerge struct {
	heads []runHead
	heap  []int
	word  []byte
	count uint64
}

type runHead struct {
	rest  []byte
	word  []byte
	count uint64
}

func (h *runHead) advance() bool {
	if len(h.rest) == 0 {
		return false
	}
	h.count = binary.LittleEndian.Uint64(h.rest)
	l, k := binary.Uvarint(h.rest[8:])
	end := 8 + k + int(l)
	h.word = h.rest[8+k : end : end]
	h.rest = h.rest[end:]
	return true
}

func newRunMerge(runs [][]byte) *runMerge {
	m := &runMerge{heads: make([]runHead, len(runs))}
	for i, r := range runs {
		m.heads[i].rest = r
		if m.heads[i].advance() {
			m.heap = append(m.heap, i)
		}
	}
	for i := len(m.heap)/2 - 1; i >= 0; i-- {
		m.down(i)
	}
	return m
}

func (m *runMerge) less(i, j int) bool {
	a, b := &m.heads[m.heap[i]], &m.heads[m.heap[j]]
	if a.count != b.count {
		return a.count > b.count
	}
	return bytes.Compare(a.word, b.word) < 0
}

func (m *runMerge) down(i int) {
	n := len(m.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		if r := l + 1; r < n && m.less(r, l) {
			l = r
		}
		if !m.less(l, i) {
			return
		}
		m.heap[i], m.heap[l] = m.heap[l], m.heap[i]
		i = l
	}
}

// next moves to the next record in rank order; false when none is left.
func (m *runMerge) next() bool {
	if len(m.heap) == 0 {
		return false
	}
	h := &m.heads[m.heap[0]]
	m.word, m.count = h.word, h.count
	// The head's word stays valid: runs are not modified.
	if !h.advance() {
		last := len(m.heap) - 1
		m.heap[0] = m.heap[last]
		m.heap = m.heap[:last]
	}
	m.down(0)
	return true
}

// errNoWords reports inputs that held nothing to count.
var errNoWords = errors.New("the inputs hold no words")

// ErrNoWords matches the error of a build whose inputs hold no words (or
// none at or above the minimum count).
var ErrNoWords = errNoWords

// writeMerged merges the spilled runs into the writer.
func (c *Counter) writeMerged(path string, opts freqfile.BuildOptions, so freqfile.StreamOptions, st *Stats) error {
	if c.words.Load() > 0 {
		c.gate.Lock()
		err := c.spillLocked()
		c.gate.Unlock()
		if err != nil {
			return err
		}
	}
	for s := range c.shards {
		c.shards[s].t = nil
	}
	debug.FreeOSMemory()
	c.setPhase("merging")
	// Each worker merges a share of the shards and sorts what it merges
	// into runs by rank, in its share of the memory.
	workers := min(c.opts.Workers, nShards)
	builders := make([]*rankBuilder, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		builders[w] = &rankBuilder{sp: c.spill, budget: c.opts.MemoryLimit * 35 / 100 / int64(workers)}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := w; s < nShards && errs[w] == nil; s += workers {
				errs[w] = c.mergeShard(s, builders[w], st)
			}
			if errs[w] == nil {
				errs[w] = builders[w].flush()
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	for _, r := range c.spill.runs {
		r.f.Close()
		c.spill.grew(-(r.sections[nShards-1].off + r.sections[nShards-1].size))
	}
	c.spill.runs = nil
	var runs []*rankRun
	var n uint64
	for _, b := range builders {
		runs = append(runs, b.runs...)
		st.Dropped += b.dropped
		st.Total += b.total
		n += b.n
	}
	if n == 0 {
		return errNoWords
	}
	c.setPhase("writing")
	sw, err := c.newWriter(path, n, opts, so)
	if err != nil {
		return err
	}
	h := make(rankHeap, 0, len(runs))
	for _, r := range runs {
		rr := newRunReader(r.f, 0, r.size)
		if err := rr.next(); err != nil {
			sw.Abort()
			return err
		}
		if rr.ok {
			h = append(h, rr)
		}
	}
	heap.Init(&h)
	for len(h) > 0 {
		rr := h[0]
		if err := sw.Add(rr.word, rr.count); err != nil {
			sw.Abort()
			return err
		}
		if err := rr.next(); err != nil {
			sw.Abort()
			return err
		}
		if rr.ok {
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
	}
	st.Words = n
	for _, r := range runs {
		r.f.Close()
	}
	c.spill.grew(-c.spill.bytes)
	err = sw.Commit()
	st.TempBytes = max(c.spill.peak, sw.TempBytes())
	return err
}

// mergeShard merges shard s's sections of every run, summing the counts of
// equal words, into b.
func (c *Counter) mergeShard(s int, b *rankBuilder, st *Stats) error {
	h := make(hashHeap, 0, len(c.spill.runs))
	for _, r := range c.spill.runs {
		sec := r.sections[s]
		rr := newRunReader(r.f, sec.off, sec.size)
		if err := rr.next(); err != nil {
			return err
		}
		if rr.ok {
			rr.h = maphash.Bytes(c.seed, rr.word)
			h = append(h, rr)
		}
	}
	heap.Init(&h)
	var word []byte
	var count uint64
	have := false
	emit := func() error {
		if !have {
			return nil
		}
		if count < c.opts.MinCount {
			b.dropped++
			return nil
		}
		return b.add(word, count)
	}
	for len(h) > 0 {
		rr := h[0]
		if have && bytes.Equal(rr.word, word) {
			sum, carry := bits.Add64(count, rr.count, 0)
			if carry != 0 || sum > MaxCount {
				return fmt.Errorf("the count of %q adds up to more than %d over the inputs, the largest integer a Redis client can read", clip(word), uint64(MaxCount))
			}
			count = sum
		} else {
			if err := emit(); err != nil {
				return err
			}
			word = append(word[:0], rr.word...)
			count, have = rr.count, true
		}
		if err := rr.next(); err != nil {
			return err
		}
		if rr.ok {
			rr.h = maphash.Bytes(c.seed, rr.word)
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
	}
	return emit()
}

type hashHeap []*runReader

func (h hashHeap) Len() int { return len(h) }
func (h hashHeap) Less(i, j int) bool {
	if h[i].h != h[j].h {
		return h[i].h < h[j].h
	}
	return bytes.Compare(h[i].word, h[j].word) < 0
}
func (h hashHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *hashHeap) Push(x any)   { *h = append(*h, x.(*runReader)) }
func (h *hashHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

type rankHeap []*runReader

func (h rankHeap) Len() int { return len(h) }
func (h rankHeap) Less(i, j int) bool {
	if h[i].count != h[j].count {
		return h[i].count > h[j].count
	}
	return bytes.Compare(h[i].word, h[j].word) < 0
}
func (h rankHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *rankHeap) Push(x any)   { *h = append(*h, x.(*runReader)) }
func (h *rankHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// rankBuilder gathers merged words in memory and writes them as runs
// sorted by rank.
type rankBuilder struct {
	sp      *spiller
	budget  int64
	arena   arena
	elems   []rankElem
	runs    []*rankRun
	n       uint64
	dropped uint64
	total   uint64
}

// rankRun is a temporary file of records in rank order.
type rankRun struct {
	f    *os.File
	size int64
}

func (b *rankBuilder) add(word []byte, count uint64) error {
	total := b.total + count
	if total < b.total || total > MaxCount {
		return fmt.Errorf("the total of all counts passes %d, the largest integer a Redis client can read", uint64(MaxCount))
	}
	b.total = total
	ref := b.arena.add(word, count)
	b.elems = append(b.elems, rankElem{count, wordPrefix(word), ref})
	b.n++
	if b.arena.bytes+int64(cap(b.elems))*24 > b.budget {
		return b.flush()
	}
	return nil
}

func (b *rankBuilder) flush() error {
	if len(b.elems) == 0 {
		return nil
	}
	word := func(ref uint64) []byte {
		w, _ := b.arena.record(ref)
		return w
	}
	sortRank(b.elems, word)
	f, err := tempFile(b.sp.dir)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	var rec []byte
	var size int64
	for _, e := range b.elems {
		rec = appendRunRecord(rec[:0], e.count, word(e.ref))
		bw.Write(rec)
		size += int64(len(rec))
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write a temporary file: %w (choose another directory with --tmp-dir)", err)
	}
	b.sp.grew(size)
	b.runs = append(b.runs, &rankRun{f: f, size: size})
	b.arena = arena{}
	b.elems = b.elems[:0]
	runtime.GC()
	return nil
}
