package ingest

import (
	"slices"
	"strings"
	"testing"
)

// tokens runs the tokenizer over text fed in blocks of the given size.
func tokens(t *testing.T, text string, block int) []string {
	t.Helper()
	var z tokenizer
	var got []string
	emit := func(w []byte) error { got = append(got, string(w)); return nil }
	b := []byte(text)
	for len(b) > 0 {
		n := min(block, len(b))
		if err := z.write(b[:n], emit); err != nil {
			t.Fatal(err)
		}
		b = b[n:]
	}
	if err := z.flush(emit); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestTokenizer(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		{"unicode", "Ça va? Don't stop—naïve café 42", []string{"Ça", "va", "Don't", "stop", "naïve", "café", "42"}},
		{"typographic apostrophe", "don’t", []string{"don't"}},
		{"edge apostrophes", "'tis the dogs' bone", []string{"tis", "the", "dogs", "bone"}},
		{"inner apostrophes", "rock'n'roll", []string{"rock'n'roll"}},
		{"double apostrophe splits", "a''b", []string{"a", "b"}},
		{"combining mark", "cafe\u0301 au lait", []string{"cafe\u0301", "au", "lait"}},
		{"leading mark dropped", "\u0301x", []string{"x"}},
		{"scripts", "日本語 Москва, Αθήνα!", []string{"日本語", "Москва", "Αθήνα"}},
		{"underscore and hyphen split", "snake_case well-known", []string{"snake", "case", "well", "known"}},
		{"invalid utf8 splits", "ab\xffcd", []string{"ab", "cd"}},
		{"digits", "route 66, 3.14", []string{"route", "66", "3", "14"}},
		{"empty", " \n\t ", nil},
		{"too long skipped", "ok " + strings.Repeat("x", 2000) + " fine", []string{"ok", "fine"}},
	}
	for i, tc := range tests {
		// Every block size splits the text, and its UTF-8 sequences, at a
		// different place; the words must not depend on it.
		for _, block := range []int{1, 2, 3, 7, 1 << 16} {
			if got := tokens(t, tc.text, block); !slices.Equal(got, tc.want) {
				t.Errorf("case %d (%s), block %d: got %q, want %q", i, tc.name, block, got, tc.want)
			}
		}
	}
}
