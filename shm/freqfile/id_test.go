package freqfile

import (
	"hash/crc32"
	"math/rand/v2"
	"path/filepath"
	"testing"
)

// TestCRCBeforeInvertsUpdate: running the CRC backwards over a tail gives
// the CRC of the prefix, for every split of random data.
func TestCRCBeforeInvertsUpdate(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 200 {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		full := crc32.Checksum(b, castagnoli)
		for cut := 0; cut <= n; cut++ {
			if got, want := crcBefore(full, b[cut:]), crc32.Checksum(b[:cut], castagnoli); got != want {
				t.Fatalf("%d bytes cut at %d: crcBefore = %#08x, want %#08x", n, cut, got, want)
			}
		}
	}
}

// TestIDIgnoresBuildTimeOnly: two builds of the same words a moment apart
// share an id though their checksums differ; a different count, another
// metadata fact or case folding changes it.
func TestIDIgnoresBuildTimeOnly(t *testing.T) {
	dir := t.TempDir()
	entries := []Entry{{Word: "the", Count: 30}, {Word: "of", Count: 20}, {Word: "zebra", Count: 1}}
	build := func(name string, es []Entry, opts BuildOptions) *Table {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := WriteFile(path, es, opts); err != nil {
			t.Fatal(err)
		}
		tb, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tb.Close() })
		return tb
	}
	a := build("a", entries, BuildOptions{FoldCase: true, Meta: Metadata{"built": "2026-12-03T10:00:00Z", "source": "x"}})
	b := build("b", entries, BuildOptions{FoldCase: true, Meta: Metadata{"built": "2026-12-03T10:00:01Z", "source": "x"}})
	if a.Checksum() == b.Checksum() {
		t.Fatal("the build time should change the body checksum; the test proves nothing")
	}
	if a.ID() != b.ID() {
		t.Errorf("same words built a second apart: ids %08x and %08x, want one", a.ID(), b.ID())
	}
	others := map[string]*Table{
		"a count":  build("c", []Entry{{Word: "the", Count: 31}, {Word: "of", Count: 20}, {Word: "zebra", Count: 1}}, BuildOptions{FoldCase: true, Meta: Metadata{"built": "2026-12-03T10:00:00Z", "source": "x"}}),
		"a fact":   build("d", entries, BuildOptions{FoldCase: true, Meta: Metadata{"built": "2026-12-03T10:00:00Z", "source": "y"}}),
		"no fold":  build("e", entries, BuildOptions{Meta: Metadata{"built": "2026-12-03T10:00:00Z", "source": "x"}}),
		"no built": build("f", entries, BuildOptions{FoldCase: true, Meta: Metadata{"source": "x"}}),
	}
	for what, o := range others {
		if what == "no built" {
			if o.ID() != a.ID() {
				t.Errorf("a table without a build time: id %08x, want %08x like the same words with one", o.ID(), a.ID())
			}
			continue
		}
		if o.ID() == a.ID() {
			t.Errorf("%s changed, the id %08x did not", what, o.ID())
		}
	}
}
