package ingest

import (
	"bytes"
	"math/bits"
	"slices"
)

// Words are sorted into rank order (count descending, then word) by a
// most-significant-digit radix sort on a 16-byte key, the count inverted
// then the word's first eight bytes, a byte at a time, in place (an
// "American flag" sort: no second array). Word lists have many words of
// equal count, which a comparison sort tells apart only by fetching the
// words, or their prefixes, again and again; the radix sort reads each
// element's key once per digit, and most buckets are small after the
// count's two or three significant bytes. Elements whose whole key is
// equal (same count, same first eight bytes) are sorted by their words.

// rankInsertion is the size under which a bucket is sorted by insertion.
const rankInsertion = 32

// keyByte returns digit d (0 the most significant) of e's sort key.
func keyByte(e *rankElem, d int) int {
	if d < 8 {
		return int(^e.count >> (56 - 8*d) & 0xff)
	}
	return int(e.prefix >> (56 - 8*(d-8)) & 0xff)
}

// rankLess orders by count, highest first, then by word.
func rankLess(a, b *rankElem, word func(ref uint64) []byte) bool {
	if a.count != b.count {
		return a.count > b.count
	}
	if a.prefix != b.prefix {
		return a.prefix < b.prefix
	}
	return bytes.Compare(word(a.ref), word(b.ref)) < 0
}

// sortRank sorts elems in rank order.
func sortRank(elems []rankElem, word func(ref uint64) []byte) {
	if len(elems) > logSplitMin {
		// Counts of words follow Zipf's law: most words share the
		// smallest counts, so the first bytes of the counts put nearly
		// every word in one bucket, and it takes several passes over all
		// of them before the words spread out. A first pass on the
		// count's magnitude spreads them at once, into buckets that each
		// fit in the cache for the passes that follow.
		var count [logBuckets]int
		for i := range elems {
			count[logKey(elems[i].count)]++
		}
		permuteByMagnitude(elems, &count)
		start := 0
		for _, c := range count {
			sortRankFrom(elems[start:start+c], word)
			start += c
		}
		return
	}
	sortRankFrom(elems, word)
}

// logKey is a count's magnitude, inverted so that higher counts come
// first: its bit length and the three bits after the leading one.
func logKey(count uint64) int {
	e := bits.Len64(count)
	m := count << (64 - e) >> 60 & 7 // the bits after the leading one
	if e == 0 {
		m = 0
	}
	return logBuckets - 1 - (e<<3 | int(m))
}

const (
	logBuckets  = 65 << 3
	logSplitMin = 1 << 12
)

// The permutations below move each element to its bucket, given the
// buckets' sizes (an "American flag" sort): each element goes to the next
// free place of its bucket, and the one it displaces moves on the same
// way, until one that belongs where the cycle started. They are written
// out twice, once per key, so that the key is computed inline.

func permuteByMagnitude(a []rankElem, count *[logBuckets]int) {
	var next, end [logBuckets]int
	s := 0
	for b, c := range count {
		next[b] = s
		s += c
		end[b] = s
	}
	for b := range count {
		for next[b] < end[b] {
			e := a[next[b]]
			k := logKey(e.count)
			for k != b {
				e, a[next[k]] = a[next[k]], e
				next[k]++
				k = logKey(e.count)
			}
			a[next[b]] = e
			next[b]++
		}
	}
}

func permuteByDigit(a []rankElem, count *[256]int, d int) {
	var next, end [256]int
	s := 0
	for b, c := range count {
		next[b] = s
		s += c
		end[b] = s
	}
	for b := range count {
		for next[b] < end[b] {
			e := a[next[b]]
			k := keyByte(&e, d)
			for k != b {
				e, a[next[k]] = a[next[k]], e
				next[k]++
				k = keyByte(&e, d)
			}
			a[next[b]] = e
			next[b]++
		}
	}
}

// sortRankFrom sorts elems by radix from their first digit that differs.
func sortRankFrom(elems []rankElem, word func(ref uint64) []byte) {
	if len(elems) < 2 {
		return
	}
	// Skip the digits every key shares (the high bytes of the counts).
	var dc, dp uint64
	first := elems[0]
	for i := range elems {
		dc |= elems[i].count ^ first.count
		dp |= elems[i].prefix ^ first.prefix
	}
	d := 16
	switch {
	case dc != 0:
		d = bits.LeadingZeros64(dc) / 8
	case dp != 0:
		d = 8 + bits.LeadingZeros64(dp)/8
	}
	radixRank(elems, d, word)
}

func radixRank(a []rankElem, d int, word func(ref uint64) []byte) {
	for {
		if len(a) <= rankInsertion {
			for i := 1; i < len(a); i++ {
				for j := i; j > 0 && rankLess(&a[j], &a[j-1], word); j-- {
					a[j], a[j-1] = a[j-1], a[j]
				}
			}
			return
		}
		if d == 16 {
			// Same count, same first eight bytes.
			slices.SortFunc(a, func(x, y rankElem) int { return bytes.Compare(word(x.ref), word(y.ref)) })
			return
		}
		var count [256]int
		for i := range a {
			count[keyByte(&a[i], d)]++
		}
		if count[keyByte(&a[0], d)] == len(a) {
			d++
			continue
		}
		permuteByDigit(a, &count, d)
		start := 0
		for _, c := range count {
			if c > 1 {
				radixRank(a[start:start+c], d+1, word)
			}
			start += c
		}
		return
	}
}
