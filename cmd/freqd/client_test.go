package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// functionWords reads testdata/function-words.txt.
func functionWords(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "function-words.txt"))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "#") {
			for _, w := range strings.Fields(line) {
				m[w] = true
			}
		}
	}
	return m
}

// TestTagLicences runs `freqd tag` as a user would on three licences every
// Debian system has, against a real server on the embedded table: no
// function word among the ten words it returns, and the words each
// licence is about among them.
func TestTagLicences(t *testing.T) {
	addr := benchServer(t)
	fw := functionWords(t)
	want := map[string][]string{
		"GPL-3.txt":      {"copyright", "license", "patent"},
		"Apache-2.0.txt": {"licensor", "contributor", "derivative"},
		"GFDL-1.3.txt":   {"document", "invariant", "license"},
	}
	for name, topical := range want {
		text, err := os.ReadFile(filepath.Join("..", "..", "testdata", "texts", name))
		if err != nil {
			t.Fatal(err)
		}
		r := freqd(t, t.TempDir(), text, "tag", "--addr", addr)
		lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
		if r.code != 0 || len(lines) != 10 {
			t.Fatalf("%s: exit %d, %d lines (%q), stderr %q; want 10 words", name, r.code, len(lines), r.stdout, r.stderr)
		}
		got := map[string]bool{}
		for _, line := range lines {
			w, score, _ := strings.Cut(line, "\t")
			if _, err := strconv.ParseFloat(score, 64); err != nil {
				t.Errorf("%s: line %q, want word<TAB>score", name, line)
			}
			w = strings.ToLower(w)
			got[w] = true
			if fw[w] {
				t.Errorf("%s: function word %q among the top ten:\n%s", name, w, r.stdout)
			}
		}
		for _, w := range topical {
			if !got[w] {
				t.Errorf("%s: %q not among the top ten:\n%s", name, w, r.stdout)
			}
		}
	}
}

func TestTagStatsAndCommonText(t *testing.T) {
	addr := benchServer(t)
	r := freqd(t, t.TempDir(), []byte("I don’t know what you're talking about, it's fine"), "tag", "--addr", addr)
	if r.code != 0 || r.stdout != "" {
		t.Errorf("a sentence of common words: exit %d, %q, %q; want no keywords", r.code, r.stdout, r.stderr)
	}
	r = freqd(t, t.TempDir(), []byte("The ship sailed through the archipelago at dusk"), "tag", "--addr", addr, "--stats", "--limit", "2")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if r.code != 0 || len(lines) != 3 || !strings.Contains(lines[0], "expected") ||
		strings.Fields(lines[1])[0] != "archipelago" || strings.Fields(lines[1])[2] != "1" {
		t.Errorf("--stats: exit %d, %q, %q; want a header, then archipelago seen once", r.code, r.stdout, r.stderr)
	}
}

func TestGetZipf(t *testing.T) {
	addr := benchServer(t)
	r := freqd(t, t.TempDir(), nil, "get", "--addr", addr, "--zipf", "the", "DON’T", "zzqxjw")
	want := "the\t1501908\t7.48\nDON’T\t321085\t6.81\nzzqxjw\t0\t1.30\n"
	if r.code != 1 || r.stdout != want {
		t.Errorf("exit %d, %q, %q; want exit 1 (an absent word) and %q", r.code, r.stdout, r.stderr, want)
	}
	if r := freqd(t, t.TempDir(), nil, "get", "--udp", "127.0.0.1:1", "--zipf", "the"); r.code != 2 || !strings.Contains(r.stderr, "--zipf") {
		t.Errorf("--zipf with --udp: exit %d, %q; want a usage error", r.code, r.stderr)
	}
}
