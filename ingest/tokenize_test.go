package ingest

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/freqd/freqd/word"
)

// tokens runs the tokenizer over text fed in blocks of the given size.
func tokens(t *testing.T, text string, block int) []string {
	t.Helper()
	z := tokenizer{chars: true}
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
		{"typographic apostrophe", "don’t", []string{"don’t"}},
		{"edge apostrophes", "'tis the dogs' bone", []string{"tis", "the", "dogs", "bone"}},
		{"inner apostrophes", "rock'n'roll", []string{"rock'n'roll"}},
		{"double apostrophe splits", "a''b", []string{"a", "b"}},
		{"combining mark", "cafe\u0301 au lait", []string{"cafe\u0301", "au", "lait"}},
		{"leading mark dropped", "\u0301x", []string{"x"}},
		{"scripts", "日本語 Москва, Αθήνα!", []string{"日", "本", "語", "Москва", "Αθήνα"}},
		{"unspaced beside latin", "iPhone用ภาษา", []string{"iPhone", "用", "ภ", "า", "ษ", "า"}},
		{"unspaced with marks", "か\u3099ไม้", []string{"か\u3099", "ไ", "ม\u0e49"}},
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

// TestTokenizerAgreesWithScan: the build's tokenizer, fed in blocks, finds
// the words word.Scan finds in the whole text, which TAG uses, so that a
// table is built from the words TAG will look up.
func TestTokenizerAgreesWithScan(t *testing.T) {
	alphabet := []string{"a", "Z", "7", "é", "\u0301", "'", "’", " ", "-", "日", "か", "\u3099", "ไ", "\u0e49", "Σ", "\xff", "\xe2\x80", ".", "''"}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 5000 {
		var b strings.Builder
		for range rng.IntN(24) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		text := b.String()
		var want []string
		word.Scan([]byte(text), func(tok word.Token) { want = append(want, text[tok.Start:tok.End]) })
		for _, block := range []int{1, 3, 1 << 16} {
			var z tokenizer
			var got []string
			emit := func(w []byte) error { got = append(got, string(w)); return nil }
			for p := []byte(text); len(p) > 0; {
				n := min(block, len(p))
				z.write(p[:n], emit)
				p = p[n:]
			}
			z.flush(emit)
			if !slices.Equal(got, want) {
				t.Fatalf("%q in blocks of %d: tokenizer %q, Scan %q", text, block, got, want)
			}
		}
	}
}
