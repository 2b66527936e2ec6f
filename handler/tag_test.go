package handler

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/freqd/freqd/ingest"
	"github.com/freqd/freqd/shm/freqfile"
)

// buildTable counts inputs, their formats detected, as `freqd build`
// does, and opens the table it writes.
func buildTable(t *testing.T, inputs ...string) *freqfile.Table {
	t.Helper()
	c := ingest.New(ingest.Options{})
	for _, in := range inputs {
		if err := c.AddReader(context.Background(), "test input", strings.NewReader(in)); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := c.Entries()
	if err != nil {
		t.Fatal(err)
	}
	opts := c.BuildOptions(freqfile.BuildOptions{})
	var buf bytes.Buffer
	if err := freqfile.WriteTable(&buf, entries, opts); err != nil {
		t.Fatal(err)
	}
	tab, err := freqfile.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// tagWords runs TAG LIMIT 0 WITHSTATS and returns "word:occurrences" for
// each word, in order.
func tagWords(t *testing.T, h *Handler, text string) []string {
	t.Helper()
	got, _, _ := process(h, multibulk("TAG", "LIMIT", "0", "WITHSTATS", text))
	f := strings.Split(got, "\r\n")
	var words []string
	// A flat array (RESP2's map): $n, word, *5, $n, score, :occurrences,
	// :count, $n, expected, $n, G².
	for i := 1; i+10 < len(f); i += 11 {
		words = append(words, f[i+1]+":"+strings.TrimPrefix(f[i+5], ":"))
	}
	return words
}

// TestTagSegmentsUnspacedScripts: Japanese text is split by longest match
// against a table built from a word list, and into characters against one
// built from running text, which counts them a character at a time. Each
// table has a common word of ten million occurrences, so that the rest are
// rare enough to be keywords of a short text.
func TestTagSegmentsUnspacedScripts(t *testing.T) {
	list := buildTable(t, "東京\t900\n東京タワー\t5\nタワー\t40\n行く\t800\nに\t9000000\nは\t8000000\nthe\t10000000\n")
	if r := list.Rules(); !r.SegmentUnspaced || r.LongestUnspaced != 5 {
		t.Fatalf("rules %+v: want segmentation up to 5 characters", r)
	}
	got := tagWords(t, New(list, Options{}), "東京タワーに行く。東京タワーは東京タワー")
	slices.Sort(got)
	if want := []string{"東京タワー:3", "行く:1"}; !slices.Equal(got, want) {
		t.Errorf("word-list table: %q, want %q (に and は are common)", got, want)
	}

	chars := buildTable(t, strings.Repeat("東京に行く。大阪に行く。", 50), "the\t10000000\n")
	if r := chars.Rules(); r.LongestUnspaced != 1 {
		t.Fatalf("rules %+v: want characters alone", r)
	}
	got = tagWords(t, New(chars, Options{}), "京都の東京タワー")
	slices.Sort(got)
	if want := []string{"の:1", "タ:1", "ワ:1", "ー:1", "京:2", "東:1", "都:1"}; !slices.Equal(got, want) {
		t.Errorf("character table: %q, want %q", got, want)
	}
}

// TestTagReportsTheCommonestSpelling: a heading in capitals does not make
// the word's spelling; the text's usual one does.
func TestTagReportsTheCommonestSpelling(t *testing.T) {
	h := New(defaultTable(t), Options{})
	got := tagWords(t, h, "ZYMURGY. Zymurgy is the study of fermentation; zymurgy and more zymurgy.")
	if len(got) == 0 || got[0] != "zymurgy:4" {
		t.Errorf("got %q, want zymurgy first, in lower case, 4 times", got)
	}
}
