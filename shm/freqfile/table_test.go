package freqfile

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/freqd/freqd/internal/procstat"
	"github.com/freqd/freqd/shm/memfd"
	"golang.org/x/sys/unix"

	"github.com/freqd/freqd/data"
)

// subtlex parses the embedded SUBTLEX-US list. It parses the TSV itself so
// that the expected counts do not come from the code under test.
func subtlex(tb testing.TB) []Entry {
	tb.Helper()
	var out []Entry
	sc := bufio.NewScanner(bytes.NewReader(data.SubtlexUS))
	for sc.Scan() {
		word, count, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			tb.Fatalf("SUBTLEX line %d: no tab in %q", len(out)+1, sc.Text())
		}
		n, err := strconv.ParseUint(count, 10, 64)
		if err != nil {
			tb.Fatalf("SUBTLEX line %d: %v", len(out)+1, err)
		}
		out = append(out, Entry{word, n})
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// build writes a copy of entries (WriteTable sorts in place) and parses it.
func build(tb testing.TB, entries []Entry, opts BuildOptions) (*Table, []byte) {
	tb.Helper()
	var buf bytes.Buffer
	if err := WriteTable(&buf, append([]Entry(nil), entries...), opts); err != nil {
		tb.Fatalf("WriteTable: %v", err)
	}
	t, err := Parse(buf.Bytes())
	if err != nil {
		tb.Fatalf("Parse of a fresh table: %v", err)
	}
	return t, buf.Bytes()
}

// absentWords are not in SUBTLEX-US, in either case.
var absentWords = []string{"", "qqqzx", "freqdtbl", "the ", " the", "thee\x00", "zzzzzzzzzzzzzzzzzzzzzzzz", strings.Repeat("a", MaxWordLen+1), "\xff\xfe"}

func TestRoundTripSubtlex(t *testing.T) {
	entries := subtlex(t)
	if len(entries) != data.SubtlexUSWords {
		t.Fatalf("parsed %d SUBTLEX lines, data package says %d", len(entries), data.SubtlexUSWords)
	}
	path := filepath.Join(t.TempDir(), "subtlex.freq")
	if err := WriteFile(path, append([]Entry(nil), entries...), BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	tab, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer tab.Close()
	if err := tab.Verify(); err != nil {
		t.Fatalf("Verify of a fresh file: %v", err)
	}
	if tab.Len() != data.SubtlexUSWords || tab.Total() != data.SubtlexUSTotal || tab.FoldsCase() {
		t.Fatalf("Len %d Total %d FoldsCase %v, want %d %d false", tab.Len(), tab.Total(), tab.FoldsCase(), data.SubtlexUSWords, data.SubtlexUSTotal)
	}
	for i, e := range entries {
		count, ok := tab.Lookup([]byte(e.Word))
		if !ok || count != e.Count {
			t.Fatalf("case %d (%q): Lookup = %d, %v; want %d, true", i, e.Word, count, ok, e.Count)
		}
		rank, ok := tab.Rank([]byte(e.Word))
		if !ok {
			t.Fatalf("case %d (%q): Rank not found", i, e.Word)
		}
		word, c, ok := tab.Entry(rank)
		if !ok || string(word) != e.Word || c != e.Count {
			t.Fatalf("case %d (%q): Entry(Rank = %d) = %q, %d, %v", i, e.Word, rank, word, c, ok)
		}
	}
	// Ranks run 1..N by count, highest first, ties by byte order.
	prevWord, prevCount, _ := tab.Entry(1)
	for r := uint64(2); r <= tab.Len(); r++ {
		word, count, ok := tab.Entry(r)
		if !ok {
			t.Fatalf("Entry(%d) not found", r)
		}
		if count > prevCount || count == prevCount && string(word) <= string(prevWord) {
			t.Fatalf("rank %d (%q, %d) is out of order after (%q, %d)", r, word, count, prevWord, prevCount)
		}
		prevWord, prevCount = word, count
	}
	for _, r := range []uint64{0, tab.Len() + 1, 1 << 63} {
		if w, c, ok := tab.Entry(r); ok {
			t.Errorf("Entry(%d) = %q, %d; want not found", r, w, c)
		}
	}
	for i, w := range absentWords {
		if c, ok := tab.Lookup([]byte(w)); ok {
			t.Errorf("case %d (%q): Lookup = %d, want absent", i, w, c)
		}
		if r, ok := tab.Rank([]byte(w)); ok {
			t.Errorf("case %d (%q): Rank = %d, want absent", i, w, r)
		}
	}
	// Case matters in an unfolded table: SUBTLEX has "I" and "i" apart.
	upper, _ := tab.Lookup([]byte("I"))
	lower, _ := tab.Lookup([]byte("i"))
	if upper == lower {
		t.Errorf(`unfolded table: "I" and "i" both count %d`, upper)
	}
}

func TestRoundTripFolded(t *testing.T) {
	raw := subtlex(t)
	raw = append(raw, Entry{"i", 1234}, Entry{"THE", 55}, Entry{"The", 66})
	sums := map[string]uint64{}
	for _, e := range raw {
		sums[strings.ToLower(e.Word)] += e.Count
	}
	var entries []Entry
	for w, c := range sums {
		entries = append(entries, Entry{string(Fold(nil, []byte(w))), c})
	}
	tab, _ := build(t, entries, BuildOptions{FoldCase: true})
	if !tab.FoldsCase() || tab.Len() != data.SubtlexUSWords || tab.Total() != data.SubtlexUSTotal+1234+55+66 {
		t.Fatalf("FoldsCase %v Len %d Total %d, want true %d %d", tab.FoldsCase(), tab.Len(), tab.Total(), data.SubtlexUSWords, data.SubtlexUSTotal+1234+55+66)
	}
	// SUBTLEX-US spells no word in two cases ("I" has no "i" line), so the
	// sums are checked on words added in other spellings below.
	// Every spelling of the list finds the sum of the words that fold alike.
	for i, e := range raw {
		want := sums[strings.ToLower(e.Word)]
		for _, q := range []string{e.Word, strings.ToUpper(e.Word), strings.ToLower(e.Word)} {
			if got, ok := tab.Lookup([]byte(q)); !ok || got != want {
				t.Fatalf("case %d (%q): Lookup = %d, %v; want %d", i, q, got, ok, want)
			}
		}
	}
	tests := []struct {
		spellings []string
		want      uint64
	}{
		{[]string{"I", "i"}, countOf(raw, "I") + 1234},
		{[]string{"the", "The", "THE", "tHe"}, countOf(raw, "the") + 55 + 66},
	}
	for i, tc := range tests {
		for _, q := range tc.spellings {
			if got, _ := tab.Lookup([]byte(q)); got != tc.want {
				t.Errorf("case %d (%q): folded Lookup = %d, want %d", i, q, got, tc.want)
			}
		}
	}
}

func countOf(entries []Entry, word string) uint64 {
	for _, e := range entries {
		if e.Word == word {
			return e.Count
		}
	}
	return 0
}

func TestEmptyTable(t *testing.T) {
	tab, b := build(t, nil, BuildOptions{})
	if tab.Len() != 0 || tab.Total() != 0 || tab.Size() != int64(len(b)) {
		t.Fatalf("empty table: Len %d Total %d Size %d (file %d bytes)", tab.Len(), tab.Total(), tab.Size(), len(b))
	}
	if err := tab.Verify(); err != nil {
		t.Fatal(err)
	}
	if c, ok := tab.Lookup([]byte("a")); ok {
		t.Errorf("Lookup in an empty table = %d", c)
	}
	if _, _, ok := tab.Entry(1); ok {
		t.Error("Entry(1) in an empty table found something")
	}
}

func TestLookupDoesNotAllocate(t *testing.T) {
	entries := subtlex(t)[:2000]
	plain, _ := build(t, entries, BuildOptions{})
	foldedEntries := []Entry{{"the", 10}, {"ⱥ", 3}, {strings.Repeat("ab", 200), 2}}
	folded, _ := build(t, foldedEntries, BuildOptions{FoldCase: true})
	tests := []struct {
		name  string
		tab   *Table
		query string
	}{
		{"hit", plain, "the"},
		{"miss", plain, "qqqzx"},
		{"folded hit", folded, "The"},
		{"folded hit that grows", folded, "Ⱥ"},
		{"folded long hit", folded, strings.Repeat("AB", 200)},
		{"folded miss", folded, "QQQZX"},
	}
	for i, tc := range tests {
		q := []byte(tc.query)
		if _, ok := tc.tab.Lookup(q); ok != !strings.Contains(tc.name, "miss") {
			t.Errorf("case %d (%s): Lookup(%q) found = %v", i, tc.name, tc.query, ok)
		}
		if n := testing.AllocsPerRun(100, func() { tc.tab.Lookup(q) }); n != 0 {
			t.Errorf("case %d (%s): Lookup allocates %.1f times", i, tc.name, n)
		}
	}
}

func TestOpenFileOutlivesDescriptor(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.freq")
	if err := WriteFile(path, []Entry{{"alpha", 7}, {"beta", 3}}, BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := OpenFile(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := tab.Lookup([]byte("beta")); !ok || c != 3 {
		t.Errorf("after closing the descriptor: Lookup(beta) = %d, %v; want 3", c, ok)
	}
	if err := tab.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := tab.Lookup([]byte("beta")); ok {
		t.Error("Lookup after Close found a word")
	}
	if err := tab.Verify(); err == nil {
		t.Error("Verify after Close succeeded")
	}
}

// homedAt returns n words, not in exclude, whose home bucket in an index of
// the given number of buckets is bucket: words that collide on purpose.
func homedAt(buckets, bucket uint64, n int, exclude map[string]bool) []string {
	var out []string
	for i := 0; len(out) < n; i++ {
		w := "w" + strconv.Itoa(i)
		if Hash([]byte(w), hashSeed)&(buckets-1) == bucket && !exclude[w] {
			out = append(out, w)
		}
	}
	return out
}

// TestBucketOverflow fills the last bucket past its eight slots: the rest
// must go on into the next bucket, wrapping to the first, and be found there.
func TestBucketOverflow(t *testing.T) {
	const n = 40
	buckets := indexSlotsFor(n) / bucketSlots
	last := buckets - 1
	colliders := homedAt(buckets, last, 12, nil)
	var entries []Entry
	for i, w := range colliders {
		entries = append(entries, Entry{w, uint64(1000 - i)}) // rank i+1
	}
	taken := map[string]bool{}
	for _, w := range colliders {
		taken[w] = true
	}
	for i := 0; len(entries) < n; i++ {
		w := "x" + strconv.Itoa(i)
		if Hash([]byte(w), hashSeed)&(buckets-1) != last {
			entries = append(entries, Entry{w, uint64(1 + i)})
		}
	}
	tab, b := build(t, entries, BuildOptions{})
	if tab.hdr.probeLimit < 2 {
		t.Fatalf("probe limit %d, want at least 2 buckets", tab.hdr.probeLimit)
	}
	// The most frequent eight fill their home bucket in rank order; the
	// next four wrap to bucket 0, before any word homed there, and their
	// records go to the record line of bucket 0, where their slots are,
	// not of the bucket they are homed at.
	bucket := func(i uint64) []byte { return b[headerSize+i*bucketSize:][:bucketSize] }
	for s, w := range colliders {
		bi, slot := last, s
		if s >= bucketSlots {
			bi, slot = 0, s-bucketSlots
		}
		bk := bucket(bi)
		wantTag := hashTag(Hash([]byte(w), hashSeed))
		if tag := uint64(binary.LittleEndian.Uint16(bk[2*slot:])); tag != wantTag {
			t.Errorf("case %d (%s): slot holds tag %#x, want %#x", s, w, tag, wantTag)
		}
		line := headerSize + bi*bucketSize + bucketLine
		off := binary.LittleEndian.Uint64(tab.ranks[s*8:])
		if s >= bucketSlots && (off < line || off >= line+bucketSize-bucketLine) {
			t.Errorf("case %d (%s): record at %d, want it in bucket 0's record line [%d, %d)", s, w, off, line, line+bucketSize-bucketLine)
		}
		if s < bucketSlots && off < tab.hdr.ranksOff && (off < line || off >= line+bucketSize-bucketLine) {
			t.Errorf("case %d (%s): record at %d in the index, but not in its bucket's record line [%d, %d)", s, w, off, line, line+bucketSize-bucketLine)
		}
		if word, _, _ := tab.Entry(uint64(s) + 1); string(word) != w {
			t.Errorf("case %d (%s): rank %d is %q", s, w, s+1, word)
		}
	}
	for i, e := range entries {
		if c, ok := tab.Lookup([]byte(e.Word)); !ok || c != e.Count {
			t.Errorf("case %d (%s): Lookup = %d, %v; want %d", i, e.Word, c, ok, e.Count)
		}
	}
	// Absent words homed at the full bucket read on to the next one.
	for i, w := range homedAt(buckets, last, 20, taken) {
		if c, ok := tab.Lookup([]byte(w)); ok {
			t.Errorf("case %d (%s): absent word found, count %d", i, w, c)
		}
	}
}

// TestTagZeroIsStoredAsOne: a tag of 0 would mark the slot empty, so a word
// whose hash starts with 16 zero bits is stored under tag 1, beside a word
// whose tag really is 1, and both are found.
func TestTagZeroIsStoredAsOne(t *testing.T) {
	var zero, one string
	for i := 0; zero == "" || one == ""; i++ {
		w := "t" + strconv.Itoa(i)
		switch Hash([]byte(w), hashSeed) >> (64 - tagBits) {
		case 0:
			zero = w
		case 1:
			one = w
		}
	}
	tab, b := build(t, []Entry{{zero, 30}, {one, 20}, {"other", 10}}, BuildOptions{})
	if tab.bmask != 0 {
		t.Fatalf("%d buckets, want 1", tab.bmask+1)
	}
	for s := range 2 { // slots in rank order: zero, then one
		if tag := binary.LittleEndian.Uint16(b[headerSize+2*s:]); tag != 1 {
			t.Errorf("slot %d has tag %#x, want 1", s, tag)
		}
	}
	for i, e := range []Entry{{zero, 30}, {one, 20}, {"other", 10}} {
		if c, ok := tab.Lookup([]byte(e.Word)); !ok || c != e.Count {
			t.Errorf("case %d (%s): Lookup = %d, %v; want %d", i, e.Word, c, ok, e.Count)
		}
	}
}

// TestLastRecordAtEndOfFile decodes a last record with fewer than 8 bytes
// after its widths byte, where an 8-byte load would run past the file. The
// words are longer than a bucket's record line, so that their records go
// to the records section, at the end of the file.
func TestLastRecordAtEndOfFile(t *testing.T) {
	long := func(w string) string { return w + strings.Repeat(".", bucketSize-bucketLine) }
	filler := strings.Repeat("f", 59) // with a 2-byte count and rank 1: a 64-byte record
	if n := recordSize(filler, 60000, 1); n != bucketSize-bucketLine {
		t.Fatalf("filler record of %d bytes", n)
	}
	tests := []struct {
		name    string
		entries []Entry // the last one is the least frequent
		tail    int     // bytes after the last record's widths byte
	}{
		{"count 0", []Entry{{long("the"), 300}, {long("a"), 0}}, 1},
		{"one-byte count", []Entry{{long("the"), 300}, {long("a"), 7}}, 2},
		{"five-byte count", []Entry{{long("b"), 1<<32 + 1}, {long("a"), 1 << 32}}, 6},
		{"seven-byte count", []Entry{{long("b"), 1<<55 + 1}, {long("a"), 1 << 55}}, 8},
		{"eight-byte count", []Entry{{long("b"), 1<<63 + 1}, {long("a"), 1<<63 - 2}}, 9},
		{"only word", []Entry{{long("solo"), 5}}, 2},
		// A 64-byte record fills the line; the short words after it go to
		// the records section and are compared by find's short compare.
		{"short words after a full line", []Entry{{filler, 60000}, {"the", 300}, {"a", 7}}, 2},
		{"short word, count 0, after a full line", []Entry{{filler, 60000}, {"a", 0}}, 1},
	}
	for i, tc := range tests {
		tab, b := build(t, tc.entries, BuildOptions{})
		n := uint64(len(tc.entries))
		last := tc.entries[n-1]
		if got := b[len(b)-tc.tail-1]; got != byte(byteWidth(last.Count)|byteWidth(n)<<4) {
			t.Fatalf("case %d (%s): widths byte %#x at %d bytes from the end", i, tc.name, got, tc.tail+1)
		}
		for r, e := range tc.entries {
			c, ok := tab.Lookup([]byte(e.Word))
			rank, rok := tab.Rank([]byte(e.Word))
			w, ec, eok := tab.Entry(uint64(r) + 1)
			if !ok || c != e.Count || !rok || rank != uint64(r)+1 || !eok || string(w) != e.Word || ec != e.Count {
				t.Errorf("case %d (%s): %q: Lookup %d %v, Rank %d %v, Entry %q %d %v", i, tc.name, e.Word, c, ok, rank, rok, w, ec, eok)
			}
		}
		// Cut one byte off the end (and fix the header): the last record
		// no longer fits, and must read as absent, not as a shorter one.
		cut := append([]byte(nil), b[:len(b)-1]...)
		h, _ := decodeHeader(b)
		h.fileSize--
		h.recordsSize--
		copy(cut, h.encode())
		ct, err := Parse(cut)
		if err != nil {
			t.Fatalf("case %d (%s): Parse of the cut file: %v", i, tc.name, err)
		}
		if c, ok := ct.Lookup([]byte(last.Word)); ok {
			t.Errorf("case %d (%s): cut file: Lookup(%q) = %d, want absent", i, tc.name, last.Word, c)
		}
		if _, _, ok := ct.Entry(n); ok {
			t.Errorf("case %d (%s): cut file: Entry(%d) found", i, tc.name, n)
		}
	}
}

// TestWordBitsCoversEveryByte: two words of the same length, up to
// shortWord bytes, that differ in any one byte pack differently, so find's
// short compare is a full compare.
func TestWordBitsCoversEveryByte(t *testing.T) {
	for n := 1; n <= shortWord; n++ {
		w := []byte("abcdefghijklmnopq")[:n]
		a, b := wordBits(w)
		for i := range n {
			v := append([]byte(nil), w...)
			v[i] ^= 0x80
			if va, vb := wordBits(v); va == a && vb == b {
				t.Errorf("length %d: %q and %q pack alike", n, w, v)
			}
		}
	}
}

// TestSameTagSameLengthIsAbsent: for each word length up to shortWord+1,
// an absent word of that length whose tag matches a present word's is
// compared with that word's record and found absent. In a one-bucket table
// every word shares the bucket, so only the 16-bit tag must collide.
func TestSameTagSameLengthIsAbsent(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	randWord := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(1 + rng.IntN(255)) // any byte: the table is not folded
		}
		return string(b)
	}
	for n := 1; n <= shortWord+1; n++ {
		present := randWord(n)
		tab, _ := build(t, []Entry{{present, 42}}, BuildOptions{})
		tag := hashTag(Hash([]byte(present), hashSeed))
		var twin string
		for range 1 << 22 {
			if w := randWord(n); w != present && hashTag(Hash([]byte(w), hashSeed)) == tag {
				twin = w
				break
			}
		}
		if twin == "" {
			if n <= 2 {
				continue // too few words this short to share a 16-bit tag
			}
			t.Fatalf("length %d: no word with the tag of %q", n, present)
		}
		if c, ok := tab.Lookup([]byte(twin)); ok {
			t.Errorf("length %d: %q (same tag as %q) found, count %d", n, twin, present, c)
		}
		if c, ok := tab.Lookup([]byte(present)); !ok || c != 42 {
			t.Errorf("length %d: Lookup(%q) = %d, %v; want 42", n, present, c, ok)
		}
	}
}

// TestRecordsInBucketLine: records go into their bucket's record line in
// rank order while they fit; one that does not goes to the records section,
// and a later, shorter one still takes the room left in the line.
func TestRecordsInBucketLine(t *testing.T) {
	w16 := func(c byte) string { return strings.Repeat(string(c), 16) }                          // a 20-byte record
	entries := []Entry{{w16('a'), 50}, {w16('b'), 40}, {w16('c'), 30}, {w16('d'), 20}, {"x", 0}} // "x": a 4-byte record
	tab, _ := build(t, entries, BuildOptions{})
	if tab.bmask != 0 {
		t.Fatalf("%d buckets, want 1", tab.bmask+1)
	}
	line := uint64(headerSize + bucketLine)
	wantInLine := map[uint64]bool{1: true, 2: true, 3: true, 4: false, 5: true}
	for r := uint64(1); r <= 5; r++ {
		off := binary.LittleEndian.Uint64(tab.ranks[(r-1)*8:])
		if inLine := off >= line && off < line+bucketSize-bucketLine; inLine != wantInLine[r] {
			t.Errorf("rank %d: record at %d, in the record line [%d, %d) = %v, want %v", r, off, line, line+bucketSize-bucketLine, inLine, wantInLine[r])
		}
	}
	if want := uint64(recordSize(w16('d'), 20, 4)); tab.hdr.recordsSize != want {
		t.Errorf("records section of %d bytes, want %d (rank 4 alone)", tab.hdr.recordsSize, want)
	}
	for i, e := range entries {
		c, ok := tab.Lookup([]byte(e.Word))
		r, rok := tab.Rank([]byte(e.Word))
		w, ec, eok := tab.Entry(uint64(i) + 1)
		if !ok || c != e.Count || !rok || r != uint64(i)+1 || !eok || string(w) != e.Word || ec != e.Count {
			t.Errorf("case %d (%s): Lookup %d %v, Rank %d %v, Entry %q %d %v", i, e.Word, c, ok, r, rok, w, ec, eok)
		}
	}
}

// TestHostileOffsetsNeverPanic points a slot, and the rank array, at every
// offset in and around the file: into the header, tag lines, record lines,
// the rank array and the last bytes. Lookups of short and long words, Rank
// and Entry must not panic, whatever they read there.
func TestHostileOffsetsNeverPanic(t *testing.T) {
	long := strings.Repeat("w", 70)
	entries := []Entry{{"the", 9}, {long, 8}, {"of", 7}}
	_, good := build(t, entries, BuildOptions{})
	queries := [][]byte{[]byte("the"), []byte(long), []byte(""), []byte("\x00"), make([]byte, 17)}
	for n := 1; n <= shortWord; n++ {
		queries = append(queries, bytes.Repeat([]byte{'q'}, n))
	}
	for off := uint64(0); off < uint64(len(good))+300; off++ {
		b := append([]byte(nil), good...)
		// The last bytes read as word lengths 1..16, so that a record
		// "starting" there claims a word running past the end.
		for i := range 2 * shortWord {
			b[len(b)-1-i] = byte(1 + i%shortWord)
		}
		tab, err := Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		for s := range bucketSlots { // every slot of the only bucket, whatever its tag
			o := b[headerSize+bucketOffsets+6*s:]
			binary.LittleEndian.PutUint32(o, uint32(off))
			binary.LittleEndian.PutUint16(o[4:], uint16(off>>32))
		}
		for r := range entries {
			binary.LittleEndian.PutUint64(tab.ranks[r*8:], off)
		}
		for _, q := range queries {
			// Give the slots the query's tag, so the compare runs.
			for s := range bucketSlots {
				binary.LittleEndian.PutUint16(b[headerSize+2*s:], uint16(hashTag(Hash(q, hashSeed))))
			}
			tab.Lookup(q)
			tab.Rank(q)
		}
		for r := uint64(0); r <= uint64(len(entries))+1; r++ {
			tab.Entry(r)
		}
	}
}

// TestServesFromASealedMemfd opens a table the way a worker does: from a
// sealed memfd whose descriptor is closed once the table is mapped.
func TestServesFromASealedMemfd(t *testing.T) {
	tab := openSealed(t, subtlexBytes(t))
	if c, ok := tab.Lookup([]byte("the")); !ok || c != 1501908 {
		t.Errorf("Lookup(the) through the memfd = %d, %v; want 1501908", c, ok)
	}
}

// TestAMappedTableAsksForHugePages checks that a worker's mapping of a
// table asks for transparent huge pages (VmFlags "hg" in smaps) and, where
// the system gives shared memory huge pages, gets them.
func TestAMappedTableAsksForHugePages(t *testing.T) {
	setting, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/shmem_enabled")
	if err != nil {
		t.Skipf("no transparent huge pages for shared memory in this kernel: %v", err)
	}
	fallbacks := thpFileFallbacks(t)
	tab := openSealed(t, subtlexBytes(t))
	if flags := vmFlags(t, tab.mapped); !slices.Contains(flags, "hg") {
		t.Errorf("the table's mapping has VmFlags %v, without hg (MADV_HUGEPAGE)", flags)
	}
	huge, err := tab.HugePageBytes()
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case strings.Contains(string(setting), "[never]"), strings.Contains(string(setting), "[deny]"):
		if huge != 0 {
			t.Errorf("shmem_enabled is %q, yet %d bytes are in huge pages", bytes.TrimSpace(setting), huge)
		}
	default:
		// advise, within_size, always or force: the table is 2.9 MB, so
		// its first 2 MiB fill one huge page. The mapping asks for them,
		// which lets the kernel compact memory to find one.
		// Memory too fragmented for one is the kernel's call, and it
		// counts the refusal.
		if huge < 2<<20 {
			if thpFileFallbacks(t) > fallbacks {
				t.Skipf("the kernel had no free huge page for the table (thp_file_fallback rose)")
			}
			t.Errorf("shmem_enabled is %q, yet %d bytes of the table are in huge pages, want 2 MiB or more", bytes.TrimSpace(setting), huge)
		}
	}
}

// TestATableOnDiskIsNotAdvisedHuge: a table mapped where it lies is read
// from disk on a fault, and a mapping advised for huge pages would read
// megabytes around each one.
func TestATableOnDiskIsNotAdvisedHuge(t *testing.T) {
	dir := t.TempDir()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil || st.Type == unix.TMPFS_MAGIC {
		t.Skipf("the test directory %s is not on a disk (statfs: %v)", dir, err)
	}
	path := filepath.Join(dir, "t.freq")
	if err := os.WriteFile(path, subtlexBytes(t), 0o644); err != nil {
		t.Fatal(err)
	}
	tab, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer tab.Close()
	if flags := vmFlags(t, tab.mapped); slices.Contains(flags, "hg") {
		t.Errorf("a table mapped from disk has VmFlags %v: advised for huge pages", flags)
	}
}

// openSealed opens a table the way a worker does: from a sealed memfd
// holding b, whose descriptor is closed once the table is mapped. The
// table is verified, which touches every page, and closed with the test.
func openSealed(t *testing.T, b []byte) *Table {
	t.Helper()
	f, err := memfd.Sealed("freqd-test", b)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := OpenFile(f)
	f.Close() // the mapping outlives the descriptor
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tab.Close() })
	if err := tab.Verify(); err != nil {
		t.Fatal(err)
	}
	return tab
}

// vmFlags returns the VmFlags of the mapping m starts.
func vmFlags(t *testing.T, m []byte) []string {
	t.Helper()
	mp, err := procstat.SelfMapping(uintptr(unsafe.Pointer(unsafe.SliceData(m))))
	if err != nil {
		t.Fatal(err)
	}
	return mp.Flags
}

// thpFileFallbacks reads how often the kernel could not give a huge page
// of shared memory or page cache when one was asked for.
func thpFileFallbacks(t *testing.T) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/vmstat")
	if err != nil {
		t.Skip(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "thp_file_fallback "); ok {
			n, _ := strconv.ParseUint(v, 10, 64)
			return n
		}
	}
	return 0
}
