package handler

import (
	"bytes"
	"math"
	"slices"
	"strconv"

	"github.com/freqd/freqd/resp"
)

// defaultTagLimit is how many words TAG returns without LIMIT.
const defaultTagLimit = 10

// scoreDecimals is the precision of TAG scores: enough to order words whose
// counts differ by one in a corpus of millions.
const scoreDecimals = 3

// keepTagWords is how many distinct words a Session's TAG scratch space may
// keep room for between requests.
const keepTagWords = 4096

// term is one distinct word of a TAG text.
type term struct {
	word  []byte // as first written in the text
	n     int    // occurrences
	score float64
}

// tagScratch is a Session's reusable TAG working space, so that a client
// tagging many texts does not allocate the same structures each time.
type tagScratch struct {
	index map[string]int // lower-cased word → position in terms
	terms []term
	fold  []byte
	keys  []byte   // the phrases of a PHRASES text, back to back
	words [][]byte // the words of a sentence, for phrases
}

// TAG [LIMIT n] text...: the unusual words of the text, scored as the
// package documentation describes: a map of word to score in RESP3, a flat
// array of word, score pairs in RESP2.
//
// The text is bounded before it gets here, by the Handler's request limits
// (resp.Limits, defaults in brackets): each argument of a multibulk TAG by
// MaxBulkLen (1 MiB), the whole request by MaxRequestLen (8 MiB), an inline
// TAG line by MaxInlineLen (64 KiB). A larger text never reaches TAG: the
// parser answers it with a protocol error ("invalid bulk length", "request
// exceeds the server's size limit", "too big inline request") as soon as its
// header or line says so, and the connection is closed. TAG's time and
// scratch space are linear in the text, so they are bounded too.
func runTag(s *Session, args [][]byte, out []byte) []byte {
	limit := defaultTagLimit
	text := args[1:]
	phrases := false
	// Options come before the text. A lone "limit" or "phrases" is the
	// text to tag, not an option; text that itself begins with one of
	// those words needs an explicit "LIMIT n" before it.
	for len(text) > 1 {
		if bytes.EqualFold(text[0], []byte("PHRASES")) {
			phrases = true
			text = text[1:]
			continue
		}
		if !bytes.EqualFold(text[0], []byte("LIMIT")) {
			break
		}
		if len(text) < 3 {
			return resp.AppendError(out, errSyntax)
		}
		n, err := strconv.ParseInt(string(text[1]), 10, 64)
		switch {
		case err != nil:
			return resp.AppendError(out, errNotInteger)
		case n < 0:
			return resp.AppendError(out, "ERR value is out of range, must be positive")
		case n == 0 || n > math.MaxInt32:
			limit = math.MaxInt32
		default:
			limit = int(n)
		}
		text = text[2:]
	}
	if phrases && s.h.ngramMax < 2 {
		return resp.AppendError(out, "ERR PHRASES needs a table of phrases (built from n-grams); this table holds single words")
	}
	var terms []term
	if phrases {
		terms = s.tag.collectPhrases(text, s.h.ngramMin, s.h.ngramMax)
	} else {
		terms = s.tag.collect(text)
	}
	// On a cluster node, the whole set's total and words (cluster.go).
	table := s.corpus()
	total := float64(table.Total()) + 1
	for i := range terms {
		count := s.tag.count(table, terms[i].word)
		bits := math.Log2(total / (float64(count) + 1))
		terms[i].score = float64(terms[i].n) * max(bits, 0)
	}
	slices.SortFunc(terms, func(a, b term) int {
		if a.score != b.score {
			if a.score > b.score {
				return -1
			}
			return 1
		}
		return bytes.Compare(a.word, b.word)
	})
	terms = terms[:min(limit, len(terms))]
	out = resp.AppendMapLen(out, len(terms), s.proto)
	for _, t := range terms {
		out = resp.AppendBulk(out, t.word)
		out = resp.AppendDouble(out, t.score, scoreDecimals, s.proto)
	}
	return out
}

// collect counts the words of text case-insensitively.
func (ts *tagScratch) collect(text [][]byte) []term {
	if ts.index == nil || len(ts.index) > keepTagWords {
		// Start afresh rather than keep a huge text's map for the rest
		// of the connection.
		ts.index = make(map[string]int)
		ts.terms = nil
	}
	clear(ts.index)
	ts.terms = ts.terms[:0]
	for _, part := range text {
		words(part, func(w []byte) {
			ts.fold = appendLower(ts.fold[:0], w)
			if i, ok := ts.index[string(ts.fold)]; ok {
				ts.terms[i].n++
				return
			}
			ts.index[string(ts.fold)] = len(ts.terms)
			ts.terms = append(ts.terms, term{word: w, n: 1})
		})
	}
	return ts.terms
}

// count returns the largest count the table has for word as written,
// lower-cased or capitalised, so that sentence case and a table kept in the
// corpus's own case do not make common words look rare.
func (ts *tagScratch) count(t Table, word []byte) uint64 {
	best, _ := t.Lookup(word)
	ts.fold = appendLower(ts.fold[:0], word)
	if n, _ := t.Lookup(ts.fold); n > best {
		best = n
	}
	ts.fold = appendCapitalized(ts.fold[:0], word)
	if n, _ := t.Lookup(ts.fold); n > best {
		best = n
	}
	return best
}

// collectPhrases counts the phrases of text that a table of n-grams of
// lo to hi words can hold: every run of that many consecutive words within
// a sentence (a run does not cross . ! ? ; : or a line break), lower-cased
// and joined by single spaces as the table's keys are.
func (ts *tagScratch) collectPhrases(text [][]byte, lo, hi int) []term {
	ts.collect(nil)
	ts.keys = ts.keys[:0]
	flush := func() {
		for n := max(lo, 1); n <= hi; n++ {
			for i := 0; i+n <= len(ts.words); i++ {
				start := len(ts.keys)
				for k, w := range ts.words[i : i+n] {
					if k > 0 {
						ts.keys = append(ts.keys, ' ')
					}
					ts.keys = appendLower(ts.keys, w)
				}
				key := ts.keys[start:len(ts.keys):len(ts.keys)]
				if j, ok := ts.index[string(key)]; ok {
					ts.terms[j].n++
					continue
				}
				ts.index[string(key)] = len(ts.terms)
				ts.terms = append(ts.terms, term{word: key, n: 1})
			}
		}
		ts.words = ts.words[:0]
	}
	for _, part := range text {
		prevEnd := 0
		words(part, func(w []byte) {
			start := cap(part) - cap(w) // w is part[start:]
			if bytes.ContainsAny(part[prevEnd:start], ".!?;:\n") {
				flush()
			}
			ts.words = append(ts.words, w)
			prevEnd = start + len(w)
		})
		flush()
	}
	return ts.terms
}
