package ingest

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/freqd/freqd/shm/freqfile"
)

// sortedBuild builds a table from the named inputs and reports whether
// the inputs were taken as sorted (not counted) after the first pass.
// before, if set, runs between reading the inputs and writing the table.
func sortedBuild(t *testing.T, opts Options, names []string, before func()) ([]byte, Stats, bool) {
	t.Helper()
	opts.TmpDir = t.TempDir()
	c := New(opts)
	ins, err := ExpandInputs(names)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddInputs(context.Background(), ins); err != nil {
		t.Fatal(err)
	}
	sorted := c.sorted != nil
	if before != nil {
		before()
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "t.freq")
	st, err := c.WriteFile(out, freqfile.BuildOptions{FoldCase: !opts.KeepCase}, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertOnlyFile(t, dir, "t.freq")
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b, st, sorted
}

func assertOnlyFile(t *testing.T, dir, name string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].Name() != name {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("%s holds %v, want only %s", dir, names, name)
	}
}

// rankedList is n distinct lower-case words with Zipf-like counts (many
// ties), in rank order.
func rankedList(n int) []equivWord {
	rng := rand.New(rand.NewPCG(3, 9))
	ws := make([]equivWord, n)
	for i := range ws {
		ws[i] = equivWord{fmt.Sprintf("%c%d", 'a'+rng.IntN(26), i), int64(100000 / (i + 1))}
	}
	slices.SortFunc(ws, func(a, b equivWord) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return strings.Compare(a.Word, b.Word)
	})
	return ws
}

func shuffled(ws []equivWord) []equivWord {
	out := slices.Clone(ws)
	rand.New(rand.NewPCG(1, 1)).Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// Inputs already in rank order, one file or a directory of part files
// in order, go to the writer without counting, and build the very table
// that counting the same words in another order builds.
func TestSortedInputsSkipCounting(t *testing.T) {
	ws := rankedList(30000)
	dir := t.TempDir()
	one := filepath.Join(dir, "sorted.tsv")
	os.WriteFile(one, []byte(tsvForm(ws, true)), 0o644)
	parts := filepath.Join(dir, "parts")
	os.Mkdir(parts, 0o755)
	for i, k := range []int{0, 10000, 10001, 25000} {
		end := len(ws)
		if i < 3 {
			end = []int{10000, 10001, 25000}[i]
		}
		os.WriteFile(filepath.Join(parts, fmt.Sprintf("part-%05d", i)), []byte(tsvForm(ws[k:end], false)), 0o644)
	}
	os.WriteFile(filepath.Join(parts, "_SUCCESS"), nil, 0o644)
	csv := filepath.Join(dir, "sorted.csv")
	os.WriteFile(csv, []byte(csvForm(ws, true, true)), 0o644)
	mixed := filepath.Join(dir, "mixed.tsv")
	os.WriteFile(mixed, []byte(tsvForm(shuffled(ws), false)), 0o644)

	want, wst, sorted := sortedBuild(t, Options{}, []string{mixed}, nil)
	if sorted {
		t.Fatal("words in no order were taken as sorted")
	}
	for _, in := range []string{one, parts, csv} {
		for _, workers := range []int{1, 3} {
			got, st, sorted := sortedBuild(t, Options{Workers: workers}, []string{in}, nil)
			if !sorted {
				t.Errorf("%s (%d workers): sorted input was counted", in, workers)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s (%d workers): the table differs from the counted one", in, workers)
			}
			if st.Words != wst.Words || st.Total != wst.Total || st.MaxTokens != wst.MaxTokens {
				t.Errorf("%s: stats %+v, counted %+v", in, st, wst)
			}
		}
	}
}

// Inputs that look sorted but are not what the writer can take as they
// are fall back to counting and still build the right table: words that
// fold together ("The", "the"), words whose order folding changes, a word
// listed twice with two counts, part files in the wrong order, and an
// input rewritten between the two passes.
func TestSortedInputsFallBack(t *testing.T) {
	ws := rankedList(5000)
	dir := t.TempDir()
	write := func(name string, ws []equivWord) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(tsvForm(ws, false)), 0o644)
		return p
	}
	mixed := func(name string, ws []equivWord) string { return write(name, shuffled(ws)) }

	// "The" ranks early, "the" last: in order until folded alike.
	folded := append([]equivWord{{"The", ws[0].Count + 1}}, ws...)
	folded = append(folded, equivWord{"the", 1})
	// "Zebra" before "apple" at one count is byte order, not once folded.
	reordered := append([]equivWord{{"Zebra", ws[0].Count + 1}, {"apple", ws[0].Count + 1}}, ws...)
	// A word twice, counts 9999 and 1, kept apart by the words between.
	twice := append([]equivWord{{"twice", ws[0].Count + 1}}, ws...)
	twice = append(twice, equivWord{"twice", 1})

	cases := []struct {
		name       string
		opts       Options
		in         []string
		ref        []string
		firstPass  bool // the first pass finds them in order
		rewriteTo  []equivWord
		rewriteRef string
	}{
		{name: "fold together", in: []string{write("folded.tsv", folded)}, ref: []string{mixed("folded-m.tsv", folded)}, firstPass: true},
		{name: "fold reorders", in: []string{write("reordered.tsv", reordered)}, ref: []string{mixed("reordered-m.tsv", reordered)}},
		{name: "keep case, listed twice", opts: Options{KeepCase: true}, in: []string{write("twice.tsv", twice)}, ref: []string{mixed("twice-m.tsv", twice)}, firstPass: true},
		{name: "parts out of order", in: []string{write("p2.tsv", ws[2500:]), write("p1.tsv", ws[:2500])}, ref: []string{mixed("p-m.tsv", ws)}},
		{name: "min count", opts: Options{MinCount: 2}, in: []string{write("min.tsv", ws)}, ref: []string{mixed("min-m.tsv", ws)}},
		{name: "rewritten", in: []string{write("rewritten.tsv", ws)}, firstPass: true,
			rewriteTo: shuffled(ws[:4000]), rewriteRef: "rewritten-ref.tsv"},
	}
	for _, tc := range cases {
		var before func()
		if tc.rewriteTo != nil {
			tc.ref = []string{mixed(tc.rewriteRef, tc.rewriteTo)}
			before = func() { write(filepath.Base(tc.in[0]), tc.rewriteTo) }
		}
		want, wst, _ := sortedBuild(t, tc.opts, tc.ref, nil)
		got, st, firstPass := sortedBuild(t, tc.opts, tc.in, before)
		if firstPass != tc.firstPass {
			t.Errorf("%s: first pass found them sorted: %v, want %v", tc.name, firstPass, tc.firstPass)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: the table differs from the counted one", tc.name)
		}
		if st.Words != wst.Words || st.Total != wst.Total || st.Dropped != wst.Dropped {
			t.Errorf("%s: stats %+v, counted %+v", tc.name, st, wst)
		}
	}
}
