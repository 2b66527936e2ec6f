package ingest

import (
	"bytes"
	"fmt"
)

// Format is the layout of an input.
type Format int

// The input formats. Auto chooses one per input from its first lines (see
// Detect).
const (
	Auto  Format = iota
	TSV          // word<TAB>count
	CSV          // word,count; the word may be double-quoted; an optional header line
	Space        // word count, separated by spaces or tabs
	Ngram        // Google Books 1-grams: word<TAB>year<TAB>match_count<TAB>volume_count
	Text         // running text, tokenized into words, each occurrence counted once
)

var formatNames = [...]string{Auto: "auto", TSV: "tsv", CSV: "csv", Space: "space", Ngram: "ngram", Text: "text"}

// String returns the name ParseFormat accepts for f.
func (f Format) String() string {
	if f >= 0 && int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("format(%d)", int(f))
}

// ParseFormat returns the Format named s, one of auto, tsv, csv, space, ngram
// or text.
func ParseFormat(s string) (Format, error) {
	for f, name := range formatNames {
		if s == name {
			return Format(f), nil
		}
	}
	return Auto, fmt.Errorf("unknown input format %q; use one of auto, tsv, csv, space, ngram, text", s)
}

// sampleLines is how many non-blank lines Detect looks at.
const sampleLines = 16

// Detect chooses the format of an input from a sample of its beginning.
//
// Each of the first 16 non-blank lines is classified on its own: a word
// followed by year, match count and volume count, tab-separated (or by
// "year,match,volume" triples, the 2020 layout) is an n-gram line; two fields
// with a numeric last field is a TSV, CSV or space-separated line, tried in
// that order; anything else is text. A first line that is text is left out of
// the vote when more lines follow, since it may be a header. The format that
// at least half of the remaining lines share wins; with none, the input is
// text.
//
// A structured format wins on a bare half so that a word list with a few bad
// lines is reported line by line instead of being silently counted as prose.
// If sample ends inside a line, that line is ignored unless it is the only one.
func Detect(sample []byte) Format {
	sample = bytes.TrimPrefix(sample, utf8BOM)
	var lines [][]byte
	for len(sample) > 0 && len(lines) < sampleLines {
		line, rest, found := bytes.Cut(sample, []byte{'\n'})
		if !found && len(lines) > 0 {
			break // a partial last line would be misread
		}
		sample = rest
		if len(bytes.TrimSpace(line)) > 0 {
			lines = append(lines, line)
		}
	}
	if len(lines) == 0 {
		return Text
	}
	if len(lines) > 1 && classify(lines[0]) == Text {
		lines = lines[1:]
	}
	var votes [len(formatNames)]int
	for _, l := range lines {
		votes[classify(l)]++
	}
	for _, f := range []Format{Ngram, TSV, CSV, Space} {
		if votes[f] > 0 && votes[f]*2 >= len(lines) {
			return f
		}
	}
	return Text
}

var utf8BOM = []byte("\xef\xbb\xbf")

// classify says which format one line is written in, by trying each line
// parser in order of specificity.
func classify(line []byte) Format {
	line = trimEOL(line)
	if bytes.IndexByte(line, '\t') >= 0 {
		if _, _, err := parseNgram(line); err == nil {
			return Ngram
		}
		if _, _, err := parseTSV(line); err == nil {
			return TSV
		}
	}
	if _, _, err := parseCSV(line); err == nil {
		return CSV
	}
	if _, _, err := parseSpace(line); err == nil {
		return Space
	}
	return Text
}
