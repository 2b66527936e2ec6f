package freqfile

import (
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// BenchmarkLookupFiles compares lookups and Open on tables built elsewhere,
// such as the 10- and 100-million-word tables of docs/benchmarks.md, which
// are too large to build here or to hold beside a Go map:
//
//	FREQD_BENCH_TABLES=10M=/tmp/z10m.freq,100M=/tmp/z100m.freq \
//	    go test -run '^$' -bench LookupFiles ./shm/freqfile
//
// Hit keys are words of uniformly random ranks, or of ranks drawn from a
// Zipf law (as real text queries); misses are random strings. Lookups run
// on the table as a worker maps it by default: a sealed memfd copy, which
// has huge pages where /sys/kernel/mm/transparent_hugepage/shmem_enabled
// allows them (the log line "huge" says how many).
func BenchmarkLookupFiles(b *testing.B) {
	spec := os.Getenv("FREQD_BENCH_TABLES")
	if spec == "" {
		b.Skip("set FREQD_BENCH_TABLES=name=path,... to compare tables built elsewhere")
	}
	for _, item := range strings.Split(spec, ",") {
		name, path, _ := strings.Cut(item, "=")
		b.Run(name+"/open", func(b *testing.B) {
			for b.Loop() {
				t, err := Open(path)
				if err != nil {
					b.Fatal(err)
				}
				t.Close()
			}
		})
		t := openServed(b, path)
		// Every page touched once, as a served table would be warm.
		if err := t.Verify(); err != nil {
			b.Fatal(err)
		}
		huge, err := t.HugePageBytes()
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("%s: %d of %d bytes in huge pages", path, huge, t.Size())
		rng := rand.New(rand.NewPCG(1, 2))
		zipf := rand.NewZipf(rng, 1.07, 1, t.Len()-1)
		keys := map[string][][]byte{}
		for range keyCount {
			w, _, ok := t.Entry(1 + rng.Uint64N(t.Len()))
			if !ok {
				b.Fatal("a rank without an entry")
			}
			keys["hit-uniform"] = append(keys["hit-uniform"], append([]byte(nil), w...))
			w, _, _ = t.Entry(1 + zipf.Uint64())
			keys["hit-zipf"] = append(keys["hit-zipf"], append([]byte(nil), w...))
			miss := make([]byte, 10)
			for i := range miss {
				miss[i] = byte('a' + rng.IntN(26))
			}
			miss[9] = '#' // no generated word has one
			keys["miss"] = append(keys["miss"], miss)
		}
		for _, kind := range []string{"hit-uniform", "hit-zipf", "miss"} {
			b.Run(name+"/"+kind, func(b *testing.B) {
				lookups(b, t, keys[kind])
			})
		}
		t.Close()
	}
}
