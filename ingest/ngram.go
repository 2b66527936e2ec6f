package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"math/bits"
)

// TagRule says what a build does with the part-of-speech tags of the
// Google Books 2012 and 2020 corpora ("run_VERB", "new_ADJ york_NOUN").
type TagRule int

const (
	// SkipTagged drops every line with a tagged token. Those corpora hold
	// an untagged line for every n-gram ("run"), whose count is the sum of
	// its tagged ones ("run_VERB", "run_NOUN"), so the untagged lines alone
	// count each n-gram once. The default.
	SkipTagged TagRule = iota
	// StripTags removes the tags and adds the counts to the untagged
	// n-gram: right for files that hold only tagged lines; on a complete
	// 2012 or 2020 file it counts every tagged n-gram twice.
	StripTags
	// KeepTags keeps tagged tokens as words of their own ("run_verb").
	KeepTags
)

// ParseTagRule reads skip, strip or keep.
func ParseTagRule(s string) (TagRule, error) {
	switch s {
	case "skip":
		return SkipTagged, nil
	case "strip":
		return StripTags, nil
	case "keep":
		return KeepTags, nil
	}
	return SkipTagged, fmt.Errorf("--ngram-tags %s: want skip, strip or keep", s)
}

// splitNgram reads one line of a Google Books n-gram file into the phrase
// and the number of times it was matched, summed over the years the line
// holds. Three layouts exist:
//
//	phrase<TAB>year<TAB>match_count<TAB>volume_count                   (2012)
//	phrase<TAB>year<TAB>match_count<TAB>page_count<TAB>volume_count    (2009)
//	phrase<TAB>year,match_count,volume_count<TAB>...                   (2020, one line per phrase)
func splitNgram(line []byte) ([]byte, uint64, error) {
	phrase, rest, ok := bytes.Cut(line, []byte{'\t'})
	if !ok {
		return nil, 0, errors.New(`expected "phrase<TAB>year<TAB>match_count<TAB>volume_count", found no tab`)
	}
	var count uint64
	var err error
	if f, _, _ := bytes.Cut(rest, []byte{'\t'}); bytes.IndexByte(f, ',') >= 0 {
		count, err = sumYearTriples(rest)
	} else {
		count, err = matchCount(rest)
	}
	if err != nil {
		return nil, 0, err
	}
	return phrase, count, nil
}

// matchCount reads "year<TAB>match_count<TAB>volume_count", or the 2009
// layout with a page count before the volume count.
func matchCount(fields []byte) (uint64, error) {
	var f [4][]byte
	n := 0
	for rest := fields; ; n++ {
		if n == len(f) {
			return 0, fmt.Errorf(`expected "phrase<TAB>year<TAB>match_count<TAB>volume_count", found more than %d fields`, n+1)
		}
		var ok bool
		f[n], rest, ok = bytes.Cut(rest, []byte{'\t'})
		if !ok {
			n++
			break
		}
	}
	if n != 3 && n != 4 {
		return 0, fmt.Errorf(`expected "phrase<TAB>year<TAB>match_count<TAB>volume_count", found %d fields`, n+1)
	}
	if !isNumber(f[0]) {
		return 0, fmt.Errorf("year %q is not a number", clip(f[0]))
	}
	c, err := parseCount(f[1])
	if err != nil {
		return 0, fmt.Errorf("match_count: %w", err)
	}
	for _, v := range f[2:n] {
		if !isNumber(v) {
			return 0, fmt.Errorf("volume_count %q is not a number", clip(v))
		}
	}
	return c, nil
}

// sumYearTriples adds the match counts of "year,match_count,volume_count"
// fields separated by tabs.
func sumYearTriples(fields []byte) (uint64, error) {
	var sum uint64
	for len(fields) > 0 {
		var f []byte
		f, fields, _ = bytes.Cut(fields, []byte{'\t'})
		year, rest, ok1 := bytes.Cut(f, []byte{','})
		match, volume, ok2 := bytes.Cut(rest, []byte{','})
		if !ok1 || !ok2 || bytes.IndexByte(volume, ',') >= 0 {
			return 0, fmt.Errorf(`expected "year,match_count,volume_count", found %q`, clip(f))
		}
		if !isNumber(year) {
			return 0, fmt.Errorf("year %q is not a number", clip(year))
		}
		n, err := parseCount(match)
		if err != nil {
			return 0, fmt.Errorf("match_count: %w", err)
		}
		if !isNumber(volume) {
			return 0, fmt.Errorf("volume_count %q is not a number", clip(volume))
		}
		var carry uint64
		if sum, carry = bits.Add64(sum, n, 0); carry != 0 || sum > MaxCount {
			return 0, fmt.Errorf("match counts over the years add up to more than %d", uint64(MaxCount))
		}
	}
	return sum, nil
}

// ngramSize returns the number of tokens of the phrases in sample lines of
// an n-gram file: the n of its n-grams (the most common, should they vary).
func ngramSize(lines [][]byte) int {
	freq := map[int]int{}
	best := 1
	for _, l := range lines {
		phrase, _, _ := bytes.Cut(l, []byte{'\t'})
		n := len(bytes.Fields(phrase))
		freq[n]++
		if freq[n] > freq[best] {
			best = n
		}
	}
	return best
}

// ngramReader applies the part-of-speech rule to the phrases of n-gram
// lines.
type ngramReader struct {
	tags TagRule
	buf  []byte
}

// parse reads one n-gram line. It returns a nil phrase for a line that
// counts nothing: one with a bare tag standing for a word ("_NOUN_ york")
// or a sentence marker ("_START_"), which are not words, and, under
// SkipTagged, one with a tagged token.
func (r *ngramReader) parse(line []byte) ([]byte, uint64, error) {
	phrase, count, err := splitNgram(line)
	if err != nil {
		return nil, 0, err
	}
	tagged := false
	for tok := range bytes.FieldsSeq(phrase) {
		if isBareTag(tok) {
			return nil, 0, nil
		}
		if _, ok := stripTag(tok); ok {
			tagged = true
		}
	}
	if tagged {
		switch r.tags {
		case SkipTagged:
			return nil, 0, nil
		case StripTags:
			r.buf = r.buf[:0]
			for tok := range bytes.FieldsSeq(phrase) {
				if len(r.buf) > 0 {
					r.buf = append(r.buf, ' ')
				}
				t, _ := stripTag(tok)
				r.buf = append(r.buf, t...)
			}
			phrase = r.buf
		}
	}
	phrase = bytes.TrimSpace(phrase)
	if err := checkWord(phrase); err != nil {
		return nil, 0, err
	}
	return phrase, count, nil
}

// posTags are the universal part-of-speech tags of the Google Books corpora.
var posTags = [][]byte{
	[]byte("_NOUN"), []byte("_VERB"), []byte("_ADJ"), []byte("_ADV"),
	[]byte("_PRON"), []byte("_DET"), []byte("_ADP"), []byte("_NUM"),
	[]byte("_CONJ"), []byte("_PRT"), []byte("_X"), []byte("_."),
}

// stripTag removes a trailing part-of-speech tag and reports whether there
// was one, keeping a token that would be left empty ("_NOUN" on its own is
// taken literally).
func stripTag(w []byte) ([]byte, bool) {
	for _, tag := range posTags {
		if len(w) > len(tag) && bytes.HasSuffix(w, tag) {
			return w[:len(w)-len(tag)], true
		}
	}
	return w, false
}

// isBareTag reports tokens such as "_NOUN_" or "_START_": an underscore, then
// capital letters or a dot, then an underscore.
func isBareTag(w []byte) bool {
	if len(w) < 3 || w[0] != '_' || w[len(w)-1] != '_' {
		return false
	}
	for _, c := range w[1 : len(w)-1] {
		if (c < 'A' || c > 'Z') && c != '.' {
			return false
		}
	}
	return true
}
