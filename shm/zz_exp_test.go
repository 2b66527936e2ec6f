package shm

import (
	"testing"
)

func BenchmarkZZHot(b *testing.B) {
	s := loadBenchSet(b, "74k")
	keys := [][]byte{[]byte("information"), []byte("the"), []byte("understanding"), []byte("xq")}
	b.Run("table", func(b *testing.B) {
		var sum uint64
		i := 0
		for b.Loop() {
			c, _ := s.tab.Lookup(keys[i&3])
			sum += c
			i++
		}
		sink = sum
	})
	b.Run("map", func(b *testing.B) {
		var sum uint64
		i := 0
		for b.Loop() {
			sum += s.m[string(keys[i&3])]
			i++
		}
		sink = sum
	})
	b.Run("hash", func(b *testing.B) {
		var sum uint64
		i := 0
		for b.Loop() {
			sum += Hash(keys[i&3], 0)
			i++
		}
		sink = sum
	})
}
