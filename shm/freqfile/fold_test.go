package freqfile

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"the", "the"},
		{"The", "the"},
		{"HELLO-World_42", "hello-world_42"},
		{"Ÿ", "ÿ"},
		{"ÉCOLE", "école"},
		{"ΣΟΦΙΑ", "σοφια"},
		{"Ⱥ", "ⱥ"}, // grows from 2 to 3 bytes
		{"K", "k"}, // Kelvin sign shrinks from 3 bytes to 1
		{"İ", "i"}, // U+0130: Go lowers it to plain i
		{"a\xffB", "a\xffb"},
		{"\xe2\x82", "\xe2\x82"}, // truncated UTF-8 kept as is
	}
	for i, tc := range tests {
		if got := string(Fold(nil, []byte(tc.in))); got != tc.want {
			t.Errorf("case %d (%q): Fold = %q, want %q", i, tc.in, got, tc.want)
		}
		// strings.ToLower is the reference on valid UTF-8.
		if utf8.ValidString(tc.in) && tc.want != strings.ToLower(tc.in) {
			t.Errorf("case %d (%q): want %q disagrees with strings.ToLower %q", i, tc.in, tc.want, strings.ToLower(tc.in))
		}
	}
}

// TestFoldAgreesWithHelpers checks Fold, isFolded and foldInto against each
// other and against strings.ToLower for every rune, and that folding twice
// changes nothing (a table built from folded words must find folded queries).
func TestFoldAgreesWithHelpers(t *testing.T) {
	var buf [8]byte
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		in := []byte(string(r))
		once := Fold(nil, in)
		if string(once) != strings.ToLower(string(r)) {
			t.Fatalf("U+%04X: Fold = %q, strings.ToLower = %q", r, once, strings.ToLower(string(r)))
		}
		if twice := Fold(nil, once); string(twice) != string(once) {
			t.Fatalf("U+%04X: folding twice gives %q, once %q", r, twice, once)
		}
		if isFolded(in) != (string(once) == string(in)) {
			t.Fatalf("U+%04X: isFolded = %v, but Fold gives %q", r, isFolded(in), once)
		}
		if got, ok := foldInto(buf[:], in); !ok || string(got) != string(once) {
			t.Fatalf("U+%04X: foldInto = %q, %v; Fold = %q", r, got, ok, once)
		}
	}
}

func TestFoldIntoReportsOverflow(t *testing.T) {
	var buf [4]byte
	if _, ok := foldInto(buf[:], []byte("ABCDE")); ok {
		t.Error("foldInto fit 5 bytes in 4")
	}
	if _, ok := foldInto(buf[:], []byte("abȺ")); ok { // 2 + 3 bytes
		t.Error("foldInto fit a growing rune past the end")
	}
	if got, ok := foldInto(buf[:], []byte("ABCD")); !ok || string(got) != "abcd" {
		t.Errorf("foldInto(ABCD) = %q, %v", got, ok)
	}
}

func TestFoldDoesNotAllocate(t *testing.T) {
	dst := make([]byte, 0, 64)
	word := []byte("ÉCOLE Normale")
	if n := testing.AllocsPerRun(100, func() { dst = Fold(dst[:0], word) }); n != 0 {
		t.Errorf("Fold into a roomy dst allocates %.1f times", n)
	}
}

// TestIsFoldedWordBytes checks isFolded's word-at-a-time paths against
// Fold: an upper-case letter, a non-ASCII rune or a byte next to 'A'..'Z'
// at every position of words of every length up to 33 bytes (the short
// paths load overlapping halves; longer words go 8 bytes at a time).
func TestIsFoldedWordBytes(t *testing.T) {
	inserts := []string{"A", "Z", "@", "[", "a", "z", "\x7f", "\x00", "é", "É", "\xff", "Ⱥ"}
	for n := 1; n <= 33; n++ {
		for pos := range n {
			for _, ins := range inserts {
				w := []byte(strings.Repeat("q", pos) + ins + strings.Repeat("m", n-pos-1))
				want := string(Fold(nil, w)) == string(w)
				if got := isFolded(w); got != want {
					t.Errorf("isFolded(%q) = %v, want %v", w, got, want)
				}
			}
		}
	}
	// Every ASCII byte in every lane.
	for c := range 0x80 {
		for pos := range 8 {
			w := []byte("abcdefghij")
			w[pos] = byte(c)
			want := !('A' <= c && c <= 'Z')
			if got := isFolded(w); got != want {
				t.Errorf("isFolded(%q) = %v, want %v", w, got, want)
			}
		}
	}
}
