package ingest

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Format is the layout of an input.
type Format int

// The input formats. Auto chooses one per input from its first lines (see
// Detect).
const (
	Auto    Format = iota
	TSV            // word<TAB>count, or more columns named by a header line
	CSV            // RFC 4180: word,count, quoted fields, or more columns named by a header
	Space          // word count (or count word, as uniq -c writes), separated by spaces or tabs
	Ngram          // Google Books n-grams: phrase<TAB>year<TAB>match_count<TAB>volume_count
	Text           // running text, tokenized into words, each occurrence counted once
	Parquet        // a Parquet file: recognised by content, never chosen with --format
)

var formatNames = [...]string{Auto: "auto", TSV: "tsv", CSV: "csv", Space: "space", Ngram: "ngram", Text: "text", Parquet: "parquet"}

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
		if s == name && Format(f) != Parquet {
			return Format(f), nil
		}
	}
	return Auto, fmt.Errorf("unknown input format %q; use one of auto, tsv, csv, space, ngram, text (Parquet is recognised by its content)", s)
}

// HeaderMode says whether inputs start with a header line.
type HeaderMode int

const (
	// HeaderAuto recognises a header: a first line whose count field is
	// not a number where the lines after it have one.
	HeaderAuto HeaderMode = iota
	// HeaderYes skips the first line of every word list.
	HeaderYes
	// HeaderNo reads the first line as data, so a bad count there is an error.
	HeaderNo
)

// ParseHeaderMode reads auto, yes or no.
func ParseHeaderMode(s string) (HeaderMode, error) {
	switch s {
	case "auto":
		return HeaderAuto, nil
	case "yes", "true":
		return HeaderYes, nil
	case "no", "false":
		return HeaderNo, nil
	}
	return HeaderAuto, fmt.Errorf("--header %s: want auto, yes or no", s)
}

// sampleLines is how many non-blank lines Detect looks at.
const sampleLines = 16

// layout is how the lines of one input are read.
type layout struct {
	format Format
	header bool // the first line names the columns and is skipped
	cols   int  // fields a line has (TSV and CSV; Space always 2)
	word   int  // the word's column
	count  int  // the count's column
	gram   int  // Ngram: tokens in the phrases of the sample
	why    string
}

// Detect chooses the format of an input from a sample of its beginning;
// see detectLayout, which also finds the header and the columns.
func Detect(sample []byte) Format {
	l, _ := detectLayout(sample, Auto, Auto, HeaderAuto, nil)
	return l.format
}

// detectLayout chooses how to read an input from a sample of its first
// lines. forced is the format the user chose (Auto if none); hint is what
// the file's name suggests, used only when the content is not clearly a
// word list, so that a short list with bad lines is reported line by line
// rather than counted as prose; columns are the word and count columns
// the user named, if any.
//
// Each of the first 16 non-blank lines is split as an n-gram line, then as
// tab-separated, comma-separated (RFC 4180) and space-separated fields. A
// format fits when at least half of the lines after the first (the first
// may be a header) have the same number of fields, at least two, with a
// number in the same column; the first format that fits, in that order,
// wins. A first line whose count field is not a number where the others
// have one is a header, and a header's names choose the word and count
// columns (word, token, term, ngram... and count, n, freq, cnt...). With
// two columns and no header, the count is the last numeric column, so
// both "the<TAB>12" and uniq -c's "  12 the" read right. Nothing fits: the
// input is text.
func detectLayout(sample []byte, forced, hint Format, hdr HeaderMode, columns []string) (layout, error) {
	sample = bytes.TrimPrefix(sample, utf8BOM)
	var lines [][]byte
	for len(sample) > 0 && len(lines) < sampleLines {
		line, rest, found := bytes.Cut(sample, []byte{'\n'})
		if !found && len(lines) > 0 {
			break // a partial last line would be misread
		}
		sample = rest
		if line = trimEOL(line); len(bytes.TrimSpace(line)) > 0 {
			lines = append(lines, line)
		}
	}
	switch forced {
	case Text:
		return layout{format: Text}, nil
	case Ngram:
		return layout{format: Ngram, gram: ngramSize(lines)}, nil
	}
	if len(lines) == 0 {
		if forced != Auto {
			return layout{format: forced, cols: 2, word: 0, count: 1}, nil
		}
		return layout{format: Text}, nil
	}
	candidates := []Format{Ngram, TSV, CSV, Space}
	if forced != Auto {
		candidates = []Format{forced}
	}
	for _, f := range candidates {
		if f == Ngram {
			ok := 0
			for _, l := range lines {
				if _, _, err := splitNgram(l); err == nil {
					ok++
				}
			}
			if ok*2 >= len(lines) {
				return layout{format: Ngram, gram: ngramSize(lines)}, nil
			}
			continue
		}
		l, fits, err := fitDelimited(f, lines, hdr, columns)
		if err != nil {
			return layout{}, err
		}
		if fits || forced != Auto {
			return l, nil
		}
	}
	if hint == TSV || hint == CSV {
		l, _, err := fitDelimited(hint, lines, hdr, columns)
		if err != nil {
			return layout{}, err
		}
		l.why = "the file's name"
		return l, nil
	}
	return layout{format: Text}, nil
}

// fitDelimited tries format f (TSV, CSV or Space) on the sample lines and
// returns the layout it implies and whether enough lines fit it.
func fitDelimited(f Format, lines [][]byte, hdr HeaderMode, columns []string) (layout, bool, error) {
	split := splitterFor(f)
	fields := make([][][]byte, len(lines))
	for i, l := range lines {
		fields[i], _ = split(l, nil)
	}
	data := fields
	if len(fields) > 1 && hdr != HeaderNo {
		data = fields[1:]
	}
	// The most common number of fields among the data lines.
	freq := map[int]int{}
	cols := 0
	for _, fl := range data {
		freq[len(fl)]++
		if n := len(fl); freq[n] > freq[cols] || freq[n] == freq[cols] && n > cols {
			cols = n
		}
	}
	l := layout{format: f, cols: cols, word: 0, count: 1}
	if cols < 2 || (f == Space && cols != 2) {
		l.cols = 2
		return l, false, nil
	}
	numeric := make([]int, cols)
	for _, fl := range data {
		if len(fl) != cols {
			continue
		}
		for j, v := range fl {
			if isNumber(bytes.TrimSpace(v)) {
				numeric[j]++
			}
		}
	}
	// The count column: the last one that is numeric in most lines.
	l.count = -1
	for j := cols - 1; j >= 0; j-- {
		if numeric[j]*2 >= len(data) && numeric[j] > 0 {
			l.count = j
			break
		}
	}
	first := fields[0]
	switch hdr {
	case HeaderYes:
		l.header = true
	case HeaderAuto:
		l.header = len(fields) > 1 && len(first) == cols && l.count >= 0 && !isNumber(bytes.TrimSpace(first[l.count]))
	}
	if l.header {
		names := make([]string, len(first))
		for j, v := range first {
			names[j] = strings.ToLower(strings.Trim(strings.TrimSpace(string(v)), `"'`))
		}
		if w, c, ok := columnsByName(names); ok {
			l.word, l.count = w, c
		}
	}
	if len(columns) == 2 {
		w, c, err := namedColumns(columns, first, l.header, cols)
		if err != nil {
			return l, false, err
		}
		l.word, l.count = w, c
	}
	if l.count < 0 {
		l.count = cols - 1
		return l, false, nil
	}
	if cols == 2 {
		l.word = 1 - l.count
	} else if l.word == l.count || !l.header && len(columns) != 2 {
		if f == TSV || f == CSV {
			// Lines with many columns and no names for them: guessing
			// would count the wrong thing.
			fit := 0
			for _, fl := range data {
				if len(fl) == cols {
					fit++
				}
			}
			if fit*2 >= len(data) {
				return l, false, fmt.Errorf("lines have %d %s fields and no header line names the word and count columns; name them with --columns WORD,COUNT (names or numbers from 1)", cols, sepName(f))
			}
		}
		return l, false, nil
	}
	fit := 0
	for _, fl := range data {
		if len(fl) == cols && isNumber(bytes.TrimSpace(fl[l.count])) {
			fit++
		}
	}
	return l, fit*2 >= len(data) && fit > 0, nil
}

func sepName(f Format) string {
	switch f {
	case TSV:
		return "tab-separated"
	case CSV:
		return "comma-separated"
	}
	return "space-separated"
}

// wordNames and countNames are the column names engines and people give
// the word and the count (lower case).
var (
	wordNames  = []string{"word", "words", "token", "tokens", "term", "terms", "ngram", "n_gram", "gram", "phrase", "phrases", "key", "lemma", "type", "string", "text", "unigram", "bigram", "trigram", "item", "w"}
	countNames = []string{"count", "counts", "cnt", "n", "freq", "frequency", "frequencies", "total", "occurrences", "occurrence", "match_count", "matches", "num", "number", "tf", "c", "sum", "hits", "count(*)", "count_star()", "count(1)"}
)

// columnsByName finds the word and count columns among header names.
func columnsByName(names []string) (word, count int, ok bool) {
	word, count = -1, -1
	for _, want := range wordNames {
		for j, n := range names {
			if n == want && word < 0 {
				word = j
			}
		}
	}
	for _, want := range countNames {
		for j, n := range names {
			if n == want && count < 0 && j != word {
				count = j
			}
		}
	}
	if count < 0 {
		for j, n := range names {
			if j != word && (strings.Contains(n, "count") || strings.Contains(n, "freq")) {
				count = j
				break
			}
		}
	}
	if word < 0 && count >= 0 && len(names) == 2 {
		word = 1 - count
	}
	return word, count, word >= 0 && count >= 0 && word != count
}

// namedColumns resolves --columns WORD,COUNT: names from the header line,
// or 1-based column numbers.
func namedColumns(columns []string, header [][]byte, haveHeader bool, cols int) (word, count int, err error) {
	idx := [2]int{}
	for i, c := range columns {
		if n, err := strconv.Atoi(c); err == nil {
			if n < 1 || n > cols {
				return 0, 0, fmt.Errorf("--columns: column %d does not exist; lines have %d fields", n, cols)
			}
			idx[i] = n - 1
			continue
		}
		if !haveHeader {
			return 0, 0, fmt.Errorf("--columns: %q is a name but the input has no header line; give column numbers (from 1)", c)
		}
		found := -1
		for j, h := range header {
			if strings.EqualFold(strings.Trim(strings.TrimSpace(string(h)), `"'`), c) {
				found = j
				break
			}
		}
		if found < 0 {
			return 0, 0, fmt.Errorf("--columns: no column named %q in the header line", c)
		}
		idx[i] = found
	}
	if idx[0] == idx[1] {
		return 0, 0, fmt.Errorf("--columns: the word and the count cannot be the same column")
	}
	return idx[0], idx[1], nil
}

// isNumber reports whether b is a decimal integer, signed or not: what a
// count column holds, a negative count being an error found later.
func isNumber(b []byte) bool {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// formatFromName reads a format hint off a file name's extension, under
// any compression suffix: .tsv, .tab, .csv.
func formatFromName(name string) Format {
	base := strings.ToLower(name)
	for _, ext := range []string{".gz", ".zst", ".zstd", ".bz2"} {
		base = strings.TrimSuffix(base, ext)
	}
	switch {
	case strings.HasSuffix(base, ".tsv"), strings.HasSuffix(base, ".tab"):
		return TSV
	case strings.HasSuffix(base, ".csv"):
		return CSV
	}
	return Auto
}

var utf8BOM = []byte("\xef\xbb\xbf")
