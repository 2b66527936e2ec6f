package resp

import "errors"

// ErrIncomplete reports that the bytes given to Parser.Next end before the
// next request does: read more and call Next again with the same unconsumed
// bytes followed by the new ones.
var ErrIncomplete = errors.New("resp: incomplete request, more bytes needed")

// ProtocolError is a request that breaks RESP or a Limits bound. Its message
// is the text Redis replies with after "ERR ", for example "Protocol error:
// invalid bulk length". The connection it came from must be closed once the
// error has been sent: the stream has no way to find the next request.
type ProtocolError struct {
	msg string
}

func (e *ProtocolError) Error() string { return e.msg }

// The protocol errors, with Redis's wording where Redis has one.
var (
	errInlineTooBig      = &ProtocolError{"Protocol error: too big inline request"}
	errUnbalancedQuotes  = &ProtocolError{"Protocol error: unbalanced quotes in request"}
	errInlineTooManyArgs = &ProtocolError{"Protocol error: too many arguments in inline request"}
	errMultibulkTooBig   = &ProtocolError{"Protocol error: too big mbulk count string"}
	errInvalidMultibulk  = &ProtocolError{"Protocol error: invalid multibulk length"}
	errUnauthMultibulk   = &ProtocolError{"Protocol error: unauthenticated multibulk length"}
	errBulkCountTooBig   = &ProtocolError{"Protocol error: too big bulk count string"}
	errInvalidBulk       = &ProtocolError{"Protocol error: invalid bulk length"}
	errUnauthBulk        = &ProtocolError{"Protocol error: unauthenticated bulk length"}
	errMissingBulkCRLF   = &ProtocolError{"Protocol error: bulk argument not followed by CRLF"}
	errRequestTooBig     = &ProtocolError{"Protocol error: request exceeds the server's size limit"}
	errNotDollar         = &ProtocolError{"Protocol error: expected '$'"}
)

// errExpectedDollar holds, for each byte, the error for a multibulk
// argument that starts with it instead of '$', naming the byte as Redis does
// when it is printable. Built once, so that a hostile stream of them costs
// no allocation.
var errExpectedDollar [256]*ProtocolError

func init() {
	for c := range errExpectedDollar {
		if c < 0x21 || c > 0x7e {
			errExpectedDollar[c] = errNotDollar
		} else {
			errExpectedDollar[c] = &ProtocolError{"Protocol error: expected '$', got '" + string(rune(c)) + "'"}
		}
	}
}
