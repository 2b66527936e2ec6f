package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/freqd/freqd/shm/freqfile"
)

// A lineParser reads one line of a word list (without its line ending) into a
// word and its count. A nil word with a nil error means the line counts
// nothing (an n-gram line for a bare part-of-speech tag, say).
type lineParser func(line []byte) (word []byte, count uint64, err error)

func lineParserFor(f Format) lineParser {
	switch f {
	case TSV:
		return parseTSV
	case CSV:
		return parseCSV
	case Space:
		return parseSpace
	case Ngram:
		return parseNgram
	}
	return nil
}

// parseTSV reads "word<TAB>count". Spaces around either field are dropped:
// they are formatting, never part of a word.
func parseTSV(line []byte) ([]byte, uint64, error) {
	word, count, ok := bytes.Cut(line, []byte{'\t'})
	if !ok {
		return nil, 0, fmt.Errorf(`expected "word<TAB>count", found no tab`)
	}
	if bytes.IndexByte(count, '\t') >= 0 {
		return nil, 0, fmt.Errorf(`expected "word<TAB>count", found %d tab-separated fields`, bytes.Count(line, []byte{'\t'})+1)
	}
	return wordAndCount(word, count)
}

// parseCSV reads "word,count" as RFC 4180 writes it: a word containing a
// comma or a quote is double-quoted, with quotes inside doubled. A quoted
// field may not span lines; word lists never need that.
func parseCSV(line []byte) ([]byte, uint64, error) {
	var word, count []byte
	if t := bytes.TrimLeft(line, " "); len(t) > 0 && t[0] == '"' {
		w, rest, err := unquoteCSV(t)
		if err != nil {
			return nil, 0, err
		}
		rest = bytes.TrimLeft(rest, " ")
		if len(rest) == 0 || rest[0] != ',' {
			return nil, 0, errors.New(`expected a comma after the quoted word`)
		}
		word, count = w, rest[1:]
	} else {
		var ok bool
		word, count, ok = bytes.Cut(line, []byte{','})
		if !ok {
			return nil, 0, errors.New(`expected "word,count", found no comma`)
		}
	}
	if bytes.IndexByte(count, ',') >= 0 {
		return nil, 0, errors.New(`expected "word,count", found more than two fields (quote a word that contains a comma)`)
	}
	return wordAndCount(word, count)
}

// unquoteCSV reads a double-quoted field at the start of s and returns its
// content and what follows the closing quote.
func unquoteCSV(s []byte) (field, rest []byte, err error) {
	var out []byte
	for i := 1; i < len(s); i++ {
		if s[i] != '"' {
			continue
		}
		if i+1 < len(s) && s[i+1] == '"' { // "" is a literal quote
			out = append(out, s[1:i+1]...)
			s = s[i+1:]
			i = 0
			continue
		}
		return append(out, s[1:i]...), s[i+1:], nil
	}
	return nil, nil, errors.New("quoted word has no closing quote")
}

// parseSpace reads "word count" separated by any run of spaces or tabs.
func parseSpace(line []byte) ([]byte, uint64, error) {
	fields := bytes.Fields(line)
	if len(fields) != 2 {
		return nil, 0, fmt.Errorf(`expected "word count", found %d space-separated fields`, len(fields))
	}
	return wordAndCount(fields[0], fields[1])
}

func wordAndCount(word, count []byte) ([]byte, uint64, error) {
	n, err := parseCount(bytes.TrimSpace(count))
	if err != nil {
		return nil, 0, err
	}
	word = bytes.TrimSpace(word)
	if err := checkWord(word); err != nil {
		return nil, 0, err
	}
	return word, n, nil
}

// countError reports a count field that is not a count; a CSV header line is
// recognised by it.
type countError struct {
	field   []byte
	tooLong bool
}

func (e *countError) Error() string {
	if e.tooLong {
		return fmt.Sprintf("count %q is larger than the maximum %d", e.field, uint64(1<<64-1))
	}
	return fmt.Sprintf("count %q is not a number", e.field)
}

// parseCount reads a decimal count without allocating; strconv would need a
// string per line.
func parseCount(b []byte) (uint64, error) {
	if len(b) == 0 {
		return 0, &countError{field: b}
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, &countError{field: clip(b)}
		}
		d := uint64(c - '0')
		if n > (1<<64-1-d)/10 {
			return 0, &countError{field: clip(b), tooLong: true}
		}
		n = n*10 + d
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
		if c < 0x20 || c == 0x7f {
			return fmt.Errorf("word %q contains a control character", w)
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
