package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/freqd/freqd/shm/freqfile"
)

// MaxCount is the largest count a table holds: the largest integer a RESP
// integer reply (a signed 64-bit number) carries, so FREQ can answer it.
const MaxCount = math.MaxInt64

// A splitter cuts a line into fields, reusing buf.
type splitter func(line []byte, buf [][]byte) ([][]byte, error)

func splitterFor(f Format) splitter {
	switch f {
	case TSV:
		return splitTSV
	case CSV:
		return splitCSV
	}
	return splitSpace
}

// splitTSV cuts at tabs. Escapes are undone later, in the word alone: a
// count never holds one.
func splitTSV(line []byte, buf [][]byte) ([][]byte, error) {
	buf = buf[:0]
	for {
		i := bytes.IndexByte(line, '\t')
		if i < 0 {
			return append(buf, line), nil
		}
		buf = append(buf, line[:i])
		line = line[i+1:]
	}
}

// splitSpace cuts at runs of spaces and tabs.
func splitSpace(line []byte, buf [][]byte) ([][]byte, error) {
	buf = buf[:0]
	for i := 0; i < len(line); {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		j := i
		for j < len(line) && line[j] != ' ' && line[j] != '\t' {
			j++
		}
		if j > i {
			buf = append(buf, line[i:j])
		}
		i = j
	}
	return buf, nil
}

// splitCSV cuts a line as RFC 4180 writes it: fields separated by commas,
// a field holding a comma or a quote enclosed in double quotes, with
// quotes inside doubled. Spaces around a quoted field are tolerated. A
// quoted field left open at the end of the line is an error: it would hold
// a line break, which no word does.
func splitCSV(line []byte, buf [][]byte) ([][]byte, error) {
	buf = buf[:0]
	for {
		t := bytes.TrimLeft(line, " ")
		if len(t) > 0 && t[0] == '"' {
			field, rest, err := unquoteCSV(t)
			if err != nil {
				return buf, err
			}
			buf = append(buf, field)
			rest = bytes.TrimLeft(rest, " ")
			if len(rest) == 0 {
				return buf, nil
			}
			if rest[0] != ',' {
				return buf, errors.New("a quoted field is followed by something other than a comma")
			}
			line = rest[1:]
			continue
		}
		i := bytes.IndexByte(line, ',')
		if i < 0 {
			return append(buf, line), nil
		}
		buf = append(buf, line[:i])
		line = line[i+1:]
	}
}

// unquoteCSV reads a double-quoted field at the start of s and returns its
// content and what follows the closing quote. The content aliases s when
// it has no doubled quote.
func unquoteCSV(s []byte) (field, rest []byte, err error) {
	var out []byte
	start := 1
	for i := 1; i < len(s); i++ {
		if s[i] != '"' {
			continue
		}
		if i+1 < len(s) && s[i+1] == '"' { // "" is a literal quote
			out = append(out, s[start:i+1]...)
			i++
			start = i + 1
			continue
		}
		if out == nil {
			return s[start:i], s[i+1:], nil
		}
		return append(out, s[start:i]...), s[i+1:], nil
	}
	return nil, nil, errors.New("a quoted field is not closed on its line (a word cannot hold a line break)")
}

// unescapeTSV undoes the backslash escapes ClickHouse's TabSeparated,
// Hive's and PostgreSQL's text formats write: \t, \n, \r, \\, \0, \b, \f,
// \v, \', \". Any other backslash is kept as it is. A field that is \N
// alone is NULL. It returns field itself when there is nothing to undo.
func unescapeTSV(field, buf []byte) (out []byte, null bool) {
	if bytes.IndexByte(field, '\\') < 0 {
		return field, false
	}
	if string(bytes.TrimSpace(field)) == `\N` {
		return nil, true
	}
	out = buf[:0]
	for i := 0; i < len(field); i++ {
		c := field[i]
		if c != '\\' || i+1 == len(field) {
			out = append(out, c)
			continue
		}
		i++
		switch e := field[i]; e {
		case 't':
			out = append(out, '\t')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case '0':
			out = append(out, 0)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'v':
			out = append(out, '\v')
		case '\\', '\'', '"':
			out = append(out, e)
		default:
			out = append(out, '\\', e)
		}
	}
	return out, false
}

// countError reports a count field that is not a count.
type countError struct {
	field []byte
	kind  int
}

const (
	notNumber = iota
	negative
	tooLarge
)

func (e *countError) Error() string {
	switch e.kind {
	case negative:
		return fmt.Sprintf("count %s is negative; counts are numbers of occurrences (--min-count 1 skips such lines)", e.field)
	case tooLarge:
		return fmt.Sprintf("count %s is larger than %d, the largest integer a Redis client can read", e.field, uint64(MaxCount))
	}
	return fmt.Sprintf("count %q is not a whole number", e.field)
}

// parseCount reads a decimal count without allocating; strconv would need a
// string per line. A negative count is read (as ok=false with a
// countError of kind negative), so that the message can say so.
func parseCount(b []byte) (uint64, error) {
	neg := len(b) > 0 && b[0] == '-'
	digits := b
	if neg {
		digits = b[1:]
	}
	if len(digits) == 0 {
		return 0, &countError{field: clip(b)}
	}
	var n uint64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, &countError{field: clip(b)}
		}
		d := uint64(c - '0')
		if n > (math.MaxUint64-d)/10 {
			return 0, &countError{field: clip(b), kind: tooLarge}
		}
		n = n*10 + d
	}
	switch {
	case neg && n != 0:
		return 0, &countError{field: clip(b), kind: negative}
	case n > MaxCount:
		return 0, &countError{field: clip(b), kind: tooLarge}
	}
	return n, nil
}

// clip bounds a field quoted in an error message.
func clip(b []byte) []byte {
	const max = 40
	if len(b) <= max {
		return bytes.Clone(b)
	}
	return append(bytes.Clone(b[:max]), "..."...)
}

// checkWord rejects what cannot be looked up as a word: the empty string,
// invalid UTF-8, control characters (which would corrupt line-oriented output
// such as `freqd inspect`), and words longer than freqfile.MaxWordLen, which a
// table cannot hold.
func checkWord(w []byte) error {
	switch {
	case len(w) == 0:
		return errors.New("word is empty")
	case len(w) > freqfile.MaxWordLen:
		return fmt.Errorf("word %q... is %d bytes long, more than the maximum %d", w[:20], len(w), freqfile.MaxWordLen)
	}
	ascii := true
	for _, c := range w {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return fmt.Errorf("word %s contains a control character", strconv.QuoteToASCII(string(w)))
		}
		ascii = ascii && c < utf8.RuneSelf
	}
	if !ascii && !utf8.Valid(w) {
		return fmt.Errorf("word %s is not valid UTF-8", strconv.QuoteToASCII(string(w)))
	}
	return nil
}

// trimEOL drops a line's "\n" or "\r\n".
func trimEOL(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line
}

// lineReader parses the lines of one input with its layout into a raw key
// (before normalization) and a count. It holds scratch space, so each
// worker has its own.
type lineReader struct {
	l      layout
	split  splitter
	fields [][]byte
	unesc  []byte
	ngram  ngramReader
}

func newLineReader(l layout, tags TagRule) *lineReader {
	return &lineReader{l: l, split: splitterFor(l.format), ngram: ngramReader{tags: tags}}
}

// parse reads one line (without its ending, not blank). A nil word with a
// nil error means the line counts nothing (an n-gram line skipped by the
// part-of-speech rule).
func (r *lineReader) parse(line []byte) (word []byte, count uint64, err error) {
	if r.l.format == Ngram {
		return r.ngram.parse(line)
	}
	r.fields, err = r.split(line, r.fields)
	if err != nil {
		return nil, 0, err
	}
	if len(r.fields) != r.l.cols {
		switch r.l.format {
		case TSV:
			return nil, 0, fmt.Errorf("expected %d tab-separated fields (%s), found %d", r.l.cols, r.l.describe(), len(r.fields))
		case CSV:
			return nil, 0, fmt.Errorf("expected %d comma-separated fields (%s), found %d (quote a word that holds a comma)", r.l.cols, r.l.describe(), len(r.fields))
		}
		return nil, 0, fmt.Errorf(`expected "%s" separated by spaces, found %d fields`, r.l.describe(), len(r.fields))
	}
	n, err := parseCount(bytes.TrimSpace(r.fields[r.l.count]))
	if err != nil {
		return nil, 0, err
	}
	word = r.fields[r.l.word]
	if r.l.format == TSV {
		var null bool
		if word, null = unescapeTSV(word, r.unesc); null {
			return nil, 0, errors.New(`word is NULL (\N); filter NULL words out before the build`)
		}
		r.unesc = word[:0]
	}
	word = bytes.TrimSpace(word)
	if err := checkWord(word); err != nil {
		return nil, 0, err
	}
	return word, n, nil
}

// describe names the columns as the layout reads them.
func (l layout) describe() string {
	if l.cols == 2 {
		if l.word == 0 {
			return "word, count"
		}
		return "count, word"
	}
	return fmt.Sprintf("word in column %d, count in column %d", l.word+1, l.count+1)
}
