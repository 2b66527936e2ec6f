package freqfile

import (
	"encoding/binary"
	"math/bits"
)

// The index hash is wyhash (final version 4.2, by Wang Yi), chosen because the
// file format depends on it: it must give the same value in every process, on
// every run and in every future freqd, which rules out hash/maphash and Go's
// map hash. wyhash handles the short keys that dominate word lists (< 16
// bytes) with two 64-bit multiplications and no loop, and it passes SMHasher.
// Its output is pinned by the reference test vectors in hash_test.go; changing
// a single line here is a file-format change and needs a new format version.

// wyp holds wyhash's default secret.
var wyp = [4]uint64{0x2d358dccaa6c78a5, 0x8bb84b93962eacc9, 0x4b33a62ed433d4a3, 0x4d5a2da51de1aa47}

// wymix multiplies to 128 bits and folds the halves together.
func wymix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// wyr3 reads 1 to 3 bytes as wyhash does: first, middle and last byte.
func wyr3(p []byte, k int) uint64 {
	return uint64(p[0])<<16 | uint64(p[k>>1])<<8 | uint64(p[k-1])
}

func wyr4(p []byte) uint64 { return uint64(binary.LittleEndian.Uint32(p)) }
func wyr8(p []byte) uint64 { return binary.LittleEndian.Uint64(p) }

// Hash returns the 64-bit wyhash of key with the given seed: the hash the
// index of a frequency file is built with (see docs/format.md).
func Hash(key []byte, seed uint64) uint64 {
	return hashMixed(key, mixSeed(seed))
}

// mixSeed is the part of Hash that depends on the seed alone; a table does
// it once, at open, rather than on every lookup.
func mixSeed(seed uint64) uint64 { return seed ^ wymix(seed^wyp[0], wyp[1]) }

// hashMixed is Hash with the seed already through mixSeed.
func hashMixed(key []byte, seed uint64) uint64 {
	n := len(key)
	var a, b uint64
	switch {
	case n <= 16:
		switch {
		case n >= 4:
			q := (n >> 3) << 2
			a = wyr4(key)<<32 | wyr4(key[q:])
			b = wyr4(key[n-4:])<<32 | wyr4(key[n-4-q:])
		case n > 0:
			a = wyr3(key, n)
		}
	default:
		p := key
		i := n
		if i >= 48 {
			see1, see2 := seed, seed
			for i >= 48 {
				seed = wymix(wyr8(p)^wyp[1], wyr8(p[8:])^seed)
				see1 = wymix(wyr8(p[16:])^wyp[2], wyr8(p[24:])^see1)
				see2 = wymix(wyr8(p[32:])^wyp[3], wyr8(p[40:])^see2)
				p = p[48:]
				i -= 48
			}
			seed ^= see1 ^ see2
		}
		for i > 16 {
			seed = wymix(wyr8(p)^wyp[1], wyr8(p[8:])^seed)
			p = p[16:]
			i -= 16
		}
		// The last 16 bytes of the key, which may overlap bytes already mixed.
		a = wyr8(key[n-16:])
		b = wyr8(key[n-8:])
	}
	a ^= wyp[1]
	b ^= seed
	hi, lo := bits.Mul64(a, b)
	a, b = lo, hi
	return wymix(a^wyp[0]^uint64(n), b^wyp[1])
}
