package ingest

import (
	"bufio"
	"container/heap"
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// hashSet finds whether any two of the hashes added are equal, in memory
// bounded by its budget: past it, the hashes go to sorted runs in a
// temporary file that are merged at the end.
//
// A build of words already in rank order checks with it that no word is
// listed twice when its words go to a caller's writer (Options.NewWriter),
// which need not find such a pair before it has written part of its
// output: the shards of a set are written one after the other, and a
// shard built alone never sees the words of the others. Distinct hashes
// prove distinct words; two different words with equal 64-bit hashes
// (about one build in four thousand at 100 million words) only cost a
// needless fallback to counting.
type hashSet struct {
	dir     string
	max     int // hashes held before they are spilled
	buf     []uint64
	scratch []uint64
	f       *os.File
	runs    []hashSetRun
	spilled int64 // bytes in the temporary file
}

type hashSetRun struct{ off, n int64 }

// newHashSet makes a hashSet holding at most budget bytes (the hashes and
// the radix sort's scratch space), spilling to dir.
func newHashSet(dir string, budget int64) *hashSet {
	return &hashSet{dir: dir, max: int(max(budget/16, 1<<12))}
}

func (s *hashSet) add(h uint64) error {
	if len(s.buf) == s.max {
		if err := s.spill(); err != nil {
			return err
		}
	}
	s.buf = append(s.buf, h)
	return nil
}

// sortHashes sorts a by LSD radix, 16 bits a pass; scratch must be as long.
func sortHashes(a, scratch []uint64) {
	var count [1 << 16]int
	for shift := 0; shift < 64; shift += 16 {
		clear(count[:])
		for _, h := range a {
			count[h>>shift&0xffff]++
		}
		pos := 0
		for i, c := range count {
			count[i] = pos
			pos += c
		}
		for _, h := range a {
			d := h >> shift & 0xffff
			scratch[count[d]] = h
			count[d]++
		}
		a, scratch = scratch, a
	}
	// Four passes: the sorted hashes are back in the caller's a.
}

func (s *hashSet) sortBuf() {
	if cap(s.scratch) < len(s.buf) {
		s.scratch = make([]uint64, len(s.buf), cap(s.buf))
	}
	sortHashes(s.buf, s.scratch[:len(s.buf)])
}

// spill writes the held hashes, sorted, as a run of the temporary file.
func (s *hashSet) spill() error {
	if s.f == nil {
		f, err := tempFile(s.dir)
		if err != nil {
			return err
		}
		s.f = f
	}
	s.sortBuf()
	w := bufio.NewWriterSize(io.NewOffsetWriter(s.f, s.spilled), 256<<10)
	var b [8]byte
	for _, h := range s.buf {
		binary.LittleEndian.PutUint64(b[:], h)
		w.Write(b[:])
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("temporary file in %s: %w (choose another directory with --tmp-dir)", s.dir, err)
	}
	s.runs = append(s.runs, hashSetRun{s.spilled, int64(len(s.buf))})
	s.spilled += int64(len(s.buf)) * 8
	s.buf = s.buf[:0]
	return nil
}

// duplicate reports whether two of the hashes added are equal.
func (s *hashSet) duplicate() (bool, error) {
	if s.f == nil {
		s.sortBuf()
		for i := 1; i < len(s.buf); i++ {
			if s.buf[i] == s.buf[i-1] {
				return true, nil
			}
		}
		return false, nil
	}
	if len(s.buf) > 0 {
		if err := s.spill(); err != nil {
			return false, err
		}
	}
	s.buf, s.scratch = nil, nil
	var h hashRunHeap
	for _, r := range s.runs {
		rr := &hashRunReader{r: bufio.NewReaderSize(io.NewSectionReader(s.f, r.off, r.n*8), 64<<10), left: r.n}
		if ok, err := rr.next(); err != nil {
			return false, err
		} else if ok {
			h = append(h, rr)
		}
	}
	heap.Init(&h)
	var prev uint64
	first := true
	for len(h) > 0 {
		rr := h[0]
		if !first && rr.h == prev {
			return true, nil
		}
		prev, first = rr.h, false
		ok, err := rr.next()
		if err != nil {
			return false, fmt.Errorf("temporary file in %s: %w", s.dir, err)
		}
		if ok {
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
	}
	return false, nil
}

// close releases the temporary file.
func (s *hashSet) close() {
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
	s.buf, s.scratch = nil, nil
}

type hashRunReader struct {
	r    *bufio.Reader
	left int64
	h    uint64
}

func (rr *hashRunReader) next() (bool, error) {
	if rr.left == 0 {
		return false, nil
	}
	var b [8]byte
	if _, err := io.ReadFull(rr.r, b[:]); err != nil {
		return false, err
	}
	rr.left--
	rr.h = binary.LittleEndian.Uint64(b[:])
	return true, nil
}

type hashRunHeap []*hashRunReader

func (h hashRunHeap) Len() int           { return len(h) }
func (h hashRunHeap) Less(i, j int) bool { return h[i].h < h[j].h }
func (h hashRunHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *hashRunHeap) Push(x any)        { *h = append(*h, x.(*hashRunReader)) }
func (h *hashRunHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
