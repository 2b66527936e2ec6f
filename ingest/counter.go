package ingest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/freqd/freqd/shm/freqfile"
	"github.com/freqd/freqd/word"
)

// DefaultMemoryLimit is the memory a build may hold without --memory-limit.
const DefaultMemoryLimit = 1 << 30

// Options choose how a Counter reads its inputs.
type Options struct {
	// Format is the layout of every input; Auto detects it per input from
	// the first lines (see detectLayout).
	Format Format
	// KeepCase counts "The" and "the" as different words. By default each
	// word is case-folded (word.Default), as lookups fold queries.
	KeepCase bool
	// Header says whether word lists start with a header line.
	Header HeaderMode
	// Columns names the word and the count columns (names from the header
	// line or numbers from 1) of delimited inputs and Parquet files; nil
	// guesses them.
	Columns []string
	// NgramTags is the part-of-speech rule for Google Books n-grams.
	NgramTags TagRule
	// MinCount drops the words whose total count is below it, and lets
	// lines with a zero or negative count be skipped rather than refused.
	// 0 means not set: every word is kept and such lines are errors.
	MinCount uint64
	// MemoryLimit bounds the memory the build holds, in bytes: past it,
	// counts go to sorted runs in TmpDir that are merged at the end.
	// 0 means DefaultMemoryLimit.
	MemoryLimit int64
	// TmpDir holds the build's temporary files; "" is the system's.
	TmpDir string
	// Workers is the number of goroutines that parse and count; 0 means
	// one per CPU.
	Workers int
	// NewWriter, if set, makes what WriteFile gives the counted words to,
	// n of them in rank order, in place of a freqfile.StreamWriter at
	// path: `freqd build --shards` splits them into shards this way.
	NewWriter func(path string, n uint64, opts freqfile.BuildOptions, so freqfile.StreamOptions) (TableWriter, error)
}

// TableWriter takes a build's words in rank order and writes them: a
// freqfile.StreamWriter, or a writer of shards.
type TableWriter interface {
	Add(word []byte, count uint64) error
	Commit() error
	Abort()
	TempBytes() int64
}

// newWriter is Options.NewWriter, or a StreamWriter at path.
func (c *Counter) newWriter(path string, n uint64, opts freqfile.BuildOptions, so freqfile.StreamOptions) (TableWriter, error) {
	if c.opts.NewWriter != nil {
		return c.opts.NewWriter(path, n, opts, so)
	}
	return freqfile.NewStreamWriter(path, n, opts, so)
}

// nShards is the number of hash tables a Counter's words are spread over,
// by the top bits of their hash, so that workers rarely wait for each
// other. A power of two.
const (
	shardBits = 4
	nShards   = 1 << shardBits
)

// shard is one of a Counter's hash tables.
type shard struct {
	mu    sync.Mutex
	t     *wordTable
	total uint64
	_     [40]byte // keep shards on their own cache lines
}

// A Counter accumulates word counts from any number of inputs, summing the
// counts of a word that appears more than once. Its methods are not safe
// for concurrent use, except the progress accessors (BytesRead, Words,
// Phase); each Add call runs its own parse and count workers.
type Counter struct {
	opts   Options
	rules  word.Rules // how each word is normalized before it is counted
	seed   maphash.Seed
	shards [nShards]shard
	mem    atomic.Int64  // bytes the shards hold
	total  atomic.Uint64 // of every count added
	budget int64         // shard bytes past which they are spilled

	// sorted holds inputs found in rank order, not counted (sorted.go).
	sorted *sortedInputs

	// gate lets workers insert concurrently (read side) and a spill stop
	// them all (write side).
	gate  sync.RWMutex
	spill *spiller

	read    atomic.Int64
	words   atomic.Int64 // distinct words counted so far, for progress
	phase   atomic.Value // string
	stats   Stats
	statsMu sync.Mutex
	drained bool

	// What the rules recorded in the table depend on, gathered from the
	// workers under statsMu: whether any word kept an apostrophe (a table
	// without one answers contractions from their parts), and the longest
	// word of an unspaced script.
	apostrophe      bool
	longestUnspaced int
}

// Stats describe a finished build.
type Stats struct {
	Words        uint64 // distinct words written
	Total        uint64 // sum of their counts
	Dropped      uint64 // words dropped by MinCount
	SkippedLines uint64 // lines skipped for a zero or negative count under MinCount
	MinTokens    int    // fewest tokens in a key (1 for a word)
	MaxTokens    int    // most tokens in a key
	Spills       int    // sorted runs written to disk
	TempBytes    int64  // most temporary disk in use at once
	Ngram        bool   // some input was a Google Books n-gram file
}

// New returns an empty Counter.
func New(opts Options) *Counter {
	if opts.MemoryLimit <= 0 {
		opts.MemoryLimit = DefaultMemoryLimit
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	rules := word.Default()
	if opts.KeepCase {
		rules.Case = word.CaseKeep
	}
	c := &Counter{opts: opts, rules: rules, seed: maphash.MakeSeed()}
	// The tables take under half the limit: a spill sorts them with 16
	// bytes a word more, and the write needs its own share.
	c.budget = opts.MemoryLimit * 45 / 100
	for i := range c.shards {
		c.shards[i].t = newWordTable(c.seed)
		c.mem.Add(c.shards[i].t.bytes())
	}
	c.phase.Store("reading")
	return c
}

func (c *Counter) setPhase(p string) { c.phase.Store(p) }

// Phase names what the build is doing: reading, merging, sorting, writing.
func (c *Counter) Phase() string { return c.phase.Load().(string) }

// BytesRead is the number of input bytes read so far, compressed bytes for a
// compressed input, for progress reports. It is safe to call concurrently
// with the Add methods.
func (c *Counter) BytesRead() int64 { return c.read.Load() }

// Words is the number of distinct words counted so far (words met again
// after a spill count twice), for progress reports.
func (c *Counter) Words() int64 { return c.words.Load() }

// AddFile counts the words of the named input: "-" is standard input, a
// directory is read recursively (see ExpandInputs), and compressed content
// is recognised and decompressed whatever the name.
// It stops early, returning ctx.Err(), when ctx is done.
func (c *Counter) AddFile(ctx context.Context, name string) error {
	ins, err := ExpandInputs([]string{name})
	if err != nil {
		return err
	}
	return c.AddInputs(ctx, ins)
}

// AddReader counts the words read from r; name identifies r in errors.
func (c *Counter) AddReader(ctx context.Context, name string, r io.Reader) error {
	return c.run(ctx, func(p *pipeline) error {
		return p.readReader(name, r)
	})
}

// AddInputs counts the words of every input, in order. An error leaves the
// Counter holding part of the inputs' words: a caller that wants all or
// nothing discards it.
func (c *Counter) AddInputs(ctx context.Context, ins []Input) error {
	if c.qualifiesSorted(ins) && c.checkSorted(ctx, ins) {
		return nil // read by WriteFile (see sorted.go)
	}
	return c.run(ctx, func(p *pipeline) error {
		for _, in := range ins {
			if err := p.readInput(in); err != nil {
				return err
			}
		}
		return nil
	})
}

// pipeline is one Add call: a reader that cuts the inputs into blocks and
// workers that parse and count them.
type pipeline struct {
	c      *Counter
	ctx    context.Context
	blocks chan *block
	free   chan *block
	seq    int
	failed atomic.Bool

	errMu  sync.Mutex
	errSeq int
	err    error
}

// blockSize is how much input a worker takes at a time.
const blockSize = 1 << 20

// block is a piece of one input: whole lines of a word list, text cut
// between words, or rows read from a Parquet file.
type block struct {
	seq    int
	src    *inputInfo
	data   []byte
	line   int      // number of data's first line
	lens   []uint32 // Parquet: the words, back to back in data
	counts []int64  // Parquet: their counts (negative ones are errors)
}

// inputInfo is what the workers need to know about the input a block is
// from.
type inputInfo struct {
	name   string
	layout layout
	auto   bool // the layout was detected, which an error message says
}

func (c *Counter) run(ctx context.Context, read func(*pipeline) error) error {
	if c.sorted != nil {
		// More input after sorted inputs: those must be counted too.
		if err := c.countSorted(); err != nil {
			return err
		}
	}
	return c.runWith(ctx, c.opts.Workers, nil, read)
}

// runWith runs read and n workers; sp, if not nil, makes them a pass over
// sorted inputs rather than counting.
func (c *Counter) runWith(ctx context.Context, n int, sp *sortedPass, read func(*pipeline) error) error {
	if c.drained {
		return errors.New("ingest: Counter used after it was written; make a new one")
	}
	p := &pipeline{c: c, ctx: ctx, errSeq: math.MaxInt}
	p.blocks = make(chan *block, 2*n)
	p.free = make(chan *block, 3*n+1)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := newWorker(c)
			w.sp = sp
			for b := range p.blocks {
				if !p.failed.Load() {
					err := w.processBlock(b)
					if err != nil {
						p.fail(b.seq, err)
					}
				}
				select {
				case p.free <- b:
				default:
				}
			}
			if err := w.flush(); err != nil {
				p.fail(math.MaxInt-1, err)
			}
			w.report()
		}()
	}
	rerr := read(p)
	close(p.blocks)
	wg.Wait()
	if p.err != nil {
		return p.err
	}
	return rerr
}

// fail records a worker's error; the one from the earliest block wins, so
// that the error reported is the first in the input whatever the timing.
func (p *pipeline) fail(seq int, err error) {
	p.errMu.Lock()
	defer p.errMu.Unlock()
	if seq < p.errSeq {
		p.errSeq, p.err = seq, err
	}
	p.failed.Store(true)
}

func (p *pipeline) newBlock(src *inputInfo) *block {
	var b *block
	select {
	case b = <-p.free:
		b.data, b.lens, b.counts = b.data[:0], b.lens[:0], b.counts[:0]
	default:
		b = &block{data: make([]byte, 0, blockSize)}
	}
	b.src = src
	b.seq = p.seq
	p.seq++
	return b
}

func (p *pipeline) send(b *block) error {
	if p.failed.Load() {
		return errStop
	}
	select {
	case p.blocks <- b:
		return nil
	case <-p.ctx.Done():
		return p.ctx.Err()
	}
}

// errStop ends the reading when a worker has failed; the worker's error is
// the one reported.
var errStop = errors.New("stopped")

func (p *pipeline) readInput(in Input) error {
	o, err := openInput(p.ctx, in, &p.c.read)
	if err != nil {
		return err
	}
	defer o.Close()
	if o.parquet != nil {
		return p.readParquet(in.Name(), o.parquet, o.size)
	}
	return p.readLines(in.Name(), o.r, formatFromName(in.Path))
}

// readReader reads an input that is not a file.
func (p *pipeline) readReader(name string, r io.Reader) error {
	o, err := openContent(p.ctx, name, r, nil, -1, &p.c.read)
	if err != nil {
		return err
	}
	defer o.Close()
	if o.parquet != nil {
		return p.readParquet(name, o.parquet, o.size)
	}
	return p.readLines(name, o.r, Auto)
}

// readLines detects the layout of an input and cuts it into blocks.
func (p *pipeline) readLines(name string, br *bufio.Reader, hint Format) error {
	c := p.c
	sample, _ := br.Peek(readBufSize)
	l, err := detectLayout(sample, c.opts.Format, hint, c.opts.Header, c.opts.Columns)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if l.format == Ngram {
		c.statsMu.Lock()
		c.stats.Ngram = true
		c.statsMu.Unlock()
	}
	src := &inputInfo{name: name, layout: l, auto: c.opts.Format == Auto}
	line := 1
	if bom, _ := br.Peek(len(utf8BOM)); bytes.Equal(bom, utf8BOM) {
		br.Discard(len(utf8BOM))
	}
	if l.header && l.format != Text {
		// The header is the first non-blank line.
		for {
			b, err := br.ReadSlice('\n')
			line++
			if len(bytes.TrimSpace(b)) > 0 || err != nil {
				if err == io.EOF {
					return nil
				}
				if err != nil && err != bufio.ErrBufferFull {
					return readError(p.ctx, name, err)
				}
				break
			}
		}
	}
	var carry []byte
	for {
		b := p.newBlock(src)
		b.line = line
		b.data = append(b.data[:0], carry...)
		n, err := io.ReadFull(br, b.data[len(b.data):blockSize])
		b.data = b.data[:len(b.data)+n]
		eof := err == io.EOF || err == io.ErrUnexpectedEOF
		if err != nil && !eof {
			return readError(p.ctx, name, err)
		}
		cut := len(b.data)
		if !eof {
			if l.format == Text {
				cut = textCut(b.data)
			} else if i := bytes.LastIndexByte(b.data, '\n'); i >= 0 {
				cut = i + 1
			} else {
				return &LineError{File: name, Line: line, Err: fmt.Errorf("line is longer than %d bytes; is this a word list?", blockSize)}
			}
		}
		carry = append(carry[:0], b.data[cut:]...)
		b.data = b.data[:cut]
		if l.format != Text {
			line += bytes.Count(b.data, []byte{'\n'})
		}
		if len(b.data) > 0 {
			if err := p.send(b); err != nil {
				if err == errStop {
					return nil
				}
				return err
			}
		}
		if eof {
			return nil
		}
	}
}

// textCut returns where to end a block of running text so that no word is
// split: after the last ASCII byte that cannot be part of a word. With
// none (a megabyte of letters, or of Chinese, counted a character at a
// time), the block is cut anyway, at a UTF-8 boundary and before a
// character rather than before a combining mark, which belongs with the
// letter it follows.
func textCut(b []byte) int {
	for i := len(b) - 1; i >= len(b)/2; i-- {
		c := b[i]
		if c < utf8.RuneSelf && word.Classify(rune(c)) == word.Other {
			return i + 1
		}
	}
	i := len(b)
	for i > len(b)/2 {
		start := i - 1
		for start > 0 && b[start]&0xc0 == 0x80 {
			start--
		}
		if r, _ := utf8.DecodeRune(b[start:]); word.Classify(r) != word.Mark {
			return start
		}
		i = start
	}
	return i
}

// worker parses blocks and counts their words, batching the words by shard
// so that a shard's lock is taken once per batch.
type worker struct {
	c       *Counter
	lr      *lineReader
	lrSrc   *inputInfo
	z       tokenizer
	key     []byte
	batches [nShards]batch
	pending int
	inOrder []pendingWord // counts and lines of the queued words, in input order
	minTok  int
	maxTok  int
	skipped uint64
	sp      *sortedPass // set in a pass over sorted inputs
	blk     blockRange  // the block's entries, in the first such pass

	apostrophe      bool // a key holds an apostrophe
	longestUnspaced int  // the longest key in an unspaced script, in characters
}

// batch is the words of one shard waiting to be added.
type batch struct {
	keys    []byte
	entries []pendingWord
}

type pendingWord struct {
	h     uint64
	end   uint32 // the key is keys[previous end:end]
	count uint64
	line  int
	src   *inputInfo
}

const batchWords = 4096

func newWorker(c *Counter) *worker {
	return &worker{c: c, minTok: math.MaxInt}
}

// processBlock processes a block, or takes it in a sorted pass.
func (w *worker) processBlock(b *block) error {
	if w.sp == nil {
		return w.process(b)
	}
	if err := w.startBlock(b); err != nil {
		return err
	}
	if err := w.process(b); err != nil {
		return err
	}
	w.endBlock()
	return nil
}

func (w *worker) process(b *block) error {
	if b.lens != nil && len(b.lens) > 0 || b.counts != nil && len(b.counts) > 0 {
		return w.processRows(b)
	}
	src := b.src
	if src.layout.format == Text {
		emit := func(word []byte) error { return w.add(word, 1, src, 0) }
		w.z = tokenizer{word: w.z.word[:0], chars: w.c.rules.SegmentUnspaced}
		if err := w.z.write(b.data, emit); err != nil {
			return err
		}
		if err := w.z.flush(emit); err != nil {
			return err
		}
		return w.flush()
	}
	if w.lrSrc != src {
		w.lr = newLineReader(src.layout, w.c.opts.NgramTags)
		w.lrSrc = src
	}
	data := b.data
	for n := b.line; len(data) > 0; n++ {
		i := bytes.IndexByte(data, '\n')
		var line []byte
		if i < 0 {
			line, data = data, nil
		} else {
			line, data = data[:i], data[i+1:]
		}
		line = trimEOL(line)
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		word, count, err := w.lr.parse(line)
		if err != nil {
			var ce *countError
			if w.c.opts.MinCount > 0 && errors.As(err, &ce) && ce.kind == negative {
				w.skipped++
				continue
			}
			le := &LineError{File: src.name, Line: n, Err: err}
			if src.auto {
				le.Detected = src.layout.format
			}
			return le
		}
		if word == nil {
			continue
		}
		if count == 0 {
			if w.c.opts.MinCount > 0 {
				w.skipped++
				continue
			}
			return &LineError{File: src.name, Line: n, Err: errors.New("count is 0; a word that never occurs has no place in the table (--min-count 1 skips such lines)")}
		}
		if err := w.add(word, count, src, n); err != nil {
			return err
		}
	}
	return w.flush()
}

// processRows counts rows read from a Parquet file.
func (w *worker) processRows(b *block) error {
	off := 0
	for i, l := range b.lens {
		word := b.data[off : off+int(l)]
		off += int(l)
		row := b.line + i
		count := b.counts[i]
		word = bytes.TrimSpace(word)
		if err := checkWord(word); err != nil {
			return &LineError{File: b.src.name, Line: row, Err: err, row: true}
		}
		switch {
		case count <= 0 && w.c.opts.MinCount > 0:
			w.skipped++
			continue
		case count < 0:
			return &LineError{File: b.src.name, Line: row, row: true, Err: fmt.Errorf("count %d is negative; counts are numbers of occurrences (--min-count 1 skips such rows)", count)}
		case count == 0:
			return &LineError{File: b.src.name, Line: row, row: true, Err: errors.New("count is 0; a word that never occurs has no place in the table (--min-count 1 skips such rows)")}
		}
		if err := w.add(word, uint64(count), b.src, row); err != nil {
			return err
		}
	}
	return w.flush()
}

// add normalizes a word (or phrase) and queues it for its shard.
func (w *worker) add(raw []byte, count uint64, src *inputInfo, line int) error {
	if src.layout.format == Text {
		w.key = normalizeWord(w.key[:0], raw, &w.c.rules)
	} else {
		w.key = normalizePhrase(w.key[:0], raw, &w.c.rules)
	}
	key := w.key
	if len(key) > freqfile.MaxWordLen {
		return &LineError{File: src.name, Line: line, Err: fmt.Errorf("word %q... is %d bytes long once normalized, more than the maximum %d", key[:20], len(key), freqfile.MaxWordLen)}
	}
	if len(key) == 0 {
		return &LineError{File: src.name, Line: line, Err: errors.New("word is empty")}
	}
	tokens := 1
	if src.layout.format != Text {
		tokens += bytes.Count(key, []byte{' '})
	}
	w.note(key, tokens)
	w.minTok = min(w.minTok, tokens)
	w.maxTok = max(w.maxTok, tokens)
	if w.sp != nil {
		return w.take(key, count)
	}
	h := maphash.Bytes(w.c.seed, key)
	bt := &w.batches[h>>(64-shardBits)]
	bt.keys = append(bt.keys, key...)
	bt.entries = append(bt.entries, pendingWord{h: h, end: uint32(len(bt.keys)), count: count, line: line, src: src})
	w.inOrder = append(w.inOrder, pendingWord{count: count, line: line, src: src})
	w.pending++
	if w.pending >= batchWords*nShards/2 {
		return w.flush()
	}
	return nil
}

// note records what the table's rules depend on about a key of tokens
// words.
func (w *worker) note(key []byte, tokens int) {
	if !w.apostrophe && bytes.IndexByte(key, '\'') >= 0 {
		w.apostrophe = true
	}
	if tokens == 1 && key[0] >= utf8.RuneSelf {
		if r, _ := utf8.DecodeRune(key); word.Classify(r) == word.Unspaced {
			w.longestUnspaced = max(w.longestUnspaced, utf8.RuneCount(key))
		}
	}
}

// flush adds the queued words to their shards, then spills the shards if
// they hold more than the budget.
func (w *worker) flush() error {
	if w.pending == 0 {
		return nil
	}
	c := w.c
	c.gate.RLock()
	var err error
	for s := range w.batches {
		bt := &w.batches[s]
		if len(bt.entries) == 0 {
			continue
		}
		if err == nil {
			err = c.insert(s, bt)
		}
		bt.keys, bt.entries = bt.keys[:0], bt.entries[:0]
	}
	c.gate.RUnlock()
	w.pending = 0
	if err == nil {
		err = w.addTotal()
	}
	w.inOrder = w.inOrder[:0]
	if err != nil {
		return err
	}
	if c.mem.Load() > c.budget {
		return c.spillNow()
	}
	return nil
}

// addTotal adds the queued counts to the total of every count, which must
// fit in MaxCount too; if it passes, the line where it does is reported.
func (w *worker) addTotal() error {
	var sum uint64
	for _, e := range w.inOrder {
		// Each count is at most MaxCount: capping the sum there keeps it
		// from wrapping, and a capped sum fails anyway.
		sum = min(sum+e.count, MaxCount+1)
	}
	total := w.c.total.Add(sum)
	if total <= MaxCount && total >= sum {
		return nil
	}
	running := total - sum
	for _, e := range w.inOrder {
		if running += e.count; running > MaxCount || running < e.count {
			return &LineError{File: e.src.name, Line: e.line, Err: fmt.Errorf("the total of all counts passes %d, the largest integer a Redis client can read", uint64(MaxCount))}
		}
	}
	return fmt.Errorf("the total of all counts passes %d, the largest integer a Redis client can read", uint64(MaxCount))
}

// insert adds a batch to shard s.
func (c *Counter) insert(s int, bt *batch) error {
	sh := &c.shards[s]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	t := sh.t
	before := t.bytes()
	n0 := t.n
	// Most of these slots are cache misses: loading them all first lets
	// the misses overlap, where the inserts would wait for each in turn.
	var touch uint64
	for _, e := range bt.entries {
		touch |= t.slots[e.h&t.mask]
	}
	t.touched += touch & 1
	start := uint32(0)
	var err error
	for _, e := range bt.entries {
		key := bt.keys[start:e.end]
		start = e.end
		sum, ok := t.addHashed(e.h, key, e.count)
		if !ok || sum > MaxCount {
			err = &LineError{File: e.src.name, Line: e.line, Err: fmt.Errorf("the count of %q adds up to more than %d, the largest integer a Redis client can read", clip(key), uint64(MaxCount))}
			break
		}
		sh.total += e.count
	}
	c.mem.Add(t.bytes() - before)
	c.words.Add(int64(t.n - n0))
	if err != nil {
		return err
	}
	return nil
}

// report adds the worker's observations to the Counter's statistics.
func (w *worker) report() {
	c := w.c
	c.statsMu.Lock()
	defer c.statsMu.Unlock()
	c.stats.SkippedLines += w.skipped
	c.apostrophe = c.apostrophe || w.apostrophe
	c.longestUnspaced = max(c.longestUnspaced, w.longestUnspaced)
	if w.maxTok > 0 {
		if c.stats.MaxTokens == 0 || w.minTok < c.stats.MinTokens {
			c.stats.MinTokens = w.minTok
		}
		c.stats.MaxTokens = max(c.stats.MaxTokens, w.maxTok)
	}
	w.skipped = 0
}

// Rules returns the normalization rules of the words counted so far:
// contractions are answered from their parts when no word holds an
// apostrophe, as in SUBTLEX-US, which counts "don't" as "don" and "t".
func (c *Counter) Rules() word.Rules {
	c.statsMu.Lock()
	defer c.statsMu.Unlock()
	r := c.rules
	r.SplitContractions = !c.apostrophe
	r.LongestUnspaced = c.longestUnspaced
	return r
}

// BuildOptions returns opts with what the counted words say about the
// table: case folding as counted, and the rules (Rules) added to the
// metadata, where lookups read them.
func (c *Counter) BuildOptions(opts freqfile.BuildOptions) freqfile.BuildOptions {
	r := c.Rules()
	meta := freqfile.Metadata{}
	for k, v := range opts.Meta {
		meta[k] = v
	}
	for k, v := range r.Meta() {
		meta[k] = v
	}
	opts.FoldCase = r.FoldsCase()
	opts.Meta = meta
	return opts
}

// Len is the number of distinct words counted, while nothing has been
// spilled to disk; after a spill it counts words met again twice.
func (c *Counter) Len() int { return int(c.words.Load()) }

// Total is the sum of all counts added.
func (c *Counter) Total() uint64 { return c.total.Load() }

// Entries returns the counted words for freqfile.WriteTable or
// freqfile.WriteFile, in no particular order, their strings sharing the
// Counter's memory. It is for small builds that never spilled (the
// embedded table); the Counter accepts no more input afterwards.
func (c *Counter) Entries() ([]freqfile.Entry, error) {
	if c.sorted != nil {
		if err := c.countSorted(); err != nil {
			return nil, err
		}
	}
	c.drained = true
	if c.spill != nil {
		panic("ingest: Entries after a spill; use WriteFile")
	}
	var entries []freqfile.Entry
	for i := range c.shards {
		t := c.shards[i].t
		t.release()
		t.arena.each(func(_ uint64, word []byte, count uint64) {
			if count >= c.opts.MinCount {
				entries = append(entries, freqfile.Entry{Word: unsafeString(word), Count: count})
			}
		})
	}
	return entries, nil
}

// KeyNoun names what a table's keys are, for messages: "word", "phrase",
// or "entry" for a mixture of words and phrases.
func KeyNoun(st Stats) string {
	switch {
	case st.MaxTokens <= 1:
		return "word"
	case st.MinTokens > 1:
		return "phrase"
	}
	return "entry"
}

// Plural writes n and a noun, "1 word", "2 words", "3 entries".
func Plural(n uint64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	switch {
	case strings.HasSuffix(noun, "s"):
		noun += "es"
	case strings.HasSuffix(noun, "y"):
		noun = noun[:len(noun)-1] + "ies"
	default:
		noun += "s"
	}
	return groupDigits(n) + " " + noun
}

// groupDigits writes n with thousands separators: 49,719,560.
func groupDigits(n uint64) string {
	s := fmt.Sprint(n)
	out := make([]byte, 0, len(s)+len(s)/3)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}
