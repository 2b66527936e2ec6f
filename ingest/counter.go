package ingest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"strings"
	"sync/atomic"

	"github.com/freqd/freqd/shm/freqfile"
)

// Options choose how a Counter reads its inputs.
type Options struct {
	// Format is the layout of every input; Auto detects it per input from
	// the first lines (see Detect).
	Format Format
	// KeepCase counts "The" and "the" as different words. By default each
	// word is folded with freqfile.Fold, the folding lookups on a folded table use.
	KeepCase bool
}

// A Counter accumulates word counts from any number of inputs, summing the
// counts of a word that appears more than once. It is not safe for
// concurrent use, except BytesRead.
type Counter struct {
	opts    Options
	words   *wordTable
	total   uint64
	read    atomic.Int64
	folded  []byte
	drained bool
}

// New returns an empty Counter.
func New(opts Options) *Counter {
	return &Counter{opts: opts, words: newWordTable()}
}

// AddFile counts the words of the named input: "-" is standard input, and
// gzip-compressed content is recognised and decompressed whatever the name.
// It stops early, returning ctx.Err(), when ctx is done.
func (c *Counter) AddFile(ctx context.Context, name string) error {
	f, err := openInput(name)
	if err != nil {
		return err
	}
	defer f.Close()
	format := c.opts.Format
	if format == Auto {
		format = formatFromName(name)
	}
	return c.addInput(ctx, displayName(name), f, format)
}

// formatFromName reads a format off a file name's extension (.tsv, .csv,
// either gzipped), so that a short word list with a bad count is reported as
// a bad line rather than detected as prose and counted as words. Other
// names leave the choice to Detect.
func formatFromName(name string) Format {
	base := strings.ToLower(strings.TrimSuffix(name, ".gz"))
	switch {
	case strings.HasSuffix(base, ".tsv"):
		return TSV
	case strings.HasSuffix(base, ".csv"):
		return CSV
	}
	return Auto
}

// AddReader counts the words read from r; name identifies r in errors.
// An error leaves the Counter holding part of r's words: a caller that wants
// all or nothing discards it.
func (c *Counter) AddReader(ctx context.Context, name string, r io.Reader) error {
	return c.addInput(ctx, name, r, c.opts.Format)
}

func (c *Counter) addInput(ctx context.Context, name string, r io.Reader, format Format) error {
	if c.drained {
		return errors.New("ingest: Counter used after Entries; make a new one")
	}
	br, err := decompressed(&source{ctx: ctx, r: r, read: &c.read}, name)
	if err != nil {
		return err
	}
	detected := Auto
	if format == Auto {
		sample, err := br.Peek(readBufSize)
		if err != nil && err != io.EOF && len(sample) < readBufSize {
			return readError(ctx, name, err)
		}
		format = Detect(sample)
		detected = format
	}
	if format == Text {
		err = c.addText(name, br)
	} else {
		err = c.addLines(name, br, format, detected)
	}
	return readError(ctx, name, err)
}

// readError names the input in an I/O error; ctx's own error and the line
// errors that already name it pass unchanged.
func readError(ctx context.Context, name string, err error) error {
	var le *LineError
	if err == nil || errors.As(err, &le) || (ctx.Err() != nil && errors.Is(err, ctx.Err())) {
		return err
	}
	return fmt.Errorf("read %s: %w", name, err)
}

// addLines reads a word list, one word and count per line. Blank lines are
// skipped; a CSV file may start with a header line, recognised by a count
// field that is not a number.
func (c *Counter) addLines(name string, br *bufio.Reader, format, detected Format) error {
	parse := lineParserFor(format)
	for n := 1; ; n++ {
		b, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			return &LineError{File: name, Line: n, Err: fmt.Errorf("line is longer than %d bytes; is this a word list?", readBufSize), Detected: detected}
		}
		if n == 1 {
			b = bytes.TrimPrefix(b, utf8BOM)
		}
		if line := trimEOL(b); len(bytes.TrimSpace(line)) > 0 {
			word, count, perr := parse(line)
			switch {
			case perr != nil && n == 1 && format == CSV && isHeader(perr):
			case perr != nil:
				return &LineError{File: name, Line: n, Err: perr, Detected: detected}
			case word != nil:
				if aerr := c.add(word, count); aerr != nil {
					return &LineError{File: name, Line: n, Err: aerr}
				}
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// isHeader reports whether a CSV line's error comes from a count field that
// is not a number, the mark of a header line ("word,count").
func isHeader(err error) bool {
	var ce *countError
	return errors.As(err, &ce) && !ce.tooLong
}

// addText tokenizes running text and counts each occurrence of a word once.
func (c *Counter) addText(name string, br *bufio.Reader) error {
	var z tokenizer
	emit := func(w []byte) error {
		if err := c.add(w, 1); err != nil {
			return &LineError{File: name, Err: err}
		}
		return nil
	}
	buf := make([]byte, readBufSize)
	for {
		n, err := br.Read(buf)
		if werr := z.write(buf[:n], emit); werr != nil {
			return werr
		}
		if err == io.EOF {
			return z.flush(emit)
		}
		if err != nil {
			return err
		}
	}
}

// add counts n more occurrences of word, folding its case unless told not
// to. A count of zero adds nothing, not even the word: a table answers
// "absent" for it as for any word never seen.
func (c *Counter) add(word []byte, n uint64) error {
	if n == 0 {
		return nil
	}
	if !c.opts.KeepCase {
		c.folded = freqfile.Fold(c.folded[:0], word)
		word = c.folded
		if len(word) > freqfile.MaxWordLen {
			return fmt.Errorf("word %q... is %d bytes long once case-folded, more than the maximum %d", word[:20], len(word), freqfile.MaxWordLen)
		}
	}
	total, carry := bits.Add64(c.total, n, 0)
	if carry != 0 {
		if old, _ := c.words.lookup(word); old+n < old {
			return fmt.Errorf("count of %q overflows: %d + %d is more than 2^64-1", word, old, n)
		}
		return fmt.Errorf("the total of all counts overflows: %d + %d is more than 2^64-1", c.total, n)
	}
	c.words.add(word, n) // cannot overflow: no count exceeds the total
	c.total = total
	return nil
}

// BytesRead is the number of input bytes read so far, compressed bytes for a
// compressed input, for progress reports. It is safe to call concurrently
// with the Add methods.
func (c *Counter) BytesRead() int64 { return c.read.Load() }

// Len is the number of distinct words counted.
func (c *Counter) Len() int { return c.words.n }

// Total is the sum of all counts.
func (c *Counter) Total() uint64 { return c.total }

// Entries returns the counted words for freqfile.WriteTable or freqfile.WriteFile, in
// the order first seen. It frees the hash index first, so the entries take
// its place in memory, and the words share the Counter's storage instead of
// being copied. The Counter accepts no more input afterwards.
func (c *Counter) Entries() []freqfile.Entry {
	c.drained = true
	c.words.slots = nil
	entries := make([]freqfile.Entry, 0, c.words.n)
	c.words.arena.each(func(_ uint64, word []byte, count uint64) {
		entries = append(entries, freqfile.Entry{Word: unsafeString(word), Count: count})
	})
	return entries
}
