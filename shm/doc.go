// Package shm holds what freqd's processes share through memory: the
// frequency table, which nobody writes once it is built, and the scoreboard,
// which workers write. The rest of this comment is about the table.
//
// A frequency file is one immutable, little-endian binary file made by
// WriteTable or WriteFile (`freqd build`) and read by Table. Its layout is
// documented byte by byte in docs/format.md: a checksummed header, a hash
// index of two-line buckets (tags and offsets, then the records that fit),
// a rank array and the other records. Opening a
// table maps the file read-only and shared and checks only the header, so it
// costs the same for ten thousand or a hundred million words; every worker
// process maps the same pages, which exist once in memory.
//
// The master calls Verify once to check the body's checksum, then copies the
// file into a sealed memfd (SealedMemfd) so that no one can truncate or
// rewrite what the workers have mapped; workers call CheckSealed before
// trusting the descriptor they inherit. A damaged body that slipped past
// Verify still never makes a lookup panic or read outside the mapping: every
// offset and length read from the file is bounds-checked, and a bad one reads
// as "not found".
//
// The package does not parse input formats (TSV, n-grams, text); the build
// command does that and hands WriteTable plain entries.
package shm
