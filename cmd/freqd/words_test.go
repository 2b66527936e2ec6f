package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/internal/testserver"
	"github.com/freqd/freqd/shm/freqfile"
	"github.com/freqd/freqd/word"
)

// TestOneNotionOfAWordBuiltAndServed builds a table with freqd build from
// a word list that spells words in the ways the rules make equal, serves
// it, and asks over RESP2 and RESP3: the build counted each word once
// under its normal form, every spelling of it gets that count from GET,
// FREQ, ZIPF and FPM, and TAG groups the spellings and segments unspaced
// Japanese against the table's own words. A table from before rules were
// recorded is served as it always was.
func TestOneNotionOfAWordBuiltAndServed(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, dir, "words.tsv", strings.Join([]string{
		"the\t10000000",
		"ΣΟΦΟΣ\t5", "σοφος\t2", // final sigma: one word, 7
		"café\t4", "cafe\u0301\t3", // NFC and NFD: one word, 7
		"Don’t\t2", "don't\t1", // curly and straight apostrophes: 3
		"\u212aelvin\t2", "kelvin\t1", // the Kelvin sign: 3
		"東京\t900", "東京タワー\t5", "タワー\t40", "行く\t800", "に\t9000000",
	}, "\n")+"\n")
	if r := freqd(t, dir, nil, "build", "-o", "words.freq", "words.tsv"); r.code != 0 {
		t.Fatalf("build: exit %d, %s", r.code, r.stderr)
	}
	const total, types = 10000000 + 7 + 7 + 3 + 3 + 900 + 5 + 40 + 800 + 9000000, 10
	s := testserver.Start(t, freqdBin, mode.FDPass, 1, "--data", filepath.Join(dir, "words.freq"))

	spellings := []struct {
		count int64
		words []string
	}{
		{7, []string{"σοφος", "ΣΟΦΟΣ", "Σοφος", "σοφοσ"}},
		{7, []string{"café", "cafe\u0301", "CAFÉ", "CAFE\u0301"}},
		{3, []string{"don't", "don’t", "DON'T", "Don’t"}},
		{3, []string{"kelvin", "Kelvin", "\u212aelvin", "KELVIN"}},
		{5, []string{"東京タワー"}},
	}
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		c := redis.NewClient(&redis.Options{Addr: s.TCP, Protocol: proto, MaxRetries: -1})
		defer c.Close()
		for _, sp := range spellings {
			wantZipf := math.Log10(float64(sp.count+1) / (total + types) * 1e9)
			wantFpm := float64(sp.count) / total * 1e6
			for _, w := range sp.words {
				if got, err := c.Get(ctx, w).Result(); err != nil || got != strconv.FormatInt(sp.count, 10) {
					t.Errorf("RESP%d GET %s: %q, %v; want %d", proto, w, got, err, sp.count)
				}
				if got, err := c.Do(ctx, "FREQ", w).Int64Slice(); err != nil || len(got) != 1 || got[0] != sp.count {
					t.Errorf("RESP%d FREQ %s: %v, %v; want %d", proto, w, got, err, sp.count)
				}
				if got, err := doubles(c.Do(ctx, "ZIPF", w)); err != nil || len(got) != 1 || math.Abs(got[0]-wantZipf) > 1e-9 {
					t.Errorf("RESP%d ZIPF %s: %v, %v; want %.6f", proto, w, got, err, wantZipf)
				}
				if got, err := doubles(c.Do(ctx, "FPM", w)); err != nil || len(got) != 1 || math.Abs(got[0]-wantFpm) > 1e-9 {
					t.Errorf("RESP%d FPM %s: %v, %v; want %.6f", proto, w, got, err, wantFpm)
				}
			}
		}

		// Each word's spellings are one word of the text, and the
		// Japanese run is split into the table's words: 東京タワー and
		// 行く are rare, に is not.
		text := "ΣΟΦΟΣ σοφος Σοφος café cafe\u0301 don’t DON'T 東京タワーに行く"
		got := tagOccurrences(t, c, text)
		want := map[string]int64{"σοφοσ": 3, "café": 2, "don't": 2, "東京タワー": 1, "行く": 1}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("RESP%d TAG WITHSTATS %q: occurrences by normal form %v, want %v", proto, text, got, want)
		}
	}

	// A table written before rules were recorded: case lowered letter by
	// letter, and nothing else, as such tables were always served.
	var old bytes.Buffer
	if err := freqfile.WriteTable(&old, []freqfile.Entry{{Word: "the", Count: 30}, {Word: "don't", Count: 3}, {Word: "cafe\u0301", Count: 2}}, freqfile.BuildOptions{FoldCase: true}); err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, dir, "old.freq", old.String())
	o := testserver.Start(t, freqdBin, mode.FDPass, 1, "--data", filepath.Join(dir, "old.freq"))
	c := redis.NewClient(&redis.Options{Addr: o.TCP, Protocol: 2, MaxRetries: -1})
	defer c.Close()
	got, err := c.Do(ctx, "FREQ", "THE", "DON'T", "don’t", "cafe\u0301", "café").Int64Slice()
	if want := []int64{30, 3, 0, 2, 0}; err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("old table: FREQ THE DON'T don’t cafe\u0301 café: %v, %v; want %v", got, err, want)
	}
}

// tagOccurrences asks TAG LIMIT 0 WITHSTATS and returns each keyword's
// occurrences in the text, keyed by the word's normal form under the
// default rules.
func tagOccurrences(t *testing.T, c *redis.Client, text string) map[string]int64 {
	t.Helper()
	reply, err := c.Do(context.Background(), "TAG", "LIMIT", "0", "WITHSTATS", text).Result()
	if err != nil {
		t.Fatalf("TAG WITHSTATS: %v", err)
	}
	// A map of word to [score, occurrences, count, expected, G²] in RESP3,
	// a flat array of word, [...] pairs in RESP2.
	pairs := map[string]any{}
	switch r := reply.(type) {
	case map[any]any:
		for k, v := range r {
			pairs[fmt.Sprint(k)] = v
		}
	case []any:
		for i := 0; i+1 < len(r); i += 2 {
			pairs[fmt.Sprint(r[i])] = r[i+1]
		}
	default:
		t.Fatalf("TAG WITHSTATS: a %T, want a map or an array", reply)
	}
	rules := word.Default()
	out := map[string]int64{}
	for w, v := range pairs {
		f, ok := v.([]any)
		var n int64
		if ok && len(f) == 5 {
			n, ok = f[1].(int64)
		}
		if !ok {
			t.Fatalf("TAG WITHSTATS: %s has %#v, want five figures, the second an integer", w, v)
		}
		out[string(rules.AppendNormal(nil, []byte(w)))] = n
	}
	return out
}

// doubles reads an array of doubles: RESP3 doubles, or the bulk strings
// RESP2 sends them as. (go-redis's Cmd.Float64Slice reads only the
// strings.)
func doubles(cmd *redis.Cmd) ([]float64, error) {
	vals, err := cmd.Slice()
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(vals))
	for i, v := range vals {
		switch v := v.(type) {
		case float64:
			out[i] = v
		case string:
			if out[i], err = strconv.ParseFloat(v, 64); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("a %T in the array, want a double", v)
		}
	}
	return out, nil
}
