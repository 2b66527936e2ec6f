package freqfile_test

import (
	"math/rand/v2"
	"sync"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/freqd/freqd/ingest"
	"github.com/freqd/freqd/shm/freqfile"
)

// BenchmarkLookupDefault times lookups in the table `freqd serve` serves
// without --data (ingest.DefaultTable), whose queries are normalized as the
// table's words were: a query already in normal form (lower case, as most
// are) must cost little more than the lookup itself.
//
//	go test -run '^$' -bench LookupDefault ./shm/freqfile
//
// The keys are words drawn by a Zipf distribution of rank, as text asks
// them: "normal" as stored, "capitalized" with the first letter upper-case
// (a sentence's first word), "miss" absent words of 3 to 15 letters.
func BenchmarkLookupDefault(b *testing.B) {
	for _, kind := range []string{"normal", "capitalized", "miss"} {
		b.Run(kind, func(b *testing.B) {
			tab, keys := defaultBenchKeys(b)
			ks := keys[kind]
			var sum uint64
			i := 0
			for b.Loop() {
				c, _ := tab.Lookup(ks[i&(len(ks)-1)])
				sum += c
				i++
			}
			benchSink = sum
		})
	}
}

var benchSink uint64

var (
	defaultOnce  sync.Once
	defaultTab   *freqfile.Table
	defaultKeys  map[string][][]byte
	defaultError error
)

// defaultBenchKeys builds the default table and its keys once per process.
func defaultBenchKeys(b *testing.B) (*freqfile.Table, map[string][][]byte) {
	b.Helper()
	defaultOnce.Do(func() {
		var data []byte
		if data, defaultError = ingest.DefaultTable(); defaultError != nil {
			return
		}
		if defaultTab, defaultError = freqfile.Parse(data); defaultError != nil {
			return
		}
		const n = 1 << 16
		rng := rand.New(rand.NewPCG(3, 4))
		zipf := rand.NewZipf(rng, 1.07, 1, defaultTab.Len()-1)
		defaultKeys = map[string][][]byte{}
		for range n {
			w, _, _ := defaultTab.Entry(zipf.Uint64() + 1)
			defaultKeys["normal"] = append(defaultKeys["normal"], append([]byte(nil), w...))
			r, size := utf8.DecodeRune(w)
			c := utf8.AppendRune(nil, unicode.ToUpper(r))
			defaultKeys["capitalized"] = append(defaultKeys["capitalized"], append(c, w[size:]...))
			for {
				m := make([]byte, 3+rng.IntN(13))
				for j := range m {
					m[j] = byte('a' + rng.IntN(26))
				}
				if _, found := defaultTab.Lookup(m); !found {
					defaultKeys["miss"] = append(defaultKeys["miss"], m)
					break
				}
			}
		}
	})
	if defaultError != nil {
		b.Fatal(defaultError)
	}
	return defaultTab, defaultKeys
}
