package handler

import (
	"bytes"
	"cmp"
	"math"
	"slices"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/freqd/freqd/resp"
	"github.com/freqd/freqd/word"
)

// defaultTagLimit is how many words TAG returns without LIMIT.
const defaultTagLimit = 10

// scoreDecimals is the precision of TAG's scores, in bits: a thousandth of
// a doubling is finer than any difference that matters.
const scoreDecimals = 3

// keepTagWords is how many distinct words a Session's TAG scratch space may
// keep room for between requests.
const keepTagWords = 4096

// tagAlpha is the chance TAG accepts of calling one word of a text key
// when the text uses every word at the corpus's rate: the significance
// level of the log-likelihood test, shared by all the text's words
// (Bonferroni), so a long text with many words is held to the same
// standard as a sentence.
const tagAlpha = 0.01

// tagFloor is Kilgarriff's k, in words per million, added to a word's
// frequency in the text and in the corpus before their ratio is taken: it
// keeps a word used once in a long text, and never in the corpus, from
// outranking the words the text is about. 10 is the value of the four
// Kilgarriff (2009) suggests (1, 10, 100, 1000) that scores best on the
// evaluation in docs/tag.md.
const tagFloor = 10

// term is one distinct word of a TAG text.
type term struct {
	word     []byte // as the text writes it most often
	votes    uint64 // word's lead over the other spellings (majority vote)
	key      []byte // normalized, as the table's words are
	n        uint64 // occurrences in the text
	count    uint64 // in the table
	expected float64
	g2       float64
	score    float64
}

// tagScratch is a Session's reusable TAG working space, so that a client
// tagging many texts does not allocate the same structures each time.
type tagScratch struct {
	index map[string]int // normalized word → position in terms
	terms []term
	keys  []byte // the terms' keys, end to end
	norm  []byte
	fold  []byte
	has   func(normal []byte) bool // the table holds a normalized word
	// prefetch looks a normalized word up and says it is absent: a
	// longest match through it tries every piece (collect).
	prefetch func(normal []byte) bool
	words    [][]byte // the words of a sentence, for phrases
}

// TAG [LIMIT n] [WITHSTATS] [PHRASES] text...: the words (or phrases) the
// text uses significantly more often than the corpus does, most
// over-represented first, scored as the package documentation describes: a
// map of word to score in RESP3, a flat array of word, score pairs in
// RESP2; with WITHSTATS, of word to [score, occurrences, count in the
// table, expected occurrences, G²].
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
	stats, phrases := false, false
	text := args[1:]
	// Options come first. The last argument is always text, so a text of
	// the lone word "limit", "withstats" or "phrases" is tagged, not
	// refused; text that itself begins with an option word needs "LIMIT n"
	// before it.
options:
	for len(text) > 1 {
		switch {
		case bytes.EqualFold(text[0], []byte("LIMIT")):
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
		case bytes.EqualFold(text[0], []byte("WITHSTATS")):
			stats = true
			text = text[1:]
		case bytes.EqualFold(text[0], []byte("PHRASES")):
			phrases = true
			text = text[1:]
		default:
			break options
		}
	}
	if phrases && s.h.ngramMax < 2 {
		return resp.AppendError(out, "ERR PHRASES needs a table of phrases (built from n-grams); this table holds single words")
	}
	var terms []term
	var tokens uint64
	if phrases {
		terms, tokens = s.tag.collectPhrases(s, text, s.h.ngramMin, s.h.ngramMax)
	} else {
		terms, tokens = s.tag.collect(s, text)
	}
	terms = keywords(s, terms, tokens)
	terms = terms[:min(limit, len(terms))]
	out = resp.AppendMapLen(out, len(terms), s.proto)
	for _, t := range terms {
		out = resp.AppendBulk(out, t.word)
		if !stats {
			out = resp.AppendDouble(out, t.score, scoreDecimals, s.proto)
			continue
		}
		out = resp.AppendArrayLen(out, 5)
		out = resp.AppendDouble(out, t.score, scoreDecimals, s.proto)
		out = resp.AppendUint(out, t.n)
		out = resp.AppendUint(out, t.count)
		out = resp.AppendDouble(out, t.expected, -1, s.proto)
		out = resp.AppendDouble(out, t.g2, -1, s.proto)
	}
	return out
}

// keywords scores the terms of a text of tokens words against the table
// and returns those the text uses significantly more often than the
// corpus, highest score first (see the package documentation).
func keywords(s *Session, terms []term, tokens uint64) []term {
	return keywordsBy(s, terms, tokens, keyness)
}

// keywordsBy is keywords with the score given as a function of a word's
// rate in the text and its smoothed rate in the corpus, so that the
// evaluation can try others.
func keywordsBy(s *Session, terms []term, tokens uint64, score func(inText, inCorpus float64) float64) []term {
	// On a node of a cluster, the whole set's words and total, and each
	// word looked up in the shard that holds it (cluster.go), so that
	// every node answers as the whole table does.
	t := s.corpus()
	setWords, setTotal := s.setSize()
	total := float64(setTotal)
	smoothed := total + float64(setWords) // Laplace: one more for each word type
	n1 := float64(tokens)
	critical := chiSquare1(tagAlpha / float64(max(len(terms), 1)))
	kept := terms[:0]
	for _, tm := range terms {
		tm.count = s.tag.count(s.h, t, tm.key, tm.word)
		a, b := float64(tm.n), float64(tm.count)
		tm.expected = n1 * (b + 1) / smoothed
		tm.score = score(a/n1, (b+1)/smoothed)
		tm.g2 = logLikelihood(a, b, n1, total)
		if a*total > b*n1 && tm.score > 0 && tm.g2 >= critical {
			kept = append(kept, tm)
		}
	}
	slices.SortFunc(kept, func(x, y term) int {
		switch {
		case x.score != y.score:
			return cmp.Compare(y.score, x.score)
		case x.g2 != y.g2:
			return cmp.Compare(y.g2, x.g2)
		}
		return bytes.Compare(x.word, y.word)
	})
	return kept
}

// keyness is TAG's score of a word whose rate (occurrences per word) is
// inText in the text and inCorpus in the corpus: log2 of the ratio of the
// two in words per million, each plus tagFloor (Kilgarriff's "simple
// maths"), so that 1 point is twice as frequent, as in Hardie's Log Ratio,
// which it equals for words well above the floor.
func keyness(inText, inCorpus float64) float64 {
	return math.Log2((inText*1e6 + tagFloor) / (inCorpus*1e6 + tagFloor))
}

// logLikelihood is Dunning's G² for a word seen a times in a text of n1
// words and b times in a corpus of n2, as Rayson and Garside (2000)
// compare two corpora: 2 Σ O ln(O/E) over the two observed counts, each
// expected count E being the text's or the corpus's share of a + b. The
// corpus term is written with log1p, since for a frequent word b and its
// expectation agree to many digits.
func logLikelihood(a, b, n1, n2 float64) float64 {
	e1 := n1 * (a + b) / (n1 + n2)
	g := a * math.Log(a/e1)
	if b > 0 {
		// b ln(b/E2), E2/b = (1 + a/b) / (1 + n1/n2).
		g -= b * (math.Log1p(a/b) - math.Log1p(n1/n2))
	}
	return 2 * g
}

// chiSquare1 is the value a chi-squared variable of one degree of freedom
// exceeds with probability p: the square of the normal quantile that
// leaves p in the two tails.
func chiSquare1(p float64) float64 {
	z := math.Erfcinv(p)
	return 2 * z * z
}

// collect counts the words of text, grouped by their normal form, and
// returns them with the number of words read. Numbers are not words here:
// they are never tags.
func (ts *tagScratch) collect(s *Session, text [][]byte) ([]term, uint64) {
	h := s.h
	ts.reset(s)
	group := groupRules(h)
	var tokens uint64
	add := func(w []byte) {
		tokens++
		ts.norm = group.AppendNormal(ts.norm[:0], w)
		ts.add(w, ts.norm)
	}
	for _, part := range text {
		word.Scan(part, func(tok word.Token) {
			if !tok.HasLetter {
				return
			}
			w := part[tok.Start:tok.End]
			if tok.Unspaced && h.rules.SegmentUnspaced {
				if h.node != nil {
					// Where the pieces are depends on which words the
					// table holds, so a node would learn them from
					// other shards one piece a round trip. Looking up
					// every piece a longest match could try first
					// asks for them all at once.
					h.rules.Segment(w, ts.prefetch, func([]byte) {})
				}
				h.rules.Segment(w, ts.has, add)
				return
			}
			add(w)
		})
	}
	return ts.finish(), tokens
}

// groupRules are the rules a text's words are grouped by: the table's, but
// folding case even on a table that keeps it, so that "The" starting a
// sentence is the "the" of the rest.
func groupRules(h *Handler) word.Rules {
	group := h.rules
	if group.Case == word.CaseKeep {
		group.Case = word.CaseFold
	}
	return group
}

// reset empties the scratch space for a new text of session s.
func (ts *tagScratch) reset(s *Session) {
	if ts.index == nil || len(ts.index) > keepTagWords {
		// Start afresh rather than keep a huge text's map for the rest
		// of the connection, but at the last text's size: a client that
		// tags one large text after another would otherwise pay for
		// every doubling of the map each time.
		ts.index = make(map[string]int, len(ts.index))
		ts.terms = nil
		ts.keys = nil
	}
	clear(ts.index)
	ts.terms = ts.terms[:0]
	ts.keys = ts.keys[:0]
	if ts.has == nil {
		// The scratch space is the session's, and so is its corpus.
		t := s.corpus()
		ts.has = func(w []byte) bool { _, ok := t.LookupNormal(w); return ok }
		ts.prefetch = func(w []byte) bool { t.LookupNormal(w); return false }
	}
}

// add counts one occurrence of w, written as the text writes it, under its
// normal form key.
func (ts *tagScratch) add(w, key []byte) {
	if i, ok := ts.index[string(key)]; ok {
		tm := &ts.terms[i]
		tm.n++
		// The spelling most used, by Boyer and Moore's majority vote:
		// exact when one spelling has more than half the occurrences, one
		// of the commonest otherwise, and no memory per spelling. A
		// heading's "LICENSE" gives way to the body's "license".
		switch {
		case bytes.Equal(w, tm.word):
			tm.votes++
		case tm.votes == 0:
			tm.word, tm.votes = w, 1
		default:
			tm.votes--
		}
		return
	}
	ts.index[string(key)] = len(ts.terms)
	start := len(ts.keys)
	ts.keys = append(ts.keys, key...)
	ts.terms = append(ts.terms, term{word: w, votes: 1, key: ts.keys[start:len(ts.keys):len(ts.keys)], n: 1})
}

// finish returns the terms, their keys pointed at ts.keys's final place:
// it may have moved as it grew.
func (ts *tagScratch) finish() []term {
	off := 0
	for i := range ts.terms {
		n := len(ts.terms[i].key)
		ts.terms[i].key = ts.keys[off : off+n : off+n]
		off += n
	}
	return ts.terms
}

// collectPhrases counts the phrases of text that a table of n-grams of
// lo to hi words can hold: every run of that many consecutive words within
// a sentence (a run does not cross . ! ? ; : or a line break), each word
// normalized as collect's words are and joined by single spaces, as the
// table's keys are. A phrase is reported in its normal form.
func (ts *tagScratch) collectPhrases(s *Session, text [][]byte, lo, hi int) ([]term, uint64) {
	h := s.h
	ts.reset(s)
	group := groupRules(h)
	var tokens uint64
	var key []byte
	flush := func() {
		for n := max(lo, 1); n <= hi; n++ {
			for i := 0; i+n <= len(ts.words); i++ {
				key = key[:0]
				for k, w := range ts.words[i : i+n] {
					if k > 0 {
						key = append(key, ' ')
					}
					key = group.AppendNormal(key, w)
				}
				tokens++
				ts.add(nil, key)
			}
		}
		ts.words = ts.words[:0]
	}
	for _, part := range text {
		prevEnd := 0
		word.Scan(part, func(tok word.Token) {
			if !tok.HasLetter {
				return
			}
			if bytes.ContainsAny(part[prevEnd:tok.Start], ".!?;:\n") {
				flush()
			}
			ts.words = append(ts.words, part[tok.Start:tok.End])
			prevEnd = tok.End
		})
		flush()
	}
	terms := ts.finish()
	for i := range terms {
		terms[i].word = terms[i].key
	}
	return terms, tokens
}

// count returns the table's count of a text's word: of its normal form
// key, or, on a table that keeps case, the largest count of the word as
// written, lower-cased or capitalised, so that "The" at the start of a
// sentence counts as "the" and "london" as "London". On a table that
// counts contractions by their parts, a contraction counts as its rarest
// part (word.Parts). t is the table the words are looked up in: the whole
// set's, on a node of a cluster.
func (ts *tagScratch) count(h *Handler, t Table, key, written []byte) uint64 {
	if h.rules.FoldsCase() {
		return ts.countNormal(h, t, key)
	}
	best := uint64(0)
	for _, variant := range [...]func(dst, w []byte) []byte{appendAsWritten, word.AppendLower, appendCapitalized} {
		ts.fold = variant(ts.fold[:0], written)
		ts.norm = h.rules.AppendNormal(ts.norm[:0], ts.fold)
		best = max(best, ts.countNormal(h, t, ts.norm))
	}
	return best
}

// countNormal counts a word in the table's normal form.
func (ts *tagScratch) countNormal(h *Handler, t Table, w []byte) uint64 {
	// A phrase is not taken apart: its words are the table's.
	if !h.rules.SplitContractions || bytes.IndexByte(w, '\'') < 0 || bytes.IndexByte(w, ' ') >= 0 {
		n, _ := t.LookupNormal(w)
		return n
	}
	n, _, _ := word.Contraction(w, t.LookupNormal)
	return n
}

func appendAsWritten(dst, w []byte) []byte { return append(dst, w...) }

// appendCapitalized appends word lower-cased except its first letter, which
// is upper-cased: how names are stored in a corpus kept in its own case.
func appendCapitalized(dst, w []byte) []byte {
	r, size := utf8.DecodeRune(w)
	dst = utf8.AppendRune(dst, unicode.ToUpper(r))
	return word.AppendLower(dst, w[size:])
}
