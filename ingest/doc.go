// Package ingest reads word lists and running text and counts the words, the
// first half of `freqd build`; package shm writes the counts as a table.
//
// # Inputs
//
// A Counter reads any number of inputs and sums the counts of a word met
// more than once, within an input or across inputs. Each input is a file or
// standard input ("-"); gzip-compressed content is recognised by its magic
// bytes, not its name, and read transparently. Formats (see Format):
//
//   - tsv: "word<TAB>count".
//   - csv: "word,count", the word double-quoted when it holds a comma or a
//     quote. The first line may be a header ("word,count"): it is skipped
//     when its count field is not a number. Only the first line gets this
//     allowance, so a stray non-numeric count later is still an error.
//   - space: "word count", any run of spaces or tabs between.
//   - ngram: Google Books 1-gram files, counts summed over the years, part-of-
//     speech tags stripped and bare tags skipped (see parseNgram for why).
//   - text: running text, split into words by a Unicode-aware tokenizer: runs
//     of letters and digits with apostrophes inside ("don't"); each
//     occurrence counts one.
//
// Spaces around a field, blank lines, "\r\n" line endings and a UTF-8 byte
// order mark are tolerated. Any other malformed line stops the read with a
// *LineError naming the file and line ("words.tsv:1234: count "12x" is not a
// number"); so does a count that makes a word's sum, or the total, overflow a
// uint64. The format is detected per input from its first lines unless the
// caller names one (Detect documents the rule).
//
// Words are case-folded with freqfile.Fold by default, so "I" and "i" are one
// word with their counts summed; Options.KeepCase keeps them apart.
//
// # Memory
//
// A build is meant for vocabularies of 100 million words, where a
// map[string]uint64 would cost over 50 bytes a word before its doublings.
// The Counter instead keeps
//
//   - an arena of records "length, word, count" in 1 MiB chunks that never
//     move: len(word) + 9 bytes a word (+1 past 127 bytes);
//   - an open-addressing hash index of one uint64 per slot, 3/8 to 3/4 full:
//     11 to 21 bytes a word, depending on where the last doubling fell.
//
// Neither holds a pointer, so the garbage collector never scans them. For
// words of about 10 bytes that is 30 to 40 bytes a word while reading.
// Entries drops the index before it makes the []freqfile.Entry slice (24 bytes a
// word) whose strings point into the arena, so no word is copied; then
// freqfile.WriteFile adds its own index and rank array (about 20 to 25 bytes a
// word). The write is the peak of a build: measured on 10 million distinct
// words of 10.5 bytes on average, 697 MB resident, 70 bytes a word, of which
// this package's arena and entries are 45. 100 million such words need about
// 7 GB.
package ingest
