package word

import (
	"bytes"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

func TestAppendNormal(t *testing.T) {
	def := Default()
	tests := []struct{ in, want string }{
		{"the", "the"},
		{"The", "the"},
		{"DON'T", "don't"},
		{"don’t", "don't"}, // typographic apostrophe
		{"donʼt", "don't"}, // modifier letter apostrophe
		{"don＇t", "don't"}, // fullwidth apostrophe
		{"ΣΟΦΟΣ", "σοφοσ"}, // capital sigma folds to σ
		{"σοφος", "σοφοσ"}, // and so does final ς
		{"\u212a", "k"},    // Kelvin sign
		{"\u212b", "å"},    // Ångström sign: NFC makes it Å, folding å
		{"cafe\u0301", "café"},
		{"CAFE\u0301", "café"},
		{"Straße", "strasse"},
		{"ﬁne", "fine"},
		{"İ", "i\u0307"}, // Unicode's default folding, not Turkish
		{"ᾼ", "αι"},      // the iota subscript inside a precomposed letter
		{"a\xffB", "a\xffb"},
		{"\xe2\x82", "\xe2\x82"}, // truncated UTF-8 kept as is
		{"New York", "new york"}, // a phrase keeps its space
		{"日本語", "日本語"},
		{"", ""},
	}
	for i, tc := range tests {
		if got := string(def.AppendNormal(nil, []byte(tc.in))); got != tc.want {
			t.Errorf("case %d: AppendNormal(%q) = %q, want %q", i, tc.in, got, tc.want)
		}
		if got := string(def.AppendNormal([]byte("x"), []byte(tc.in))); got != "x"+tc.want {
			t.Errorf("case %d: AppendNormal does not append: %q", i, got)
		}
	}
	keep := Rules{NFC: true, Apostrophes: true}
	if got := string(keep.AppendNormal(nil, []byte("Cafe\u0301’s"))); got != "Café's" {
		t.Errorf("case kept: %q", got)
	}
	legacy := Legacy(true)
	if got := string(legacy.AppendNormal(nil, []byte("ΣΟΦΟΣ don’t"))); got != "σοφοσ don’t" {
		t.Errorf("legacy lower-casing: %q", got)
	}
	if got := string(Legacy(false).AppendNormal(nil, []byte("Don’t"))); got != "Don’t" {
		t.Errorf("legacy, case kept: %q", got)
	}
}

// reference normalizes as the package documentation defines it, with
// x/text directly: the slow path's definition, which the ASCII path and
// the scratch-buffer plumbing must agree with. Cherokee folds to its
// capitals (CaseFolding.txt), which x/text gets wrong for the capitals.
func reference(s string) string {
	s = norm.NFC.String(cases.Fold().String(norm.NFD.String(s)))
	s = strings.Map(func(r rune) rune {
		switch {
		case 0xab70 <= r && r <= 0xabbf:
			return r - 0xab70 + 0x13a0
		case 0x13f8 <= r && r <= 0x13fd:
			return r - 0x13f8 + 0x13f0
		}
		return r
	}, s)
	return strings.NewReplacer("’", "'", "ʼ", "'", "＇", "'").Replace(s)
}

// TestNormalEveryRune checks every rune, alone and between letters and
// marks: AppendNormal agrees with the reference, is idempotent (a table's
// words must be their own normal form), and IsNormal agrees with it.
func TestNormalEveryRune(t *testing.T) {
	def := Default()
	for r := rune(0); r <= unicode.MaxRune; r++ {
		// Past plane 3 only the tags and variation selectors of plane 14
		// are assigned; unassigned code points normalize to themselves,
		// and so do the 97,000 unified ideographs, which have neither case
		// nor decomposition (the compatibility ones, which decompose, are
		// not among them).
		if !utf8.ValidRune(r) || r > 0x323af && !(0xe0000 <= r && r <= 0xe01ef) || unicode.Is(unicode.Unified_Ideograph, r) {
			continue
		}
		contexts := []string{string(r)}
		// A rune that has a case, a decomposition or combines is tried
		// between letters and marks too.
		if unicode.SimpleFold(r) != r || unicode.Is(unicode.M, r) || norm.NFD.PropertiesString(string(r)).Decomposition() != nil {
			contexts = append(contexts, "A"+string(r)+"\u0301b", "\u0345"+string(r))
		}
		for _, s := range contexts {
			once := string(def.AppendNormal(nil, []byte(s)))
			if want := reference(s); once != want {
				t.Fatalf("U+%04X in %q: AppendNormal = %q, reference %q", r, s, once, want)
			}
			if twice := string(def.AppendNormal(nil, []byte(once))); twice != once {
				t.Fatalf("U+%04X in %q: normalizing twice gives %q, once %q", r, s, twice, once)
			}
			if def.IsNormal([]byte(s)) != (once == s) {
				t.Fatalf("U+%04X in %q: IsNormal = %v, normal form %q", r, s, def.IsNormal([]byte(s)), once)
			}
		}
	}
}

func TestAppendNormalRandomText(t *testing.T) {
	def := Default()
	alphabet := []rune("aZé\u0301ΣσςK\u212aß’'ﬁ İı日本\u3099か \xff")
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		var b []byte
		for range rng.IntN(12) {
			r := alphabet[rng.IntN(len(alphabet))]
			if r == '\xff' {
				b = append(b, 0xff) // a byte that is not UTF-8
				continue
			}
			b = utf8.AppendRune(b, r)
		}
		got := def.AppendNormal(nil, b)
		if utf8.Valid(b) && string(got) != reference(string(b)) {
			t.Fatalf("%q: AppendNormal %q, reference %q", b, got, reference(string(b)))
		}
		if again := def.AppendNormal(nil, got); string(again) != string(got) {
			t.Fatalf("%q: not idempotent: %q then %q", b, got, again)
		}
	}
}

func TestAppendNormalASCIIDoesNotAllocate(t *testing.T) {
	def := Default()
	dst := make([]byte, 0, 64)
	for _, s := range []string{"the", "Hello", "don't"} {
		w := []byte(s)
		if n := testing.AllocsPerRun(100, func() { dst = def.AppendNormal(dst[:0], w) }); n != 0 {
			t.Errorf("%q: %.1f allocations", w, n)
		}
	}
}

func TestMetaRoundTrip(t *testing.T) {
	for _, r := range []Rules{
		Default(),
		{Case: CaseFold, NFC: true, Apostrophes: true, SplitContractions: true, SegmentUnspaced: true, LongestUnspaced: 7},
		{},
		{NFC: true},
	} {
		m := r.Meta()
		got, err := FromMeta(m, r.FoldsCase())
		if err != nil || got != r {
			t.Errorf("%+v: meta %v reads back as %+v, %v", r, m, got, err)
		}
		if m[metaUnicodeVersion] != UnicodeVersion {
			t.Errorf("%+v: no unicode version in %v", r, m)
		}
	}
	if got, err := FromMeta(map[string]string{"source": "x"}, true); err != nil || got != Legacy(true) || got.Recorded() {
		t.Errorf("no rules: %+v, %v; want the legacy rules", got, err)
	}
	if got, _ := FromMeta(nil, false); got != Legacy(false) {
		t.Errorf("nil metadata: %+v", got)
	}
}

func TestFromMetaRefusesWhatItCannotApply(t *testing.T) {
	base := Default().Meta()
	tests := []struct {
		name   string
		change func(m map[string]string)
		folds  bool
		want   string
	}{
		{"unknown value", func(m map[string]string) { m[metaCase] = "turkic" }, true, "normalize.case=turkic is unknown to this freqd"},
		{"unknown key", func(m map[string]string) { m["normalize.stem"] = "porter" }, true, "normalization rule normalize.stem, unknown"},
		{"missing key", func(m map[string]string) { delete(m, metaApostrophe) }, true, "lack normalize.apostrophe"},
		{"bad length", func(m map[string]string) { m[metaUnspacedLen] = "-3" }, true, "normalize.unspaced-longest"},
		{"header disagrees", func(map[string]string) {}, false, "disagree about case folding"},
	}
	for _, tc := range tests {
		m := maps.Clone(base)
		tc.change(m)
		if _, err := FromMeta(m, tc.folds); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestDescribe(t *testing.T) {
	if got := strings.Join(Legacy(true).Describe(), "; "); !strings.Contains(got, "none recorded") || !strings.Contains(got, "lowered") {
		t.Errorf("legacy: %q", got)
	}
	d := Default()
	d.SplitContractions = true
	got := strings.Join(d.Describe(), "; ")
	for _, want := range []string{"NFC", "full Unicode case folding", "’ ʼ ＇ read as '", "don, t", "a character at a time"} {
		if !strings.Contains(got, want) {
			t.Errorf("Describe = %q, missing %q", got, want)
		}
	}
}

func scan(text string) (words []string) {
	Scan([]byte(text), func(tok Token) {
		w := text[tok.Start:tok.End]
		if tok.Unspaced {
			w = "[" + w + "]"
		}
		if !tok.HasLetter {
			w = "#" + w
		}
		words = append(words, w)
	})
	return words
}

func TestScan(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"Ça va? Don't stop—naïve café 42", []string{"Ça", "va", "Don't", "stop", "naïve", "café", "#42"}},
		{"don’t rock'n'roll", []string{"don’t", "rock'n'roll"}},
		{"'tis the dogs' bone", []string{"tis", "the", "dogs", "bone"}},
		{"a''b a'’b", []string{"a", "b", "a", "b"}},
		{"cafe\u0301 au lait", []string{"cafe\u0301", "au", "lait"}},
		{"\u0301x", []string{"x"}},
		{"Москва, Αθήνα!", []string{"Москва", "Αθήνα"}},
		{"snake_case well-known", []string{"snake", "case", "well", "known"}},
		{"ab\xffcd", []string{"ab", "cd"}},
		{"route 66, 3.14 B52", []string{"route", "#66", "#3", "#14", "B52"}},
		{"東京タワーに行く", []string{"[東京タワーに行く]"}},
		{"iPhone用のケース", []string{"iPhone", "[用のケース]"}},
		{"ภาษาไทย and 中文'x", []string{"[ภาษาไทย]", "and", "[中文]", "x"}},
		{" \n\t ", nil},
	}
	for i, tc := range tests {
		if got := scan(tc.text); !slices.Equal(got, tc.want) {
			t.Errorf("case %d: Scan(%q) = %q, want %q", i, tc.text, got, tc.want)
		}
	}
}

func TestParts(t *testing.T) {
	var got []string
	for _, w := range []string{"don't", "rock'n'roll", "'tis", "o''clock", "plain"} {
		Parts([]byte(w), func(p []byte) { got = append(got, string(p)) })
		got = append(got, "|")
	}
	want := []string{"don", "t", "|", "rock", "n", "roll", "|", "tis", "|", "o", "clock", "|", "plain", "|"}
	if !slices.Equal(got, want) {
		t.Errorf("Parts: %q, want %q", got, want)
	}
	for w, want := range map[string]bool{"don't": true, "don’t": true, "donʼt": true, "don＇t": true, "dont": false, "café": false, "“quoted”": false} {
		if HasApostrophe([]byte(w)) != want {
			t.Errorf("HasApostrophe(%q) = %v", w, !want)
		}
	}
}

func TestSegment(t *testing.T) {
	table := map[string]bool{"東京": true, "東京タワー": true, "タワー": true, "行く": true, "が": true}
	r := Default()
	r.LongestUnspaced = 5
	seg := func(run string) []string {
		var pieces []string
		r.Segment([]byte(run), func(w []byte) bool { return table[string(w)] }, func(p []byte) { pieces = append(pieces, string(p)) })
		return pieces
	}
	tests := []struct {
		run  string
		want []string
	}{
		{"東京タワーに行く", []string{"東京タワー", "に", "行く"}},
		{"東京に", []string{"東京", "に"}},
		{"京都", []string{"京", "都"}},       // no word: a character at a time
		{"か\u3099", []string{"か\u3099"}}, // a letter and its mark stay together
	}
	for i, tc := range tests {
		if got := seg(tc.run); !slices.Equal(got, tc.want) {
			t.Errorf("case %d: Segment(%q) = %q, want %q", i, tc.run, got, tc.want)
		}
	}
	// A longest match never goes past LongestUnspaced characters.
	r.LongestUnspaced = 2
	if got := seg("東京タワー"); !slices.Equal(got, []string{"東京", "タ", "ワ", "ー"}) {
		t.Errorf("bounded by 2 characters: %q", got)
	}
}

// FuzzWord checks, for any bytes, what lookups and builds rely on: the
// normal form is stable (a table's words are their own), Scan's words lie
// inside the text in order, and splitting and segmenting stay inside
// their input.
func FuzzWord(f *testing.F) {
	for _, s := range []string{"Don’t ΣΟΦΟΣ cafe\u0301", "東京タワーに行く", "a''b \xff\xe2\x80", "İ\u0345ﬁ\u212a", "rock'n'roll"} {
		f.Add([]byte(s))
	}
	def := Default()
	def.LongestUnspaced = 4
	f.Fuzz(func(t *testing.T, b []byte) {
		once := def.AppendNormal(nil, b)
		if twice := def.AppendNormal(nil, once); string(twice) != string(once) {
			t.Fatalf("%q: normal form %q is not stable: %q", b, once, twice)
		}
		end := 0
		Scan(b, func(tok Token) {
			if tok.Start < end || tok.End <= tok.Start || tok.End > len(b) {
				t.Fatalf("%q: token [%d, %d) after %d", b, tok.Start, tok.End, end)
			}
			end = tok.End
			w := b[tok.Start:tok.End]
			if tok.Unspaced {
				n := 0
				def.Segment(w, func(p []byte) bool { return len(p)%2 == 0 }, func(p []byte) { n += len(p) })
				if n != len(w) {
					t.Fatalf("%q: segments of %q cover %d bytes", b, w, n)
				}
			}
		})
		Parts(once, func(p []byte) {
			if len(p) == 0 || bytes.IndexByte(p, '\'') >= 0 {
				t.Fatalf("%q: part %q", once, p)
			}
		})
	})
}
