package ingest

import (
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go"

	"github.com/freqd/freqd/shm/freqfile"
)

// equivWord is one word of the equivalence corpus and its count.
type equivWord struct {
	Word  string `parquet:"word"`
	Count int64  `parquet:"count"`
}

// equivCorpus is a small word list with the words that trip up formats:
// commas and quotes (CSV), backslashes and apostrophes (TSV escapes),
// non-ASCII letters, a number that looks like a count, and words whose case
// folds them together.
func equivCorpus() []equivWord {
	words := []equivWord{
		{"the", 1000}, {"The", 20}, {"of", 700}, {"a,b", 3}, {`say"what`, 4}, {`"quoted"`, 2},
		{`back\slash`, 5}, {"rock'n'roll", 6}, {"naïve", 7}, {"Москва", 8}, {"日本語", 9},
		{"1984", 10}, {"count", 11}, {"word", 12}, {`tab\t`, 13},
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range 300 {
		words = append(words, equivWord{fmt.Sprintf("w%03d%c", i, 'a'+rng.IntN(26)), int64(1 + rng.IntN(50))})
	}
	return words
}

// The forms an engine or a person writes the same counts in.
func tsvForm(ws []equivWord, header bool) string {
	var b strings.Builder
	if header {
		b.WriteString("word\tcount\n")
	}
	for _, w := range ws {
		// ClickHouse's TabSeparated escapes backslashes (and tabs,
		// newlines, quotes).
		word := strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(w.Word)
		fmt.Fprintf(&b, "%s\t%d\n", word, w.Count)
	}
	return b.String()
}

func csvForm(ws []equivWord, header bool, crlf bool) string {
	var b strings.Builder
	eol := "\n"
	if crlf {
		eol = "\r\n"
	}
	if header {
		b.WriteString(`"word","count"` + eol)
	}
	for _, w := range ws {
		word := w.Word
		if strings.ContainsAny(word, `,"`) {
			word = `"` + strings.ReplaceAll(word, `"`, `""`) + `"`
		}
		fmt.Fprintf(&b, "%s,%d%s", word, w.Count, eol)
	}
	return b.String()
}

// uniqForm is what `sort | uniq -c` writes: the count first, padded.
func uniqForm(ws []equivWord) string {
	var b strings.Builder
	for _, w := range ws {
		fmt.Fprintf(&b, "%7d %s\n", w.Count, w.Word)
	}
	return b.String()
}

func gzipBytes(t *testing.T, s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func zstdBytes(t *testing.T, s string) []byte {
	zw, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	return zw.EncodeAll([]byte(s), nil)
}

func parquetBytes(t *testing.T, ws []equivWord) []byte {
	var b bytes.Buffer
	if err := parquet.Write(&b, ws); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestEveryFormBuildsTheSameTable writes the same counts in every form an
// input may take and checks that each builds a byte-identical table.
func TestEveryFormBuildsTheSameTable(t *testing.T) {
	ws := equivCorpus()
	shuffled := slices.Clone(ws)
	rand.New(rand.NewPCG(1, 1)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	bz2, err := os.ReadFile("testdata/equiv.tsv.bz2")
	if err != nil {
		t.Fatal(err)
	}
	if want := tsvForm(ws, false); !bytes.Equal(decompressBzip2(t, bz2), []byte(want)) {
		t.Fatal("testdata/equiv.tsv.bz2 is stale: regenerate it from tsvForm(equivCorpus(), false) with bzip2")
	}
	third := len(shuffled) / 3

	type file struct {
		name    string
		content []byte
	}
	forms := []struct {
		name  string
		files []file // a directory if more than one
	}{
		{"plain tsv", []file{{"words.tsv", []byte(tsvForm(ws, false))}}},
		{"tsv, header", []file{{"words.tsv", []byte(tsvForm(shuffled, true))}}},
		{"tsv without extension", []file{{"words", []byte(tsvForm(ws, false))}}},
		{"gzip", []file{{"words.tsv.gz", gzipBytes(t, tsvForm(ws, false))}}},
		{"gzip, misnamed", []file{{"words.txt", gzipBytes(t, tsvForm(ws, false))}}},
		{"zstd", []file{{"words.tsv.zst", zstdBytes(t, tsvForm(ws, false))}}},
		{"bzip2", []file{{"words.tsv.bz2", bz2}}},
		{"csv, quoted words", []file{{"words.csv", []byte(csvForm(ws, false, false))}}},
		{"csv, quoted header, CRLF (DuckDB, Excel)", []file{{"words.csv", []byte(csvForm(shuffled, true, true))}}},
		{"csv in zstd", []file{{"data.csv.zst", zstdBytes(t, csvForm(ws, true, false))}}},
		{"tab-separated data_0.csv", []file{{"data_0.csv", []byte(tsvForm(ws, true))}}},
		{"uniq -c", []file{{"counts.txt", []byte(uniqForm(shuffled))}}},
		{"parquet", []file{{"words.parquet", parquetBytes(t, shuffled)}}},
		{"parquet, misnamed", []file{{"part-0", parquetBytes(t, ws)}}},
		{"spark output directory", []file{
			{"_SUCCESS", nil},
			{"part-00000-1a2b.csv", []byte(csvForm(shuffled[:third], false, false))},
			{".part-00000-1a2b.csv.crc", []byte("\x00\x01binary crc")},
			{"part-00001-1a2b.csv", nil},
			{"part-00002-1a2b.csv.gz", gzipBytes(t, csvForm(shuffled[third:2*third], false, false))},
			{"sub/part-00003-1a2b.csv", []byte(csvForm(shuffled[2*third:], false, false))},
			{"_temporary/0/part-00009.csv", []byte("garbage\t-1\n")},
		}},
		{"hadoop output directory, split counts", []file{
			{"_SUCCESS", nil},
			{"part-r-00000", []byte(tsvForm(halve(ws, 0), false))},
			{"part-r-00001", []byte(tsvForm(halve(ws, 1), false))},
		}},
	}
	var want []byte
	for _, form := range forms {
		dir := t.TempDir()
		input := filepath.Join(dir, form.files[0].name)
		if len(form.files) > 1 {
			input = filepath.Join(dir, "out")
			dir = input
		}
		for _, f := range form.files {
			p := filepath.Join(dir, f.name)
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, f.content, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got := buildTable(t, input)
		if want == nil {
			want = got
			tab, err := freqfile.Parse(got)
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := tab.Lookup([]byte("the")); n != 1020 || tab.Len() != uint64(len(ws)-1) {
				t.Fatalf("the reference table has the = %d and %d words; want 1020 and %d", n, tab.Len(), len(ws)-1)
			}
			for _, w := range []string{"a,b", `say"what`, `back\slash`, "rock'n'roll", `"quoted"`} {
				if _, ok := tab.Lookup([]byte(w)); !ok {
					t.Errorf("the reference table lacks %q", w)
				}
			}
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: the table differs from the plain TSV's", form.name)
		}
	}
}

// halve splits each count between two files: engines write a word's
// partial counts to several part files when the reduce is not complete.
func halve(ws []equivWord, part int) []equivWord {
	var out []equivWord
	for _, w := range ws {
		c := w.Count / 2
		if part == 1 {
			c = w.Count - c
		}
		if c > 0 {
			out = append(out, equivWord{w.Word, c})
		}
	}
	return out
}

// buildTable builds a table from one input the way `freqd build` does,
// with fixed metadata, and returns its bytes.
func buildTable(t *testing.T, input string) []byte {
	t.Helper()
	c := New(Options{MemoryLimit: 64 << 20})
	if err := c.AddFile(context.Background(), input); err != nil {
		t.Fatalf("%s: %v", input, err)
	}
	out := filepath.Join(t.TempDir(), "w.freq")
	if _, err := c.WriteFile(out, freqfile.BuildOptions{FoldCase: true, Meta: freqfile.Metadata{"source": "test"}}, nil); err != nil {
		t.Fatalf("%s: %v", input, err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decompressBzip2(t *testing.T, b []byte) []byte {
	t.Helper()
	out, err := io.ReadAll(bzip2.NewReader(bytes.NewReader(b)))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEquivFixture rewrites testdata/equiv.tsv for bzip2 when asked:
// FREQD_WRITE_FIXTURE=1 go test -run EquivFixture ./ingest && bzip2 -9f ingest/testdata/equiv.tsv
func TestEquivFixture(t *testing.T) {
	if os.Getenv("FREQD_WRITE_FIXTURE") == "" {
		t.Skip("set FREQD_WRITE_FIXTURE=1 to rewrite the fixture")
	}
	if err := os.WriteFile("testdata/equiv.tsv", []byte(tsvForm(equivCorpus(), false)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSpilledBuildIsIdentical counts words met many times over, in a
// memory limit small enough that the tables spill to disk again and again,
// and checks the table against one built in memory, byte for byte, with
// --min-count applied on both paths.
func TestSpilledBuildIsIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var b strings.Builder
	for range 200000 {
		fmt.Fprintf(&b, "W%d\t%d\n", rng.IntN(50000), 1+rng.IntN(3))
	}
	in := filepath.Join(t.TempDir(), "w.tsv")
	os.WriteFile(in, []byte(b.String()), 0o644)
	build := func(mem int64, minCount uint64) ([]byte, Stats) {
		c := New(Options{MemoryLimit: mem, MinCount: minCount, TmpDir: t.TempDir()})
		if err := c.AddFile(context.Background(), in); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "w.freq")
		st, err := c.WriteFile(out, freqfile.BuildOptions{FoldCase: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(out)
		return got, st
	}
	for _, minCount := range []uint64{0, 9} {
		want, st := build(1<<30, minCount)
		if st.Spills != 0 {
			t.Fatalf("the reference build spilled %d times", st.Spills)
		}
		got, st := build(1<<19, minCount)
		if st.Spills < 3 {
			t.Fatalf("the small build spilled %d times; the test needs several", st.Spills)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("min-count %d: the spilled build's table differs from the in-memory one", minCount)
		}
	}
}
