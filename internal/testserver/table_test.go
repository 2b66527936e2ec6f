package testserver

import (
	"slices"
	"strings"
	"testing"

	"github.com/freqd/freqd/data"
)

func TestSubtlexIsTheFoldedList(t *testing.T) {
	tb := Subtlex()
	var sum uint64
	for _, n := range tb {
		sum += n
	}
	if sum != data.SubtlexUSTotal {
		t.Errorf("folded counts sum to %d, want the list's total %d", sum, data.SubtlexUSTotal)
	}
	if len(tb) > data.SubtlexUSWords {
		t.Errorf("%d folded words from %d lines", len(tb), data.SubtlexUSWords)
	}
	for w := range tb {
		if w != strings.ToLower(w) {
			t.Errorf("%q is not folded", w)
		}
	}
	if tb["i"] == 0 {
		t.Errorf(`the list's "I" is not served as "i"`)
	}
}

func TestReplyAndChecks(t *testing.T) {
	a := Table{"alpha": 100, "beta": 5}
	b := Table{"alpha": 1234}
	tests := []struct {
		word, reply string
		a, either   bool
	}{
		{"alpha", "$3\r\n100\r\n", true, true},
		{"alpha", "$4\r\n1234\r\n", false, true},
		{"beta", "$1\r\n5\r\n", true, true},
		{"beta", "$-1\r\n", false, true}, // b lacks beta
		{"gamma", "$-1\r\n", true, true},
		{"alpha", "$3\r\n101\r\n", false, false},
		{"alpha", "-ERR data file changed\r\n", false, false},
	}
	either := Either(a, b)
	for i, tc := range tests {
		if got := a.Check(tc.word, tc.reply); got != tc.a {
			t.Errorf("case %d (%s): a.Check(%q) = %v, want %v", i, tc.word, tc.reply, got, tc.a)
		}
		if got := either(tc.word, tc.reply); got != tc.either {
			t.Errorf("case %d (%s): Either(a, b)(%q) = %v, want %v", i, tc.word, tc.reply, got, tc.either)
		}
	}
}

func TestSampleSpreadsAndScaledDiffers(t *testing.T) {
	tb := Subtlex()
	s := tb.Sample(100)
	if len(s) != 100+len(Absent) || !slices.Equal(s, tb.Sample(100)) {
		t.Fatalf("Sample(100): %d words, or not the same twice", len(s))
	}
	for _, w := range s[len(Absent):] {
		if _, ok := tb[w]; !ok {
			t.Errorf("sampled word %q is not in the table", w)
		}
	}
	if !slices.IsSorted(s[len(Absent):]) || s[len(Absent)] == s[len(s)-1] {
		t.Errorf("sample not spread over the sorted table: %q ... %q", s[len(Absent)], s[len(s)-1])
	}
	double := tb.Scaled(s, 2)
	for _, w := range s[len(Absent):] {
		if double[w] != 2*tb[w] || double.Reply(w) == tb.Reply(w) {
			t.Errorf("Scaled(2)[%q] = %d, want %d", w, double[w], 2*tb[w])
		}
	}
	for _, w := range Absent {
		if _, ok := double[w]; ok {
			t.Errorf("absent word %q in the scaled table", w)
		}
	}
}

func TestRank(t *testing.T) {
	tab := Table{"a": 5, "b": 9, "c": 5, "d": 1}
	for i, tc := range []struct {
		w    string
		want int64
	}{{"b", 1}, {"a", 2}, {"c", 3}, {"d", 4}, {"zz", 0}} {
		if got := tab.Rank(tc.w); got != tc.want {
			t.Errorf("case %d (%s): rank %d, want %d", i, tc.w, got, tc.want)
		}
	}
	if got := Subtlex().Rank("you"); got != 1 {
		t.Errorf("SUBTLEX-US: rank of you %d, want 1", got)
	}
}
