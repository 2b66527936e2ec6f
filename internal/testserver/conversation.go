package testserver

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// Rank is w's 1-based position in t by count (descending), then word
// (ascending), as RANK answers; 0 when w is absent.
func (t Table) Rank(w string) int64 {
	if _, ok := t[w]; !ok {
		return 0
	}
	words := make([]string, 0, len(t))
	for k := range t {
		words = append(words, k)
	}
	sort.Slice(words, func(i, j int) bool {
		if t[words[i]] != t[words[j]] {
			return t[words[i]] > t[words[j]]
		}
		return words[i] < words[j]
	})
	return int64(sort.Search(len(words), func(i int) bool {
		a, b := words[i], w
		return t[a] < t[b] || (t[a] == t[b] && a >= b)
	}) + 1)
}

// CheckConversation runs, through a real go-redis client, the commands
// every server design must answer alike on the embedded table: lookups in
// every form, case folding, connect-time commands, Redis-style errors, and
// TAG's order. The master's suite and the classic designs' suite both run
// it, so the designs differ in how they serve, never in what. The client
// may speak RESP3 (go-redis's default) or RESP2 (Protocol: 2): replies
// RESP3 types as maps are checked as maps.
func CheckConversation(t testing.TB, c *redis.Client) {
	t.Helper()
	ctx := context.Background()
	table := Subtlex()
	u := func(w string) string { return strconv.FormatUint(table[w], 10) }
	resp3 := c.Options().Protocol != 2
	pair := func(k, v string) any {
		if resp3 {
			return map[any]any{k: v}
		}
		return []any{k, v}
	}
	cases := []struct {
		args    []any
		want    any    // nil means a nil reply
		wantErr string // prefix of the error text
	}{
		{[]any{"PING"}, "PONG", ""},
		{[]any{"ECHO", "hi there"}, "hi there", ""},
		{[]any{"GET", "the"}, u("the"), ""},
		{[]any{"GET", "The"}, u("the"), ""}, // lookups fold as the build did
		{[]any{"get", "I"}, u("i"), ""},
		{[]any{"GET", "zzqxjw"}, nil, ""},
		{[]any{"MGET", "you", "zzqxjw", "monday"}, []any{u("you"), nil, u("monday")}, ""},
		{[]any{"EXISTS", "you", "zzqxjw", "the"}, int64(2), ""},
		{[]any{"FREQ", "i", "zzqxjw"}, []any{int64(table["i"]), int64(0)}, ""},
		{[]any{"RANK", "you"}, table.Rank("you"), ""},
		{[]any{"RANK", "monday"}, table.Rank("monday"), ""},
		{[]any{"RANK", "zzqxjw"}, nil, ""},
		{[]any{"DBSIZE"}, int64(len(table)), ""},
		{[]any{"SELECT", "0"}, "OK", ""},
		{[]any{"SELECT", "1"}, nil, "ERR DB index is out of range"},
		{[]any{"CONFIG", "GET", "save"}, pair("save", ""), ""},
		{[]any{"CONFIG", "GET", "appendonly"}, pair("appendonly", "no"), ""},
		{[]any{"CONFIG", "GET", "databases"}, pair("databases", "1"), ""},
		{[]any{"CLIENT", "SETNAME", "tester"}, "OK", ""},
		{[]any{"GET"}, nil, "ERR wrong number of arguments for 'get' command"},
		{[]any{"RANK", "a", "b"}, nil, "ERR wrong number of arguments for 'rank' command"},
		{[]any{"NOSUCH", "a"}, nil, "ERR unknown command"},
	}
	for i, tc := range cases {
		got, err := c.Do(ctx, tc.args...).Result()
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
				t.Errorf("case %d (%v): got %v, %v; want error %q", i, tc.args, got, err, tc.wantErr)
			}
		case tc.want == nil:
			if !errors.Is(err, redis.Nil) {
				t.Errorf("case %d (%v): got %#v, %v; want nil", i, tc.args, got, err)
			}
		default:
			if err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("case %d (%v): got %#v, %v; want %#v", i, tc.args, got, err, tc.want)
			}
		}
	}

	// TAG: the rarest words of a text first, scores descending; in RESP3
	// a map of word to score, whose order go-redis does not keep.
	text := "the cat and the dog saw a xylophone and a zzqxjw"
	var res []string
	if resp3 {
		m, err := c.Do(ctx, "TAG", "LIMIT", "3", text).Result()
		scores, ok := m.(map[any]any)
		if err != nil || !ok || len(scores) != 3 {
			t.Fatalf("TAG: got %#v, %v; want a map of 3 words to scores", m, err)
		}
		for w, score := range scores {
			f, ok := score.(float64)
			if !ok {
				t.Fatalf("TAG: score of %v is %#v, want a double", w, score)
			}
			res = append(res, fmt.Sprint(w), strconv.FormatFloat(f, 'f', 3, 64))
		}
		// Put the pairs in score order, as RESP2 sends them.
		for i := 0; i < len(res); i += 2 {
			for j := i + 2; j < len(res); j += 2 {
				a, _ := strconv.ParseFloat(res[i+1], 64)
				b, _ := strconv.ParseFloat(res[j+1], 64)
				if b > a {
					res[i], res[i+1], res[j], res[j+1] = res[j], res[j+1], res[i], res[i+1]
				}
			}
		}
	} else {
		var err error
		res, err = c.Do(ctx, "TAG", "LIMIT", "3", text).StringSlice()
		if err != nil || len(res) != 6 {
			t.Fatalf("TAG: got %q, %v; want 3 word/score pairs", res, err)
		}
	}
	if res[0] != "zzqxjw" {
		t.Errorf("TAG: first word %q, want the absent word zzqxjw", res[0])
	}
	for i := 0; i < len(res); i += 2 {
		if res[i] == "the" || res[i] == "a" || res[i] == "and" {
			t.Errorf("TAG: common word %q among the 3 most unusual: %q", res[i], res)
		}
		if i > 0 {
			prev, _ := strconv.ParseFloat(res[i-1], 64)
			cur, _ := strconv.ParseFloat(res[i+1], 64)
			if cur > prev {
				t.Errorf("TAG: scores not descending: %q", res)
			}
		}
	}
	checkOneNotionOfAWord(t, c)
}

// checkOneNotionOfAWord checks that the spellings of one word the embedded
// table's rules make equal (case, apostrophes, Unicode form, final sigma)
// get one answer from GET, FREQ, RANK, ZIPF and TAG, and that a
// contraction, which SUBTLEX-US counts by its parts, gets its rarest
// part's count rather than none.
func checkOneNotionOfAWord(t testing.TB, c *redis.Client) {
	t.Helper()
	ctx := context.Background()
	table := Subtlex()
	// "don't" is counted as "don" and "t"; "don" is the rarer.
	dont := min(table["don"], table["t"])
	zipf := func(n uint64) float64 {
		return math.Log10(float64(n+1) / float64(table.Total()+uint64(len(table))) * 1e9)
	}
	spellings := [][]string{
		{"don't", "don’t", "DON'T", "Don’t"},
		{"σοφος", "ΣΟΦΟΣ", "Σοφος"},
		{"café", "cafe\u0301", "CAFÉ"},
		{"kelvin", "\u212aelvin"},
	}
	for _, group := range spellings {
		for _, w := range group {
			want := table[strings.ToLower(group[0])]
			if group[0] == "don't" {
				want = dont
			}
			got, err := c.Do(ctx, "FREQ", w).Int64Slice()
			if err != nil || len(got) != 1 || uint64(got[0]) != want {
				t.Errorf("FREQ %s: %v, %v; want %d", w, got, err, want)
			}
			g, err := c.Get(ctx, w).Result()
			if want == 0 && !errors.Is(err, redis.Nil) || want > 0 && (err != nil || g != strconv.FormatUint(want, 10)) {
				t.Errorf("GET %s: %q, %v; want %d", w, g, err, want)
			}
			// A double in RESP3, a string in RESP2.
			z, err := c.Do(ctx, "ZIPF", w).Slice()
			if err != nil || len(z) != 1 || math.Abs(number(z[0])-zipf(want)) > 1e-9 {
				t.Errorf("ZIPF %s: %v, %v; want %.6f", w, z, err, zipf(want))
			}
		}
	}
	if got, err := c.Do(ctx, "RANK", "don’t").Int64(); err != nil || got != table.Rank("don") {
		t.Errorf("RANK don’t: %d, %v; want don's rank %d", got, err, table.Rank("don"))
	}
	// TAG counts each group's spellings as one word, and the contraction
	// as its part.
	// A map of word to [score, occurrences, count, expected, G²] in RESP3,
	// a flat array of word, [...] pairs in RESP2.
	reply, err := c.Do(ctx, "TAG", "LIMIT", "0", "WITHSTATS", "Don’t ΣΟΦΟΣ cafe\u0301 don't σοφος café").Result()
	if err != nil {
		t.Fatalf("TAG WITHSTATS: %v", err)
	}
	res := map[string][]any{}
	switch r := reply.(type) {
	case map[any]any:
		for k, v := range r {
			f, _ := v.([]any)
			res[fmt.Sprint(k)] = f
		}
	case []any:
		for i := 0; i+1 < len(r); i += 2 {
			f, _ := r[i+1].([]any)
			res[fmt.Sprint(r[i])] = f
		}
	}
	seen := map[int]bool{} // which groups of spellings TAG reported
	for w, f := range res {
		if len(f) != 5 {
			t.Fatalf("TAG WITHSTATS: %s has %#v, want 5 figures", w, f)
		}
		for i, group := range spellings {
			for _, sp := range group {
				if strings.EqualFold(w, sp) {
					seen[i] = true
				}
			}
		}
		if fmt.Sprint(f[1]) != "2" {
			t.Errorf("TAG: %s occurs %v times, want 2 (its spellings are one word): %v", w, f[1], res)
		}
		if strings.EqualFold(w, "don't") && fmt.Sprint(f[2]) != strconv.FormatUint(dont, 10) {
			t.Errorf("TAG: don't counted %v in the table, want %d", f[2], dont)
		}
	}
	// TAG reports a word in one of the text's spellings.
	if len(res) != 3 || !seen[0] || !seen[1] || !seen[2] {
		t.Errorf("TAG: %v, want don't, σοφος and café, each once", res)
	}
}

// number reads a double as go-redis gives it in either protocol.
func number(v any) float64 {
	f, err := strconv.ParseFloat(fmt.Sprint(v), 64)
	if err != nil {
		return math.NaN()
	}
	return f
}

// CheckPipeline sends 300 GETs in one pipeline through c and checks every
// answer, in order, against the embedded table.
func CheckPipeline(t testing.TB, c *redis.Client) {
	t.Helper()
	ctx := context.Background()
	table := Subtlex()
	words := []string{"the", "you", "zzqxjw", "monday", "of", "xylophone", "i"}
	pipe := c.Pipeline()
	var cmds []*redis.StringCmd
	for i := 0; i < 300; i++ {
		cmds = append(cmds, pipe.Get(ctx, words[i%len(words)]))
	}
	pipe.Exec(ctx)
	for i, cmd := range cmds {
		w := words[i%len(words)]
		got, err := cmd.Result()
		if n, ok := table[w]; ok {
			if err != nil || got != strconv.FormatUint(n, 10) {
				t.Fatalf("pipelined GET %s (#%d): got %q, %v; want %d", w, i, got, err, n)
			}
		} else if !errors.Is(err, redis.Nil) {
			t.Fatalf("pipelined GET %s (#%d): got %q, %v; want nil", w, i, got, err)
		}
	}
}
