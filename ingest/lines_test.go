package ingest

import (
	"strings"
	"testing"
)

func TestLineParsers(t *testing.T) {
	tests := []struct {
		name    string
		parse   lineParser
		line    string
		word    string
		count   uint64
		wantErr string // substring of the error; empty for success
	}{
		{"tsv", parseTSV, "hello\t42", "hello", 42, ""},
		{"tsv spaces trimmed", parseTSV, " hello \t 42 ", "hello", 42, ""},
		{"tsv inner space kept", parseTSV, "ice cream\t7", "ice cream", 7, ""},
		{"tsv bad count", parseTSV, "hello\t12x", "", 0, `count "12x" is not a number`},
		{"tsv negative", parseTSV, "hello\t-1", "", 0, `count "-1" is not a number`},
		{"tsv too large", parseTSV, "hello\t18446744073709551616", "", 0, "larger than the maximum"},
		{"tsv max", parseTSV, "hello\t18446744073709551615", "hello", 1<<64 - 1, ""},
		{"tsv no tab", parseTSV, "hello 42", "", 0, "found no tab"},
		{"tsv three fields", parseTSV, "a\tb\t3", "", 0, "3 tab-separated fields"},
		{"tsv empty word", parseTSV, "\t3", "", 0, "word is empty"},
		{"tsv bad utf8", parseTSV, "a\xff\t3", "", 0, "not valid UTF-8"},
		{"tsv control char", parseTSV, "a\x01b\t3", "", 0, "control character"},
		{"tsv word too long", parseTSV, strings.Repeat("x", 1025) + "\t3", "", 0, "more than the maximum 1024"},
		{"csv", parseCSV, "hello,42", "hello", 42, ""},
		{"csv quoted comma", parseCSV, `"a,b",3`, "a,b", 3, ""},
		{"csv quoted quote", parseCSV, `"say ""hi""",3`, `say "hi"`, 3, ""},
		{"csv unclosed quote", parseCSV, `"a,3`, "", 0, "no closing quote"},
		{"csv three fields", parseCSV, "a,b,3", "", 0, "more than two fields"},
		{"csv header", parseCSV, "word,count", "", 0, `count "count" is not a number`},
		{"space", parseSpace, "hello   42", "hello", 42, ""},
		{"space tab", parseSpace, "hello\t42", "hello", 42, ""},
		{"space three fields", parseSpace, "ice cream 7", "", 0, "3 space-separated fields"},
		{"ngram", parseNgram, "run\t1999\t12\t3", "run", 12, ""},
		{"ngram tag stripped", parseNgram, "run_VERB\t1999\t12\t3", "run", 12, ""},
		{"ngram dot tag stripped", parseNgram, "._.\t1999\t12\t3", ".", 12, ""},
		{"ngram inner underscore kept", parseNgram, "snake_case\t1999\t1\t1", "snake_case", 1, ""},
		{"ngram bare tag alone kept", parseNgram, "_NOUN\t1999\t1\t1", "_NOUN", 1, ""},
		{"ngram 2020 triples summed", parseNgram, "run_NOUN\t1999,12,3\t2000,5,2", "run", 17, ""},
		{"ngram bad year", parseNgram, "run\t19x9\t12\t3", "", 0, `year "19x9" is not a number`},
		{"ngram bad match", parseNgram, "run\t1999\tx\t3", "", 0, `match_count: count "x"`},
		{"ngram three fields", parseNgram, "run\t1999\t12", "", 0, "found 3 fields"},
		{"ngram triples overflow", parseNgram, "run\t1,18446744073709551615,1\t2,1,1", "", 0, "more than 2^64-1"},
	}
	for i, tc := range tests {
		word, count, err := tc.parse([]byte(tc.line))
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("case %d (%s): error %v, want one containing %q", i, tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil || string(word) != tc.word || count != tc.count {
			t.Errorf("case %d (%s): got %q, %d, %v; want %q, %d", i, tc.name, word, count, err, tc.word, tc.count)
		}
	}
}

// TestNgramSkipsBareTags pins the choice documented on parseNgram: the
// tag-only tokens and sentence markers are not words.
func TestNgramSkipsBareTags(t *testing.T) {
	for i, w := range []string{"_NOUN_", "_START_", "_END_", "_ROOT_", "_._"} {
		word, _, err := parseNgram([]byte(w + "\t1999\t5\t1"))
		if err != nil || word != nil {
			t.Errorf("case %d (%s): got %q, %v; want the line skipped", i, w, word, err)
		}
	}
}
