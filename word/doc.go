// Package word is freqd's one notion of a word, shared by `freqd build`
// (package ingest), table lookups (package freqfile) and the commands that
// take words or text (package handler): where running text splits into
// words, and how a word is normalized before it is counted or looked up.
//
// # Rules
//
// A table records the Rules it was built with in its metadata, under keys
// "normalize." (Rules.Meta, FromMeta), and every lookup applies the same
// rules to the query, so GET, FREQ, TAG and ZIPF agree with the build:
//
//   - Unicode: NFC, so a decomposed "café" (e + U+0301) is the precomposed one.
//   - Case: full Unicode case folding (CaseFolding.txt, statuses C and F),
//     so "ΣΟΦΟΣ" and "σοφος" both become "σοφοσ" (final sigma), the Kelvin
//     sign K becomes k, "Straße" becomes "strasse" and "ﬁ" becomes "fi". A
//     word is folded as Unicode defines a canonical caseless match:
//     NFC(fold(NFD(word))). Turkish dotted İ folds to "i̇" (i and U+0307),
//     not to i, as Unicode's default, non-Turkic folding does.
//   - Apostrophes: the typographic apostrophe ’ (U+2019), the modifier
//     letter apostrophe ʼ (U+02BC) and the fullwidth ＇ (U+FF07) read as '.
//   - Contractions: a table whose words hold no apostrophe (SUBTLEX-US
//     counts "don't" as "don" and "t") answers a contraction from its parts:
//     see Parts.
//   - Unspaced scripts (Han, Hiragana, Katakana, Thai, Lao, Khmer,
//     Myanmar): `freqd build` counts running text of these scripts
//     character by character, having no dictionary to find words with, and
//     a query text is segmented by longest match against the table's own
//     words (Segment), so a table built from a word list finds its words and
//     one built from such text finds its characters.
//
// A table written before rules were recorded has no "normalize." keys and
// keeps the behaviour it was served with: Legacy.
//
// # Words in running text
//
// Scan splits text into words: runs of letters and decimal digits with the
// combining marks that follow them, an apostrophe kept between two letters
// ("don't", "rock'n'roll") but not at a word's edge ("'tis" is "tis",
// "dogs'" is "dogs"). A run of an unspaced script is a word of its own,
// apart from letters of other scripts next to it. Everything else separates
// words: spaces, punctuation, dashes, underscores, symbols and bytes that
// are not UTF-8. Classify is the rune-by-rune decision Scan makes, for
// tokenizers that read text in blocks.
package word
