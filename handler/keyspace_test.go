package handler

import (
	"bytes"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/freqd/freqd/data"
	"github.com/freqd/freqd/shm/freqfile"
)

// scanAll runs a full SCAN iteration with the given options and returns
// every word returned, in order, and the number of calls.
func scanAll(t *testing.T, s *Session, opts ...string) ([]string, int) {
	t.Helper()
	var words []string
	cursor := "0"
	for calls := 1; ; calls++ {
		got, _ := processChunks(s, []byte(multibulk(append([]string{"SCAN", cursor}, opts...)...)))
		next, keys, err := parseScanReply(got)
		if err != "" {
			t.Fatalf("SCAN %s %v: %s in %q", cursor, opts, err, got)
		}
		words = append(words, keys...)
		if next == "0" {
			return words, calls
		}
		if calls > 1e6 {
			t.Fatal("SCAN never ends")
		}
		cursor = next
	}
}

// parseScanReply reads [cursor, [key...]] from a RESP2 reply.
func parseScanReply(r string) (string, []string, string) {
	if !strings.HasPrefix(r, "*2\r\n$") {
		return "", nil, "not a two-element array starting with a bulk cursor"
	}
	lines := strings.Split(strings.TrimSuffix(r, "\r\n"), "\r\n")
	cursor := lines[2]
	n, err := strconv.Atoi(strings.TrimPrefix(lines[3], "*"))
	if err != nil || len(lines) != 4+2*n {
		return "", nil, "malformed key array"
	}
	var keys []string
	for i := 0; i < n; i++ {
		keys = append(keys, lines[5+2*i])
	}
	return cursor, keys, ""
}

// TestScanReturnsEveryWordOnce: a full iteration returns each word of the
// table exactly once, whatever COUNT, and as many as DBSIZE says.
func TestScanReturnsEveryWordOnce(t *testing.T) {
	st := realTable(t)
	h := New(st.table, Options{})
	s := h.NewSession()
	defer s.Close()
	for _, count := range []string{"", "1000", "7", "100000000"} {
		var opts []string
		if count != "" {
			opts = []string{"COUNT", count}
		}
		if count == "7" {
			opts = append(opts, "MATCH", "*")
		}
		words, calls := scanAll(t, s, opts...)
		if len(words) != data.SubtlexUSWords {
			t.Errorf("COUNT %q: %d words in %d calls, want %d", count, len(words), calls, data.SubtlexUSWords)
		}
		seen := make(map[string]bool, len(words))
		for _, w := range words {
			if seen[w] {
				t.Fatalf("COUNT %q: %q returned twice", count, w)
			}
			if _, ok := st.count[w]; !ok {
				t.Fatalf("COUNT %q: %q is not in the table", count, w)
			}
			seen[w] = true
		}
		if want := (data.SubtlexUSWords + 9) / 10; count == "" && calls != want {
			t.Errorf("default COUNT: %d calls, want %d (10 words each)", calls, want)
		}
	}
}

func TestScanFiltersAndRefuses(t *testing.T) {
	st := realTable(t)
	h := New(st.table, Options{})
	s := h.NewSession()
	defer s.Close()

	words, _ := scanAll(t, s, "MATCH", "xylo*", "COUNT", "5000")
	var want []string
	for w := range st.count {
		if strings.HasPrefix(w, "xylo") {
			want = append(want, w)
		}
	}
	sort.Strings(words)
	sort.Strings(want)
	if strings.Join(words, " ") != strings.Join(want, " ") || len(want) == 0 {
		t.Errorf("MATCH xylo*: %q, want %q", words, want)
	}
	if words, _ := scanAll(t, s, "TYPE", "string", "COUNT", "50000"); len(words) != data.SubtlexUSWords {
		t.Errorf("TYPE string: %d words, want all", len(words))
	}
	if words, _ := scanAll(t, s, "TYPE", "hash", "COUNT", "50000"); len(words) != 0 {
		t.Errorf("TYPE hash: %d words, want none", len(words))
	}

	// A cursor of another table: the same words with one count changed.
	var entries []freqfile.Entry
	for r := uint64(1); r <= st.table.Len(); r++ {
		w, c, _ := st.table.Entry(r)
		entries = append(entries, freqfile.Entry{Word: string(w), Count: c})
	}
	entries[0].Count++
	var buf bytes.Buffer
	if err := freqfile.WriteTable(&buf, entries, freqfile.BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	other, err := freqfile.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	got, _ := processChunks(s, []byte(multibulk("SCAN", "0", "COUNT", "5")))
	cursor, _, _ := parseScanReply(got)
	o := New(other, Options{}).NewSession()
	defer o.Close()
	if got, _ := processChunks(o, []byte(multibulk("SCAN", cursor))); got != errorReply(errScanTableChanged) {
		t.Errorf("cursor of another table: %q", got)
	}
	if got, _ := processChunks(s, []byte(multibulk("SCAN", cursor, "COUNT", "2"))); !strings.HasPrefix(got, "*2\r\n") {
		t.Errorf("the same cursor on its own table: %q", got)
	}

	tests := []struct {
		args []string
		want string
	}{
		{[]string{"SCAN", "x"}, errorReply("ERR invalid cursor")},
		{[]string{"SCAN", "-1"}, errorReply("ERR invalid cursor")},
		{[]string{"SCAN", "0", "COUNT", "0"}, errorReply("ERR syntax error")},
		{[]string{"SCAN", "0", "COUNT", "x"}, errorReply("ERR value is not an integer or out of range")},
		{[]string{"SCAN", "0", "MATCH"}, errorReply("ERR syntax error")},
		{[]string{"SCAN", "0", "NOPE", "1"}, errorReply("ERR syntax error")},
		{[]string{"SCAN", strconv.FormatUint(h.cursorTag()<<cursorPosBits|(st.table.Len()+1), 10)}, errorReply("ERR invalid cursor")},
		{[]string{"SCAN"}, arityError("scan")},
	}
	for i, tc := range tests {
		if got, _ := processChunks(s, []byte(multibulk(tc.args...))); got != tc.want {
			t.Errorf("case %d (%v): got %q, want %q", i, tc.args, got, tc.want)
		}
	}
}

func TestKeyspaceCommands(t *testing.T) {
	st := realTable(t)
	h := New(st.table, Options{})
	absent := "zzxqvjk"
	var zy []string
	for w := range st.count {
		if strings.HasPrefix(w, "zy") {
			zy = append(zy, w)
		}
	}
	sort.Slice(zy, func(i, j int) bool { return st.rank[zy[i]] < st.rank[zy[j]] })
	zyReply := make([]string, len(zy))
	for i, w := range zy {
		zyReply[i] = bulk(w)
	}
	digits := strconv.Itoa(len(strconv.FormatUint(st.count["the"], 10)))
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"KEYS", "zy*"}, array(zyReply...)},
		{[]string{"KEYS", "the"}, array(bulk("the"))},
		{[]string{"KEYS", absent}, array()},
		{[]string{"KEYS", "zz[^a-z]*x"}, array()},
		{[]string{"TYPE", "the"}, simple("string")},
		{[]string{"TYPE", absent}, simple("none")},
		{[]string{"STRLEN", "the"}, ":" + digits + "\r\n"},
		{[]string{"STRLEN", absent}, integer(0)},
		{[]string{"TTL", "the"}, ":-1\r\n"},
		{[]string{"PTTL", "the"}, ":-1\r\n"},
		{[]string{"TTL", absent}, ":-2\r\n"},
		{[]string{"PTTL", absent}, ":-2\r\n"},
		{[]string{"EXISTS", "the", absent}, integer(1)},
		{[]string{"OBJECT", "ENCODING", "the"}, bulk("int")},
		{[]string{"OBJECT", "ENCODING", absent}, nilBulk},
		{[]string{"OBJECT", "REFCOUNT", "the"}, integer(1)},
		{[]string{"OBJECT", "IDLETIME", "the"}, integer(0)},
		{[]string{"OBJECT", "ENCODING"}, arityError("object|encoding")},
		{[]string{"OBJECT"}, arityError("object")},
		// "the": a 1-byte length, 3 bytes, the widths byte, a 3-byte count
		// and a 1-byte rank, then the rank entry and the index slot.
		{[]string{"MEMORY", "USAGE", "the"}, integer(1 + 3 + 1 + 3 + 1 + 8 + 8)},
		{[]string{"MEMORY", "USAGE", "the", "SAMPLES", "0"}, integer(25)},
		{[]string{"MEMORY", "USAGE", "the", "SAMPLES"}, errorReply("ERR syntax error")},
		{[]string{"MEMORY", "USAGE", absent}, nilBulk},
		{[]string{"MEMORY", "DOCTOR"}, errorReply("ERR unknown subcommand 'DOCTOR'. Try MEMORY HELP.")},
	}
	for i, tc := range tests {
		if got, _, _ := process(h, multibulk(tc.args...)); got != tc.want {
			t.Errorf("case %d (%v): got %q, want %q", i, tc.args, got, tc.want)
		}
	}
	// RANDOMKEY gives words of the table, not always the same one.
	seen := map[string]bool{}
	for range 50 {
		got, _, _ := process(h, multibulk("RANDOMKEY"))
		lines := strings.Split(got, "\r\n")
		if len(lines) != 3 || st.count[lines[1]] == 0 {
			t.Fatalf("RANDOMKEY: %q", got)
		}
		seen[lines[1]] = true
	}
	if len(seen) < 10 {
		t.Errorf("50 RANDOMKEYs gave %d distinct words", len(seen))
	}
}

// TestKeyspaceHitsAndMisses: INFO counts word lookups as Redis counts key
// reads, so that the share of out-of-vocabulary words shows.
func TestKeyspaceHitsAndMisses(t *testing.T) {
	h := New(realTable(t).table, Options{})
	process(h, multibulk("MGET", "the", "zzxqvjk", "you")+multibulk("FREQ", "a", "qqqzzz")+multibulk("RANK", "zzzqqq")+
		multibulk("EXISTS", "I")+multibulk("GET", "the")+multibulk("TYPE", "the")+multibulk("SCAN", "0")+multibulk("KEYS", "th*"))
	if st := h.Stats(); st.KeyspaceHits != 6 || st.KeyspaceMisses != 3 {
		t.Errorf("hits %d, misses %d; want 6 and 3", st.KeyspaceHits, st.KeyspaceMisses)
	}
}

func TestGlobMatchesLikeRedis(t *testing.T) {
	tests := []struct {
		pat, str string
		nocase   bool
		want     bool
	}{
		{"*", "", false, true},
		{"*", "anything", false, true},
		{"a*", "abc", false, true},
		{"a*", "bac", false, false},
		{"*c", "abc", false, true},
		{"a*b*c", "axxbyyc", false, true},
		{"a*b*c", "axxbyy", false, false},
		{"h?llo", "hello", false, true},
		{"h?llo", "hllo", false, false},
		{"h[ae]llo", "hallo", false, true},
		{"h[ae]llo", "hillo", false, false},
		{"h[^e]llo", "hallo", false, true},
		{"h[^e]llo", "hello", false, false},
		{"h[a-b]llo", "hbllo", false, true},
		{"h[b-a]llo", "hallo", false, true},
		{"h[a-b]llo", "hcllo", false, false},
		{"h\\*llo", "h*llo", false, true},
		{"h\\*llo", "hello", false, false},
		{"[\\]]", "]", false, true},
		{"h[ab", "ha", false, true},
		{"h[ab", "hc", false, false},
		{"HELLO", "hello", false, false},
		{"HELLO", "hello", true, true},
		{"[A-C]x", "bx", true, true},
		{"client|*name", "client|setname", true, true},
		{"a*a*a*a*a*a*a*a*a*a*b", strings.Repeat("a", 200), false, false},
		{"trailing\\", "trailing\\", false, true},
	}
	for i, tc := range tests {
		if got := globMatch([]byte(tc.pat), []byte(tc.str), tc.nocase); got != tc.want {
			t.Errorf("case %d: %q ~ %q (nocase %v) = %v, want %v", i, tc.pat, tc.str, tc.nocase, got, tc.want)
		}
	}
}

func TestOpsMeter(t *testing.T) {
	var m opsMeter
	t0 := time.Unix(1000, 0)
	if r := m.rate(t0, 0); r != 0 {
		t.Errorf("first reading %d, want 0", r)
	}
	// 1000 commands a second for 3 seconds, read every 500 ms: the rate
	// comes from the last two seconds.
	var r uint64
	for i := 1; i <= 6; i++ {
		r = m.rate(t0.Add(time.Duration(i)*500*time.Millisecond), uint64(i*500))
	}
	if r != 1000 {
		t.Errorf("steady 1000/s read as %d", r)
	}
	// Then 4000/s for one second.
	r = m.rate(t0.Add(3500*time.Millisecond), 3000+2000)
	r = m.rate(t0.Add(4000*time.Millisecond), 5000+2000)
	if r != 2500 {
		t.Errorf("after a second at 4000/s following 1000/s: %d, want the two-second average 2500", r)
	}
	// A reading long after the last one measures from it.
	if r := m.rate(t0.Add(14*time.Second), 7000+10000); r != 1000 {
		t.Errorf("reading 10 s later: %d, want 1000", r)
	}
}
