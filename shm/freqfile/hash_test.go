package freqfile

import "testing"

// TestHashReferenceVectors pins Hash to the published vectors of the wyhash
// reference implementation (final version 4.2/4.3, default secret): the
// messages of its test_vector.cpp hashed with seed = index, as SMHasher3's
// wyhash self-test lists them, plus keys data[i] = i of the lengths where the
// code changes path (1–3, 4–16, 17–47, 48 and more bytes).
// Every frequency file's index depends on these values: if this test fails,
// files written by earlier builds no longer find their words.
func TestHashReferenceVectors(t *testing.T) {
	tests := []struct {
		seed uint64
		in   string
		want uint64
	}{
		{0, "", 0x93228a4de0eec5a2},
		{1, "a", 0xc5bac3db178713c4},
		{2, "abc", 0xa97f2f7b1d9b3314},
		{3, "message digest", 0x786d1f1df3801df4},
		{4, "abcdefghijklmnopqrstuvwxyz", 0xdca5a8138ad37c87},
		{5, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 0xb9e734f117cfaf70},
		{6, "12345678901234567890123456789012345678901234567890123456789012345678901234567890", 0x6cc5eab49a92d617},
		{0, seqKey(1), 0x8e6d4af7d310c8c4},
		{0, seqKey(3), 0x78c4aa0c972a522d},
		{0, seqKey(4), 0xe08aeeb68058fb32},
		{0, seqKey(8), 0xb4d6ac74d009e1d4},
		{0, seqKey(15), 0x87edaf96d89a08ef},
		{0, seqKey(16), 0x305fdea0ed4a2619},
		{0, seqKey(17), 0xd29ffdd201a46f9a},
		{0, seqKey(33), 0x5e1a2536ff90cc32},
	}
	for i, tc := range tests {
		if got := Hash([]byte(tc.in), tc.seed); got != tc.want {
			t.Errorf("case %d (%q seed %d): Hash = %#016x, want %#016x", i, tc.in, tc.seed, got, tc.want)
		}
	}
}

// seqKey returns the n-byte key 0, 1, 2, … used by the wyhash v4.3 vectors.
func seqKey(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return string(b)
}

func BenchmarkHash(b *testing.B) {
	key := []byte("information")
	b.SetBytes(int64(len(key)))
	var sink uint64
	for b.Loop() {
		sink += Hash(key, 0)
	}
	_ = sink
}
