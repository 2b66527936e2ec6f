package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"math/bits"
)

// parseNgram reads one line of a Google Books 1-gram file and returns the
// word and the number of times it was matched. Two layouts exist:
//
//	word<TAB>year<TAB>match_count<TAB>volume_count          (2009 and 2012)
//	word<TAB>year,match_count,volume_count<TAB>...           (2020, one line per word)
//
// The 2012 and 2020 corpora tag some tokens with their part of speech,
// "run_VERB" beside the untagged "run". The tag is stripped, so a tagged
// token adds to its word. That counts the word twice in those corpora, which
// carry both the untagged total and the tagged breakdown; it is the right
// choice for files that hold only tagged tokens and harmless for ranking, and
// anyone who wants the untagged counts alone can drop the tagged lines before
// the build. The bare tags ("_NOUN_") and the sentence markers ("_START_",
// "_END_", "_ROOT_") are not words, and their lines are skipped.
func parseNgram(line []byte) ([]byte, uint64, error) {
	word, rest, ok := bytes.Cut(line, []byte{'\t'})
	if !ok {
		return nil, 0, errors.New(`expected "word<TAB>year<TAB>match_count<TAB>volume_count", found no tab`)
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
	if isBareTag(word) {
		return nil, 0, nil
	}
	word = stripTag(word)
	if err := checkWord(word); err != nil {
		return nil, 0, err
	}
	return word, count, nil
}

// matchCount reads "year<TAB>match_count<TAB>volume_count".
func matchCount(fields []byte) (uint64, error) {
	f := bytes.Split(fields, []byte{'\t'})
	if len(f) != 3 {
		return 0, fmt.Errorf(`expected "word<TAB>year<TAB>match_count<TAB>volume_count", found %d fields`, len(f)+1)
	}
	if _, err := parseCount(f[0]); err != nil {
		return 0, fmt.Errorf("year %q is not a number", clip(f[0]))
	}
	n, err := parseCount(f[1])
	if err != nil {
		return 0, fmt.Errorf("match_count: %w", err)
	}
	if _, err := parseCount(f[2]); err != nil {
		return 0, fmt.Errorf("volume_count: %w", err)
	}
	return n, nil
}

// sumYearTriples adds the match counts of "year,match_count,volume_count"
// fields separated by tabs.
func sumYearTriples(fields []byte) (uint64, error) {
	var sum uint64
	for len(fields) > 0 {
		var f []byte
		f, fields, _ = bytes.Cut(fields, []byte{'\t'})
		parts := bytes.Split(f, []byte{','})
		if len(parts) != 3 {
			return 0, fmt.Errorf(`expected "year,match_count,volume_count", found %q`, clip(f))
		}
		if _, err := parseCount(parts[0]); err != nil {
			return 0, fmt.Errorf("year %q is not a number", clip(parts[0]))
		}
		n, err := parseCount(parts[1])
		if err != nil {
			return 0, fmt.Errorf("match_count: %w", err)
		}
		if _, err := parseCount(parts[2]); err != nil {
			return 0, fmt.Errorf("volume_count: %w", err)
		}
		var carry uint64
		if sum, carry = bits.Add64(sum, n, 0); carry != 0 {
			return 0, errors.New("match counts over the years add up to more than 2^64-1")
		}
	}
	return sum, nil
}

// posTags are the universal part-of-speech tags of the Google Books corpora.
var posTags = [][]byte{
	[]byte("_NOUN"), []byte("_VERB"), []byte("_ADJ"), []byte("_ADV"),
	[]byte("_PRON"), []byte("_DET"), []byte("_ADP"), []byte("_NUM"),
	[]byte("_CONJ"), []byte("_PRT"), []byte("_X"), []byte("_."),
}

// stripTag removes a trailing part-of-speech tag, keeping a word that would
// be left empty ("_NOUN" on its own is taken literally).
func stripTag(w []byte) []byte {
	for _, tag := range posTags {
		if len(w) > len(tag) && bytes.HasSuffix(w, tag) {
			return w[:len(w)-len(tag)]
		}
	}
	return w
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
