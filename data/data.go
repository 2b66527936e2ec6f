// Package data carries freqd's built-in word list: SUBTLEX-US, 74,286 English
// words counted over 51 million words of film and television subtitles
// (Brysbaert & New, 2009; ISC licence in subtlex-us.LICENSE).
//
// It is embedded so that `freqd serve` with no --data answers real queries on
// a fresh machine, and so that tests have a real fixture without network access.
package data

import _ "embed"

// SubtlexUS is the word list as "word<TAB>count" lines, most frequent first.
//
//go:embed subtlex-us.tsv
var SubtlexUS []byte

// SubtlexUSWords and SubtlexUSTotal describe SubtlexUS, so tests can check a
// round trip against figures that do not come from the code under test.
const (
	SubtlexUSWords = 74286
	SubtlexUSTotal = 49719560
)
