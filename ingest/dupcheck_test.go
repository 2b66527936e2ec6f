package ingest

import (
	"math/rand/v2"
	"testing"
)

// A hashSet finds two equal hashes among many, held in memory or spilled
// into several sorted runs, and finds none where there are none.
func TestHashSetFindsEqualHashes(t *testing.T) {
	for _, budget := range []int64{1 << 30, 1 << 16} {
		for _, dup := range []bool{false, true} {
			s := newHashSet(t.TempDir(), budget)
			r := rand.New(rand.NewPCG(5, 6))
			var kept uint64
			for i := range 50000 {
				h := r.Uint64()
				if i == 777 {
					kept = h
				}
				if dup && i == 43210 {
					h = kept
				}
				if err := s.add(h); err != nil {
					t.Fatal(err)
				}
			}
			got, err := s.duplicate()
			if err != nil {
				t.Fatal(err)
			}
			if got != dup {
				t.Errorf("budget %d: duplicate = %v, want %v (%d runs spilled)", budget, got, dup, len(s.runs))
			}
			if budget < 1<<20 && len(s.runs) < 2 {
				t.Errorf("budget %d: %d runs spilled, want several", budget, len(s.runs))
			}
			s.close()
		}
	}
}
