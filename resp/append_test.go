package resp

import (
	"math"
	"strconv"
	"testing"
)

func TestAppendWritesRESP(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"simple", AppendSimple(nil, "PONG"), "+PONG\r\n"},
		{"ok", AppendOK(nil), "+OK\r\n"},
		{"error", AppendError(nil, "ERR bad"), "-ERR bad\r\n"},
		{"error with line breaks", AppendError(nil, "ERR a\r\n+OK"), "-ERR a  +OK\r\n"},
		{"int", AppendInt(nil, -42), ":-42\r\n"},
		{"int min", AppendInt(nil, math.MinInt64), ":-9223372036854775808\r\n"},
		{"uint", AppendUint(nil, 1501908), ":1501908\r\n"},
		{"bulk", AppendBulk(nil, []byte("a\r\nb")), "$4\r\na\r\nb\r\n"},
		{"empty bulk", AppendBulk(nil, nil), "$0\r\n\r\n"},
		{"bulk string", AppendBulkString(nil, "the"), "$3\r\nthe\r\n"},
		{"bulk uint zero", AppendBulkUint(nil, 0), "$1\r\n0\r\n"},
		{"bulk uint", AppendBulkUint(nil, 2134713), "$7\r\n2134713\r\n"},
		{"bulk uint max", AppendBulkUint(nil, math.MaxUint64), "$20\r\n18446744073709551615\r\n"},
		{"bulk float", AppendBulkFloat(nil, 12.34567, 3), "$6\r\n12.346\r\n"},
		{"null bulk", AppendNullBulk(nil), "$-1\r\n"},
		{"null array", AppendNullArray(nil), "*-1\r\n"},
		{"array", AppendArrayLen(nil, 2), "*2\r\n"},
	}
	for i, tc := range tests {
		if string(tc.got) != tc.want {
			t.Errorf("case %d (%s): got %q, want %q", i, tc.name, tc.got, tc.want)
		}
	}
}

// TestAppendedRepliesParseBack checks the writers against the parser: a
// request written with AppendArrayLen and AppendBulk is what Next reads.
func TestAppendedRepliesParseBack(t *testing.T) {
	words := []string{"MGET", "", "a b", "\r\n", "the"}
	b := AppendArrayLen(nil, len(words))
	for _, w := range words {
		b = AppendBulkString(b, w)
	}
	var p Parser
	args, n, err := p.Next(b)
	if err != nil || n != len(b) {
		t.Fatalf("got n=%d err=%v for %d bytes", n, err, len(b))
	}
	for i, w := range words {
		if string(args[i]) != w {
			t.Errorf("case %d (%q): parsed %q", i, w, args[i])
		}
	}
}

func TestAppendNumbersAllocateNothing(t *testing.T) {
	buf := make([]byte, 0, 256)
	allocs := testing.AllocsPerRun(100, func() {
		b := AppendInt(buf[:0], -1234567)
		b = AppendUint(b, 1234567)
		b = AppendBulkUint(b, 1234567)
		b = AppendArrayLen(b, 3)
		AppendBulkFloat(b, 3.25, 3)
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations, want 0", allocs)
	}
}

// TestAppendDigitsMatchesStrconv checks the in-place digit writer against
// strconv around every power of ten, where the digit count changes, and on
// a spread of other values, appended after existing bytes.
func TestAppendDigitsMatchesStrconv(t *testing.T) {
	var values []uint64
	for p := uint64(1); ; p *= 10 {
		values = append(values, p-1, p, p+1, p*9+9)
		if p > math.MaxUint64/10 {
			break
		}
	}
	values = append(values, math.MaxUint64, math.MaxUint64-1)
	for v := uint64(0); v < 1000; v++ {
		values = append(values, v, v*7919*104729)
	}
	for _, v := range values {
		got := string(AppendUint([]byte("x"), v))
		want := "x:" + strconv.FormatUint(v, 10) + "\r\n"
		if got != want {
			t.Fatalf("AppendUint(%d) = %q, want %q", v, got, want)
		}
		s := strconv.FormatUint(v, 10)
		if got, want := string(AppendBulkUint(nil, v)), "$"+strconv.Itoa(len(s))+"\r\n"+s+"\r\n"; got != want {
			t.Fatalf("AppendBulkUint(%d) = %q, want %q", v, got, want)
		}
	}
}
