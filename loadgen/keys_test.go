package loadgen

import (
	"math"
	"testing"

	"github.com/freqd/freqd/resp"
)

// draw makes n requests with a fresh key source and checks each against the
// table as the server would see it: the request must parse as GET word with
// freqd's own codec, and the expected answer must be the table's.
func draw(t *testing.T, dist KeyDist, miss float64, n int) (ranks []uint64, misses int) {
	t.Helper()
	k := newKeys(defaultTable, dist, miss, 42, 7)
	var p resp.Parser
	for i := range n {
		req, e, ok := k.next(nil)
		if !ok {
			t.Fatalf("request %d: the table gave no word", i)
		}
		args, used, err := p.Next(req)
		if err != nil || used != len(req) || len(args) != 2 || string(args[0]) != "GET" {
			t.Fatalf("request %d %q parses as %q (%d of %d bytes, %v); want GET and one word", i, req, args, used, len(req), err)
		}
		count, present := defaultTable.Lookup(args[1])
		if count != e.count || present != e.present {
			t.Fatalf("request %d for %q expects (%d, %v); the table says (%d, %v)", i, args[1], e.count, e.present, count, present)
		}
		if e.rank == 0 {
			misses++
			if present {
				t.Fatalf("request %d: absent word %q is in the table", i, args[1])
			}
			continue
		}
		if r, _ := defaultTable.Rank(args[1]); r != e.rank {
			t.Fatalf("request %d for %q: rank %d recorded, the table says %d", i, args[1], e.rank, r)
		}
		ranks = append(ranks, e.rank)
	}
	return ranks, misses
}

func TestZipfKeysFollowRank(t *testing.T) {
	const n = 200000
	ranks, misses := draw(t, KeysZipf, 0, n)
	if misses != 0 {
		t.Fatalf("%d absent words asked with Miss 0", misses)
	}
	words := defaultTable.Len()
	var hits [4]int // ranks 1, 2, 10 and above 1000
	for _, r := range ranks {
		switch {
		case r == 1:
			hits[0]++
		case r == 2:
			hits[1]++
		case r == 10:
			hits[2]++
		case r > 1000:
			hits[3]++
		}
	}
	// P(rank r) = r^-s / H, H = sum of k^-s over all ranks.
	var h float64
	for k := 1; k <= int(words); k++ {
		h += math.Pow(float64(k), -zipfExponent)
	}
	for i, r := range []float64{1, 2, 10} {
		want := n * math.Pow(r, -zipfExponent) / h
		if got := float64(hits[i]); math.Abs(got-want) > 5*math.Sqrt(want) {
			t.Errorf("rank %v drawn %v times of %d; Zipf(%v) expects %.0f", r, got, n, zipfExponent, want)
		}
	}
	if hits[3] == 0 {
		t.Errorf("no rank above 1000 drawn in %d: the tail of the table is never asked for", n)
	}
}

func TestUniformKeysSpreadOverTable(t *testing.T) {
	const n = 100000
	ranks, _ := draw(t, KeysUniform, 0, n)
	words := float64(defaultTable.Len())
	var sum float64
	for _, r := range ranks {
		sum += float64(r)
	}
	// The mean of uniform 1..N is (N+1)/2 with standard error N/sqrt(12n).
	mean, want := sum/n, (words+1)/2
	if se := words / math.Sqrt(12*n); math.Abs(mean-want) > 5*se {
		t.Errorf("mean rank %.0f of %d uniform draws; want %.0f ± %.0f", mean, n, want, 5*se)
	}
}

func TestMissFraction(t *testing.T) {
	tests := []struct {
		dist KeyDist
		miss float64
	}{
		{KeysZipf, 0.1},
		{KeysUniform, 0.5},
		{KeysZipf, 1},
	}
	const n = 20000
	for i, tc := range tests {
		_, misses := draw(t, tc.dist, tc.miss, n)
		want := tc.miss * n
		if sd := math.Sqrt(n * tc.miss * (1 - tc.miss)); math.Abs(float64(misses)-want) > 5*sd+0.5 {
			t.Errorf("case %d (%s, miss %v): %d absent of %d; want about %.0f", i, tc.dist, tc.miss, misses, n, want)
		}
	}
}

// TestZipfApproximatesFrequency compares the share of requests that go to
// the most frequent words with their share of the corpus: the claim the
// package documentation makes for KeysZipf.
func TestZipfApproximatesFrequency(t *testing.T) {
	const n = 200000
	ranks, _ := draw(t, KeysZipf, 0, n)
	for _, top := range []uint64{10, 100, 1000} {
		var asked int
		for _, r := range ranks {
			if r <= top {
				asked++
			}
		}
		var inTop uint64
		for r := uint64(1); r <= top; r++ {
			_, c, _ := defaultTable.Entry(r)
			inTop += c
		}
		got, corpus := float64(asked)/n, float64(inTop)/float64(defaultTable.Total())
		t.Logf("top %d words: %.1f%% of requests, %.1f%% of the corpus", top, 100*got, 100*corpus)
		if got < corpus*2/3 || got > corpus*3/2 {
			t.Errorf("top %d words get %.1f%% of requests but hold %.1f%% of the corpus", top, 100*got, 100*corpus)
		}
	}
}
