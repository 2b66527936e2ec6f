package word

import (
	"slices"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// fold is Unicode full case folding; the Caser is stateless and safe for
// concurrent use.
var fold = cases.Fold()

// AppendNormal appends word normalized by the rules to dst and returns the
// extended slice. Bytes that are not UTF-8 are kept as they are, so
// normalizing never loses or invents input, and normalizing twice changes
// nothing. It works on a phrase as well as on a word: the rules map a space
// to itself and split nothing.
//
// ASCII, nearly every query, takes a loop over bytes: NFC and the
// apostrophe rule leave it unchanged, and its case folding is lower-casing.
func (r Rules) AppendNormal(dst, word []byte) []byte {
	ascii := true
	for _, c := range word {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		if r.Case == CaseKeep {
			return append(dst, word...)
		}
		return appendLowerASCII(dst, word)
	}
	switch {
	case r.Case == CaseLower:
		return AppendLower(dst, word)
	case !r.NFC && !r.Apostrophes && r.Case == CaseKeep:
		return append(dst, word...)
	}
	// The slow path: Unicode. Valid stretches go through x/text, bytes that
	// are not UTF-8 are copied between them.
	for len(word) > 0 {
		n := validPrefix(word)
		if n > 0 {
			dst = r.appendUnicode(dst, word[:n])
			word = word[n:]
			continue
		}
		dst = append(dst, word[0])
		word = word[1:]
	}
	return dst
}

// IsNormal reports whether AppendNormal would return word unchanged.
func (r Rules) IsNormal(word []byte) bool {
	var buf [64]byte
	return string(r.AppendNormal(buf[:0], word)) == string(word)
}

func appendLowerASCII(dst, word []byte) []byte {
	for _, c := range word {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// AppendLower appends word lower-cased rune by rune with unicode.ToLower,
// bytes that are not UTF-8 kept: CaseLower, the folding of legacy tables.
func AppendLower(dst, word []byte) []byte {
	for i := 0; i < len(word); {
		c := word[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(word[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, c)
		} else {
			dst = utf8.AppendRune(dst, unicode.ToLower(r))
		}
		i += n
	}
	return dst
}

// validPrefix returns the length of the longest prefix of b that is valid
// UTF-8.
func validPrefix(b []byte) int {
	i := 0
	for i < len(b) {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			break
		}
		i += n
	}
	return i
}

// appendUnicode normalizes valid UTF-8. Case folding is applied as
// Unicode's canonical caseless match defines it, to the decomposed word
// (folding U+0345 inside a precomposed letter needs the decomposition), and
// the result is composed again.
func (r Rules) appendUnicode(dst, s []byte) []byte {
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	b := s
	if r.Case == CaseFold {
		if r.NFC {
			sc.a = norm.NFD.Append(sc.a[:0], b...)
			b = sc.a
		}
		sc.b = appendFolded(sc.b[:0], b)
		b = upperCherokee(sc.b)
	}
	if r.NFC {
		sc.c = norm.NFC.Append(sc.c[:0], b...)
		b = sc.c
	}
	// Apostrophes last: folding makes one (ŉ is ʼn).
	if r.Apostrophes {
		return appendApostrophes(dst, b)
	}
	return append(dst, b...)
}

// scratch is the working space of one slow-path normalization: x/text's
// transforms are called through interfaces, so buffers on the stack would
// escape to the heap on every call, and a pool of them costs less.
type scratch struct{ a, b, c []byte }

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// appendFolded appends s case-folded.
func appendFolded(dst, s []byte) []byte {
	// Folding grows a string by at most a factor of 3 (U+0390 is 2 bytes
	// and folds to 6), so one Transform into room for that completes.
	start := len(dst)
	dst = slices.Grow(dst, 3*len(s))[:start+3*len(s)]
	n, _, err := fold.Transform(dst[start:], s, true)
	if err != nil {
		// Not reachable with room for the worst case; keep the input
		// rather than lose it.
		return append(dst[:start], s...)
	}
	return dst[:start+n]
}

// upperCherokee corrects x/text's folding of Cherokee, which lower-cases
// the capital letters: CaseFolding.txt folds Cherokee to its capitals
// (AB70..ABBF to 13A0..13EF, 13F8..13FD to 13F0..13F5), the letters the
// script first had. Without it folding is not idempotent (Ꭰ, ꭰ, Ꭰ...).
// It rewrites b in place: both forms are three bytes.
func upperCherokee(b []byte) []byte {
	for i := 0; i+2 < len(b); i++ {
		if b[i] != 0xea && b[i] != 0xe1 {
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		switch {
		case 0xab70 <= r && r <= 0xabbf:
			utf8.EncodeRune(b[i:], r-0xab70+0x13a0)
		case 0x13f8 <= r && r <= 0x13fd:
			utf8.EncodeRune(b[i:], r-0x13f8+0x13f0)
		}
		i += n - 1
	}
	return b
}

// isApostrophe reports whether r is one of the apostrophes read as '.
func isApostrophe(r rune) bool {
	return r == '\'' || r == '\u2019' || r == '\u02bc' || r == '\uff07'
}

// appendApostrophes appends s with every apostrophe written as '.
func appendApostrophes(dst, s []byte) []byte {
	for len(s) > 0 {
		r, n := utf8.DecodeRune(s)
		if r != '\'' && isApostrophe(r) {
			dst = append(dst, '\'')
		} else {
			dst = append(dst, s[:n]...)
		}
		s = s[n:]
	}
	return dst
}
