package resp

import (
	"testing"
)

// fuzzLimits are small so that the fuzzer reaches every limit quickly.
var fuzzLimits = Limits{MaxInlineLen: 64, MaxBulkLen: 32, MaxArgs: 8, MaxRequestLen: 128,
	UnauthMaxArgs: 3, UnauthMaxBulkLen: 8}

// FuzzParse feeds arbitrary bytes to the Parser whole and cut in two, both
// as an authenticated and as an Unauthenticated connection, and checks that
// it never panics, never consumes more than it was given, never returns more
// than the limits allow, never holds memory beyond them, and reads the same
// requests wherever the input is cut.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"*2\r\n$3\r\nGET\r\n$3\r\nthe\r\n",
		"PING\r\nECHO \"a\\x41\" 'b'\n",
		"*1\r\n$-2\r\n",
		"*1000000000\r\n",
		"$9223372036854775807\r\n",
		"*2\r\n$3\r\nGET\r\n$3\r\ntheX\r\n",
		"\r\n\n*0\r\n*-1\r\n",
		"*-5\r\n*02\r\n$03\r\nabc\r\n",
		"*1\r\n$-0\r\n\r\n*-0\r\n",
		"ECHO a\vb \f\vc\tX\rY\x00Z\r\nPING\n",
	} {
		f.Add([]byte(seed), uint16(3))
	}
	f.Fuzz(func(t *testing.T, in []byte, cut uint16) {
		for _, unauth := range []bool{false, true} {
			whole := Parser{Limits: fuzzLimits, Unauthenticated: unauth}
			want, wantErr := feedChecked(t, &whole, in)
			c := int(cut) % (len(in) + 1)
			split := Parser{Limits: fuzzLimits, Unauthenticated: unauth}
			got, gotErr := feedChecked(t, &split, in[:c], in[c:])
			if gotErr != wantErr {
				t.Fatalf("unauthenticated %v, cut at %d: error %v, whole input gave %v", unauth, c, gotErr, wantErr)
			}
			if len(got) != len(want) {
				t.Fatalf("unauthenticated %v, cut at %d: %d requests, whole input gave %d", unauth, c, len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("unauthenticated %v, cut at %d: request %d is %q, whole input gave %q", unauth, c, i, got[i], want[i])
				}
			}
		}
	})
}

// feedChecked is feed with the fuzz invariants checked after every call.
func feedChecked(t *testing.T, p *Parser, chunks ...[]byte) ([]string, error) {
	var reqs []string
	var pending []byte
	for _, c := range chunks {
		pending = append(pending[:len(pending):len(pending)], c...)
		for {
			args, n, err := p.Next(pending)
			if n < 0 || n > len(pending) {
				t.Fatalf("consumed %d of %d bytes", n, len(pending))
			}
			if cap(p.offs) > 2*fuzzLimits.MaxArgs || cap(p.scratch) > fuzzLimits.MaxInlineLen {
				t.Fatalf("parser holds %d offsets and %d scratch bytes, beyond its limits", cap(p.offs), cap(p.scratch))
			}
			if err == ErrIncomplete {
				break
			}
			if err != nil {
				if _, ok := err.(*ProtocolError); !ok {
					t.Fatalf("error %v is not a *ProtocolError", err)
				}
				return reqs, err
			}
			if len(args) > fuzzLimits.MaxArgs {
				t.Fatalf("%d arguments, limit %d", len(args), fuzzLimits.MaxArgs)
			}
			for _, a := range args {
				if len(a) > fuzzLimits.MaxBulkLen && len(a) > fuzzLimits.MaxInlineLen {
					t.Fatalf("argument of %d bytes is beyond the limits", len(a))
				}
			}
			if p.Unauthenticated && pending[0] == '*' {
				if len(args) > fuzzLimits.UnauthMaxArgs {
					t.Fatalf("%d arguments before authentication, limit %d", len(args), fuzzLimits.UnauthMaxArgs)
				}
				for _, a := range args {
					if len(a) > fuzzLimits.UnauthMaxBulkLen {
						t.Fatalf("argument of %d bytes before authentication, limit %d", len(a), fuzzLimits.UnauthMaxBulkLen)
					}
				}
			}
			reqs = append(reqs, render(args))
			pending = pending[n:]
		}
	}
	return reqs, nil
}
