package loadgen

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/freqd/freqd/resp"
)

// next is a reply appended after every well-formed case: reading it right
// proves the reader left the stream in step.
const next = "$1\r\n5\r\n"

var nextWant = expect{rank: 1, count: 5, present: true}

func TestReadGET(t *testing.T) {
	present := func(n uint64) expect { return expect{rank: 9, count: n, present: true} }
	absent := expect{nonce: 1}
	tests := []struct {
		name string
		in   string
		e    expect
		v    verdict
		got  string // what a wrong or error reply is quoted as
	}{
		{"right count", "$7\r\n1501908\r\n", present(1501908), replyRight, ""},
		{"other count", "$3\r\n100\r\n", present(101), replyWrong, `"100"`},
		{"leading zero", "$4\r\n0100\r\n", present(100), replyWrong, `"0100"`},
		{"empty bulk", "$0\r\n\r\n", present(1), replyWrong, `""`},
		{"nil for present word", "$-1\r\n", present(3), replyWrong, "nil"},
		{"nil for absent word", "$-1\r\n", absent, replyRight, ""},
		{"count for absent word", "$1\r\n1\r\n", absent, replyWrong, `"1"`},
		{"integer", ":100\r\n", present(100), replyWrong, ":100"},
		{"simple string", "+100\r\n", present(100), replyWrong, "+100"},
		{"error reply", "-ERR busy\r\n", present(1), replyError, "-ERR busy"},
		{"nested array", "*3\r\n*1\r\n$2\r\nab\r\n:1\r\n$-1\r\n", present(1), replyWrong, "*3 (an array)"},
		{"empty array", "*0\r\n", present(1), replyWrong, "*0 (an array)"},
		{"nil array", "*-1\r\n", present(1), replyWrong, "*-1 (an array)"},
		{"bulk longer than the buffer", "$40000\r\n" + strings.Repeat("7", 40000) + "\r\n", present(7), replyWrong, "a bulk string of 40000 bytes"},
		{"long wrong bulk quoted short", "$100\r\n" + strings.Repeat("7", 100) + "\r\n", present(7), replyWrong, `"` + strings.Repeat("7", maxQuoted) + `"`},
	}
	for i, tc := range tests {
		r := bufio.NewReaderSize(strings.NewReader(tc.in+next), readBufferSize)
		v, got, err := readGET(r, tc.e)
		if err != nil || v != tc.v || got != tc.got {
			t.Errorf("case %d (%s): verdict %d, %q, %v; want %d, %q", i, tc.name, v, got, err, tc.v, tc.got)
			continue
		}
		if v, _, err := readGET(r, nextWant); v != replyRight || err != nil {
			t.Errorf("case %d (%s): the reply after it read as %d, %v: the reader lost the stream", i, tc.name, v, err)
		}
	}
}

// TestReadGETRejectsBrokenReplies feeds replies after which nothing says
// where the next one starts: each must end the stream with an error, never
// a panic, a huge allocation or a verdict.
func TestReadGETRejectsBrokenReplies(t *testing.T) {
	tests := []struct {
		name, in string
		kind     Kind // of the error
	}{
		{"bulk length not a number", "$abc\r\n", Other},
		{"negative bulk length", "$-2\r\n", Other},
		{"bulk length overflow", "$9223372036854775807\r\n", Other},
		{"bulk length over the bound", "$2000000\r\n", Other},
		{"unknown type", "?x\r\n", Other},
		{"bulk without CRLF", "$1\r\n5xx\r\n", Other},
		{"empty line", "\r\n", Other},
		{"line without CR", ":1\n", Other},
		{"line longer than the buffer", ":" + strings.Repeat("1", readBufferSize) + "\r\n", Other},
		{"array over the bound", fmt.Sprintf("*%d\r\n", resp.MaxReplyElems+1), Other},
		{"arrays nested too deep", strings.Repeat("*1\r\n", resp.MaxReplyDepth+2) + ":1\r\n", Other},
		{"unknown type in array", "*1\r\n?\r\n", Other},
		{"truncated bulk", "$7\r\n150", Reset},
		{"truncated line", "$7", Reset},
		{"nothing", "", Reset},
		{"truncated long bulk", "$40000\r\n777", Reset},
	}
	for i, tc := range tests {
		r := bufio.NewReaderSize(strings.NewReader(tc.in), readBufferSize)
		v, got, err := readGET(r, expect{count: 5, present: true})
		if err == nil {
			t.Errorf("case %d (%s): verdict %d %q, no error; want the stream refused", i, tc.name, v, got)
			continue
		}
		if k := classify(err); k != tc.kind {
			t.Errorf("case %d (%s): error %v is %s; want %s", i, tc.name, err, k, tc.kind)
		}
		var pe *protocolError
		if errors.As(err, &pe) != (tc.kind == Other) {
			t.Errorf("case %d (%s): error %v (%T); want a protocol error exactly when the reply breaks RESP", i, tc.name, err, err)
		}
	}
}

func TestReadGETDoesNotAllocate(t *testing.T) {
	const replies = "$7\r\n1501908\r\n$-1\r\n"
	src := strings.NewReader(replies)
	r := bufio.NewReaderSize(src, readBufferSize)
	present, absent := expect{rank: 1, count: 1501908, present: true}, expect{nonce: 3}
	allocs := testing.AllocsPerRun(100, func() {
		src.Reset(replies)
		r.Reset(src)
		v1, _, err1 := readGET(r, present)
		v2, _, err2 := readGET(r, absent)
		if v1 != replyRight || v2 != replyRight || err1 != nil || err2 != nil {
			t.Fatalf("verdicts %d %d, errors %v %v; want both right", v1, v2, err1, err2)
		}
	})
	if allocs != 0 {
		t.Errorf("reading two right replies allocates %v times; want 0", allocs)
	}
}

// FuzzReadGET: whatever a server sends, the reader returns (no panic, no
// endless loop), and it calls a reply right only if the input holds the
// right answer.
func FuzzReadGET(f *testing.F) {
	for _, s := range []string{"$7\r\n1501908\r\n", "$-1\r\n", ":1\r\n", "*2\r\n$1\r\na\r\n*1\r\n:1\r\n", "-ERR x\r\n", "$-2\r\n", "$99999999999\r\n"} {
		f.Add([]byte(s), uint64(1501908), true)
	}
	f.Fuzz(func(t *testing.T, in []byte, count uint64, present bool) {
		answer := "$-1\r\n"
		if present {
			c := strconv.FormatUint(count, 10)
			answer = "$" + strconv.Itoa(len(c)) + "\r\n" + c + "\r\n"
		}
		r := bufio.NewReaderSize(bytes.NewReader(in), readBufferSize)
		for range len(in) + 1 {
			v, _, err := readGET(r, expect{count: count, present: present})
			if err != nil {
				return
			}
			if v == replyRight && !bytes.Contains(in, []byte(answer)) {
				t.Fatalf("%q judged right, but the answer %q is not in it", in, answer)
			}
		}
		t.Fatalf("%d replies read from %d bytes", len(in)+1, len(in))
	})
}

func BenchmarkReadGET(b *testing.B) {
	replies := strings.Repeat("$7\r\n1501908\r\n", 1000)
	src := strings.NewReader(replies)
	r := bufio.NewReaderSize(src, readBufferSize)
	e := expect{rank: 1, count: 1501908, present: true}
	b.SetBytes(int64(len(replies)))
	b.ReportAllocs()
	for b.Loop() {
		src.Reset(replies)
		r.Reset(src)
		for range 1000 {
			if v, _, err := readGET(r, e); v != replyRight || err != nil {
				b.Fatal(v, err)
			}
		}
	}
}
