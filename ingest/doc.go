// Package ingest reads word lists, n-grams, Parquet files and running text
// and counts the words, the first half of `freqd build`; the table is
// written by freqfile.StreamWriter.
//
// # Inputs
//
// A Counter reads any number of inputs and sums the counts of a word met
// more than once, within an input or across inputs. ExpandInputs turns
// the names a user gives into files: a directory is read recursively as
// Spark, Hadoop, DuckDB and ClickHouse write output, skipping _SUCCESS,
// names starting with _ or ., *.crc and empty files. Each input is
// recognised by content (input.go): gzip, zstd and bzip2 are undone,
// Parquet is read by column (parquet.go), other binary data is refused
// with what it was recognised as. The layout of a text input is detected
// from its first lines (detectLayout): tab-separated with backslash
// escapes, RFC 4180 CSV, "word count" or "count word", Google Books
// n-grams (ngram.go, with its part-of-speech rule), or running text split
// by the tokenizer (tokenize.go). A header line is recognised and names
// the columns.
//
// Every key goes through normalizeWord, or normalizePhrase for a field
// that may hold several words: with the tokenizer, the one place that says
// what a word is. They apply the rules of package word: Unicode NFC, full
// case folding unless Options.KeepCase, ’ read as ', so "I" and "i", or
// "don’t" and "DON'T", are one word with their counts summed. Running text
// in an unspaced script (Chinese, Japanese, Thai) is counted a character
// at a time. The table records the rules (Counter.BuildOptions), with
// whether contractions are split: they are when no counted word holds an
// apostrophe, as in SUBTLEX-US, which counts "don't" as "don" and "t".
//
// A malformed line stops the read with a *LineError naming the file and
// line. So do a count of zero or a negative one (unless Options.MinCount
// is set, when such lines are skipped), and a count, a word's sum or the
// total above MaxCount, the largest integer a RESP reply carries.
//
// # Work and memory
//
// A reader goroutine cuts each input into blocks of whole lines (or text
// cut between words); workers, one per CPU, parse them and add the words
// to 16 hash tables chosen by the words' hash, in batches so that a
// table's lock is taken once per batch. The tables keep records "length,
// word, count" in an arena of chunks that never move and an index of one
// uint64 a slot (table.go, arena.go), about 35 bytes a 10-byte word and
// nothing the garbage collector scans.
//
// Past 45% of Options.MemoryLimit the tables are spilled (spill.go): sorted
// by hash into a run, one section per table, in an unnamed temporary file.
// At the end the runs' sections are merged table by table, summing the
// counts of a word spilled more than once; the merged words are sorted
// into runs by rank (count descending, then word) and those are merged
// into the writer. A build that never spilled sorts each table's words on
// its own, on every core (a radix sort, ranksort.go), copies them in rank
// order into a run that replaces the table, and merges the runs into the
// writer. Either way the writer takes the words in rank order and builds
// the file in bounded memory, so a build of any size stays within the
// limit.
//
// Word lists already in rank order, as engines write them with ORDER BY
// count DESC, skip the tables and the sort (sorted.go): a first pass
// checks the order, a second reads the words into the writer, and the
// build holds only the writer's memory.
package ingest
