package ingest

import (
	"unicode"
	"unicode/utf8"

	"github.com/freqd/freqd/shm/freqfile"
)

// tokenizer splits running text into words, fed in blocks of any size.
//
// A word is a run of letters and decimal digits, with combining marks kept
// (so a decomposed "café" stays one word) and with apostrophes inside it
// ("don't", "rock'n'roll") but not at its edges ("'tis" is "tis", "dogs'" is
// "dogs"). The typographic apostrophe U+2019 is read as "'", so "don’t" and
// "don't" count as one word. Everything else separates words: spaces,
// punctuation, dashes, underscores, symbols and invalid UTF-8. A run longer
// than freqfile.MaxWordLen is skipped whole:
// it is a URL, a hash or base64, not a word.
type tokenizer struct {
	word    []byte // the word being read
	apos    bool   // an apostrophe followed word; it is kept if a letter comes next
	tooLong bool   // the current run passed MaxWordLen and is being skipped
	carry   []byte // the start of a UTF-8 sequence split across blocks
	joined  []byte // carry plus the next block, reused
}

// write tokenizes p, calling emit for each word completed in it. A word still
// open at the end of p waits for the next write or for flush. The slice
// passed to emit is valid only during the call.
func (z *tokenizer) write(p []byte, emit func([]byte) error) error {
	if len(z.carry) > 0 {
		z.joined = append(append(z.joined[:0], z.carry...), p...)
		z.carry = z.carry[:0]
		p = z.joined
	}
	for i := 0; i < len(p); {
		r, size := rune(p[i]), 1
		if r >= utf8.RuneSelf {
			if !utf8.FullRune(p[i:]) {
				z.carry = append(z.carry, p[i:]...)
				return nil
			}
			r, size = utf8.DecodeRune(p[i:])
		}
		i += size
		switch {
		case isWordRune(r) || (len(z.word) > 0 || z.tooLong) && unicode.Is(unicode.M, r):
			if z.apos {
				z.appendRune('\'')
				z.apos = false
			}
			z.appendRune(r)
		case (r == '\'' || r == '\u2019') && (len(z.word) > 0 || z.tooLong) && !z.apos:
			z.apos = true
		default:
			if err := z.end(emit); err != nil {
				return err
			}
		}
	}
	return nil
}

// flush ends the input: a split UTF-8 sequence left over is invalid, and the
// word being read is complete.
func (z *tokenizer) flush(emit func([]byte) error) error {
	z.carry = z.carry[:0]
	return z.end(emit)
}

func (z *tokenizer) appendRune(r rune) {
	if z.tooLong {
		return
	}
	z.word = utf8.AppendRune(z.word, r)
	if len(z.word) > freqfile.MaxWordLen {
		z.tooLong = true
		z.word = z.word[:0]
	}
}

func (z *tokenizer) end(emit func([]byte) error) error {
	var err error
	if len(z.word) > 0 {
		err = emit(z.word)
	}
	z.word = z.word[:0]
	z.apos = false
	z.tooLong = false
	return err
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// normalizeWord appends the key a word is counted under to dst: the word
// folded with freqfile.Fold, or as it is with keepCase. Every word goes
// through it, whether read from a word list, an n-gram file or running
// text (after the tokenizer above has found its boundaries), and each
// token of a phrase through normalizePhrase: together with the tokenizer
// it is the one place that says what a word is.
func normalizeWord(dst, word []byte, keepCase bool) []byte {
	if keepCase {
		return append(dst, word...)
	}
	return freqfile.Fold(dst, word)
}

// normalizePhrase appends the key of a word-list field to dst: each token
// (a run of bytes between spaces or tabs) through normalizeWord, joined by
// single spaces, so "New  York" and "new york" are one phrase. A field of
// one token is a word.
func normalizePhrase(dst, field []byte, keepCase bool) []byte {
	first := true
	for len(field) > 0 {
		i := 0
		for i < len(field) && (field[i] == ' ' || field[i] == '\t') {
			i++
		}
		field = field[i:]
		j := 0
		for j < len(field) && field[j] != ' ' && field[j] != '\t' {
			j++
		}
		if j == 0 {
			break
		}
		if !first {
			dst = append(dst, ' ')
		}
		first = false
		dst = normalizeWord(dst, field[:j], keepCase)
		field = field[j:]
	}
	return dst
}
