package freqfile

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/freqd/freqd/shm/memfd"
)

// The benchmarks compare a Table with a Go map[string]uint64 holding the same
// words, at SUBTLEX-US size (74k words) and at 10 million synthetic words:
//
//	go test -bench . -run '^$' ./shm/freqfile
//
// The 10M file is generated once and cached in os.TempDir(); -short skips it.
//
// "table" maps the file, as Open does; "served" maps a sealed memfd copy,
// as freqd's workers do. They differ where the kernel reclaims page cache
// behind a mapping (a cloud VM's proactive reclaim, memory pressure): a
// file's pages can be dropped and read back from disk on the next lookup,
// a memfd's cannot without swap.

const (
	synthWords = 10_000_000
	keyCount   = 1 << 20 // query keys per benchmark, a power of two
)

// benchSet is one table and its map twin with the query keys.
type benchSet struct {
	name        string
	tab         *Table
	served      *Table // the same file in a sealed memfd
	path        string
	m           map[string]uint64
	mapBytes    float64 // heap bytes per word of m
	hitsUniform [][]byte
	hitsZipf    [][]byte
	misses      [][]byte
}

var (
	benchMu   sync.Mutex
	benchSets = map[string]*benchSet{}
)

// loadBenchSet returns the named set ("74k" or "10M"), building it on first
// use in this process.
func loadBenchSet(b *testing.B, name string) *benchSet {
	b.Helper()
	if name == "10M" && testing.Short() {
		b.Skip("10M-word benchmarks skipped in -short mode")
	}
	benchMu.Lock()
	defer benchMu.Unlock()
	if s := benchSets[name]; s != nil {
		return s
	}
	var path string
	if name == "74k" {
		path = filepath.Join(os.TempDir(), fmt.Sprintf("freqd-bench-subtlex-v%d.freq", Version))
		if err := WriteFile(path, subtlex(b), BuildOptions{}); err != nil {
			b.Fatal(err)
		}
	} else {
		path = synthFile(b)
	}
	s := &benchSet{name: name, path: path}
	tab, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	s.tab = tab
	s.served = openServed(b, path)
	s.buildMap()
	s.makeKeys()
	benchSets[name] = s
	return s
}

// synthFile returns the path of the cached 10M-word file, writing it if
// needed: distinct random lower-case words of 3 to 15 letters with counts
// that fall off as 1/rank, like real word frequencies.
func synthFile(b *testing.B) string {
	path := filepath.Join(os.TempDir(), fmt.Sprintf("freqd-bench-%d-v%d.freq", synthWords, Version))
	if t, err := Open(path); err == nil {
		ok := t.Len() == synthWords && t.Verify() == nil
		t.Close()
		if ok {
			return path
		}
	}
	b.Logf("generating %s (cached for later runs)", path)
	rng := rand.New(rand.NewPCG(10, 20))
	seen := make(map[string]struct{}, synthWords)
	entries := make([]Entry, 0, synthWords)
	word := make([]byte, 0, 15)
	for len(entries) < synthWords {
		word = word[:0]
		for range 3 + rng.IntN(13) {
			word = append(word, byte('a'+rng.IntN(26)))
		}
		if _, dup := seen[string(word)]; dup {
			continue
		}
		w := string(word)
		seen[w] = struct{}{}
		entries = append(entries, Entry{w, 1_000_000_000 / uint64(len(entries)+1)})
	}
	seen = nil
	if err := WriteFile(path, entries, BuildOptions{}); err != nil {
		b.Fatal(err)
	}
	return path
}

// buildMap fills the map twin from the table and measures its heap size.
func (s *benchSet) buildMap() {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	m := make(map[string]uint64)
	for r := uint64(1); r <= s.tab.Len(); r++ {
		w, c, _ := s.tab.Entry(r)
		m[string(w)] = c
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	s.m = m
	s.mapBytes = float64(after.HeapAlloc-before.HeapAlloc) / float64(s.tab.Len())
}

// makeKeys draws the query keys: words by uniform rank, words by a Zipf
// distribution of rank (what real text asks), and absent words.
func (s *benchSet) makeKeys() {
	rng := rand.New(rand.NewPCG(1, 2))
	n := s.tab.Len()
	zipf := rand.NewZipf(rng, 1.1, 1, n-1)
	word := func(rank uint64) []byte {
		w, _, _ := s.tab.Entry(rank)
		return append([]byte(nil), w...)
	}
	s.hitsUniform = make([][]byte, keyCount)
	s.hitsZipf = make([][]byte, keyCount)
	s.misses = make([][]byte, keyCount)
	for i := range keyCount {
		s.hitsUniform[i] = word(1 + rng.Uint64N(n))
		s.hitsZipf[i] = word(1 + zipf.Uint64())
		for {
			w := make([]byte, 3+rng.IntN(13))
			for j := range w {
				w[j] = byte('a' + rng.IntN(26))
			}
			if _, found := s.m[string(w)]; !found {
				s.misses[i] = w
				break
			}
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	for _, size := range []string{"74k", "10M"} {
		for _, keys := range []string{"hit-uniform", "hit-zipf", "miss"} {
			b.Run(size+"/"+keys+"/table", func(b *testing.B) {
				s := loadBenchSet(b, size)
				lookups(b, s.tab, s.keys(keys))
				b.ReportMetric(float64(s.tab.Size())/float64(s.tab.Len()), "file-B/word")
			})
			b.Run(size+"/"+keys+"/served", func(b *testing.B) {
				s := loadBenchSet(b, size)
				lookups(b, s.served, s.keys(keys))
			})
			b.Run(size+"/"+keys+"/map", func(b *testing.B) {
				s := loadBenchSet(b, size)
				ks := s.keys(keys)
				var sum uint64
				i := 0
				for b.Loop() {
					sum += s.m[string(ks[i&(keyCount-1)])]
					i++
				}
				b.ReportMetric(s.mapBytes, "map-B/word")
				sink = sum
			})
		}
	}
}

var sink uint64

// lookups times t.Lookup over the keys, in turn.
func lookups(b *testing.B, t *Table, ks [][]byte) {
	var sum uint64
	i := 0
	for b.Loop() {
		c, _ := t.Lookup(ks[i&(keyCount-1)])
		sum += c
		i++
	}
	sink = sum
}

func (s *benchSet) keys(kind string) [][]byte {
	switch kind {
	case "hit-uniform":
		return s.hitsUniform
	case "hit-zipf":
		return s.hitsZipf
	default:
		return s.misses
	}
}

// BenchmarkOpen measures Open plus Close: it should not depend on the
// number of words.
func BenchmarkOpen(b *testing.B) {
	for _, size := range []string{"74k", "10M"} {
		b.Run(size, func(b *testing.B) {
			s := loadBenchSet(b, size)
			for b.Loop() {
				t, err := Open(s.path)
				if err != nil {
					b.Fatal(err)
				}
				t.Close()
			}
			b.ReportMetric(float64(s.tab.Len()), "words")
		})
	}
}

// BenchmarkVerify measures the full checksum the master runs once.
func BenchmarkVerify(b *testing.B) {
	s := loadBenchSet(b, "74k")
	b.SetBytes(s.tab.Size())
	for b.Loop() {
		if err := s.tab.Verify(); err != nil {
			b.Fatal(err)
		}
	}
}

// openServed opens the table at path as `freqd serve` serves it by
// default: copied into a sealed memfd and mapped from it.
func openServed(b *testing.B, path string) *Table {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	m, err := memfd.SealedCopy("freqd-bench", f)
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	t, err := OpenFile(m)
	m.Close()
	if err != nil {
		b.Fatal(err)
	}
	return t
}
