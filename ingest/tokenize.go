package ingest

import (
	"unicode/utf8"

	"github.com/freqd/freqd/shm/freqfile"
	"github.com/freqd/freqd/word"
)

// tokenizer splits running text into words, fed in blocks of any size.
//
// Its words are word.Scan's, decided rune by rune by word.Classify: runs of
// letters and decimal digits, with the combining marks after them (so a
// decomposed "café" stays one word) and with apostrophes inside them
// ("don't", "rock'n'roll") but not at their edges ("'tis" is "tis", "dogs'"
// is "dogs"). Everything else separates words: spaces, punctuation,
// dashes, underscores, symbols and invalid UTF-8. A run of a script written
// without spaces (Chinese, Japanese, Thai) is counted a character at a time
// when chars is set: with no dictionary, characters are the units the text
// shows, and TAG later splits such text by longest match against the table.
// A run longer than freqfile.MaxWordLen is skipped whole: it is a URL, a
// hash or base64, not a word. Words are emitted as written, apostrophes
// included; the Counter normalizes them.
type tokenizer struct {
	chars   bool       // emit unspaced scripts a character at a time
	word    []byte     // the word being read
	kind    word.Class // word.Letter or word.Unspaced: the script class of word
	apos    []byte     // an apostrophe that followed word, kept if a letter comes next
	tooLong bool       // the current run passed MaxWordLen and is being skipped
	carry   []byte     // the start of a UTF-8 sequence split across blocks
	joined  []byte     // carry plus the next block, reused
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
		c := word.Other
		if r != utf8.RuneError || size > 1 {
			c = word.Classify(r)
		}
		open := len(z.word) > 0 || z.tooLong
		switch {
		case (c == word.Letter || c == word.Unspaced) && open && c == z.kind && (len(z.apos) == 0 || c == word.Letter):
			if c == word.Unspaced && z.chars {
				// A character at a time: the one before ends here.
				if err := z.end(emit); err != nil {
					return err
				}
				z.kind = c
			}
			z.appendBytes(z.apos)
			z.apos = z.apos[:0]
			z.appendRune(r)
		case c == word.Letter || c == word.Unspaced:
			if err := z.end(emit); err != nil {
				return err
			}
			z.kind = c
			z.appendRune(r)
		case c == word.Mark && open && len(z.apos) == 0:
			z.appendRune(r)
		case c == word.Apostrophe && open && len(z.apos) == 0 && z.kind == word.Letter:
			z.apos = utf8.AppendRune(z.apos, r)
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

func (z *tokenizer) appendBytes(b []byte) {
	if z.tooLong || len(b) == 0 {
		return
	}
	z.word = append(z.word, b...)
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
	z.apos = z.apos[:0]
	z.tooLong = false
	return err
}

// normalizeWord appends the key a word is counted under to dst: the word
// normalized by the build's rules (word.Rules.AppendNormal: NFC, case
// folded unless the build keeps case, ’ read as '). Every word goes
// through it, whether read from a word list, an n-gram file or running
// text (after the tokenizer above has found its boundaries), and each
// token of a phrase through normalizePhrase: together with the tokenizer,
// whose boundaries word.Classify decides, it is the one place that says
// what a word is, and lookups apply the same rules to queries.
func normalizeWord(dst, w []byte, rules *word.Rules) []byte {
	return rules.AppendNormal(dst, w)
}

// normalizePhrase appends the key of a word-list field to dst: each token
// (a run of bytes between spaces or tabs) through normalizeWord, joined by
// single spaces, so "New  York" and "new york" are one phrase. A field of
// one token is a word.
func normalizePhrase(dst, field []byte, rules *word.Rules) []byte {
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
		dst = normalizeWord(dst, field[:j], rules)
		field = field[j:]
	}
	return dst
}
