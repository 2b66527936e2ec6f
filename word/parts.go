package word

import (
	"bytes"
	"unicode/utf8"
)

// HasApostrophe reports whether word holds an apostrophe that
// AppendNormal reads as ', before or after normalization. It is the cheap
// test that spares words without one the work of Parts.
func HasApostrophe(word []byte) bool {
	for i, c := range word {
		// ' itself, or the lead byte of ’ (E2 80 99), ʼ (CA BC) or ＇
		// (EF BC 87): one compare per byte of an ASCII word.
		if c == '\'' {
			return true
		}
		if c >= 0xca && (c == 0xe2 || c == 0xca || c == 0xef) {
			if r, _ := utf8.DecodeRune(word[i:]); isApostrophe(r) {
				return true
			}
		}
	}
	return false
}

// Parts calls fn with each part of a normalized word between its
// apostrophes, empty parts left out: "don't" gives "don" and "t",
// "rock'n'roll" "rock", "n" and "roll". On a table with SplitContractions
// a contraction's count is that of its rarest part: every occurrence of
// "don't" in the corpus was counted once as "don" and once as "t", so the
// rarest part's count bounds the contraction's from above, and it is the
// bound that is tight when one part occurs almost only in the contraction
// ("don", "didn", "ll"). Its rank is that part's rank.
func Parts(normal []byte, fn func(part []byte)) {
	for len(normal) > 0 {
		part, rest, _ := bytes.Cut(normal, []byte{'\''})
		if len(part) > 0 {
			fn(part)
		}
		normal = rest
	}
}

// Contraction answers a word with an apostrophe, in normal form, on a table
// with SplitContractions: the count of its rarest part (see Parts) and that
// part, or false if any part is absent or the word has none. lookup is the
// table's lookup of a word in normal form.
func Contraction(normal []byte, lookup func(normal []byte) (uint64, bool)) (count uint64, rarest []byte, ok bool) {
	ok = true
	first := true
	Parts(normal, func(part []byte) {
		n, found := lookup(part)
		ok = ok && found
		if first || n < count {
			count, rarest, first = n, part, false
		}
	})
	if first || !ok {
		return 0, nil, false
	}
	return count, rarest, true
}

// maxSegment bounds the characters a longest match tries, whatever a
// table claims, so that segmenting costs at most this many lookups a
// character.
const maxSegment = 32

// Segment splits run, a word Scan marked Unspaced, into the longest pieces
// the table holds, from left to right, and calls fn with each piece of run
// as written. has reports whether the table holds a word, given in normal
// form. A character (a letter and the marks that follow it) that starts
// no word of the table is a piece of its own. Pieces are at most
// LongestUnspaced characters long.
func (r Rules) Segment(run []byte, has func(normal []byte) bool, fn func(piece []byte)) {
	longest := min(max(r.LongestUnspaced, 1), maxSegment)
	// Unspaced scripts have no case, so the run is normally already in
	// normal form and its pieces are looked up as they are.
	var buf []byte
	same := r.IsNormal(run)
	var ends [maxSegment]int
	for len(run) > 0 {
		n := charEnds(run, ends[:longest])
		take := ends[0]
		for k := n - 1; k >= 1; k-- {
			q := run[:ends[k]]
			if !same {
				buf = r.AppendNormal(buf[:0], q)
				q = buf
			}
			if has(q) {
				take = ends[k]
				break
			}
		}
		fn(run[:take])
		run = run[take:]
	}
}

// charEnds fills ends with the offsets in s where each of its first
// len(ends) characters (a rune and the combining marks after it) ends, and
// returns how many it filled.
func charEnds(s []byte, ends []int) int {
	n, i := 0, 0
	for i < len(s) && n < len(ends) {
		_, size := utf8.DecodeRune(s[i:])
		i += size
		for i < len(s) {
			r, size := utf8.DecodeRune(s[i:])
			if Classify(r) != Mark {
				break
			}
			i += size
		}
		ends[n] = i
		n++
	}
	return n
}
