// Package freqfile is the frequency file: the immutable binary table that
// `freqd build` writes and every server process maps.
//
// A frequency file is one little-endian file made by WriteTable or WriteFile
// and read by Table. Its layout is documented byte by byte in
// docs/format.md: a checksummed header, a hash index of two-line buckets
// (tags and offsets, then the records that fit), a rank array and the other
// records. Opening a table maps the file read-only and shared and checks only
// the header, so it costs the same for ten thousand or a hundred million
// words; every process that maps the same file shares its pages.
//
// A server calls Verify once to check the body's checksum before it shares
// a table. A damaged body that slipped past Verify still never makes a
// lookup panic or read outside the mapping: every offset and length read
// from the file is bounds-checked, and a bad one reads as "not found".
//
// The package does not parse input formats (TSV, n-grams, text); package
// ingest does that and hands WriteTable plain entries.
package freqfile
