package handler

import (
	"strconv"
	"strings"
)

// Phrase tables. A table built from n-grams or from "phrase<TAB>count"
// lists says so in its metadata ("ngram" = "2", or "1-3" when lengths
// vary), and its keys are phrases whose words are joined by one space. A
// query for a phrase is normalized the same way before the lookup, so that
// GET "New  York" finds "new york"; on a table of single words no query is
// touched.

// ngramSizes reads the phrase lengths a table's metadata records, or 0, 0
// for a table of single words.
func ngramSizes(t Table) (lo, hi int) {
	m, ok := t.(interface{ Meta(string) (string, bool) })
	if !ok {
		return 0, 0
	}
	v, ok := m.Meta("ngram")
	if !ok {
		return 0, 0
	}
	a, b, ranged := strings.Cut(v, "-")
	lo, err1 := strconv.Atoi(a)
	hi, err2 := lo, error(nil)
	if ranged {
		hi, err2 = strconv.Atoi(b)
	}
	if err1 != nil || err2 != nil || lo < 1 || hi < lo || hi > 64 {
		return 0, 0
	}
	return lo, hi
}

// phraseQuery returns the key a query names on a phrase table: its words
// joined by single spaces, without spaces at its ends. A query already in
// that form, the usual case, is returned as it is.
func (s *Session) phraseQuery(q []byte) []byte {
	if s.h.ngramMax == 0 || !needsSpacing(q) {
		return q
	}
	out := s.phrase[:0]
	for i := 0; i < len(q); {
		for i < len(q) && isSpace(q[i]) {
			i++
		}
		j := i
		for j < len(q) && !isSpace(q[j]) {
			j++
		}
		if j > i {
			if len(out) > 0 {
				out = append(out, ' ')
			}
			out = append(out, q[i:j]...)
		}
		i = j
	}
	s.phrase = out
	return out
}

// needsSpacing reports whether q has a space at an end, two together, or a
// tab, newline or carriage return.
func needsSpacing(q []byte) bool {
	if len(q) > 0 && (q[0] == ' ' || q[len(q)-1] == ' ') {
		return true
	}
	for i, c := range q {
		if c == '\t' || c == '\n' || c == '\r' || c == ' ' && i > 0 && q[i-1] == ' ' {
			return true
		}
	}
	return false
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
