package freqfile

import (
	"hash/crc32"
	"math/rand/v2"
	"testing"
)

// The CRC of a message split anywhere, combined, is the CRC of the whole.
func TestCRCCombine(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	msg := make([]byte, 5000)
	for i := range msg {
		msg[i] = byte(rng.Uint32())
	}
	cuts := []int{0, 1, 2, 3, 7, 8, 9, 63, 64, 65, 1000, 4095, 4999, 5000}
	for range 50 {
		cuts = append(cuts, rng.IntN(len(msg)+1))
	}
	for _, n := range []int{0, 1, 100, len(msg)} {
		whole := crc32.Checksum(msg[:n], castagnoli)
		for _, cut := range cuts {
			if cut > n {
				continue
			}
			a := crc32.Checksum(msg[:cut], castagnoli)
			b := crc32.Checksum(msg[cut:n], castagnoli)
			if got := crcCombine(a, b, int64(n-cut)); got != whole {
				t.Fatalf("%d bytes cut at %d: combined %#08x, want %#08x", n, cut, got, whole)
			}
		}
	}
	// Three parts, as the writer combines its sections.
	a, b, c := msg[:1234], msg[1234:4000], msg[4000:]
	got := crcCombine(crcCombine(crc32.Checksum(a, castagnoli), crc32.Checksum(b, castagnoli), int64(len(b))),
		crc32.Checksum(c, castagnoli), int64(len(c)))
	if want := crc32.Checksum(msg, castagnoli); got != want {
		t.Fatalf("three parts: %#08x, want %#08x", got, want)
	}
}
