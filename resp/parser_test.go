package resp

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// feed drives p over chunks as a connection would: bytes are appended to a
// pending buffer, which is moved to fresh memory after every read to hold
// the Parser to its promise that only the byte order matters. It returns
// every request (empty ones included, as "<empty>") and the error that
// stopped it, nil when the input ended on a request boundary.
func feed(p *Parser, chunks ...[]byte) ([]string, error) {
	var reqs []string
	var pending []byte
	for _, c := range chunks {
		moved := make([]byte, len(pending), len(pending)+len(c))
		copy(moved, pending)
		pending = append(moved, c...)
		for {
			args, n, err := p.Next(pending)
			if err == ErrIncomplete {
				if n != 0 {
					return reqs, fmt.Errorf("ErrIncomplete with n=%d", n)
				}
				break
			}
			if err != nil {
				return reqs, err
			}
			if n <= 0 || n > len(pending) {
				return reqs, fmt.Errorf("consumed %d of %d bytes", n, len(pending))
			}
			reqs = append(reqs, render(args))
			pending = pending[n:]
		}
	}
	if len(pending) > 0 {
		return reqs, ErrIncomplete
	}
	return reqs, nil
}

// render shows a request as its arguments quoted and joined, so that tests
// compare values, not slices into a buffer that has since been overwritten.
func render(args [][]byte) string {
	if len(args) == 0 {
		return "<empty>"
	}
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = fmt.Sprintf("%q", a)
	}
	return strings.Join(parts, " ")
}

func TestNextParsesBothRequestForms(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"multibulk", "*2\r\n$3\r\nGET\r\n$3\r\nthe\r\n", []string{`"GET" "the"`}},
		{"multibulk empty arg", "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", []string{`"ECHO" ""`}},
		{"multibulk binary arg", "*2\r\n$4\r\nECHO\r\n$4\r\na\r\nb\r\n", []string{`"ECHO" "a\r\nb"`}},
		{"multibulk zero count is skipped", "*0\r\n*1\r\n$4\r\nPING\r\n", []string{"<empty>", `"PING"`}},
		{"multibulk nil count is skipped", "*-1\r\n", []string{"<empty>"}},
		{"multibulk negative count is skipped", "*-5\r\n*1\r\n$4\r\nPING\r\n", []string{"<empty>", `"PING"`}},
		{"multibulk most negative count is skipped", "*-9223372036854775808\r\n", []string{"<empty>"}},
		{"inline vertical tab and form feed stay in an argument", "ECHO a\vb\fc\r\n", []string{`"ECHO" "a\vb\fc"`}},
		{"inline vertical tab skipped between arguments", "\vECHO \f\va\r\n", []string{`"ECHO" "a"`}},
		{"inline tab and CR separate", "ECHO\ta\rb\r\n", []string{`"ECHO" "a" "b"`}},
		{"inline quote followed by form feed", `ECHO "a"` + "\f" + `b` + "\r\n", []string{`"ECHO" "a" "b"`}},
		{"inline NUL ends the line", "ECHO a\x00b c\r\nPING\r\n", []string{`"ECHO" "a"`, `"PING"`}},
		{"inline line of a NUL is empty", "\x00PING\r\n", []string{"<empty>"}},
		{"multibulk zero bulk", "*1\r\n$0\r\n\r\n", []string{`""`}},
		{"inline crlf", "GET the\r\n", []string{`"GET" "the"`}},
		{"inline bare lf", "GET the\n", []string{`"GET" "the"`}},
		{"inline extra blanks", "  GET \t the  \r\n", []string{`"GET" "the"`}},
		{"inline empty lines skipped", "\r\n\n   \r\nPING\r\n", []string{"<empty>", "<empty>", "<empty>", `"PING"`}},
		{"inline double quotes", `ECHO "hello world" "a\x41\n"` + "\r\n", []string{`"ECHO" "hello world" "aA\n"`}},
		{"inline single quotes", `ECHO 'it\'s' '\n'` + "\r\n", []string{`"ECHO" "it's" "\\n"`}},
		{"inline empty quoted arg", `ECHO ""` + "\r\n", []string{`"ECHO" ""`}},
		{"inline quote inside token", `ECHO a"b c"` + "\r\n", []string{`"ECHO" "ab c"`}},
		{"pipelined mixed", "PING\r\n*1\r\n$4\r\nPING\r\nECHO x\n", []string{`"PING"`, `"PING"`, `"ECHO" "x"`}},
	}
	for i, tc := range tests {
		var p Parser
		got, err := feed(&p, []byte(tc.in))
		if err != nil {
			t.Errorf("case %d (%s): error %v", i, tc.name, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("case %d (%s): got %q, want %q", i, tc.name, got, tc.want)
		}
	}
}

func TestNextReportsProtocolErrors(t *testing.T) {
	long := strings.Repeat("a", DefaultMaxInlineLen+1)
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"negative bulk length", "*1\r\n$-1\r\n", "Protocol error: invalid bulk length"},
		{"bulk length -2", "*1\r\n$-2\r\n", "Protocol error: invalid bulk length"},
		{"huge bulk length", "*1\r\n$9223372036854775807\r\n", "Protocol error: invalid bulk length"},
		{"overflowing bulk length", "*1\r\n$99999999999999999999\r\n", "Protocol error: invalid bulk length"},
		{"non-numeric bulk length", "*1\r\n$abc\r\n", "Protocol error: invalid bulk length"},
		{"plus sign bulk length", "*1\r\n$+3\r\nabc\r\n", "Protocol error: invalid bulk length"},
		{"bulk over limit", fmt.Sprintf("*1\r\n$%d\r\n", DefaultMaxBulkLen+1), "Protocol error: invalid bulk length"},
		{"huge multibulk count", "*1000000000\r\n", "Protocol error: invalid multibulk length"},
		{"leading zero in multibulk count", "*02\r\n", "Protocol error: invalid multibulk length"},
		{"multibulk count -0", "*-0\r\n", "Protocol error: invalid multibulk length"},
		{"multibulk count 00", "*00\r\n", "Protocol error: invalid multibulk length"},
		{"multibulk count -01", "*-01\r\n", "Protocol error: invalid multibulk length"},
		{"plus sign multibulk count", "*+1\r\n", "Protocol error: invalid multibulk length"},
		{"multibulk count below int64", "*-9223372036854775809\r\n", "Protocol error: invalid multibulk length"},
		{"leading zero in bulk length", "*1\r\n$03\r\nabc\r\n", "Protocol error: invalid bulk length"},
		{"bulk length -0", "*1\r\n$-0\r\n\r\n", "Protocol error: invalid bulk length"},
		{"bulk length 00", "*1\r\n$00\r\n\r\n", "Protocol error: invalid bulk length"},
		{"quote followed by NUL", "ECHO \"a\x00\"\r\n", "Protocol error: unbalanced quotes in request"},
		{"non-numeric multibulk count", "*x\r\n", "Protocol error: invalid multibulk length"},
		{"multibulk line without CR", "*1\n", "Protocol error: invalid multibulk length"},
		{"endless multibulk count", "*" + strings.Repeat("1", 40), "Protocol error: too big mbulk count string"},
		{"endless bulk count", "*1\r\n$" + strings.Repeat("1", 40), "Protocol error: too big bulk count string"},
		{"missing dollar", "*1\r\n:3\r\n", "Protocol error: expected '$', got ':'"},
		{"missing CRLF after bulk", "*1\r\n$3\r\nabcd\r\n", "Protocol error: bulk argument not followed by CRLF"},
		{"inline line too long", long + "\r\n", "Protocol error: too big inline request"},
		{"inline line without end too long", long + "a", "Protocol error: too big inline request"},
		{"unbalanced double quote", `ECHO "abc` + "\r\n", "Protocol error: unbalanced quotes in request"},
		{"unbalanced single quote", `TAG I don't know` + "\r\n", "Protocol error: unbalanced quotes in request"},
		{"text after closing quote", `ECHO "a"b` + "\r\n", "Protocol error: unbalanced quotes in request"},
	}
	for i, tc := range tests {
		var p Parser
		_, err := feed(&p, []byte(tc.in))
		var pe *ProtocolError
		if !errors.As(err, &pe) {
			t.Errorf("case %d (%s): got %v, want protocol error %q", i, tc.name, err, tc.want)
			continue
		}
		if pe.Error() != tc.want {
			t.Errorf("case %d (%s): got %q, want %q", i, tc.name, pe.Error(), tc.want)
		}
		// The stream is untrustworthy from here on: even a valid request
		// must be refused until Reset.
		if _, _, err := p.Next([]byte("PING\r\n")); err != pe {
			t.Errorf("case %d (%s): after the error Next returned %v, want the same error", i, tc.name, err)
		}
		p.Reset()
		if args, _, err := p.Next([]byte("PING\r\n")); err != nil || render(args) != `"PING"` {
			t.Errorf("case %d (%s): after Reset got %q, %v", i, tc.name, render(args), err)
		}
	}
}

// pipeline is a batch that exercises every parser path that can be cut.
const pipeline = "*2\r\n$3\r\nGET\r\n$3\r\nthe\r\n" +
	"PING\r\n" +
	"\r\n" +
	"*3\r\n$4\r\nMGET\r\n$0\r\n\r\n$5\r\na\r\nbc\r\n" +
	`ECHO "x y" 'z'` + "\n" +
	"*0\r\n" +
	"*1\r\n$4\r\nQUIT\r\n"

func TestNextSplitAtEveryByteMatchesWhole(t *testing.T) {
	var whole Parser
	want, err := feed(&whole, []byte(pipeline))
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 7 {
		t.Fatalf("whole batch parsed as %d requests, want 7: %q", len(want), want)
	}
	in := []byte(pipeline)
	for cut := 0; cut <= len(in); cut++ {
		var p Parser
		got, err := feed(&p, in[:cut], in[cut:])
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("cut at %d: got %q, %v; want %q", cut, got, err, want)
		}
	}
	chunks := make([][]byte, len(in))
	for i := range in {
		chunks[i] = in[i : i+1]
	}
	var p Parser
	if got, err := feed(&p, chunks...); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("byte by byte: got %q, %v; want %q", got, err, want)
	}
}

func TestErrorsDoNotDependOnWhereInputIsCut(t *testing.T) {
	in := []byte("PING\r\n*2\r\n$4\r\nECHO\r\n$3\r\nabcd\r\n")
	var whole Parser
	_, want := feed(&whole, in)
	if want == nil {
		t.Fatal("whole input parsed without error")
	}
	for cut := 0; cut <= len(in); cut++ {
		var p Parser
		if _, err := feed(&p, in[:cut], in[cut:]); err != want {
			t.Errorf("cut at %d: got %v, want %v", cut, err, want)
		}
	}
}

func TestAnnouncedSizesAllocateNothing(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"many args announced", "*65536\r\n$3\r\n"},
		{"large bulk announced", fmt.Sprintf("*2\r\n$3\r\nGET\r\n$%d\r\nab", DefaultMaxBulkLen)},
		{"absurd count", "*1000000000\r\n"},
		{"absurd bulk", "*1\r\n$9223372036854775807\r\n"},
		{"partial inline", "GET " + strings.Repeat("x", 1000)},
	}
	for i, tc := range tests {
		var p Parser
		in := []byte(tc.in)
		allocs := testing.AllocsPerRun(100, func() {
			p.Reset()
			p.Next(in)
		})
		if allocs != 0 {
			t.Errorf("case %d (%s): %.1f allocations per parse, want 0", i, tc.name, allocs)
		}
	}
}

func TestArgumentsCannotOverwriteEachOther(t *testing.T) {
	var p Parser
	args, _, err := p.Next([]byte("*2\r\n$1\r\na\r\n$1\r\nb\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	_ = append(args[0], 'X')
	if string(args[1]) != "b" {
		t.Errorf("appending to the first argument changed the second to %q", args[1])
	}
}

func TestLimitsApplyWhenSet(t *testing.T) {
	p := Parser{Limits: Limits{MaxArgs: 4, MaxBulkLen: 4, MaxInlineLen: 8, MaxRequestLen: 20}}
	tests := []struct {
		in   string
		want error
	}{
		{"*2\r\n$4\r\nabcd\r\n$0\r\n\r\n", nil},
		{"*5\r\n", errInvalidMultibulk},
		{"*4\r\n", errRequestTooBig},
		{"*2\r\n$4\r\nabcd\r\n$4\r\n", errRequestTooBig},
		{"*1\r\n$5\r\n", errInvalidBulk},
		{"12345678\r\n", nil},
		{"123456789\r\n", errInlineTooBig},
		{"a b c d\r\n", nil},
	}
	for i, tc := range tests {
		p.Reset()
		if _, err := feed(&p, []byte(tc.in)); err != tc.want {
			t.Errorf("case %d (%q): got %v, want %v", i, tc.in, err, tc.want)
		}
	}
}

func TestInlineArgumentsCountAgainstMaxArgs(t *testing.T) {
	p := Parser{Limits: Limits{MaxArgs: 2}}
	if _, err := feed(&p, []byte("a b\r\n")); err != nil {
		t.Errorf("two arguments: %v", err)
	}
	if _, err := feed(&p, []byte("a b c\r\n")); err != errInlineTooManyArgs {
		t.Errorf("three arguments: got %v, want %v", err, errInlineTooManyArgs)
	}
}

func TestUnauthenticatedBoundsApplyToMultibulkOnly(t *testing.T) {
	many := strings.Repeat("a ", 20) + "\r\n"
	tests := []struct {
		name   string
		in     string
		unauth error // the error while Unauthenticated
		authed error // the error once authenticated
	}{
		{"10 arguments", "*10\r\n" + strings.Repeat("$1\r\na\r\n", 10), nil, nil},
		{"11 arguments", "*11\r\n", errUnauthMultibulk, ErrIncomplete},
		{"bulk at the bound", fmt.Sprintf("*1\r\n$%d\r\n%s\r\n", DefaultUnauthMaxBulkLen, strings.Repeat("x", DefaultUnauthMaxBulkLen)), nil, nil},
		{"bulk over the bound", fmt.Sprintf("*1\r\n$%d\r\n", DefaultUnauthMaxBulkLen+1), errUnauthBulk, ErrIncomplete},
		{"invalid count is reported as invalid", "*1000000000\r\n", errInvalidMultibulk, errInvalidMultibulk},
		{"invalid bulk is reported as invalid", "*1\r\n$-5\r\n", errInvalidBulk, errInvalidBulk},
		{"empty multibulk", "*0\r\n*-1\r\n", nil, nil},
		{"inline keeps its own bound", many, nil, nil},
	}
	for i, tc := range tests {
		for _, unauth := range []bool{true, false} {
			want := tc.authed
			if unauth {
				want = tc.unauth
			}
			p := Parser{Unauthenticated: unauth}
			if _, err := feed(&p, []byte(tc.in)); err != want {
				t.Errorf("case %d (%s, unauthenticated %v): got %v, want %v", i, tc.name, unauth, err, want)
			}
		}
	}
}

func TestUnauthenticatedBoundsFollowTheFlagBetweenRequests(t *testing.T) {
	p := Parser{Limits: Limits{UnauthMaxArgs: 2, UnauthMaxBulkLen: 4}, Unauthenticated: true}
	in := []byte("*2\r\n$4\r\nAUTH\r\n$4\r\npass\r\n*3\r\n$4\r\nMGET\r\n$5\r\nwords\r\n$1\r\na\r\n")
	args, n, err := p.Next(in)
	if err != nil || render(args) != `"AUTH" "pass"` {
		t.Fatalf("first request: %q, %v", render(args), err)
	}
	p.Unauthenticated = false
	if args, _, err := p.Next(in[n:]); err != nil || render(args) != `"MGET" "words" "a"` {
		t.Errorf("after authenticating: %q, %v; want the wider request parsed", render(args), err)
	}
	p.Unauthenticated = true
	if _, _, err := p.Next(in[n:]); err != errUnauthMultibulk {
		t.Errorf("unauthenticated again: got %v, want %v", err, errUnauthMultibulk)
	}
}

func BenchmarkNextMultibulk(b *testing.B) {
	in := bytes.Repeat([]byte("*2\r\n$3\r\nGET\r\n$3\r\nthe\r\n"), 16)
	var p Parser
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		for rest := in; len(rest) > 0; {
			_, n, err := p.Next(rest)
			if err != nil {
				b.Fatal(err)
			}
			rest = rest[n:]
		}
	}
}
