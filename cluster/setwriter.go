package cluster

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/freqd/freqd/shm/freqfile"
)

// ShardFile is one shard a SetWriter writes: the slots whose words it
// holds and the file it goes to.
type ShardFile struct {
	Slots Range
	Path  string
	Index int // 1..Count for a set built as Count shards, 0 for a shard built alone
	Count int
}

// SetWriter splits a table into shards by hash slot. It takes the whole
// set's words in rank order, as a freqfile.StreamWriter does, numbers them
// (their rank in the set), and keeps those of each shard it writes in a
// temporary file of its own; Commit then writes each shard with a
// StreamWriter, the words carrying their ranks in the set, and the set's
// size, total and id in every shard's metadata. It sits above the writer:
// how a table is laid out is the StreamWriter's alone.
//
// Words of slots no ShardFile covers are counted and ranked, and not
// written: that is how one shard is built alone (--slots), identical to
// the same shard of a build of them all.
type SetWriter struct {
	files []ShardFile
	owner []int16 // per slot: index in files, or -1
	parts []*part
	opts  freqfile.BuildOptions
	so    freqfile.StreamOptions

	rank  uint64 // words added so far: the rank of the last one
	total uint64
	id    uint64 // running hash of the set
	rec   []byte
	temp  int64 // bytes in the temporary files
	peak  int64
	err   error
}

// part is the temporary file of one shard's words.
type part struct {
	f        *os.File
	w        *bufio.Writer
	n        uint64 // words
	lastRank uint64
	bytes    int64
}

// NewSetWriter starts writing the shards files, which must not overlap.
// opts and so are those every shard's StreamWriter gets; opts.Meta is
// copied into each shard's metadata beside the set's keys.
func NewSetWriter(files []ShardFile, opts freqfile.BuildOptions, so freqfile.StreamOptions) (*SetWriter, error) {
	w := &SetWriter{files: files, owner: make([]int16, Slots), opts: opts, so: so}
	for i := range w.owner {
		w.owner[i] = -1
	}
	for i, f := range files {
		for s := f.Slots.First; s <= f.Slots.Last; s++ {
			if w.owner[s] >= 0 {
				return nil, fmt.Errorf("shards %s and %s overlap", files[w.owner[s]].Slots, f.Slots)
			}
			w.owner[s] = int16(i)
		}
	}
	dir := so.TmpDir
	if dir == "" && len(files) > 0 {
		dir = filepath.Dir(files[0].Path)
	}
	for range files {
		f, err := tempFile(dir)
		if err != nil {
			w.Abort()
			return nil, fmt.Errorf("temporary file for a shard in %s: %w (choose another directory with --tmp-dir)", dir, err)
		}
		w.parts = append(w.parts, &part{f: f, w: bufio.NewWriterSize(f, 64<<10)})
	}
	return w, nil
}

// Add takes the next word of the set, in rank order.
func (w *SetWriter) Add(word []byte, count uint64) error {
	if w.err != nil {
		return w.err
	}
	w.rank++
	w.total += count
	w.rec = binary.AppendUvarint(w.rec[:0], count)
	w.rec = append(w.rec, word...)
	w.id = freqfile.Hash(w.rec, w.id)
	i := w.owner[Slot(word)]
	if i < 0 {
		return nil
	}
	p := w.parts[i]
	w.rec = binary.AppendUvarint(w.rec[:0], w.rank-p.lastRank)
	w.rec = binary.AppendUvarint(w.rec, count)
	w.rec = binary.AppendUvarint(w.rec, uint64(len(word)))
	w.rec = append(w.rec, word...)
	if _, err := p.w.Write(w.rec); err != nil {
		w.err = fmt.Errorf("temporary file for a shard: %w (choose another directory with --tmp-dir)", err)
		return w.err
	}
	p.n++
	p.lastRank = w.rank
	p.bytes += int64(len(w.rec))
	w.temp += int64(len(w.rec))
	w.peak = max(w.peak, w.temp)
	return nil
}

// SetID returns the id of the set added so far: every shard records it.
func (w *SetWriter) SetID() string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], w.id)
	return hex.EncodeToString(b[:])
}

// Words returns how many words of the set were added, and Total their sum.
func (w *SetWriter) Words() uint64 { return w.rank }

// Total returns the sum of the counts added.
func (w *SetWriter) Total() uint64 { return w.total }

// ShardWords returns how many words shard i (in the order given to
// NewSetWriter) holds.
func (w *SetWriter) ShardWords(i int) uint64 { return w.parts[i].n }

// Commit writes every shard, one after the other, each atomically. The
// caller's BeforeLink is asked once, before the first shard gets its name;
// from then on the others are written whatever happens.
func (w *SetWriter) Commit() error {
	defer w.Abort()
	if w.err != nil {
		return w.err
	}
	if w.rank == 0 {
		return errors.New("the set has no words")
	}
	asked := false
	for i, f := range w.files {
		meta := freqfile.Metadata{}
		for k, v := range w.opts.Meta {
			meta[k] = v
		}
		meta[MetaSetID] = w.SetID()
		meta[MetaSetTotal] = strconv.FormatUint(w.total, 10)
		meta[MetaShardSlots] = f.Slots.String()
		if f.Index > 0 {
			meta[MetaShardIndex] = strconv.Itoa(f.Index)
			meta[MetaSetShards] = strconv.Itoa(f.Count)
		}
		opts := w.opts
		opts.Meta, opts.SetWords = meta, w.rank
		so := w.so
		if hook := so.BeforeLink; hook != nil {
			so.BeforeLink = func() bool {
				if asked {
					return true
				}
				asked = true
				return hook()
			}
		}
		if err := w.writeShard(w.parts[i], f.Path, opts, so); err != nil {
			if i > 0 {
				var done []string
				for _, f := range w.files[:i] {
					done = append(done, f.Path)
				}
				return fmt.Errorf("%w; %s written already, from this build: build every shard again so that they are one set", err, strings.Join(done, ", "))
			}
			return err
		}
	}
	return nil
}

// writeShard replays one shard's words into a StreamWriter.
func (w *SetWriter) writeShard(p *part, path string, opts freqfile.BuildOptions, so freqfile.StreamOptions) error {
	if err := p.w.Flush(); err != nil {
		return fmt.Errorf("temporary file for a shard: %w (choose another directory with --tmp-dir)", err)
	}
	sw, err := freqfile.NewStreamWriter(path, p.n, opts, so)
	if err != nil {
		return err
	}
	r := bufio.NewReaderSize(io.NewSectionReader(p.f, 0, p.bytes), 256<<10)
	var rank uint64
	var word []byte
	for range p.n {
		d, err1 := binary.ReadUvarint(r)
		count, err2 := binary.ReadUvarint(r)
		l, err3 := binary.ReadUvarint(r)
		if err := errors.Join(err1, err2, err3); err != nil {
			sw.Abort()
			return fmt.Errorf("read back a shard's temporary file: %w", err)
		}
		word = slices.Grow(word[:0], int(l))[:l]
		if _, err := io.ReadFull(r, word); err != nil {
			sw.Abort()
			return fmt.Errorf("read back a shard's temporary file: %w", err)
		}
		rank += d
		if err := sw.AddRanked(word, count, rank); err != nil {
			sw.Abort()
			return err
		}
	}
	err = sw.Commit()
	w.peak = max(w.peak, w.temp+sw.TempBytes())
	p.f.Close()
	w.temp -= p.bytes
	p.f = nil
	return err
}

// TempBytes is the most temporary disk the writer used at once, its own
// and its StreamWriters'.
func (w *SetWriter) TempBytes() int64 { return w.peak }

// Abort releases the temporary files. Shards already written stay.
func (w *SetWriter) Abort() {
	for _, p := range w.parts {
		if p.f != nil {
			p.f.Close()
			p.f = nil
		}
	}
	if w.err == nil {
		w.err = errors.New("set writer aborted")
	}
}

// tempFile makes a file in dir without a name, so that nothing is left
// behind however the process ends, or one removed at once where the file
// system cannot.
func tempFile(dir string) (*os.File, error) {
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err == nil {
		return os.NewFile(uintptr(fd), filepath.Join(dir, "(unnamed)")), nil
	}
	f, err := os.CreateTemp(dir, ".freqd-shard-*")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name())
	return f, nil
}
