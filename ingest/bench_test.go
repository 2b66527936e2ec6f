package ingest

import (
	"bytes"
	"context"
	"math/rand/v2"
	"strconv"
	"testing"
)

// syntheticList returns n distinct words of about 10 bytes with Zipf-like
// counts, as TSV, most frequent first like real lists.
func syntheticList(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	for i := 1; i <= n; i++ {
		for k := 3 + r.IntN(6); k > 0; k-- {
			b.WriteByte(byte('a' + r.IntN(26)))
		}
		for v := i; v > 0; v /= 26 {
			b.WriteByte(byte('a' + v%26))
		}
		b.WriteByte('\t')
		b.WriteString(strconv.Itoa(1e9/i + 1))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// BenchmarkCounterDistinct is the build's hot path at scale: every line a
// new word, so the hash index grows and misses the cache.
func BenchmarkCounterDistinct(b *testing.B) {
	list := syntheticList(1_000_000)
	b.SetBytes(int64(len(list)))
	b.ReportAllocs()
	for b.Loop() {
		c := New(Options{})
		if err := c.AddReader(context.Background(), "bench", bytes.NewReader(list)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCounterRepeated counts a small vocabulary many times over, the
// shape of n-gram files (one line per word and year) and of text.
func BenchmarkCounterRepeated(b *testing.B) {
	one := syntheticList(10_000)
	list := bytes.Repeat(one, 100)
	b.SetBytes(int64(len(list)))
	b.ReportAllocs()
	for b.Loop() {
		c := New(Options{})
		if err := c.AddReader(context.Background(), "bench", bytes.NewReader(list)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTokenizer measures text throughput on mixed ASCII and accented
// prose.
func BenchmarkTokenizer(b *testing.B) {
	text := bytes.Repeat([]byte("Ça va? Don't stop—naïve café 42. It was the best of times, it was the worst of times. "), 10000)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		c := New(Options{Format: Text})
		if err := c.AddReader(context.Background(), "bench", bytes.NewReader(text)); err != nil {
			b.Fatal(err)
		}
	}
}
