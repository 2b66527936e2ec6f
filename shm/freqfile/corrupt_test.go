package freqfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/bits"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

var (
	subtlexFileOnce sync.Once
	subtlexFile     []byte
)

// subtlexBytes returns a SUBTLEX-US frequency file; callers must copy it
// before changing it.
func subtlexBytes(tb testing.TB) []byte {
	subtlexFileOnce.Do(func() { _, subtlexFile = build(tb, subtlex(tb), BuildOptions{}) })
	return subtlexFile
}

// reseal recomputes the header checksum after a test edits the header, so
// that the field checks behind the checksum are reached.
func reseal(b []byte) {
	binary.LittleEndian.PutUint32(b[hHeaderCRC:], crc32.Checksum(b[:hHeaderCRC], castagnoli))
}

func TestParseRejectsTruncated(t *testing.T) {
	good := subtlexBytes(t)
	h, _ := decodeHeader(good)
	cuts := []uint64{headerSize + 1, h.ranksOff - 3, h.ranksOff, h.recordsOff + 1, h.fileSize / 2, h.fileSize - 1}
	for n := range uint64(headerSize) {
		cuts = append(cuts, n)
	}
	for i, n := range cuts {
		_, err := Parse(good[:n])
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("case %d (cut at %d of %d): error %v, want ErrCorrupt", i, n, len(good), err)
			continue
		}
		var want string
		switch {
		case n == 0:
			want = "empty file"
		case n < uint64(len(Magic)):
			want = "bad magic"
		default:
			want = "truncated"
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("case %d (cut at %d): error %q does not say %q", i, n, err, want)
		}
	}
}

func TestParseRejectsHeaderBitFlips(t *testing.T) {
	good := subtlexBytes(t)
	b := append([]byte(nil), good...)
	for bit := range headerSize * 8 {
		b[bit/8] ^= 1 << (bit % 8)
		if _, err := Parse(b); err == nil {
			t.Errorf("case %d (flip bit %d of byte %d): Parse accepted the header", bit, bit%8, bit/8)
		}
		b[bit/8] ^= 1 << (bit % 8)
	}
}

// TestParseRejectsInconsistentHeader edits fields and reseals the header, as
// a buggy or hostile writer would: offsets must never point outside the file.
func TestParseRejectsInconsistentHeader(t *testing.T) {
	good := subtlexBytes(t)
	le := binary.LittleEndian
	add := func(field int, delta uint64) func([]byte) {
		return func(b []byte) { le.PutUint64(b[field:], le.Uint64(b[field:])+delta) }
	}
	set := func(field int, v uint64) func([]byte) {
		return func(b []byte) { le.PutUint64(b[field:], v) }
	}
	tests := []struct {
		name string
		edit func([]byte)
		want string
	}{
		{"file size +1", add(hFileSize, 1), "truncated"},
		{"file size -1", add(hFileSize, ^uint64(0)), "trailing data"},
		{"records size +1", add(hRecordsSize, 1), "do not tile"},
		{"records far outside", add(hRecordsOff, 1<<40), "do not tile"},
		{"ranks offset +8", add(hRanksOff, 8), "do not tile"},
		{"index offset 0", set(hIndexOff, 0), "do not tile"},
		{"index slots not a power of two", set(hIndexSlots, 3<<10), "power of two"},
		{"index slots doubled", func(b []byte) { add(hIndexSlots, le.Uint64(b[hIndexSlots:]))(b) }, "the file size / 16"},
		{"index slots past the file", set(hIndexSlots, 1<<40), "power of two"},
		{"words fill the index", func(b []byte) { set(hWords, le.Uint64(b[hIndexSlots:]))(b) }, "do not fit"},
		{"one word more", add(hWords, 1), "do not tile"},
		{"words past the file", set(hWords, 1<<50), "do not fit"},
		{"probe limit past the index", func(b []byte) { set(hProbeLimit, le.Uint64(b[hIndexSlots:])/bucketSlots+1)(b) }, "exceeds the"},
		{"probe limit in slots", func(b []byte) { set(hProbeLimit, le.Uint64(b[hIndexSlots:]))(b) }, "index buckets"},
		{"probe limit zero", set(hProbeLimit, 0), "probe limit 0"},
		{"sections past the end, size wrapped", wrapRecords, "do not tile"},
		{"unknown flag", func(b []byte) { b[hFlags] |= 0x80 }, "unknown header flags"},
		{"reserved byte", func(b []byte) { b[hReserved+5] = 1 }, "reserved"},
		{"future version", func(b []byte) { le.PutUint32(b[hVersion:], Version+1) }, "newer than this freqd"},
		{"version zero", func(b []byte) { le.PutUint32(b[hVersion:], 0) }, "unknown format version"},
		{"older version", func(b []byte) { le.PutUint32(b[hVersion:], Version-1) }, "is older than this freqd reads"},
		{"foreign magic", func(b []byte) { copy(b, "FREQDTBX") }, "bad magic"},
	}
	for i, tc := range tests {
		b := append([]byte(nil), good...)
		tc.edit(b)
		reseal(b)
		_, err := Parse(b)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("case %d (%s): error %v, want one containing %q", i, tc.name, err, tc.want)
		}
	}
}

// TestParseRefusesOlderVersions opens files written by the writers of
// versions 1 and 2 (testdata/format-v*.freq, the ten-word table of the fuzz
// seeds): the user must be told to rebuild them, not that they are damaged.
func TestParseRefusesOlderVersions(t *testing.T) {
	for v := uint32(1); v < Version; v++ {
		path := filepath.Join("testdata", fmt.Sprintf("format-v%d.freq", v))
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := binary.LittleEndian.Uint32(b[hVersion:]); got != v {
			t.Fatalf("%s has version %d, want %d", path, got, v)
		}
		want := fmt.Sprintf(`format version %d is older than this freqd reads (version %d); rebuild it with 'freqd build'`, v, Version)
		if _, err := Parse(b); err == nil || err.Error() != want || !errors.Is(err, ErrCorrupt) {
			t.Errorf("Parse: error %v, want %q matching ErrCorrupt", err, want)
		}
		if _, err := Open(path); err == nil || err.Error() != "open "+path+": "+want {
			t.Errorf("Open: error %v, want it to name the file", err)
		}
	}
}

// wrapRecords makes the index as large as the file allows and the word
// count as large as the index allows, so the records would start past the
// end, and sets a records size that wraps the 64-bit sum of offset and size
// around to the real file size.
func wrapRecords(b []byte) {
	le := binary.LittleEndian
	n := uint64(len(b))
	slots := uint64(1) << (bits.Len64(n/slotBytes) - 1)
	words := slots - 1
	ranksOff := headerSize + slots*slotBytes
	recordsOff := ranksOff + words*8
	le.PutUint64(b[hIndexSlots:], slots)
	le.PutUint64(b[hWords:], words)
	le.PutUint64(b[hRanksOff:], ranksOff)
	le.PutUint64(b[hRecordsOff:], recordsOff)
	le.PutUint64(b[hRecordsSize:], n-recordsOff) // wraps
}

func TestOpenNamesTheFile(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		content []byte
		want    string
	}{
		{"empty.freq", nil, "empty file"},
		{"png.freq", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), `not a freqd frequency file (bad magic); build one with 'freqd build'`},
		{"short.freq", subtlexBytes(t)[:100], "truncated header (100 of 128 bytes)"},
	}
	for i, tc := range tests {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, tc.content, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Open(path)
		if err == nil || !strings.HasPrefix(err.Error(), "open "+path+": ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("case %d (%s): error %v, want \"open %s: …%s…\"", i, tc.name, err, path, tc.want)
		}
	}
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Open of a directory: error %v", err)
	}
	if _, err := Open(filepath.Join(dir, "missing.freq")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open of a missing file: error %v, want ErrNotExist", err)
	}
}

// TestCorruptBodyNeverPanics damages the body behind a good header: Verify
// must catch it, and until then every lookup must return, in bounds.
func TestCorruptBodyNeverPanics(t *testing.T) {
	good := subtlexBytes(t)
	h, _ := decodeHeader(good)
	words := subtlex(t)
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(from, to uint64, v func() byte) func([]byte) {
		return func(b []byte) {
			for i := from; i < to; i++ {
				b[i] = v()
			}
		}
	}
	flips := func(from, to uint64, n int) func([]byte) {
		return func(b []byte) {
			for range n {
				b[from+rng.Uint64N(to-from)] ^= 1 << rng.IntN(8)
			}
		}
	}
	ones := func() byte { return 0xff }
	noise := func() byte { return byte(rng.Uint32()) }
	tests := []struct {
		name   string
		damage func([]byte)
	}{
		{"index bit flips", flips(h.indexOff, h.ranksOff, 50)},
		{"rank bit flips", flips(h.ranksOff, h.recordsOff, 50)},
		{"record bit flips", flips(h.recordsOff, h.fileSize, 50)},
		{"index all ones", fill(h.indexOff, h.ranksOff, ones)},
		{"offsets inside records", offsetsInto(h, rng)},
		{"tags all one value", tagsAll(h, 0x1234)},
		{"index noise", fill(h.indexOff, h.ranksOff, noise)},
		{"ranks all ones", fill(h.ranksOff, h.recordsOff, ones)},
		{"records all ones", fill(h.recordsOff, h.fileSize, ones)},
		{"records zeroed", fill(h.recordsOff, h.fileSize, func() byte { return 0 })},
		{"whole body noise", fill(headerSize, h.fileSize, noise)},
	}
	for i, tc := range tests {
		b := append([]byte(nil), good...)
		tc.damage(b)
		tab, err := Parse(b)
		if err != nil {
			t.Fatalf("case %d (%s): Parse rejected a good header: %v", i, tc.name, err)
		}
		if err := tab.Verify(); !errors.Is(err, ErrCorrupt) {
			t.Errorf("case %d (%s): Verify = %v, want ErrCorrupt", i, tc.name, err)
		}
		found := 0
		for _, e := range words {
			if _, ok := tab.Lookup([]byte(e.Word)); ok {
				found++
			}
			tab.Rank([]byte(e.Word))
		}
		for r := uint64(0); r <= tab.Len()+1; r++ {
			if w, _, ok := tab.Entry(r); ok && !within(w, b) {
				t.Fatalf("case %d (%s): Entry(%d) returned memory outside the file", i, tc.name, r)
			}
		}
		t.Logf("case %d (%s): %d of %d words still found", i, tc.name, found, len(words))
	}
}

// offsetsInto points every used index slot at a random byte of the records
// section, mostly not the start of a record, keeping its tag: lookups then
// decode words, widths and counts from arbitrary places, the file's end
// included.
func offsetsInto(h header, rng *rand.Rand) func([]byte) {
	return func(b []byte) {
		for bk := b[h.indexOff:h.ranksOff]; len(bk) > 0; bk = bk[bucketSize:] {
			for s := range bucketSlots {
				if tag := binary.LittleEndian.Uint16(bk[2*s:]); tag != 0 {
					off := h.recordsOff + rng.Uint64N(h.recordsSize)
					if rng.IntN(4) == 0 {
						off = h.fileSize - rng.Uint64N(min(h.recordsSize, 20))
					}
					setSlot(bk, s, uint64(tag), off)
				}
			}
		}
	}
}

// tagsAll gives every slot of the index the same tag, keeping the offsets:
// no slot is empty, so lookups read probe-limit buckets and try every slot.
func tagsAll(h header, tag uint16) func([]byte) {
	return func(b []byte) {
		for i := h.indexOff; i < h.ranksOff; i += bucketSize {
			for s := range uint64(bucketSlots) {
				binary.LittleEndian.PutUint16(b[i+2*s:], tag)
			}
		}
	}
}

// within reports whether w lies inside b.
func within(w, b []byte) bool {
	if len(w) == 0 {
		return true
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(w)))
	return lo <= p && p+uintptr(len(w)) <= lo+uintptr(len(b))
}
