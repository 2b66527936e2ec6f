package freqfile

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/freqd/freqd/word"
)

// rulesTable writes entries, normalized by rules and summed, with the rules
// in the metadata, and opens the result.
func rulesTable(t *testing.T, rules word.Rules, words map[string]uint64) *Table {
	t.Helper()
	sums := map[string]uint64{}
	for w, n := range words {
		sums[string(rules.AppendNormal(nil, []byte(w)))] += n
	}
	var entries []Entry
	for w, n := range sums {
		entries = append(entries, Entry{w, n})
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, entries, BuildOptions{FoldCase: rules.FoldsCase(), Meta: rules.Meta()}); err != nil {
		t.Fatal(err)
	}
	tab, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if tab.Rules() != rules {
		t.Fatalf("rules read back as %+v, want %+v", tab.Rules(), rules)
	}
	return tab
}

func TestLookupAppliesTheTablesRules(t *testing.T) {
	tab := rulesTable(t, word.Default(), map[string]uint64{
		"σοφος": 5, "ΣΟΦΟΣ": 2, "café": 3, "cafe\u0301": 4, "don’t": 6, "don't": 1, "Kelvin": 7, "strasse": 8, "Straße": 1,
	})
	tests := []struct {
		query string
		want  uint64
	}{
		{"σοφος", 7}, {"ΣΟΦΟΣ", 7}, {"Σοφός", 0}, // the accent is a different word
		{"café", 7}, {"cafe\u0301", 7}, {"CAFÉ", 7},
		{"don't", 7}, {"don’t", 7}, {"DON’T", 7},
		{"\u212aelvin", 7}, {"KELVIN", 7}, {"kelvin", 7},
		{"STRASSE", 9}, {"straße", 9}, {"STRAẞE", 9},
		{strings.Repeat("É", 600), 0}, // longer than any word once normalized
	}
	for _, tc := range tests {
		got, ok := tab.Lookup([]byte(tc.query))
		if got != tc.want || ok != (tc.want > 0) {
			t.Errorf("Lookup(%q) = %d, %v; want %d", tc.query, got, ok, tc.want)
		}
		if tc.want > 0 {
			if r, ok := tab.Rank([]byte(tc.query)); !ok || r == 0 {
				t.Errorf("Rank(%q) = %d, %v", tc.query, r, ok)
			}
		}
	}
	if n, ok := tab.LookupNormal([]byte("σοφοσ")); !ok || n != 7 {
		t.Errorf("LookupNormal(σοφοσ) = %d, %v", n, ok)
	}
}

func TestLookupKeepsCaseWhenTheRulesDo(t *testing.T) {
	rules := word.Rules{NFC: true, Apostrophes: true}
	tab := rulesTable(t, rules, map[string]uint64{"Café": 3, "café": 4, "don’t": 2})
	for q, want := range map[string]uint64{"Café": 3, "Cafe\u0301": 3, "café": 4, "CAFÉ": 0, "don't": 2, "Don't": 0} {
		if got, _ := tab.Lookup([]byte(q)); got != want {
			t.Errorf("Lookup(%q) = %d, want %d", q, got, want)
		}
	}
}

// TestLegacyTableKeepsItsFolding: a folded table without rules answers as
// freqd always did, rune by rune lower-casing and nothing else.
func TestLegacyTableKeepsItsFolding(t *testing.T) {
	var buf bytes.Buffer
	err := WriteTable(&buf, []Entry{{"σοφος", 5}, {"don’t", 2}, {"the", 9}}, BuildOptions{FoldCase: true})
	if err != nil {
		t.Fatal(err)
	}
	tab, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if tab.Rules() != word.Legacy(true) {
		t.Errorf("rules %+v, want the legacy ones", tab.Rules())
	}
	for q, want := range map[string]uint64{"The": 9, "σοφος": 5, "ΣΟΦΟΣ": 0, "don’t": 2, "don't": 0} {
		if got, _ := tab.Lookup([]byte(q)); got != want {
			t.Errorf("Lookup(%q) = %d, want %d", q, got, want)
		}
	}
}

func TestWriteRefusesWordsOutsideTheRules(t *testing.T) {
	rules := word.Default()
	for _, w := range []string{"The", "ΣΟΦΟΣ", "σοφος", "cafe\u0301", "don’t"} {
		err := WriteTable(&bytes.Buffer{}, []Entry{{w, 1}}, BuildOptions{FoldCase: true, Meta: rules.Meta()})
		if err == nil || !strings.Contains(err.Error(), "not in the normal form") {
			t.Errorf("%q: error %v", w, err)
		}
	}
	// Rules that fold case on a table that does not say so in its header.
	if err := WriteTable(&bytes.Buffer{}, []Entry{{"a", 1}}, BuildOptions{Meta: rules.Meta()}); err == nil || !strings.Contains(err.Error(), "disagree") {
		t.Errorf("folding rules without FoldCase: %v", err)
	}
}

// TestParseRefusesRulesItCannotApply: a table whose rules a newer freqd
// wrote is refused at open, not served with lookups that miss.
func TestParseRefusesRulesItCannotApply(t *testing.T) {
	var buf bytes.Buffer
	err := WriteTable(&buf, []Entry{{"a", 1}}, BuildOptions{FoldCase: true, Meta: word.Default().Meta()})
	if err != nil {
		t.Fatal(err)
	}
	b := bytes.Replace(buf.Bytes(), []byte("normalize.case=fold\n"), []byte("normalize.case=fpld\n"), 1)
	if bytes.Equal(b, buf.Bytes()) {
		t.Fatal("no normalize.case entry to change")
	}
	if _, err := Parse(b); err == nil || !strings.Contains(err.Error(), "normalize.case=fpld is unknown") {
		t.Errorf("Parse: %v", err)
	}
}

// TestStreamWriterChecksTheRules: the stream writer, which `freqd build`
// writes with, holds words to the rules as WriteTable does, including
// words whose normal form Fold would change (Cherokee folds to capitals).
func TestStreamWriterChecksTheRules(t *testing.T) {
	rules := word.Default()
	opts := BuildOptions{FoldCase: true, Meta: rules.Meta()}
	dir := t.TempDir()
	good := []string{"σοφοσ", "\u13a0", "the"} // Ꭰ is its own folding
	w, err := NewStreamWriter(filepath.Join(dir, "good.freq"), uint64(len(good)), opts, StreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, g := range good {
		if err := w.Add([]byte(g), uint64(10-i)); err != nil {
			t.Fatalf("Add(%q): %v", g, err)
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	tab, err := Open(filepath.Join(dir, "good.freq"))
	if err != nil {
		t.Fatal(err)
	}
	defer tab.Close()
	if n, ok := tab.Lookup([]byte("ΣΟΦΟΣ")); !ok || n != 10 {
		t.Errorf("Lookup(ΣΟΦΟΣ) = %d, %v", n, ok)
	}
	if n, ok := tab.Lookup([]byte("\uab70")); !ok || n != 9 { // ꭰ, the small letter
		t.Errorf("Lookup(ꭰ) = %d, %v", n, ok)
	}

	w, err = NewStreamWriter(filepath.Join(dir, "bad.freq"), 1, opts, StreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if err := w.Add([]byte("σοφος"), 1); err == nil || !strings.Contains(err.Error(), "not in the normal form") {
		t.Errorf("Add(σοφος): %v", err)
	}
}

// TestAppendKeyIsWhatLookupSearches: AppendKey, by which a cluster routes
// a query to the shard of its slot, gives exactly the word a lookup of the
// query searches for, under every kind of rules: a query found is found as
// its key, and a query missed is missed as its key. A key folded but not
// normalized (don’t, ΣΟΦΟΣ) would send a query to a shard that lacks it.
func TestAppendKeyIsWhatLookupSearches(t *testing.T) {
	words := map[string]uint64{"σοφος": 5, "café": 3, "don’t": 6, "kelvin": 7, "strasse": 8, "the": 9, "The": 2, "Café": 1}
	queries := []string{"σοφος", "ΣΟΦΟΣ", "Σοφός", "café", "cafe\u0301", "CAFÉ", "Café", "Cafe\u0301",
		"don't", "don’t", "DON’T", "donʼt", "\u212aelvin", "KELVIN", "STRASSE", "straße", "STRAẞE",
		"the", "The", "THE", "absent", "Absent", strings.Repeat("É", 600)}
	legacy := func(t *testing.T) *Table {
		var entries []Entry
		for w, n := range map[string]uint64{"σοφος": 5, "the": 9, "don’t": 6} {
			entries = append(entries, Entry{w, n})
		}
		var buf bytes.Buffer
		if err := WriteTable(&buf, entries, BuildOptions{FoldCase: true}); err != nil {
			t.Fatal(err)
		}
		tab, err := Parse(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		return tab
	}
	tables := map[string]func(t *testing.T) *Table{
		"default":   func(t *testing.T) *Table { return rulesTable(t, word.Default(), words) },
		"keep case": func(t *testing.T) *Table { return rulesTable(t, word.Rules{NFC: true, Apostrophes: true}, words) },
		"legacy":    legacy,
	}
	for name, open := range tables {
		t.Run(name, func(t *testing.T) {
			tab := open(t)
			rules := tab.Rules()
			for _, q := range queries {
				key := tab.AppendKey([]byte("prefix "), []byte(q))
				if !bytes.HasPrefix(key, []byte("prefix ")) {
					t.Fatalf("AppendKey(%q) did not append: %q", q, key)
				}
				key = key[len("prefix "):]
				n, ok := tab.Lookup([]byte(q))
				kn, kok := tab.Lookup(key)
				if n != kn || ok != kok {
					t.Errorf("Lookup(%q) = %d, %v, but Lookup of its key %q = %d, %v", q, n, ok, key, kn, kok)
				}
				if ok {
					// The key is the stored word itself.
					if r, _ := tab.Rank([]byte(q)); r > 0 {
						if w, _, _ := tab.Entry(r); !bytes.Equal(w, key) {
							t.Errorf("AppendKey(%q) = %q, but the word found is %q", q, key, w)
						}
					}
				}
				if rules.Recorded() {
					if want := rules.AppendNormal(nil, []byte(q)); !bytes.Equal(key, want) {
						t.Errorf("AppendKey(%q) = %q, the rules' normal form is %q", q, key, want)
					}
				}
			}
		})
	}
}
