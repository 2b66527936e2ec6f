package table

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/freqd/freqd/shm/freqfile"
	"github.com/freqd/freqd/shm/memfd"
)

func writeTable(t *testing.T, path string) {
	t.Helper()
	if err := freqfile.WriteFile(path, []freqfile.Entry{{Word: "alpha", Count: 3}}, freqfile.BuildOptions{FoldCase: true}); err != nil {
		t.Fatal(err)
	}
}

// TestCopyIsSealedAndImmuneToTheFile: the default mode serves a sealed
// copy, which a truncated file on disk does not reach.
func TestCopyIsSealedAndImmuneToTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.freq")
	writeTable(t, path)
	s, err := Load(Source{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.Sealed || memfd.CheckSealed(s.File) != nil {
		t.Fatalf("copy mode served an unsealed file")
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	if c, ok := s.Table.Lookup([]byte("alpha")); !ok || c != 3 {
		t.Errorf("after truncating the file: Lookup(alpha) = %d, %v", c, ok)
	}
}

// TestMapServesTheFileItself: map mode hands out the data file.
func TestMapServesTheFileItself(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.freq")
	writeTable(t, path)
	s, err := Load(Source{Path: path, Mode: Map})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Sealed || s.Name != path {
		t.Errorf("map mode: sealed %v, name %q", s.Sealed, s.Name)
	}
}

// TestErrorsNameTheOperatorsFile: a damaged file is reported under the
// path the operator gave, never under the in-memory copy's name.
func TestErrorsNameTheOperatorsFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.freq")
	os.WriteFile(bad, []byte("FREQDTBL but not a table at all, no"), 0o644)
	for _, m := range []string{Copy, Map} {
		_, err := Load(Source{Path: bad, Mode: m})
		if err == nil || !strings.Contains(err.Error(), bad) || strings.Contains(err.Error(), "memfd") {
			t.Errorf("mode %s: error %v; want one naming %s and no memfd", m, err, bad)
		}
	}
	if _, err := Load(Source{Path: filepath.Join(dir, "none.freq")}); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Load(Source{}); err == nil || !strings.Contains(err.Error(), "no --data file") {
		t.Errorf("no file and no default: %v", err)
	}
	if _, err := Load(Source{Path: bad, Mode: "mmap"}); err == nil || !strings.Contains(err.Error(), "want copy or map") {
		t.Errorf("bad mode: %v", err)
	}
}

// TestLoadNamesAMissingFileOnce pins the message an operator reads when
// --data names no file: the path as given, once, and the reason.
func TestLoadNamesAMissingFileOnce(t *testing.T) {
	_, err := Load(Source{Path: "/nonexistent/words.freq"})
	if err == nil || err.Error() != "data file /nonexistent/words.freq: no such file or directory" || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing file: %v; want the path once and the reason", err)
	}
}

func TestSelectedReadsTheBracketedChoice(t *testing.T) {
	for in, want := range map[string]string{
		"always within_size [advise] never deny force\n": "advise",
		"always within_size advise [never] deny force\n": "never",
		"[always] madvise never\n":                       "always",
		"":                                               "unknown",
		"always [advise":                                 "unknown",
	} {
		if got := selected(in); got != want {
			t.Errorf("selected(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestASmallTableGetsNoHugePageHint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.freq")
	writeTable(t, path)
	s, err := Load(Source{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, hint := s.Pages(); hint != "" {
		t.Errorf("a %d-byte table got the hint %q, meant for tables of %d bytes and more", s.Table.Size(), hint, hugeHintSize)
	}
}
