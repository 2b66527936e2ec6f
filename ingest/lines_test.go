package ingest

import (
	"strings"
	"testing"
)

func TestLineParsers(t *testing.T) {
	two := func(f Format) layout { return layout{format: f, cols: 2, word: 0, count: 1} }
	tsv, csv, space, ngram := two(TSV), two(CSV), two(Space), layout{format: Ngram}
	countFirst := layout{format: Space, cols: 2, word: 1, count: 0}
	tests := []struct {
		name    string
		l       layout
		line    string
		word    string
		count   uint64
		wantErr string // substring of the error; empty for success
	}{
		{"tsv", tsv, "hello\t42", "hello", 42, ""},
		{"tsv spaces trimmed", tsv, " hello \t 42 ", "hello", 42, ""},
		{"tsv inner space kept", tsv, "ice cream\t7", "ice cream", 7, ""},
		{"tsv bad count", tsv, "hello\t12x", "", 0, `count "12x" is not a whole number`},
		{"tsv negative", tsv, "hello\t-1", "", 0, "count -1 is negative"},
		{"tsv above 2^63-1", tsv, "hello\t9223372036854775808", "", 0, "larger than 9223372036854775807"},
		{"tsv above 2^64-1", tsv, "hello\t18446744073709551616", "", 0, "larger than 9223372036854775807"},
		{"tsv max", tsv, "hello\t9223372036854775807", "hello", 1<<63 - 1, ""},
		{"tsv no tab", tsv, "hello 42", "", 0, "expected 2 tab-separated fields"},
		{"tsv three fields", tsv, "a\tb\t3", "", 0, "found 3"},
		{"tsv empty word", tsv, "\t3", "", 0, "word is empty"},
		{"tsv bad utf8", tsv, "a\xff\t3", "", 0, "not valid UTF-8"},
		{"tsv control char", tsv, "a\x01b\t3", "", 0, "control character"},
		{"tsv word too long", tsv, strings.Repeat("x", 1025) + "\t3", "", 0, "more than the maximum 1024"},
		{"tsv escapes", tsv, `back\\slash\t3`, "", 0, ""},
		{"tsv escaped backslash", tsv, "back\\\\slash\t3", `back\slash`, 3, ""},
		{"tsv escaped quote", tsv, `rock\'n\'roll` + "\t3", "rock'n'roll", 3, ""},
		{"tsv unknown escape kept", tsv, `\o/` + "\t3", `\o/`, 3, ""},
		{"tsv escaped newline refused", tsv, `a\nb` + "\t3", "", 0, "control character"},
		{"tsv NULL", tsv, `\N` + "\t3", "", 0, "NULL"},
		{"csv", csv, "hello,42", "hello", 42, ""},
		{"csv quoted comma", csv, `"a,b",3`, "a,b", 3, ""},
		{"csv quoted quote", csv, `"say ""what""",3`, `say "what"`, 3, ""},
		{"csv quoted count", csv, `"a","3"`, "a", 3, ""},
		{"csv unclosed quote", csv, `"a,3`, "", 0, "not closed on its line"},
		{"csv three fields", csv, "a,b,3", "", 0, "found 3"},
		{"space", space, "hello   42", "hello", 42, ""},
		{"space tab", space, "hello\t42", "hello", 42, ""},
		{"space count first", countFirst, "   42 hello", "hello", 42, ""},
		{"space three fields", space, "ice cream 7", "", 0, "found 3 fields"},
		{"ngram", ngram, "run\t1999\t12\t3", "run", 12, ""},
		{"ngram 2009 page count", ngram, "run\t1999\t12\t5\t3", "run", 12, ""},
		{"ngram phrase", ngram, "New York\t1999\t12\t3", "New York", 12, ""},
		{"ngram inner underscore kept", ngram, "snake_case\t1999\t1\t1", "snake_case", 1, ""},
		{"ngram bare tag alone kept", ngram, "_NOUN\t1999\t1\t1", "_NOUN", 1, ""},
		{"ngram 2020 triples summed", ngram, "run\t1999,12,3\t2000,5,2", "run", 17, ""},
		{"ngram bad year", ngram, "run\t19x9\t12\t3", "", 0, `year "19x9" is not a number`},
		{"ngram bad match", ngram, "run\t1999\tx\t3", "", 0, `match_count: count "x"`},
		{"ngram three fields", ngram, "run\t1999\t12", "", 0, "found 3 fields"},
		{"ngram triples overflow", ngram, "run\t1,9223372036854775807,1\t2,1,1", "", 0, "more than 9223372036854775807"},
	}
	for i, tc := range tests {
		word, count, err := newLineReader(tc.l, SkipTagged).parse([]byte(tc.line))
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("case %d (%s): error %v, want one containing %q", i, tc.name, err, tc.wantErr)
			}
			continue
		}
		if tc.word == "" {
			continue
		}
		if err != nil || string(word) != tc.word || count != tc.count {
			t.Errorf("case %d (%s): got %q, %d, %v; want %q, %d", i, tc.name, word, count, err, tc.word, tc.count)
		}
	}
}

// TestNgramTags pins the part-of-speech rules: bare tags and sentence
// markers are never words; tagged tokens are skipped, stripped or kept.
func TestNgramTags(t *testing.T) {
	for i, w := range []string{"_NOUN_", "_START_", "_END_", "_ROOT_", "_._", "_DET_ cat", "the _END_"} {
		for _, rule := range []TagRule{SkipTagged, StripTags, KeepTags} {
			word, _, err := newLineReader(layout{format: Ngram}, rule).parse([]byte(w + "\t1999\t5\t1"))
			if err != nil || word != nil {
				t.Errorf("case %d (%s), rule %d: got %q, %v; want the line skipped", i, w, rule, word, err)
			}
		}
	}
	tests := []struct {
		line string
		rule TagRule
		want string // "" for skipped
	}{
		{"run_VERB\t1999\t5\t1", SkipTagged, ""},
		{"run_VERB\t1999\t5\t1", StripTags, "run"},
		{"run_VERB\t1999\t5\t1", KeepTags, "run_VERB"},
		{"new_ADJ york\t1999\t5\t1", SkipTagged, ""},
		{"new_ADJ york_NOUN\t1999\t5\t1", StripTags, "new york"},
		{"._.\t1999\t5\t1", StripTags, "."},
		{"new york\t1999\t5\t1", SkipTagged, "new york"},
	}
	for i, tc := range tests {
		word, _, err := newLineReader(layout{format: Ngram}, tc.rule).parse([]byte(tc.line))
		if err != nil || string(word) != tc.want {
			t.Errorf("case %d (%q, rule %d): got %q, %v; want %q", i, tc.line, tc.rule, word, err, tc.want)
		}
	}
}
