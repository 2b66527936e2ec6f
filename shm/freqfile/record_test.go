package freqfile

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

// TestRecordRoundTrip encodes records at every width of count and rank and
// reads them back whole, cut short and followed by other bytes: the 8-byte
// loads of the fast path must mask off what follows, and a record cut short
// must never read as a shorter one.
func TestRecordRoundTrip(t *testing.T) {
	counts := []uint64{0, 1, 0xff, 0x100, 0xffff, 1 << 32, 1<<56 - 1, 1 << 56, math.MaxUint64}
	ranks := []uint64{1, 0xff, 0x100, 1 << 40, math.MaxUint64}
	words := []string{"a", strings.Repeat("b", 127), strings.Repeat("c", 128), strings.Repeat("d", MaxWordLen)}
	for _, word := range words {
		for _, count := range counts {
			for _, rank := range ranks {
				rec := appendRecord(nil, word, count, rank)
				if len(rec) != recordSize(word, count, rank) {
					t.Fatalf("%.5q %d %d: encoded %d bytes, recordSize says %d", word, count, rank, len(rec), recordSize(word, count, rank))
				}
				for _, pad := range [][]byte{nil, bytes.Repeat([]byte{0xff}, 20), {0xff, 0xff, 0xff}} {
					b := append(append([]byte(nil), rec...), pad...)
					r, ok := readRecord(b)
					if !ok || string(r.word) != word || r.count != count || r.rank != rank {
						t.Fatalf("%.5q %d %d + %d bytes: readRecord = %.5q %d %d %v", word, count, rank, len(pad), r.word, r.count, r.rank, ok)
					}
					_, rest, _ := readWord(b)
					if c, ok := readCount(rest); !ok || c != count {
						t.Fatalf("%.5q %d %d + %d bytes: readCount = %d %v", word, count, rank, len(pad), c, ok)
					}
				}
				for cut := range len(rec) {
					if r, ok := readRecord(rec[:cut]); ok {
						t.Fatalf("%.5q %d %d cut to %d of %d bytes: read %.5q %d %d", word, count, rank, cut, len(rec), r.word, r.count, r.rank)
					}
				}
			}
		}
	}
}

// TestRecordRejectsBadWidths tries every widths byte: a count wider than 8
// bytes, and a rank of 0 or more than 8 bytes, are damage.
func TestRecordRejectsBadWidths(t *testing.T) {
	for w := range 256 {
		cw, rw := w&0xf, w>>4
		valid := cw <= 8 && rw >= 1 && rw <= 8
		for _, pad := range []int{cw + rw, 20} { // the slow path and the fast one
			b := append([]byte{1, 'a', byte(w)}, make([]byte, pad)...)
			_, rest, _ := readWord(b)
			if _, ok := readRecord(b); ok != valid {
				t.Errorf("widths %#02x, %d bytes after: readRecord ok = %v, want %v", w, pad, ok, valid)
			}
			if _, ok := readCount(rest); ok != valid {
				t.Errorf("widths %#02x, %d bytes after: readCount ok = %v, want %v", w, pad, ok, valid)
			}
		}
	}
}
