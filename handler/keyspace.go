package handler

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/freqd/freqd/resp"
)

// Reading the table as a Redis keyspace: every word is a key of type
// string whose value is its count (what GET returns), with no expiry, in
// database 0. These commands let redis-cli --scan, --bigkeys and --memkeys
// and other generic tools list and inspect a table over the protocol.

// SCAN cursors. A cursor names a position in the table's rank order and
// the table it belongs to: position in the low 40 bits, a 23-bit tag of the
// table's checksum above them, so cursors stay below 2^63 for clients that
// read them as signed integers. Positions are stable while a table is
// served, so a full iteration returns every word exactly once; a cursor
// from another table (a reload replaced the table, or the connection moved
// to a worker serving a different one) is refused rather than silently
// skipping or repeating words.
const (
	cursorPosBits = 40
	cursorTagBits = 23
	defaultScan   = 10
)

// errScanTableChanged tells a client whose cursor belongs to another table.
const errScanTableChanged = "ERR the table changed since this SCAN began (the server reloaded a new table); start again from cursor 0"

// cursorTag is the tag of the table served, never 0 so that a cursor
// after the first call is never 0, which means the end.
func (h *Handler) cursorTag() uint64 {
	c := h.table.Checksum()
	tag := (c ^ c>>cursorTagBits ^ c>>(2*cursorTagBits)) & (1<<cursorTagBits - 1)
	if tag == 0 {
		tag = 1
	}
	return tag
}

// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]: the words from
// the cursor's position on, COUNT of them examined per call (10 by
// default), those matching the pattern and type returned, and the cursor
// to continue from, "0" at the end. Every word is of type string.
func runScan(s *Session, args [][]byte, out []byte) []byte {
	cursor, err := strconv.ParseUint(string(args[1]), 10, 64)
	if err != nil {
		return resp.AppendError(out, "ERR invalid cursor")
	}
	var pattern []byte
	count := uint64(defaultScan)
	typeOK := true
	for i := 2; i < len(args); i += 2 {
		if i+1 >= len(args) {
			return resp.AppendError(out, errSyntax)
		}
		opt, val := args[i], args[i+1]
		switch {
		case bytes.EqualFold(opt, []byte("MATCH")):
			pattern = val
			if len(val) == 1 && val[0] == '*' {
				pattern = nil
			}
		case bytes.EqualFold(opt, []byte("COUNT")):
			n, ok := parseInt(val)
			if !ok {
				return resp.AppendError(out, errNotInteger)
			}
			if n < 1 {
				return resp.AppendError(out, errSyntax)
			}
			count = uint64(n)
		case bytes.EqualFold(opt, []byte("TYPE")):
			// An unknown type matches nothing, as in Redis 7.
			typeOK = bytes.EqualFold(val, []byte("string"))
		default:
			return resp.AppendError(out, errSyntax)
		}
	}
	h := s.h
	words := h.table.Len()
	tag := h.cursorTag()
	pos := cursor & (1<<cursorPosBits - 1)
	switch {
	case cursor == 0:
	case cursor>>cursorPosBits != tag:
		return resp.AppendError(out, errScanTableChanged)
	case pos > words:
		return resp.AppendError(out, "ERR invalid cursor")
	}
	end := words
	if count < words-pos {
		end = pos + count
	}
	// The words are written after room for the headers, which depend on
	// how many matched.
	start := len(out)
	var matched int
	body := out
	for r := pos + 1; r <= end && typeOK; r++ {
		w, _, ok := h.table.Entry(r)
		if !ok || (pattern != nil && !globMatch(pattern, w, false)) {
			continue
		}
		body = resp.AppendBulk(body, w)
		matched++
	}
	next := uint64(0)
	if end < words {
		next = tag<<cursorPosBits | end
	}
	var head [64]byte
	hb := resp.AppendArrayLen(head[:0], 2)
	hb = resp.AppendBulkString(hb, strconv.FormatUint(next, 10))
	hb = resp.AppendArrayLen(hb, matched)
	return insertBefore(body, start, hb)
}

// insertBefore inserts head into b at position at.
func insertBefore(b []byte, at int, head []byte) []byte {
	b = append(b, head...)
	copy(b[at+len(head):], b[at:len(b)-len(head)])
	copy(b[at:], head)
	return b
}

// KEYS pattern: every word matching the pattern, in rank order. A pattern
// with no glob character is one lookup rather than a pass over the table.
func runKeys(s *Session, args [][]byte, out []byte) []byte {
	pat := args[1]
	if isGlobLiteral(pat) {
		if _, ok := s.h.table.Lookup(pat); ok {
			out = resp.AppendArrayLen(out, 1)
			return resp.AppendBulk(out, pat)
		}
		return resp.AppendArrayLen(out, 0)
	}
	all := len(pat) == 1 && pat[0] == '*'
	start := len(out)
	matched := 0
	for r := uint64(1); r <= s.h.table.Len(); r++ {
		w, _, ok := s.h.table.Entry(r)
		if ok && (all || globMatch(pat, w, false)) {
			out = resp.AppendBulk(out, w)
			matched++
		}
	}
	var head [24]byte
	return insertBefore(out, start, resp.AppendArrayLen(head[:0], matched))
}

// TYPE word: string for a word of the table, none otherwise.
func runType(s *Session, args [][]byte, out []byte) []byte {
	if _, ok := s.lookup(args[1]); ok {
		return resp.AppendSimple(out, "string")
	}
	return resp.AppendSimple(out, "none")
}

// STRLEN word: the length of the count as GET writes it, 0 when absent.
func runStrlen(s *Session, args [][]byte, out []byte) []byte {
	n, ok := s.lookup(args[1])
	if !ok {
		return resp.AppendInt(out, 0)
	}
	return resp.AppendInt(out, int64(decimalLen(n)))
}

func decimalLen(n uint64) int {
	d := 1
	for ; n >= 10; n /= 10 {
		d++
	}
	return d
}

// TTL word, PTTL word: -1 for a word of the table, which never expires,
// -2 for one it lacks, as Redis answers for a key without expiry and for a
// missing key.
func runTTL(s *Session, args [][]byte, out []byte) []byte {
	if _, ok := s.lookup(args[1]); ok {
		return resp.AppendInt(out, -1)
	}
	return resp.AppendInt(out, -2)
}

// RANDOMKEY: a word of the table chosen at random, null for an empty table.
func runRandomKey(s *Session, _ [][]byte, out []byte) []byte {
	n := s.h.table.Len()
	if n == 0 {
		return resp.AppendNull(out, s.proto)
	}
	w, _, ok := s.h.table.Entry(rand.Uint64N(n) + 1)
	if !ok {
		return resp.AppendNull(out, s.proto)
	}
	return resp.AppendBulk(out, w)
}

// MEMORY USAGE word [SAMPLES count]: the bytes the table holds for the
// word, null when it lacks it. It counts what is the word's alone: its
// record (the word, its length, and its count and rank in the fewest bytes
// that hold them, as package freqfile lays a record out), its 8-byte entry
// in the rank index and its 8-byte hash index slot. The file's header,
// metadata and empty index slots belong to no word. SAMPLES is accepted
// and has nothing to sample.
func runMemoryUsage(s *Session, args [][]byte, out []byte) []byte {
	for i := 3; i < len(args); i += 2 {
		if !bytes.EqualFold(args[i], []byte("SAMPLES")) || i+1 >= len(args) {
			return resp.AppendError(out, errSyntax)
		}
		if _, ok := parseInt(args[i+1]); !ok {
			return resp.AppendError(out, errNotInteger)
		}
	}
	w := args[2]
	count, ok := s.corpus().Lookup(w)
	rank, _ := s.corpus().Rank(w)
	if !ok {
		return resp.AppendNull(out, s.proto)
	}
	record := uvarintLen(uint64(len(w))) + len(w) + 1 + byteWidth(count) + byteWidth(rank)
	return resp.AppendInt(out, int64(record+8+8))
}

func uvarintLen(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}

func byteWidth(v uint64) int {
	n := 0
	for ; v > 0; v >>= 8 {
		n++
	}
	return n
}

// OBJECT ENCODING word: int, as Redis encodes a string that holds an
// integer; null when the table lacks the word.
func runObjectEncoding(s *Session, args [][]byte, out []byte) []byte {
	n, ok := s.lookup(args[2])
	switch {
	case !ok:
		return resp.AppendNull(out, s.proto)
	case n > math.MaxInt64:
		return resp.AppendBulkString(out, "raw")
	}
	return resp.AppendBulkString(out, "int")
}

// OBJECT REFCOUNT word: 1; null when the table lacks the word.
func runObjectRefcount(s *Session, args [][]byte, out []byte) []byte {
	if _, ok := s.lookup(args[2]); !ok {
		return resp.AppendNull(out, s.proto)
	}
	return resp.AppendInt(out, 1)
}

// OBJECT IDLETIME word: 0, since a served table's values never age; null
// when the table lacks the word.
func runObjectIdletime(s *Session, args [][]byte, out []byte) []byte {
	if _, ok := s.lookup(args[2]); !ok {
		return resp.AppendNull(out, s.proto)
	}
	return resp.AppendInt(out, 0)
}

// OBJECT FREQ word: refused as Redis refuses it without an LFU eviction
// policy, with a pointer to the command that does give a word's frequency.
func runObjectFreq(_ *Session, _ [][]byte, out []byte) []byte {
	return resp.AppendError(out, "ERR An LFU maxmemory policy is not selected, access frequency not tracked. freqd has no eviction; FREQ word gives a word's count in the corpus")
}

// parseInt parses a decimal integer as Redis parses a command's integer
// arguments: an optional minus sign and digits, with no leading zero, no
// plus sign and nothing around them.
func parseInt(b []byte) (int64, bool) {
	s := string(b)
	if len(s) == 0 || len(s) > 20 || (s[0] == '0' && len(s) > 1) || (len(s) > 1 && s[0] == '-' && s[1] == '0') || s[0] == '+' {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}
