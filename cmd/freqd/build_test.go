package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/freqd/freqd/data"
	"github.com/freqd/freqd/internal/testserver"
	"github.com/freqd/freqd/shm/freqfile"
	"golang.org/x/sys/unix"
)

// freqdBin is the freqd binary built once by TestMain; the command tests run
// it as a real process, as a user would.
var freqdBin string

func TestMain(m *testing.M) { testserver.Main(m, &freqdBin) }

// result is what one run of freqd did.
type result struct {
	code           int
	stdout, stderr string
}

// freqd runs the binary in dir with stdin as its standard input.
func freqd(t *testing.T, dir string, stdin []byte, args ...string) result {
	t.Helper()
	cmd := exec.Command(freqdBin, args...)
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := cmd.ProcessState.ExitCode()
	if code < 0 {
		t.Fatalf("freqd %q did not exit normally: %v", args, err)
	}
	return result{code, out.String(), errOut.String()}
}

func writeTestFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// lookups parses the "word<TAB>count" lines of `freqd inspect FILE WORD...`.
func lookups(t *testing.T, out string) map[string]uint64 {
	t.Helper()
	m := map[string]uint64{}
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		w, n, ok := strings.Cut(line, "\t")
		v, err := strconv.ParseUint(n, 10, 64)
		if !ok || err != nil {
			t.Fatalf("inspect printed %q, want word<TAB>count", line)
		}
		m[w] = v
	}
	return m
}

// dirNames lists a directory, to catch temporary files left behind.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestBuildFromTSVThenInspect(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, dir, "a.tsv", "the\t100\nThe\t20\nof\t50\n")
	writeTestFile(t, dir, "b.csv", "word,count\nof,5\nzebra,1\n")
	r := freqd(t, dir, nil, "build", "-o", "w.freq", "a.tsv", "b.csv")
	if r.code != 0 {
		t.Fatalf("build exited %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "3 words, total count 176") {
		t.Errorf("build summary %q does not report 3 words, total count 176", r.stderr)
	}
	r = freqd(t, dir, nil, "inspect", "w.freq", "the", "THE", "of", "zebra")
	if r.code != 0 {
		t.Fatalf("inspect of present words exited %d: %s", r.code, r.stderr)
	}
	want := map[string]uint64{"the": 120, "THE": 120, "of": 55, "zebra": 1}
	got := lookups(t, r.stdout)
	for w, n := range want {
		if got[w] != n {
			t.Errorf("inspect %s = %d, want %d", w, got[w], n)
		}
	}
	r = freqd(t, dir, nil, "inspect", "w.freq", "the", "absent")
	if r.code != 1 || lookups(t, r.stdout)["absent"] != 0 || lookups(t, r.stdout)["the"] != 120 {
		t.Errorf("inspect with an absent word: exit %d, output %q; want exit 1, the=120, absent=0", r.code, r.stdout)
	}
}

func TestBuildKeepCase(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, dir, "a.tsv", "the\t100\nThe\t20\n")
	if r := freqd(t, dir, nil, "build", "--keep-case", "-o", "w.freq", "a.tsv"); r.code != 0 {
		t.Fatalf("build exited %d: %s", r.code, r.stderr)
	}
	r := freqd(t, dir, nil, "inspect", "w.freq", "the", "The", "THE")
	got := lookups(t, r.stdout)
	if r.code != 1 || got["the"] != 100 || got["The"] != 20 || got["THE"] != 0 {
		t.Errorf("keep-case lookups: exit %d, %v; want exit 1, the=100 The=20 THE=0", r.code, got)
	}
}

// TestBuildStdinGzip pipes a compressed n-gram file through "-", under
// each part-of-speech rule.
func TestBuildStdinGzip(t *testing.T) {
	dir := t.TempDir()
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write([]byte("run_VERB\t1999\t12\t3\nrun\t2000\t5\t2\n"))
	zw.Close()
	for _, tc := range []struct {
		rule string
		want uint64
	}{{"skip", 5}, {"strip", 17}} {
		if r := freqd(t, dir, z.Bytes(), "build", "--ngram-tags", tc.rule, "-o", "w.freq", "-"); r.code != 0 {
			t.Fatalf("build from stdin exited %d: %s", r.code, r.stderr)
		}
		if got := lookups(t, freqd(t, dir, nil, "inspect", "w.freq", "run").stdout); got["run"] != tc.want {
			t.Errorf("--ngram-tags %s: run = %d, want %d", tc.rule, got["run"], tc.want)
		}
	}
}

// TestBuildDefaultRoundTrip checks every word of the embedded list, with
// case kept, against its line in the list, through the file as served.
func TestBuildDefaultRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if r := freqd(t, dir, nil, "build", "--default", "--keep-case", "-o", "kept.freq"); r.code != 0 {
		t.Fatalf("build --default --keep-case exited %d: %s", r.code, r.stderr)
	}
	if r := freqd(t, dir, nil, "build", "--default", "-o", "folded.freq"); r.code != 0 {
		t.Fatalf("build --default exited %d: %s", r.code, r.stderr)
	}
	kept, err := freqfile.Open(filepath.Join(dir, "kept.freq"))
	if err != nil {
		t.Fatal(err)
	}
	defer kept.Close()
	if kept.Len() != data.SubtlexUSWords || kept.Total() != data.SubtlexUSTotal || kept.FoldsCase() {
		t.Fatalf("kept.freq: %d words, total %d, folds %v; want %d, %d, false",
			kept.Len(), kept.Total(), kept.FoldsCase(), data.SubtlexUSWords, data.SubtlexUSTotal)
	}
	want := map[string]uint64{}
	sc := bufio.NewScanner(bytes.NewReader(data.SubtlexUS))
	for sc.Scan() {
		w, n, _ := strings.Cut(sc.Text(), "\t")
		v, err := strconv.ParseUint(n, 10, 64)
		if err != nil {
			t.Fatalf("embedded line %q: %v", sc.Text(), err)
		}
		want[w] += v
		if got, ok := kept.Lookup([]byte(w)); !ok || got != v {
			t.Fatalf("kept.freq: %q = %d, %v; want %d", w, got, ok, v)
		}
	}
	if len(want) != data.SubtlexUSWords {
		t.Fatalf("the embedded list has %d lines, want %d", len(want), data.SubtlexUSWords)
	}

	// Folding sums the words that fold alike: "I" and "i" (of which
	// SUBTLEX-US has only the former) both find I + i.
	r := freqd(t, dir, nil, "inspect", "folded.freq", "I", "i", "You")
	got := lookups(t, r.stdout)
	if r.code != 0 || got["I"] != want["I"]+want["i"] || got["i"] != got["I"] || got["You"] != want["you"]+want["You"] {
		t.Errorf("folded lookups: exit %d, %v; want I = i = %d, You = %d", r.code, got, want["I"]+want["i"], want["you"]+want["You"])
	}
	r = freqd(t, dir, nil, "inspect", "kept.freq", "I", "i")
	if got := lookups(t, r.stdout); r.code != 1 || got["I"] != want["I"] || got["i"] != 0 {
		t.Errorf("kept lookups: exit %d, %v; want exit 1, I = %d, i = 0", r.code, got, want["I"])
	}
}

// TestBuildMalformedInputKeepsOutput pins the all-or-nothing rule: a bad
// line stops the build before the output is touched.
func TestBuildMalformedInputKeepsOutput(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, dir, "good.tsv", "the\t10\n")
	writeTestFile(t, dir, "bad.tsv", "a\t1\nb\t2\nc\t12x\n")
	if r := freqd(t, dir, nil, "build", "-o", "w.freq", "good.tsv"); r.code != 0 {
		t.Fatalf("build exited %d: %s", r.code, r.stderr)
	}
	before, err := os.ReadFile(filepath.Join(dir, "w.freq"))
	if err != nil {
		t.Fatal(err)
	}
	r := freqd(t, dir, nil, "build", "-o", "w.freq", "good.tsv", "bad.tsv")
	if r.code != 1 || !strings.Contains(r.stderr, `bad.tsv:3: count "12x" is not a whole number`) {
		t.Errorf("build with a bad line: exit %d, stderr %q; want exit 1 naming bad.tsv:3", r.code, r.stderr)
	}
	after, err := os.ReadFile(filepath.Join(dir, "w.freq"))
	if err != nil || !bytes.Equal(before, after) {
		t.Errorf("w.freq changed by a failed build (err %v)", err)
	}
	if names := dirNames(t, dir); len(names) != 3 {
		t.Errorf("directory holds %q after a failed build; want only bad.tsv, good.tsv, w.freq", names)
	}
}

// TestBuildInterrupted sends SIGINT while the build reads its input and
// checks that nothing is written or left behind.
func TestBuildInterrupted(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, dir, "w.freq", "previous contents")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	cmd := exec.Command(freqdBin, "build", "-o", "w.freq", "-")
	cmd.Dir = dir
	cmd.Stdin = r
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Once the build has drained the pipe it is reading, past the point
	// where it takes over SIGINT; the input stays open, so it waits there.
	fmt.Fprint(w, strings.Repeat("word\t1\n", 1000))
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		n, err := unix.IoctlGetInt(int(r.Fd()), unix.TIOCINQ) // FIONREAD: bytes waiting in the pipe
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the build did not read its input in 10s; %d bytes left", n)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Errorf("interrupted build exited %d (%s), want %d", code, errOut.String(), exitInterrupted)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "w.freq")); string(b) != "previous contents" {
		t.Errorf("w.freq = %q after an interrupted build, want it unchanged", b)
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Errorf("directory holds %q after an interrupted build; want only w.freq", names)
	}
}

func TestBuildExitCodes(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, dir, "a.tsv", "the\t1\n")
	writeTestFile(t, dir, "empty.txt", "  \n")
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no input", []string{"build"}, 2, "no INPUT given"},
		{"unknown flag", []string{"build", "--bogus", "a.tsv"}, 2, "unknown flag --bogus; see 'freqd build --help'"},
		{"bad format", []string{"build", "--format", "xml", "a.tsv"}, 2, "--format xml: want auto, tsv, csv, space, ngram, text"},
		{"default with input", []string{"build", "--default", "a.tsv"}, 2, "takes no INPUT"},
		{"missing input", []string{"build", "-o", "x.freq", "nope.tsv"}, 1, "nope.tsv"},
		{"no words", []string{"build", "-o", "x.freq", "empty.txt"}, 1, "no words"},
		{"output in missing dir", []string{"build", "-o", "no/such/dir/x.freq", "a.tsv"}, 1, "no/such/dir"},
		{"default output name", []string{"build", "a.tsv"}, 0, "wrote " + defaultBuildOutput},
	}
	for i, tc := range tests {
		r := freqd(t, dir, nil, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.stderr) {
			t.Errorf("case %d (%s): exit %d, stderr %q; want exit %d and %q", i, tc.name, r.code, r.stderr, tc.code, tc.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x.freq")); err == nil {
		t.Error("a failed build created x.freq")
	}
}

// TestBuildMessages pins the summary's grammar and what a build of phrases
// and one with dropped words say.
func TestBuildMessages(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, dir, "one.tsv", "alone\t1\n")
	writeTestFile(t, dir, "2gram", "new york\t1999\t51234\t1200\nNew York\t2000\t88120\t2004\n"+
		"new_ADJ york_NOUN\t2000\t51000\t1200\nnew _NOUN_\t2000\t99\t9\nnew zealand\t2000\t9210\t822\n")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"one.tsv"}, ": 1 word, total count 1,"},
		{[]string{"2gram"}, ": 2 phrases, total count 148,564,"},
		{[]string{"--min-count", "10000", "2gram"}, ": 1 phrase, total count 139,354,"},
		{[]string{"--min-count", "10000", "2gram"}, "(2 words each); 1 phrase below --min-count 10000 dropped"},
	}
	for i, tc := range tests {
		r := freqd(t, dir, nil, append([]string{"build", "-o", "w.freq"}, tc.args...)...)
		if r.code != 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("case %d: exit %d, stderr %q; want %q", i, r.code, r.stderr, tc.want)
		}
	}
	r := freqd(t, dir, nil, "inspect", "w.freq", "new york", "NEW YORK", "new zealand")
	if got := lookups(t, r.stdout); got["new york"] != 139354 || got["NEW YORK"] != 139354 || got["new zealand"] != 0 {
		t.Errorf("inspect of the 2-gram table: %v", got)
	}
}

// TestBuildInputForms: a Spark output directory builds; compressed and
// binary files are recognised by content, and binary ones refused with
// what they are.
func TestBuildInputForms(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "out", "_temporary"), 0o755)
	writeTestFile(t, dir, "out/_SUCCESS", "")
	writeTestFile(t, dir, "out/part-00000.csv", "word,count\nthe,5\n\"a,b\",2\n")
	writeTestFile(t, dir, "out/.part-00000.csv.crc", "\x00\x01")
	writeTestFile(t, dir, "out/_temporary/part-9", "junk\t-1\n")
	writeTestFile(t, dir, "out/part-00001.csv", "word,count\nthe,1\n")
	if r := freqd(t, dir, nil, "build", "-o", "w.freq", "out"); r.code != 0 || !strings.Contains(r.stderr, "2 words, total count 8") {
		t.Fatalf("build of a Spark directory: exit %d, %s", r.code, r.stderr)
	}
	xz := "\xfd7zXZ\x00\x00\x04\xe6\xd6\xb4\x46"
	writeTestFile(t, dir, "words.tsv.xz", xz)
	writeTestFile(t, dir, "image.tsv", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	writeTestFile(t, dir, "blob", "\x01\x02\x03\x00\x00\xfe\xff"+strings.Repeat("\x00", 100))
	for _, tc := range []struct{ file, want string }{
		{"words.tsv.xz", "words.tsv.xz: is xz-compressed, not a word list or text; nothing was read; decompress it first"},
		{"image.tsv", "image.tsv: is a PNG image"},
		{"blob", "blob: is binary data (a NUL byte at offset 3)"},
	} {
		r := freqd(t, dir, nil, "build", "-o", "w.freq", tc.file)
		if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("build of %s: exit %d, stderr %q; want %q", tc.file, r.code, r.stderr, tc.want)
		}
	}
}
