package handler

import (
	"math"

	"github.com/freqd/freqd/resp"
)

// ZIPF word...: each word's Zipf value, the scale SUBTLEX publishes (van
// Heuven, Mandera, Keuleers & Brysbaert 2014): the base-10 logarithm of
// its frequency per billion words, with Laplace's add-one smoothing so
// that an unseen word has a value too,
//
//	zipf = log10((count + 1) / (Total + Len) × 10⁹)
//
// Total (the table's words counted) and Len (its distinct words) take the
// place of the corpus size and word types of the paper's "log10((count+1)
// / (corpus size in millions + word types in millions)) + 3". On
// SUBTLEX-US 1 to 3 is rare, 4 to 7 common, and a word never seen scores
// 1.30. A word is looked up as GET looks it up, and on a node of a cluster
// Total and Len are the whole set's, so that every node answers as the
// whole table does. The values are RESP3 doubles, or the bulk strings
// Redis sends doubles as in RESP2.
func runZipf(s *Session, args [][]byte, out []byte) []byte {
	words, total := s.setSize()
	size := float64(total) + float64(words)
	if size == 0 {
		return resp.AppendError(out, errEmptyTable)
	}
	out = resp.AppendArrayLen(out, len(args)-1)
	for _, w := range args[1:] {
		n, _ := s.lookup(w)
		out = resp.AppendDouble(out, zipf(n, size), -1, s.proto)
	}
	return out
}

// zipf is the Zipf value of count in a corpus of size words and types.
func zipf(count uint64, size float64) float64 {
	return math.Log10((float64(count) + 1) / size * 1e9)
}

// FPM word...: each word's frequency per million words, the count scaled
// by the table's total (SUBTLEX's SUBTLWF; the whole set's on a node of a
// cluster), 0 for a word never seen.
func runFpm(s *Session, args [][]byte, out []byte) []byte {
	_, setTotal := s.setSize()
	total := float64(setTotal)
	if total == 0 {
		return resp.AppendError(out, errEmptyTable)
	}
	out = resp.AppendArrayLen(out, len(args)-1)
	for _, w := range args[1:] {
		n, _ := s.lookup(w)
		out = resp.AppendDouble(out, float64(n)/total*1e6, -1, s.proto)
	}
	return out
}

// errEmptyTable answers a scale that divides by the table's size.
const errEmptyTable = "ERR the table has no words; frequencies need a table with some"
