package freqfile

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fuzzWords are looked up in every table the fuzzer makes.
var fuzzWords = [][]byte{[]byte("a"), []byte("the"), []byte("The"), []byte("zz"), []byte("ⱥ"), []byte("\xff"), nil}

// smallTable returns a valid file for the seed corpus.
func smallTable(tb testing.TB, opts BuildOptions, words ...string) []byte {
	var entries []Entry
	for i, w := range words {
		entries = append(entries, Entry{w, uint64(len(words) - i)})
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, entries, opts); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzParse feeds mutated files to Parse. Whatever it accepts must survive
// Verify and every lookup without panicking or reading out of bounds.
// The fuzzer cannot forge the header checksum, so each input is also tried
// with its checksum recomputed: that lets it reach the field checks behind
// the checksum, as a buggy or hostile writer would.
// Seeds: testdata/fuzz/FuzzParse and the tables below.
func FuzzParse(f *testing.F) {
	f.Add(smallTable(f, BuildOptions{}, "the", "a", "zz"))
	f.Add(smallTable(f, BuildOptions{FoldCase: true}, "the", "ⱥ", "a"))
	f.Add(smallTable(f, BuildOptions{}))
	f.Fuzz(func(t *testing.T, b []byte) {
		exercise(t, b)
		if len(b) >= headerSize {
			resealed := append([]byte(nil), b...)
			reseal(resealed)
			exercise(t, resealed)
		}
	})
}

// exercise parses b and, if that succeeds, uses every method of the table.
func exercise(t *testing.T, b []byte) {
	tab, err := Parse(b)
	if err != nil {
		return
	}
	verr := tab.Verify()
	for _, w := range fuzzWords {
		c, ok := tab.Lookup(w)
		r, rok := tab.Rank(w)
		if verr == nil && ok != rok {
			t.Errorf("Lookup(%q) found %v but Rank found %v", w, ok, rok)
		}
		if rok && verr == nil {
			// In a file that verifies, Entry must agree with Lookup.
			if ew, ec, eok := tab.Entry(r); !eok || ec != c || !bytes.Equal(ew, Fold(nil, w)) && !bytes.Equal(ew, w) {
				t.Errorf("Entry(Rank(%q) = %d) = %q, %d, %v; Lookup = %d", w, r, ew, ec, eok, c)
			}
		}
	}
	for r := uint64(0); r <= min(tab.Len(), 64)+1; r++ {
		tab.Entry(r)
	}
	if tab.Size() != int64(len(b)) {
		t.Errorf("Size = %d for a %d-byte file", tab.Size(), len(b))
	}
}

// TestFuzzSeedsAreCurrent keeps the seed corpus useful: seeds of an older
// format version stop at the version check and test nothing behind it, so
// a format change must regenerate them (the same mutations of a table of
// the new version; a seed that is about the version field itself would need
// an exception here). The valid-* seeds must parse and verify.
func TestFuzzSeedsAreCurrent(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzParse")
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		text, err := os.ReadFile(filepath.Join(dir, de.Name()))
		if err != nil {
			t.Fatal(err)
		}
		quoted, ok := strings.CutPrefix(string(text), "go test fuzz v1\n[]byte(")
		quoted, ok2 := strings.CutSuffix(quoted, ")\n")
		b, err := strconv.Unquote(quoted)
		if !ok || !ok2 || err != nil {
			t.Errorf("%s: not a one-[]byte corpus file", de.Name())
			continue
		}
		// Every seed made from a table; an input the fuzzer found may be
		// anything.
		if len(b) >= hVersion+4 && strings.HasPrefix(b, Magic) {
			if v := binary.LittleEndian.Uint32([]byte(b[hVersion:])); v != Version {
				t.Errorf("%s: format version %d, want %d: regenerate it", de.Name(), v, Version)
			}
		}
		if strings.HasPrefix(de.Name(), "valid-") {
			tab, err := Parse([]byte(b))
			if err == nil {
				err = tab.Verify()
			}
			if err != nil {
				t.Errorf("%s: %v", de.Name(), err)
			}
		}
	}
}
