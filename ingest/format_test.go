package ingest

import "testing"

func TestDetect(t *testing.T) {
	tests := []struct {
		name, sample string
		want         Format
	}{
		{"tsv", "the\t100\nof\t50\n", TSV},
		{"csv", "the,100\nof,50\n", CSV},
		{"csv with header", "word,count\nthe,100\nof,50\n", CSV},
		{"quoted csv", "\"a,b\",3\nc,4\n", CSV},
		{"space", "the 100\nof   50\n", Space},
		{"ngram 2012", "run_VERB\t1999\t12\t3\nrun\t2000\t5\t2\n", Ngram},
		{"ngram 2020", "run\t1999,12,3\t2000,5,2\n", Ngram},
		{"text", "It was the best of times,\nit was the worst of times.\n", Text},
		{"text with a numbered title", "Chapter 1\nIt was a dark and stormy night,\nthe rain fell in torrents.\n", Text},
		{"tsv with a bad line is still tsv", "a\t1\nb\t1x\nc\t3\n", TSV},
		{"tsv with header", "word\tcount\nthe\t100\n", TSV},
		{"bom", "\xef\xbb\xbfthe\t1\n", TSV},
		{"crlf", "the\t1\r\nof\t2\r\n", TSV},
		{"partial last line ignored", "the\t1\nof\t2\nx y z w", TSV},
		{"single partial line", "the\t1", TSV},
		{"empty", "", Text},
		{"blank", "\n\n  \n", Text},
	}
	for i, tc := range tests {
		if got := Detect([]byte(tc.sample)); got != tc.want {
			t.Errorf("case %d (%s): Detect = %v, want %v", i, tc.name, got, tc.want)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for f := Auto; f <= Text; f++ {
		got, err := ParseFormat(f.String())
		if err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %v, %v; want %v", f.String(), got, err, f)
		}
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("ParseFormat(\"xml\") succeeded")
	}
}
