package handler

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/freqd/freqd/shm/freqfile"
)

// phraseTable is a table of 2-grams as `freqd build` writes one from a
// Google Books 2-gram file.
func phraseTable(t *testing.T, meta freqfile.Metadata) *freqfile.Table {
	t.Helper()
	entries := []freqfile.Entry{
		{Word: "of the", Count: 1000}, {Word: "new york", Count: 500}, {Word: "the city", Count: 300},
		{Word: "flew to", Count: 20}, {Word: "to new", Count: 40}, {Word: "york city", Count: 30},
	}
	var buf bytes.Buffer
	if err := freqfile.WriteTable(&buf, entries, freqfile.BuildOptions{FoldCase: true, Meta: meta}); err != nil {
		t.Fatal(err)
	}
	tab, err := freqfile.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func TestPhraseLookupsWithGoRedis(t *testing.T) {
	addr, _ := serveTCP(t, New(phraseTable(t, freqfile.Metadata{"ngram": "2"}), Options{}))
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, MaxRetries: -1})
	defer rdb.Close()
	for _, q := range []string{"new york", "New York", "New  York", " new\tyork "} {
		if got, err := rdb.Get(ctx, q).Uint64(); err != nil || got != 500 {
			t.Errorf("GET %q: %d, %v; want 500", q, got, err)
		}
	}
	if _, err := rdb.Get(ctx, "newyork").Result(); err != redis.Nil {
		t.Errorf("GET newyork: %v, want nil", err)
	}
	if got, err := rdb.Do(ctx, "FREQ", "Of  The", "the  city", "york").Int64Slice(); err != nil || len(got) != 3 || got[0] != 1000 || got[1] != 300 || got[2] != 0 {
		t.Errorf("FREQ: %v, %v; want [1000 300 0]", got, err)
	}
	if got, err := rdb.Do(ctx, "RANK", "NEW YORK ").Int64(); err != nil || got != 2 {
		t.Errorf("RANK: %d, %v; want 2", got, err)
	}
	if got, err := rdb.Exists(ctx, "new  york", "of the", "new").Result(); err != nil || got != 2 {
		t.Errorf("EXISTS: %d, %v; want 2", got, err)
	}

	// TAG PHRASES takes the text's 2-grams within each sentence: "york we"
	// crosses a full stop and is not one.
	text := "We flew to New York. We saw the city, the city!"
	h := New(phraseTable(t, freqfile.Metadata{"ngram": "2"}), Options{})
	s := h.NewSession()
	terms, tokens := s.tag.collectPhrases(s, [][]byte{[]byte(text)}, 2, 2)
	var phrases []string
	for _, tm := range terms {
		phrases = append(phrases, fmt.Sprintf("%s:%d", tm.word, tm.n))
	}
	s.Close()
	if want := []string{"we flew:1", "flew to:1", "to new:1", "new york:1", "we saw:1", "saw the:1", "the city:2", "city the:1"}; !slices.Equal(phrases, want) || tokens != 9 {
		t.Errorf("phrases %q (%d), want %q (9)", phrases, tokens, want)
	}
	// The table holds "we flew" nowhere: in a text of 4 phrases it is a
	// keyword, scored as words are.
	got, err := rdb.Do(ctx, "TAG", "PHRASES", "LIMIT", "1", "We flew to New York").StringSlice()
	want := math.Log2((1e6/4 + 10) / (1e6/float64(1890+6) + 10))
	if err != nil || len(got) != 2 || got[0] != "we flew" || got[1] != strconv.FormatFloat(want, 'f', 3, 64) {
		t.Errorf("TAG PHRASES LIMIT 1: %q, %v; want we flew, %.3f", got, err, want)
	}
	// Without PHRASES, TAG stays on single words, none of which the table
	// holds.
	if got, err := rdb.Do(ctx, "TAG", "LIMIT", "1", "new york").StringSlice(); err != nil || len(got) != 2 || got[0] != "new" {
		t.Errorf("TAG on single words: %q, %v; want new first", got, err)
	}
}

func TestPhrasesNeedAPhraseTable(t *testing.T) {
	h := New(phraseTable(t, nil), Options{})
	r, _, _ := process(h, multibulk("TAG", "PHRASES", "new york"))
	if r != errorReply("ERR PHRASES needs a table of phrases (built from n-grams); this table holds single words") {
		t.Errorf("TAG PHRASES on a table of words: %q", r)
	}
	// A word table leaves queries as they are: a key with two spaces is
	// not "new york".
	if r, _, _ := process(h, multibulk("GET", "new  york")); r != "$-1\r\n" {
		t.Errorf("GET with two spaces on a word table: %q, want nil", r)
	}
	if r, _, _ := process(h, multibulk("TAG", "phrases")); r == "" || r[0] != '*' {
		t.Errorf("TAG phrases (the text): %q, want a reply array", r)
	}
}

func TestNgramSizes(t *testing.T) {
	for _, tc := range []struct {
		v      string
		lo, hi int
	}{{"2", 2, 2}, {"1-3", 1, 3}, {"x", 0, 0}, {"3-2", 0, 0}, {"0", 0, 0}} {
		lo, hi := ngramSizes(phraseTable(t, freqfile.Metadata{"ngram": tc.v}))
		if lo != tc.lo || hi != tc.hi {
			t.Errorf("ngram=%s: %d-%d, want %d-%d", tc.v, lo, hi, tc.lo, tc.hi)
		}
	}
}
