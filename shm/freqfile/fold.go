package freqfile

import (
	"encoding/binary"
	"unicode"
	"unicode/utf8"

	"github.com/freqd/freqd/word"
)

// Fold appends the case-folded form of word to dst and returns the extended
// slice, as tables that record no normalization rules were folded: Unicode
// lower-casing (unicode.ToLower) rune by rune, with a fast path for ASCII;
// bytes that are not valid UTF-8 are kept as they are, so folding never
// loses or invents input. Fold allocates only when dst lacks room. Such a
// table, built with FoldCase and no "normalize." metadata, holds words
// already passed through Fold, and its lookups fold the query the same
// way. Tables that record rules (word.Rules) are normalized by them
// instead: full case folding, which also knows final sigma and ß.
func Fold(dst, w []byte) []byte { return word.AppendLower(dst, w) }

// isFolded reports whether Fold would return word unchanged, without
// copying: the common case for queries, which are mostly lower-case already.
// Every query pays for this check, and most are short ASCII words, so a word
// of up to 16 bytes is checked in the two numbers wordBits packs it into,
// with no loop: a branch on the word's length that mispredicts costs more
// than the check itself.
func isFolded(word []byte) bool {
	a, b := wordBits(word)
	if len(word) > shortWord || (a|b)&asciiHigh != 0 {
		return isFoldedLong(word) // long, or not ASCII: decode runes
	}
	return (upperASCII(a)|upperASCII(b))&asciiHigh == 0
}

// isFoldedASCII reports whether word is ASCII, and if so whether it has no
// upper-case letter: for ASCII, every rule that folds case agrees with
// Fold. It is isFolded without the rune loop for other words.
func isFoldedASCII(word []byte) (folded, ascii bool) {
	a, b := wordBits(word)
	if len(word) > shortWord {
		return isFoldedASCIILong(word)
	}
	if (a|b)&asciiHigh != 0 {
		return false, false
	}
	return (upperASCII(a)|upperASCII(b))&asciiHigh == 0, true
}

// isFoldedASCIILong is isFoldedASCII for long words, eight bytes at a time.
func isFoldedASCIILong(word []byte) (folded, ascii bool) {
	folded = true
	i := 0
	for ; i+8 <= len(word); i += 8 {
		x := binary.LittleEndian.Uint64(word[i:])
		if x&asciiHigh != 0 {
			return false, false
		}
		folded = folded && !hasUpperASCII(x)
	}
	for ; i < len(word); i++ {
		c := word[i]
		if c >= utf8.RuneSelf {
			return false, false
		}
		folded = folded && !('A' <= c && c <= 'Z')
	}
	return folded, true
}

// isFoldedLong is isFolded for long or non-ASCII words: eight ASCII bytes
// at a time, then rune by rune.
func isFoldedLong(word []byte) bool {
	i := 0
	for ; i+8 <= len(word); i += 8 {
		x := binary.LittleEndian.Uint64(word[i:])
		if x&asciiHigh != 0 {
			break // not ASCII: the rune loop below takes over from here
		}
		if hasUpperASCII(x) {
			return false
		}
	}
	for i < len(word) {
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

// asciiHigh has the top bit of each byte: a byte with it set is not ASCII.
const asciiHigh = 0x8080_8080_8080_8080

// hasUpperASCII reports whether any byte of x, eight ASCII bytes (below
// 0x80), is in 'A'..'Z'. Adding 0x80-'A' sets a byte's top bit if it is at
// least 'A', adding 0x80-('Z'+1) if it is past 'Z'; bytes below 0x80 cannot
// carry into the next byte.
func hasUpperASCII(x uint64) bool { return upperASCII(x)&asciiHigh != 0 }

// upperASCII sets the top bit of each byte of x (ASCII bytes) that is an
// upper-case letter; other bits are noise.
func upperASCII(x uint64) uint64 {
	const (
		fromA = (0x80 - 'A') * 0x0101_0101_0101_0101
		pastZ = (0x80 - 'Z' - 1) * 0x0101_0101_0101_0101
	)
	return (x + fromA) &^ (x + pastZ)
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
