package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/freqd/freqd/data"
	"github.com/freqd/freqd/shm/freqfile"
)

// counts returns what c holds as a map, through Entries as a build would.
func counts(t *testing.T, c *Counter) map[string]uint64 {
	t.Helper()
	m := map[string]uint64{}
	entries, err := c.Entries()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		m[e.Word] += e.Count
	}
	return m
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func gzipped(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestCounterFormats(t *testing.T) {
	tests := []struct {
		name, file, content string
		format              Format
		want                map[string]uint64
	}{
		{"tsv", "w.tsv", "the\t10\nof\t4\nthe\t1\n", Auto, map[string]uint64{"the": 11, "of": 4}},
		{"csv header", "w.csv", "word,count\nthe,10\n\"a,b\",2\n", Auto, map[string]uint64{"the": 10, "a,b": 2}},
		{"space crlf", "w.txt", "the 10\r\nof 4\r\n\r\n", Auto, map[string]uint64{"the": 10, "of": 4}},
		{"ngram years summed, tagged lines skipped", "1gram", "run\t1999\t12\t3\nrun\t2000\t5\t2\nrun_VERB\t2000\t3\t1\n_NOUN_\t2000\t99\t9\n", Auto, map[string]uint64{"run": 17}},
		{"text", "t.txt", "Ça va? Don't stop—naïve café 42. ÇA VA!", Auto, map[string]uint64{"ça": 2, "va": 2, "don't": 1, "stop": 1, "naïve": 1, "café": 1, "42": 1}},
		{"forced text over a word list", "w.tsv", "the\t10\n", Text, map[string]uint64{"the": 1, "10": 1}},
		{"gzip by content", "w.tsv.gz", gzipped(t, "the\t10\nof\t4\n"), Auto, map[string]uint64{"the": 10, "of": 4}},
		{"gzip without the suffix", "w.tsv", gzipped(t, "the\t10\n"), Auto, map[string]uint64{"the": 10}},
		{"case folded and summed", "w.tsv", "I\t3\ni\t4\nİSTANBUL\t1\n", Auto, map[string]uint64{"i": 7, "i\u0307stanbul": 1}},
		{"phrases normalized", "p.tsv", "New  York\t3\nnew york\t2\nNEW YORK’S\t1\n", Auto, map[string]uint64{"new york": 5, "new york's": 1}},
		{"normalized and summed", "w.tsv", "ΣΟΦΟΣ\t2\nσοφος\t3\ndon’t\t1\ndon't\t2\ncafe\u0301\t1\ncafé\t1\n\u212a\t1\nk\t1\n", Auto,
			map[string]uint64{"σοφοσ": 5, "don't": 3, "café": 2, "k": 2}},
		{"text normalized", "t.txt", "Don’t DON'T ΣΟΦΟΣ σοφος", Text, map[string]uint64{"don't": 2, "σοφοσ": 2}},
		{"unspaced text by character", "t.txt", "東京に行く。Tokyo", Text, map[string]uint64{"東": 1, "京": 1, "に": 1, "行": 1, "く": 1, "tokyo": 1}},
	}
	for i, tc := range tests {
		c := New(Options{Format: tc.format})
		if err := c.AddFile(context.Background(), writeFile(t, tc.file, tc.content)); err != nil {
			t.Errorf("case %d (%s): %v", i, tc.name, err)
			continue
		}
		got := counts(t, c)
		if len(got) != len(tc.want) {
			t.Errorf("case %d (%s): got %v, want %v", i, tc.name, got, tc.want)
		}
		for w, n := range tc.want {
			if got[w] != n {
				t.Errorf("case %d (%s): count of %q = %d, want %d (all: %v)", i, tc.name, w, got[w], n, got)
			}
		}
	}
}

func TestCounterMergesInputs(t *testing.T) {
	c := New(Options{KeepCase: true})
	ctx := context.Background()
	for _, in := range []string{
		writeFile(t, "a.tsv", "the\t10\nThe\t3\n"),
		writeFile(t, "b.csv", "the,5\nnew,1\n"),
		writeFile(t, "c.gz", gzipped(t, "new 2\n")),
	} {
		if err := c.AddFile(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if c.Len() != 3 || c.Total() != 21 {
		t.Errorf("Len, Total = %d, %d; want 3, 21", c.Len(), c.Total())
	}
	got := counts(t, c)
	want := map[string]uint64{"the": 15, "The": 3, "new": 3}
	for w, n := range want {
		if got[w] != n {
			t.Errorf("count of %q = %d, want %d", w, got[w], n)
		}
	}
	if err := c.AddFile(ctx, writeFile(t, "d.tsv", "x\t1\n")); err == nil {
		t.Error("AddFile after Entries succeeded")
	}
}

func TestCounterStdin(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = old; r.Close() }()
	go func() {
		w.Write([]byte(gzipped(t, "the\t7\nof\t2\n")))
		w.Close()
	}()
	c := New(Options{})
	if err := c.AddFile(context.Background(), "-"); err != nil {
		t.Fatal(err)
	}
	if got := counts(t, c); got["the"] != 7 || got["of"] != 2 || len(got) != 2 {
		t.Errorf("got %v, want the=7 of=2", got)
	}
}

func TestCounterErrors(t *testing.T) {
	big := strconv.FormatUint(math.MaxInt64, 10)
	tests := []struct {
		name, content string
		format        Format
		header        HeaderMode
		line          int
		want          string
	}{
		{"bad count", "a\t1\nb\t2\nc\t12x\n", TSV, HeaderAuto, 3, `w:3: count "12x" is not a whole number`},
		{"bad count detected", "a\t1\nb\t2\nc\t12x\n", Auto, HeaderAuto, 3, "read as tsv, detected"},
		{"csv header only first", "word,count\na,1\nword,count\n", CSV, HeaderAuto, 3, `count "count" is not a whole number`},
		{"header refused with --header no", "word\tcount\na\t1\n", TSV, HeaderNo, 1, `count "count" is not a whole number`},
		{"zero count", "a\t1\nb\t0\n", TSV, HeaderAuto, 2, "count is 0"},
		{"negative count", "a\t1\nb\t-4\n", Auto, HeaderAuto, 2, "count -4 is negative"},
		{"count above 2^63-1", "a\t1\nb\t9223372036854775808\n", TSV, HeaderAuto, 2, "larger than 9223372036854775807"},
		{"word sum above 2^63-1", "b\t1\na\t" + big + "\na\t1\n", TSV, HeaderAuto, 3, `count of "a" adds up to more than 9223372036854775807`},
		{"total above 2^63-1", "a\t" + big + "\nb\t1\n", TSV, HeaderAuto, 2, "total of all counts passes"},
		{"long line", "a\t1\n" + strings.Repeat("x", 1<<21) + "\t1\n", TSV, HeaderAuto, 2, "longer than"},
		{"wrong format", "a b c\n", Space, HeaderAuto, 1, "found 3 fields"},
	}
	for i, tc := range tests {
		c := New(Options{Format: tc.format, Header: tc.header})
		err := c.AddReader(context.Background(), "w", strings.NewReader(tc.content))
		var le *LineError
		if !errors.As(err, &le) || le.Line != tc.line || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("case %d (%s): error %v, want a LineError at line %d containing %q", i, tc.name, err, tc.line, tc.want)
		}
	}
}

// With --min-count, lines whose count is zero or negative are skipped, and
// words whose total is below it are dropped.
func TestCounterMinCount(t *testing.T) {
	c := New(Options{MinCount: 3})
	if err := c.AddReader(context.Background(), "w", strings.NewReader("a\t1\nb\t0\nc\t-2\nd\t5\na\t2\ne\t2\n")); err != nil {
		t.Fatal(err)
	}
	got := counts(t, c)
	if len(got) != 2 || got["a"] != 3 || got["d"] != 5 {
		t.Errorf("got %v, want a=3 d=5", got)
	}
	if c.stats.SkippedLines != 2 {
		t.Errorf("skipped %d lines, want 2", c.stats.SkippedLines)
	}
}

func TestCounterTruncatedGzip(t *testing.T) {
	z := gzipped(t, strings.Repeat("word\t1\n", 10000))
	err := New(Options{}).AddFile(context.Background(), writeFile(t, "w.gz", z[:len(z)/2]))
	if err == nil || !strings.Contains(err.Error(), "w.gz") || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("error %v, want one naming w.gz and saying it is truncated", err)
	}
}

func TestCounterMissingFile(t *testing.T) {
	err := New(Options{}).AddFile(context.Background(), filepath.Join(t.TempDir(), "nope.tsv"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error %v, want one wrapping os.ErrNotExist", err)
	}
}

func TestCounterCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := New(Options{}).AddReader(ctx, "w", strings.NewReader("a\t1\n"))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

// TestCounterSubtlex reads the real embedded list both ways: keeping case it
// must reproduce every line; folding it must sum the words that fold alike.
func TestCounterSubtlex(t *testing.T) {
	ctx := context.Background()
	kept := New(Options{KeepCase: true})
	if err := kept.AddReader(ctx, "subtlex", bytes.NewReader(data.SubtlexUS)); err != nil {
		t.Fatal(err)
	}
	if kept.Len() != data.SubtlexUSWords || kept.Total() != data.SubtlexUSTotal {
		t.Fatalf("keep-case Len, Total = %d, %d; want %d, %d", kept.Len(), kept.Total(), data.SubtlexUSWords, data.SubtlexUSTotal)
	}
	folded := New(Options{})
	if err := folded.AddReader(ctx, "subtlex", bytes.NewReader(data.SubtlexUS)); err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{}
	keptCounts := counts(t, kept)
	for _, line := range strings.Split(strings.TrimSpace(string(data.SubtlexUS)), "\n") {
		w, n, _ := strings.Cut(line, "\t")
		v, err := strconv.ParseUint(n, 10, 64)
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if keptCounts[w] != v {
			t.Fatalf("keep-case count of %q = %d, want %d", w, keptCounts[w], v)
		}
		want[string(freqfile.Fold(nil, []byte(w)))] += v
	}
	got := counts(t, folded)
	if len(got) != len(want) || folded.Total() != data.SubtlexUSTotal {
		t.Fatalf("folded: %d words, total %d; want %d, %d", len(got), folded.Total(), len(want), data.SubtlexUSTotal)
	}
	for w, n := range want {
		if got[w] != n {
			t.Fatalf("folded count of %q = %d, want %d", w, got[w], n)
		}
	}
	// SUBTLEX-US lists "I" and no "i"; the sum still has to come out right.
	if got["i"] != keptCounts["I"]+keptCounts["i"] || got["i"] == 0 {
		t.Errorf("folded i = %d, want I+i = %d+%d", got["i"], keptCounts["I"], keptCounts["i"])
	}
}
