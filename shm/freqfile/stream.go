package freqfile

import (
	"cmp"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// StreamOptions bound a StreamWriter.
type StreamOptions struct {
	// TmpDir holds the writer's temporary files; "" means the output's
	// directory. The files have no name (O_TMPFILE, or unlinked at once),
	// so the kernel frees them however the process ends.
	TmpDir string
	// MemoryLimit bounds the memory the writer holds, in bytes; 0 means
	// DefaultStreamMemory. The writer keeps two bytes per index bucket
	// (1/64 of the index) and the entries waiting for the index: in
	// memory up to the limit, in a temporary file past it.
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
// WriteTable holds every entry, the whole index and the rank array in
// memory: about 70 bytes a word, 7 GB for 100 million words. The
// StreamWriter needs far less, because the entries come in rank order,
// the order in which WriteTable inserts them:
//
//   - Where an entry goes is decided as it comes. Inserting in rank order,
//     WriteTable puts an entry in the first bucket from its home with a
//     free slot, and its record in that bucket's record line if it fits
//     after the records already there; both depend only on how many slots
//     and line bytes each bucket has taken so far, two bytes a bucket
//     (1/64 of the index).
//   - The rank array and the records section are in rank order, and every
//     offset is known once the entry is placed (the sections' starts follow
//     from the number of entries), so both go straight into the output
//     file as the entries come.
//   - The index is the only section out of rank order. Each entry's slot
//     and in-line record wait in the bin of its window of buckets (1 MiB
//     of index), in memory, or in a temporary file past the memory limit.
//     Commit fills the windows one by one, on every core, each in the
//     core's cache, and writes them in place.
//
// The file is written out of order, so its checksum is the combination of
// each section's (crcCombine). Placing runs on a goroutine of its own: Add
// checks an entry and queues it, so that the caller's work (sorting,
// merging, reading words) and the writer's overlap.
type StreamWriter struct {
	path string
	opts BuildOptions
	tmp  string
	hook func() bool
	meta []byte

	n, buckets, bmask    uint64
	ranksOff, recordsOff uint64
	out                  *os.File

	// Add's state, on the caller's goroutine.
	added, total uint64
	prevCount    uint64
	prevWord     []byte
	normal       *normalCheck // the words must be in the normal form of the table's rules
	err          error        // sticky: every later call returns it
	cur          *addBatch
	todo, free   chan *addBatch
	done         chan struct{}
	stopped      bool
	failed       atomic.Bool // the placer has failed; Add stops early
	lastSetRank  uint64      // the last rank AddRanked took

	// The placer's state, on its goroutine until done is closed.
	p placer
}

// addBatch is a run of entries handed from Add to the placer; ranks are
// the entries' ranks in the set for a shard, empty otherwise.
type addBatch struct {
	words  []byte
	ends   []uint32
	counts []uint64
	ranks  []uint64
}

const (
	batchEntries = 4096
	batchBytes   = 256 << 10
	batchesLive  = 4 // one being filled, the others queued or being placed
)

// NewStreamWriter starts a frequency file of exactly n entries at path;
// Commit writes it, Abort gives up. Nothing appears at path before Commit.
func NewStreamWriter(path string, n uint64, opts BuildOptions, so StreamOptions) (*StreamWriter, error) {
	if so.MemoryLimit <= 0 {
		so.MemoryLimit = DefaultStreamMemory
	}
	if so.TmpDir == "" {
		so.TmpDir = filepath.Dir(path)
	}
	if _, err := os.Stat(so.TmpDir); err != nil {
		return nil, fmt.Errorf("build %s: temporary directory: %w", path, err)
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
	meta, err := opts.Meta.encode()
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", path, err)
	}
	nc, err := newNormalCheck(opts)
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", path, err)
	}
	w := &StreamWriter{path: path, opts: opts, tmp: so.TmpDir, hook: so.BeforeLink, meta: meta, n: n, normal: nc}
	w.buckets = indexSlotsFor(n) / bucketSlots
	w.bmask = w.buckets - 1
	var hdr header
	hdr.words = n
	hdr.layout(w.buckets*bucketSlots, 0)
	w.ranksOff, w.recordsOff = hdr.ranksOff, hdr.recordsOff
	if w.out, err = createUnnamed(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("build %s: %w", path, err)
	}
	if err := w.p.init(w, so.MemoryLimit); err != nil {
		w.out.Close()
		w.p.close()
		return nil, fmt.Errorf("build %s: %w", path, err)
	}
	w.todo = make(chan *addBatch, batchesLive)
	w.free = make(chan *addBatch, batchesLive)
	for range batchesLive - 1 {
		w.free <- &addBatch{}
	}
	w.cur = &addBatch{}
	w.done = make(chan struct{})
	go w.p.run(w.todo, w.free, w.done, &w.failed)
	return w, nil
}

// Add appends the next entry. Entries must come in rank order: counts
// descending, equal counts by word in byte order. An error found while
// placing an earlier entry (a duplicate word, a full disk) may be returned
// by a later Add, or by Commit.
func (w *StreamWriter) Add(word []byte, count uint64) error {
	if w.opts.SetWords != 0 && w.err == nil {
		w.err = fmt.Errorf("build %s: the entries of a shard carry their rank in the set; add them with AddRanked", w.path)
	}
	return w.add(word, count, 0)
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

// add appends an entry; rank is its rank in the set for a shard, 0
// otherwise (the placer numbers the entries itself).
func (w *StreamWriter) add(word []byte, count, rank uint64) error {
	if w.err != nil {
		return w.err
	}
	if w.failed.Load() {
		return w.stop()
	}
	if err := w.check(word, count); err != nil {
		w.err = fmt.Errorf("build %s: %w", w.path, err)
		return w.err
	}
	w.added++
	b := w.cur
	b.words = append(b.words, word...)
	b.ends = append(b.ends, uint32(len(b.words)))
	b.counts = append(b.counts, count)
	if rank != 0 {
		b.ranks = append(b.ranks, rank)
	}
	if len(b.ends) == batchEntries || len(b.words) >= batchBytes {
		w.todo <- b
		w.cur = <-w.free
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
	if err := w.normal.check(word); err != nil {
		return err
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

// stop hands the placer the last entries, waits for it to finish and
// returns its error, if any.
func (w *StreamWriter) stop() error {
	if !w.stopped {
		w.stopped = true
		if len(w.cur.ends) > 0 && !w.failed.Load() {
			w.todo <- w.cur
		}
		close(w.todo)
		<-w.done
	}
	if w.err == nil && w.p.err != nil {
		w.err = fmt.Errorf("build %s: %w", w.path, w.p.err)
	}
	return w.err
}

// TempBytes is the most temporary disk the writer has used at once.
func (w *StreamWriter) TempBytes() int64 { return w.p.spoolSize }

// Abort releases the temporary files; nothing is written.
func (w *StreamWriter) Abort() {
	w.stop()
	w.p.close()
	if w.out != nil {
		w.out.Close()
		w.out = nil
	}
	if w.err == nil {
		w.err = errors.New("stream writer aborted")
	}
}

// Commit writes the file: atomically, as WriteFile does.
func (w *StreamWriter) Commit() (err error) {
	defer w.Abort()
	if err := w.stop(); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("build %s: %w", w.path, err)
		}
	}()
	if w.added != w.n {
		return fmt.Errorf("%d entries added, %d announced", w.added, w.n)
	}
	p := &w.p
	for _, s := range []*sectionWriter{&p.ranks, &p.records} {
		if err := s.flush(); err != nil {
			return err
		}
	}
	indexCRC, err := p.writeIndex()
	if err != nil {
		return err
	}
	var hdr header
	hdr.metaSize = uint32(len(w.meta))
	hdr.words = w.n
	hdr.total = w.total
	hdr.seed = hashSeed
	if w.opts.FoldCase {
		hdr.flags |= flagFoldCase
	}
	if w.opts.SetWords != 0 {
		hdr.flags |= flagSetRanks
	}
	hdr.layout(w.buckets*bucketSlots, uint64(p.records.size()))
	if hdr.fileSize > maxFileSize {
		return fmt.Errorf("%d words make a %d-byte file, over the format's %d-byte limit; split the table", w.n, hdr.fileSize, uint64(maxFileSize))
	}
	hdr.probeLimit = p.longest
	if _, err := w.out.WriteAt(w.meta, int64(hdr.recordsOff+hdr.recordsSize)); err != nil {
		return err
	}
	crc := crcCombine(indexCRC, p.ranks.crc, p.ranks.size())
	crc = crcCombine(crc, p.records.crc, p.records.size())
	hdr.bodyCRC = crcCombine(crc, crc32.Checksum(w.meta, castagnoli), int64(len(w.meta)))
	if _, err := w.out.WriteAt(hdr.encode(), 0); err != nil {
		return err
	}
	if err := w.out.Chmod(0o644); err != nil {
		return err
	}
	if err := w.out.Sync(); err != nil {
		return err
	}
	if w.hook != nil && !w.hook() {
		return errors.New("abandoned before it was complete")
	}
	return linkAt(w.out, w.path)
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
