package word

import (
	"unicode"
	"unicode/utf8"
)

// Class is what a rune is to a tokenizer.
type Class uint8

const (
	// Other separates words.
	Other Class = iota
	// Letter is a letter or decimal digit of a script written with spaces.
	Letter
	// Unspaced is a letter of a script written without spaces between
	// words (Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar).
	Unspaced
	// Mark is a combining mark: part of the word it follows, and of none
	// when it follows no word.
	Mark
	// Apostrophe joins two letters into one word ("don't").
	Apostrophe
)

// unspaced are the scripts written without spaces between words.
var unspaced = []*unicode.RangeTable{unicode.Han, unicode.Hiragana, unicode.Katakana,
	unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar}

// Classify says what r is to a tokenizer: the one decision behind every
// word boundary, in Scan and in `freqd build`'s tokenizer alike.
func Classify(r rune) Class {
	if r < utf8.RuneSelf {
		switch {
		case 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9':
			return Letter
		case r == '\'':
			return Apostrophe
		}
		return Other
	}
	switch {
	case isApostrophe(r):
		return Apostrophe
	case unicode.IsLetter(r) || unicode.IsDigit(r):
		// The prolonged sound mark ー and the iteration marks 々 〻 are
		// letters of the Common script, written inside Japanese words.
		if r == 'ー' || r == '々' || r == '〻' || unicode.IsOneOf(unspaced, r) {
			return Unspaced
		}
		return Letter
	case unicode.Is(unicode.M, r):
		return Mark
	}
	return Other
}

// Token is a word Scan found: text[Start:End], as written, apostrophes and
// marks included.
type Token struct {
	Start, End int
	// Unspaced says the word is a run of an unspaced script, which a table
	// with Segment rules splits further (Segment).
	Unspaced bool
	// HasLetter is false for a run of digits alone.
	HasLetter bool
}

// Scan calls fn with each word of text, in order (see the package
// documentation for what a word is). It does not allocate.
func Scan(text []byte, fn func(Token)) {
	var tok Token
	open := false  // a word is being read
	apos := -1     // an apostrophe follows the word, at this offset
	var kind Class // Letter or Unspaced: the word's script class
	for i := 0; i < len(text); {
		// Most text is ASCII, and most of it letters inside a word: run
		// through those without the general case below.
		if open && apos < 0 && kind == Letter {
			j := i
			for j < len(text) && asciiClass[text[j]] == Letter {
				j++
			}
			if j > i {
				tok.HasLetter = tok.HasLetter || hasASCIILetter(text[i:j])
				tok.End = j
				i = j
				continue
			}
		}
		r, size := rune(text[i]), 1
		var c Class
		if r < utf8.RuneSelf {
			c = asciiClass[r]
		} else {
			r, size = utf8.DecodeRune(text[i:])
			if r == utf8.RuneError && size == 1 {
				c = Other // not UTF-8: separates words
			} else {
				c = Classify(r)
			}
		}
		switch {
		case (c == Letter || c == Unspaced) && open && c == kind && (apos < 0 || c == Letter):
			// The word goes on, over an apostrophe between two letters.
			apos = -1
			tok.HasLetter = tok.HasLetter || isLetter(r)
		case c == Letter || c == Unspaced:
			if open {
				fn(tok)
			}
			tok = Token{Start: i, Unspaced: c == Unspaced, HasLetter: isLetter(r)}
			open, kind, apos = true, c, -1
		case c == Mark && open && apos < 0:
		case c == Apostrophe && open && apos < 0 && kind == Letter:
			apos = i
		default:
			if open {
				fn(tok)
			}
			open, apos = false, -1
		}
		i += size
		if open && apos < 0 {
			tok.End = i
		}
	}
	if open {
		fn(tok)
	}
}

// asciiClass is Classify for ASCII, by table.
var asciiClass = func() (t [256]Class) {
	for c := range utf8.RuneSelf {
		t[c] = Classify(rune(c))
	}
	return t
}()

// hasASCIILetter reports whether b, ASCII letters and digits, has a letter.
func hasASCIILetter(b []byte) bool {
	for _, c := range b {
		if c > '9' {
			return true
		}
	}
	return false
}

// isLetter tells a letter from a digit, for a rune Classify calls a Letter
// or Unspaced.
func isLetter(r rune) bool {
	if r < utf8.RuneSelf {
		return r > '9'
	}
	return unicode.IsLetter(r)
}
