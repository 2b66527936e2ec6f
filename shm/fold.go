package shm

import (
	"unicode"
	"unicode/utf8"
)

// Fold appends the case-folded form of word to dst and returns the extended
// slice. Folding is Unicode lower-casing (unicode.ToLower) rune by rune, with
// a fast path for ASCII; bytes that are not valid UTF-8 are kept as they are,
// so folding never loses or invents input. Fold allocates only when dst lacks
// room. Tables built with FoldCase hold words already passed through Fold,
// and their lookups fold the query the same way.
func Fold(dst, word []byte) []byte {
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

// isFolded reports whether Fold would return word unchanged, without
// copying: the common case for queries, which are mostly lower-case already.
func isFolded(word []byte) bool {
	for i := 0; i < len(word); {
		c := word[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(word[i:])
		if !(r == utf8.RuneError && n == 1) && unicode.ToLower(r) != r {
			return false
		}
		i += n
	}
	return true
}

// foldInto writes the folded form of word (as Fold) into buf and returns it,
// or reports false if it does not fit.
func foldInto(buf, word []byte) ([]byte, bool) {
	n := 0
	for i := 0; i < len(word); {
		c := word[i]
		if c < utf8.RuneSelf {
			if n == len(buf) {
				return nil, false
			}
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf[n] = c
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRune(word[i:])
		if r == utf8.RuneError && size == 1 {
			if n == len(buf) {
				return nil, false
			}
			buf[n] = c
			n++
			i++
			continue
		}
		r = unicode.ToLower(r)
		if len(buf)-n < utf8.RuneLen(r) {
			return nil, false
		}
		n += utf8.EncodeRune(buf[n:], r)
		i += size
	}
	return buf[:n], true
}
