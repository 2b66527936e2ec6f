package ingest

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"hash/maphash"
	"os"
	"slices"
	"sync"

	"github.com/freqd/freqd/shm/freqfile"
)

// Word lists that engines write with ORDER BY count DESC are already what
// the table writer takes: one entry a word, in rank order. Such inputs skip
// the counting tables and the sort: a first pass reads them, checking on
// every core that each block's keys (normalized, so folded unless
// KeepCase) come in rank order with no key twice in a row, and that the
// blocks follow each other in order; a second pass reads them again into
// the writer. Memory is the writer's alone, bounded by the index.
//
// The first pass stops at the first key out of order, which for input in
// no order comes within the first lines, so trying costs nothing there.
// A word listed twice with different counts is in order by count, and is
// found only by the writer, at the end of the second pass (or, for a
// caller's writer such as the shard splitter, by a check of the words'
// hashes, see hashSet); folding can make such pairs ("The" and "the").
// Then, or if the inputs changed between the passes, the build falls back
// to counting, from the start.
//
// Only files that can be read twice qualify (not standard input or a
// pipe), in the word-list layouts (not running text, n-grams or Parquet),
// and only without MinCount: a word below it could have a copy elsewhere
// whose sum reaches it, which only counting finds.

// errNotSorted ends a pass over inputs that are not in rank order.
var errNotSorted = errors.New("inputs not in rank order")

// sortedInputs are inputs the first pass found in rank order.
type sortedInputs struct {
	ctx   context.Context // of the AddInputs call, for a fallback
	ins   []Input
	n     uint64 // entries
	total uint64
}

// sortedPass is the state of a pass over sorted inputs.
type sortedPass struct {
	mu     sync.Mutex
	blocks []blockRange // first pass: each block's first and last entry

	// The second pass, on one worker. hashes, for a caller's writer,
	// finds a word listed twice before the writer commits (see hashSet).
	sw        TableWriter
	hashes    *hashSet
	n         uint64
	prevCount uint64
	prevKey   []byte
}

// blockRange is a block's entries, as the first pass saw them.
type blockRange struct {
	seq                   int
	n, total              uint64
	firstCount, lastCount uint64
	firstKey, lastKey     []byte
}

// qualifiesSorted reports whether inputs may take the sorted path.
func (c *Counter) qualifiesSorted(ins []Input) bool {
	if c.opts.MinCount > 0 || c.opts.Format == Text || c.opts.Format == Ngram ||
		c.sorted != nil || c.total.Load() != 0 || c.words.Load() != 0 || c.spill != nil || len(ins) == 0 {
		return false
	}
	for _, in := range ins {
		if in.Path == "-" {
			return false
		}
		if fi, err := os.Stat(in.Path); err != nil || !fi.Mode().IsRegular() {
			return false
		}
	}
	return true
}

// checkSorted is the first pass: it reports whether ins are in rank order
// and records them if so. Any problem (a malformed line, a count out of
// range) reads as "not sorted", for counting to find again and report.
func (c *Counter) checkSorted(ctx context.Context, ins []Input) bool {
	sp := &sortedPass{}
	err := c.runWith(ctx, c.opts.Workers, sp, func(p *pipeline) error {
		for _, in := range ins {
			if err := p.readInput(in); err != nil {
				return err
			}
		}
		return nil
	})
	c.read.Store(0)
	if err != nil {
		return false
	}
	slices.SortFunc(sp.blocks, func(a, b blockRange) int { return cmp.Compare(a.seq, b.seq) })
	var n, total uint64
	for i, b := range sp.blocks {
		if i > 0 && !rankBefore(sp.blocks[i-1].lastCount, sp.blocks[i-1].lastKey, b.firstCount, b.firstKey) {
			return false
		}
		n += b.n
		if total += b.total; total > MaxCount {
			return false
		}
	}
	if n == 0 {
		return false
	}
	c.sorted = &sortedInputs{ctx: ctx, ins: ins, n: n, total: total}
	c.words.Store(int64(n))
	c.total.Store(total)
	return true
}

// rankBefore reports whether entry a comes strictly before entry b.
func rankBefore(countA uint64, keyA []byte, countB uint64, keyB []byte) bool {
	if countA != countB {
		return countA > countB
	}
	return bytes.Compare(keyA, keyB) < 0
}

// take is a sorted pass's add: the first pass checks the order within the
// block, the second adds the entry to the writer.
func (w *worker) take(key []byte, count uint64) error {
	if sp := w.sp; sp.sw != nil {
		// The inputs may have changed since the first pass.
		if sp.n++; sp.n > w.c.sorted.n || sp.n > 1 && !rankBefore(sp.prevCount, sp.prevKey, count, key) {
			return errNotSorted
		}
		sp.prevCount, sp.prevKey = count, append(sp.prevKey[:0], key...)
		if sp.hashes != nil {
			if err := sp.hashes.add(maphash.Bytes(w.c.seed, key)); err != nil {
				return err
			}
		}
		return sp.sw.Add(key, count)
	}
	r := &w.blk
	if r.n == 0 {
		r.firstCount, r.firstKey = count, append(r.firstKey[:0], key...)
	} else if !rankBefore(r.lastCount, r.lastKey, count, key) {
		return errNotSorted
	}
	r.lastCount, r.lastKey = count, append(r.lastKey[:0], key...)
	r.n++
	if r.total += count; r.total > MaxCount {
		return errNotSorted
	}
	return nil
}

// startBlock and endBlock bracket a block in a sorted pass.
func (w *worker) startBlock(b *block) error {
	if b.lens != nil || b.src.layout.format == Text || b.src.layout.format == Ngram {
		return errNotSorted
	}
	w.blk = blockRange{seq: b.seq, firstKey: w.blk.firstKey[:0], lastKey: w.blk.lastKey[:0]}
	return nil
}

func (w *worker) endBlock() {
	if w.sp.sw != nil || w.blk.n == 0 {
		return
	}
	r := w.blk
	r.firstKey, r.lastKey = slices.Clone(r.firstKey), slices.Clone(r.lastKey)
	w.sp.mu.Lock()
	w.sp.blocks = append(w.sp.blocks, r)
	w.sp.mu.Unlock()
}

// errFallback says a sorted build must count after all.
var errFallback = errors.New("count the inputs")

// writeSorted is the second pass: the inputs read again, into the writer.
// A StreamWriter finds a word listed twice before the file gets its name;
// for a caller's writer the pass checks it itself (see hashSet).
func (c *Counter) writeSorted(path string, opts freqfile.BuildOptions, so freqfile.StreamOptions, st *Stats) error {
	in := c.sorted
	c.setPhase("writing")
	sw, err := c.newWriter(path, in.n, opts, so)
	if err != nil {
		return err
	}
	sp := &sortedPass{sw: sw}
	if c.opts.NewWriter != nil {
		// The writer has the other half of the memory limit.
		sp.hashes = newHashSet(c.opts.TmpDir, c.opts.MemoryLimit/4)
		defer sp.hashes.close()
	}
	// One worker: the entries reach the writer in the order they are read.
	err = c.runWith(in.ctx, 1, sp, func(p *pipeline) error {
		for _, i := range in.ins {
			if err := p.readInput(i); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && sp.n != in.n {
		err = errNotSorted
	}
	var hashTemp int64
	if err == nil && sp.hashes != nil {
		var dup bool
		if dup, err = sp.hashes.duplicate(); err == nil && dup {
			err = errNotSorted
		}
		hashTemp = sp.hashes.spilled
		sp.hashes.close()
	}
	if err == nil {
		err = sw.Commit()
	} else {
		sw.Abort()
	}
	var dup *freqfile.DuplicateError
	if errors.Is(err, errNotSorted) || errors.As(err, &dup) {
		return errFallback
	}
	if err != nil {
		return err
	}
	// The hashes' file and the writer's coexist at most.
	st.Words, st.Total, st.TempBytes = in.n, in.total, sw.TempBytes()+hashTemp
	return nil
}

// countSorted counts inputs that a sorted build could not take as they
// are, as AddInputs would have.
func (c *Counter) countSorted() error {
	in := c.sorted
	c.sorted = nil
	c.words.Store(0)
	c.total.Store(0)
	c.read.Store(0)
	c.setPhase("reading")
	return c.run(in.ctx, func(p *pipeline) error {
		for _, i := range in.ins {
			if err := p.readInput(i); err != nil {
				return err
			}
		}
		return nil
	})
}
