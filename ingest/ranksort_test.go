package ingest

import (
	"bytes"
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// sortRank must order as a comparison sort does, on keys that tie in every
// way: equal counts, words sharing their first eight bytes, words that are
// prefixes of others, zero bytes where the prefix pads with zeros, counts
// that differ only in high bytes.
func TestSortRank(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	alphabet := []byte{0, 'a', 0x7f, 0x80, 0xff}
	for _, n := range []int{0, 1, 2, 31, 32, 33, 100, 1000, 20000} {
		for trial := range 4 {
			var a arena
			seen := map[string]bool{}
			var elems []rankElem
			for len(elems) < n {
				var w []byte
				if trial%2 == 1 {
					w = []byte("samepref") // long shared prefixes
				}
				for range 1 + rng.IntN(10) {
					w = append(w, alphabet[rng.IntN(len(alphabet))])
				}
				if seen[string(w)] {
					continue
				}
				seen[string(w)] = true
				var count uint64
				switch rng.IntN(4) {
				case 0:
					count = uint64(1 + rng.IntN(3))
				case 1:
					count = uint64(rng.IntN(3)) << 56
				case 2:
					count = rng.Uint64()
				default:
					count = 7
				}
				elems = append(elems, rankElem{count, wordPrefix(w), a.add(w, count)})
			}
			word := func(ref uint64) []byte { w, _ := a.record(ref); return w }
			want := slices.Clone(elems)
			slices.SortFunc(want, func(x, y rankElem) int {
				if c := cmp.Compare(y.count, x.count); c != 0 {
					return c
				}
				return bytes.Compare(word(x.ref), word(y.ref))
			})
			sortRank(elems, word)
			for i := range elems {
				if elems[i] != want[i] {
					t.Fatalf("%d elements (trial %d): position %d holds %q (count %d), want %q (count %d)",
						n, trial, i, word(elems[i].ref), elems[i].count, word(want[i].ref), want[i].count)
				}
			}
		}
	}
}

// BenchmarkSortRank sorts one counting table's share of the 10-million-word
// corpus of docs/benchmarks.md: 625,000 words of 3 to 12 letters with
// counts 10^9/rank, so most counts are shared by many words.
func BenchmarkSortRank(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	var a arena
	var elems []rankElem
	for i := range 625000 {
		w := []byte(strconv.Itoa(i))
		for j := 3 + rng.IntN(6); j > 0; j-- {
			w = append(w, byte('a'+rng.IntN(26)))
		}
		slices.Reverse(w)
		count := uint64(1_000_000_000 / (1 + rng.IntN(10_000_000)))
		elems = append(elems, rankElem{count, wordPrefix(w), a.add(w, count)})
	}
	word := func(ref uint64) []byte { w, _ := a.record(ref); return w }
	work := make([]rankElem, len(elems))
	for b.Loop() {
		copy(work, elems)
		sortRank(work, word)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(elems)), "ns/word")
}

// runMerge must yield the records of its runs in rank order, whatever the
// number of runs (none, one, not a power of two) and with empty runs.
func TestRunMerge(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, k := range []int{0, 1, 3, 16, 17} {
		type rec struct {
			count uint64
			word  string
		}
		var all []rec
		runs := make([][]byte, k)
		for r := range runs {
			var recs []rec
			for range rng.IntN(3) * rng.IntN(50) { // a third of the runs empty
				recs = append(recs, rec{uint64(1 + rng.IntN(5)), fmt.Sprintf("w%d-%d", r, rng.IntN(1000))})
			}
			slices.SortFunc(recs, func(a, b rec) int {
				if c := cmp.Compare(b.count, a.count); c != 0 {
					return c
				}
				return strings.Compare(a.word, b.word)
			})
			recs = slices.CompactFunc(recs, func(a, b rec) bool { return a.word == b.word })
			for _, x := range recs {
				runs[r] = appendSortedRecord(runs[r], x.count, []byte(x.word))
			}
			all = append(all, recs...)
		}
		slices.SortFunc(all, func(a, b rec) int {
			if c := cmp.Compare(b.count, a.count); c != 0 {
				return c
			}
			return strings.Compare(a.word, b.word)
		})
		m := newRunMerge(runs)
		var got []rec
		for m.next() {
			got = append(got, rec{m.count, string(m.word)})
		}
		if !slices.Equal(got, all) {
			t.Fatalf("%d runs: merged %d records, want %d in rank order", k, len(got), len(all))
		}
	}
}
