package resp

import (
	"math"
	"testing"
)

func TestProtoWritersDifferByVersion(t *testing.T) {
	tests := []struct {
		name         string
		write        func(b []byte, p Proto) []byte
		resp2, resp3 string
	}{
		{"null", AppendNull, "$-1\r\n", "_\r\n"},
		{"double with decimals", func(b []byte, p Proto) []byte { return AppendDouble(b, 12.34567, 3, p) }, "$6\r\n12.346\r\n", ",12.346\r\n"},
		{"double shortest", func(b []byte, p Proto) []byte { return AppendDouble(b, 0.1, -1, p) }, "$3\r\n0.1\r\n", ",0.1\r\n"},
		{"double integral", func(b []byte, p Proto) []byte { return AppendDouble(b, 10, -1, p) }, "$2\r\n10\r\n", ",10\r\n"},
		{"double large", func(b []byte, p Proto) []byte { return AppendDouble(b, 1e300, -1, p) }, "$6\r\n1e+300\r\n", ",1e+300\r\n"},
		{"double inf", func(b []byte, p Proto) []byte { return AppendDouble(b, math.Inf(1), 3, p) }, "$3\r\ninf\r\n", ",inf\r\n"},
		{"double -inf", func(b []byte, p Proto) []byte { return AppendDouble(b, math.Inf(-1), -1, p) }, "$4\r\n-inf\r\n", ",-inf\r\n"},
		{"double nan", func(b []byte, p Proto) []byte { return AppendDouble(b, math.NaN(), -1, p) }, "$3\r\nnan\r\n", ",nan\r\n"},
		{"map", func(b []byte, p Proto) []byte { return AppendMapLen(b, 3, p) }, "*6\r\n", "%3\r\n"},
		{"set", func(b []byte, p Proto) []byte { return AppendSetLen(b, 2, p) }, "*2\r\n", "~2\r\n"},
		{"verbatim", func(b []byte, p Proto) []byte { return AppendVerbatim(b, "txt", []byte("a\r\nb"), p) }, "$4\r\na\r\nb\r\n", "=8\r\ntxt:a\r\nb\r\n"},
	}
	for i, tc := range tests {
		if got := string(tc.write(nil, RESP2)); got != tc.resp2 {
			t.Errorf("case %d (%s) RESP2: got %q, want %q", i, tc.name, got, tc.resp2)
		}
		if got := string(tc.write(nil, 0)); got != tc.resp2 {
			t.Errorf("case %d (%s) zero Proto: got %q, want the RESP2 form %q", i, tc.name, got, tc.resp2)
		}
		if got := string(tc.write(nil, RESP3)); got != tc.resp3 {
			t.Errorf("case %d (%s) RESP3: got %q, want %q", i, tc.name, got, tc.resp3)
		}
	}
}

// TestDoubleMatchesBulkFloat: a RESP2 double with decimals is what
// AppendBulkFloat writes, so a command may move to AppendDouble without
// changing a byte for RESP2 clients.
func TestDoubleMatchesBulkFloat(t *testing.T) {
	for _, f := range []float64{0, 1, 25.589, 1e-9, 123456789.98765} {
		if a, b := string(AppendDouble(nil, f, 3, RESP2)), string(AppendBulkFloat(nil, f, 3)); a != b {
			t.Errorf("%v: AppendDouble %q, AppendBulkFloat %q", f, a, b)
		}
	}
}

func TestAppendDoubleAllocatesNothing(t *testing.T) {
	buf := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(100, func() {
		b := AppendDouble(buf[:0], 3.25, 3, RESP3)
		AppendDouble(b, 1.0/3, -1, RESP2)
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations, want 0", allocs)
	}
}
