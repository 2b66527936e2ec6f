package handler

import (
	"unicode"
	"unicode/utf8"
)

// words calls fn with each word of text: a run of letters, digits and
// combining marks, with an apostrophe kept when it joins two such runs
// ("don't", "rock’n’roll"). Bytes that are not valid UTF-8 separate words.
// Runs with no letter (numbers) are skipped: they are not tags.
func words(text []byte, fn func(word []byte)) {
	start := -1 // where the current word began, -1 between words
	letter := false
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRune(text[i:])
		switch {
		case isWordRune(r):
			if start < 0 {
				start = i
			}
			letter = letter || unicode.IsLetter(r)
		case isApostrophe(r) && start >= 0 && startsWithWordRune(text[i+size:]):
			// Inside a word: it continues after the apostrophe.
		default:
			if start >= 0 && letter {
				fn(text[start:i])
			}
			start, letter = -1, false
		}
		i += size
	}
	if start >= 0 && letter {
		fn(text[start:])
	}
}

func startsWithWordRune(b []byte) bool {
	r, _ := utf8.DecodeRune(b)
	return isWordRune(r)
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

func isApostrophe(r rune) bool { return r == '\'' || r == '’' }

// appendLower appends word lower-cased.
func appendLower(dst, word []byte) []byte {
	for len(word) > 0 {
		r, size := utf8.DecodeRune(word)
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
		word = word[size:]
	}
	return dst
}

// appendCapitalized appends word lower-cased except its first letter, which
// is upper-cased: how names are stored in a corpus kept in its own case.
func appendCapitalized(dst, word []byte) []byte {
	r, size := utf8.DecodeRune(word)
	dst = utf8.AppendRune(dst, unicode.ToUpper(r))
	return appendLower(dst, word[size:])
}
