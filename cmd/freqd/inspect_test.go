package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/freqd/freqd/shm/freqfile"
)

func TestInspectSummary(t *testing.T) {
	dir := t.TempDir()
	var list strings.Builder
	// Twelve words with distinct counts: the summary must show the top ten
	// in order and leave out the last two.
	var total uint64
	for i := 1; i <= 12; i++ {
		count := strings.Repeat("1", i)
		list.WriteString(strings.Repeat("w", i) + "\t" + count + "\n")
		n, _ := strconv.ParseUint(count, 10, 64)
		total += n
	}
	writeTestFile(t, dir, "a.tsv", list.String())
	if r := freqd(t, dir, nil, "build", "-o", "w.freq", "a.tsv"); r.code != 0 {
		t.Fatalf("build exited %d: %s", r.code, r.stderr)
	}
	r := freqd(t, dir, nil, "inspect", "w.freq")
	if r.code != 0 {
		t.Fatalf("inspect exited %d: %s", r.code, r.stderr)
	}
	fi, err := os.Stat(filepath.Join(dir, "w.freq"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^words +12$`),
		regexp.MustCompile(`(?m)^total count +` + groupDigits(total) + `$`),
		regexp.MustCompile(`(?m)^size +.* \(` + groupDigits(uint64(fi.Size())) + ` bytes\)$`),
		regexp.MustCompile(`(?m)^case +folded`),
		regexp.MustCompile(`(?m)^rules +Unicode NFC$`),
		regexp.MustCompile(`(?m)^ +full Unicode case folding`),
		regexp.MustCompile(`(?m)^ +contractions answered from their parts`),
		regexp.MustCompile(`(?m)^checksum +0x[0-9a-f]{8}, verified$`),
		regexp.MustCompile(`(?m)^ +1 +111,111,111,111 +wwwwwwwwwwww$`),
		regexp.MustCompile(`(?m)^ +10 +111 +www$`),
	} {
		if !want.MatchString(r.stdout) {
			t.Errorf("inspect output does not match %s:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, " ww\n") || strings.Contains(r.stdout, " w\n") {
		t.Errorf("inspect listed more than ten words:\n%s", r.stdout)
	}
}

// TestInspectDamagedFile flips one byte of the body: the header still opens,
// so only the checksum can tell, and inspect must say so and fail.
func TestInspectDamagedFile(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, dir, "a.tsv", "the\t10\nof\t5\n")
	if r := freqd(t, dir, nil, "build", "-o", "w.freq", "a.tsv"); r.code != 0 {
		t.Fatalf("build exited %d: %s", r.code, r.stderr)
	}
	path := filepath.Join(dir, "w.freq")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[128+64] ^= 0x40 // in the first bucket's record line: only the checksum covers it
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r := freqd(t, dir, nil, "inspect", "w.freq")
	if r.code != 1 || !strings.Contains(r.stdout, "DOES NOT VERIFY") || !strings.Contains(r.stderr, "rebuild") {
		t.Errorf("inspect of a damaged file: exit %d, stdout %q, stderr %q; want exit 1 and a checksum failure", r.code, r.stdout, r.stderr)
	}
}

func TestInspectExitCodes(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, dir, "not.freq", "this is not a frequency file, just text long enough to hold a header of 128 bytes: "+strings.Repeat("x", 128))
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"help", []string{"inspect", "-h"}, 0, "usage: freqd inspect"},
		{"no file", []string{"inspect"}, 2, "no FILE given"},
		{"missing file", []string{"inspect", "nope.freq"}, 1, "nope.freq"},
		{"not a frequency file", []string{"inspect", "not.freq"}, 1, "not.freq"},
	}
	for i, tc := range tests {
		r := freqd(t, dir, nil, tc.args...)
		if tc.name == "help" {
			r.stderr = r.stdout // help is asked for: it goes to stdout
		}
		if r.code != tc.code || !strings.Contains(r.stderr, tc.stderr) {
			t.Errorf("case %d (%s): exit %d, stderr %q; want exit %d and %q", i, tc.name, r.code, r.stderr, tc.code, tc.stderr)
		}
	}
}

// TestInspectRules: inspect says which rules a table was built with, and
// that a table from before rules were recorded has none; its WORD lookups
// apply the rules as a server does.
func TestInspectRules(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, dir, "a.txt", "Don’t stop. DON'T. Ελληνικά café")
	if r := freqd(t, dir, nil, "build", "--format", "text", "-o", "text.freq", "a.txt"); r.code != 0 {
		t.Fatalf("build exited %d: %s", r.code, r.stderr)
	}
	r := freqd(t, dir, nil, "inspect", "text.freq")
	if r.code != 0 || !strings.Contains(r.stdout, "contractions are words of their own") || !strings.Contains(r.stdout, "’ ʼ ＇ read as '") {
		t.Errorf("text table: exit %d, %s", r.code, r.stdout)
	}
	if r := freqd(t, dir, nil, "inspect", "text.freq", "don’t", "ΕΛΛΗΝΙΚΆ", "cafe\u0301"); r.code != 0 || r.stdout != "don’t\t2\nΕΛΛΗΝΙΚΆ\t1\ncafe\u0301\t1\n" {
		t.Errorf("lookups: exit %d, %q, %q", r.code, r.stdout, r.stderr)
	}

	var old bytes.Buffer
	if err := freqfile.WriteTable(&old, []freqfile.Entry{{Word: "the", Count: 3}}, freqfile.BuildOptions{FoldCase: true}); err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, dir, "old.freq", old.String())
	r = freqd(t, dir, nil, "inspect", "old.freq")
	if r.code != 0 || !regexp.MustCompile(`(?m)^rules +none recorded`).MatchString(r.stdout) {
		t.Errorf("old table: exit %d, %s", r.code, r.stdout)
	}
}
