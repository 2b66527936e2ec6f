package resp

import (
	"bufio"
	"errors"
	"fmt"
)

// Reading replies, as a client does: the load generator and the tests read
// servers' replies through these, so that one reader, bounded like the
// request parser, decides where a reply ends. It knows RESP2 and RESP3.

// Bounds of ReadReply and SkipReply. A reply longer or deeper than these is
// a protocol error: a broken or hostile server must not make a client
// allocate or loop without end.
const (
	MaxReplyBulk  = 64 << 20 // longest bulk, blob or verbatim string
	MaxReplyElems = 1 << 20  // most elements of one aggregate
	MaxReplyDepth = 16       // deepest nesting of aggregates
)

// ErrReply is wrapped by every error that reports a malformed reply.
var ErrReply = errors.New("malformed reply")

func replyErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrReply, fmt.Sprintf(format, args...))
}

// ReadLine returns the next CRLF-terminated line without its CRLF. The
// slice aliases r's buffer and is valid until the next read; a line longer
// than the buffer is an error.
func ReadLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return nil, replyErrorf("reply line longer than %d bytes", r.Size())
	}
	if err != nil {
		return nil, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, replyErrorf("line %q does not end in CRLF or is empty", clipReply(line))
	}
	return line[:len(line)-2], nil
}

// ReadReply reads one complete reply and returns its bytes exactly as they
// arrived, CRLFs included: what a test compares against the reply it
// expects.
func ReadReply(r *bufio.Reader) ([]byte, error) {
	var out []byte
	err := readReply(r, 0, func(b []byte) { out = append(out, b...) })
	return out, err
}

// SkipReply reads past one reply whose first line, header, has been read
// (without its CRLF), so that the replies after it stay in step.
func SkipReply(r *bufio.Reader, header []byte) error {
	return replyBody(r, header, 0, func([]byte) {})
}

// readReply reads one reply, passing each piece of it to keep.
func readReply(r *bufio.Reader, depth int, keep func([]byte)) error {
	line, err := ReadLine(r)
	if err != nil {
		return err
	}
	keep(line)
	keep(crlf)
	return replyBody(r, line, depth, keep)
}

var crlf = []byte("\r\n")

// replyBody reads what follows a reply's first line.
func replyBody(r *bufio.Reader, header []byte, depth int, keep func([]byte)) error {
	if len(header) == 0 {
		return replyErrorf("empty reply line")
	}
	switch header[0] {
	case '+', '-', ':', '_', ',', '#', '(':
		// Simple string, error, integer; RESP3 null, double, boolean,
		// big number: the line is the whole reply.
		return nil
	case '$', '!', '=':
		// Bulk string; RESP3 blob error and verbatim string.
		n, ok := parseLen(header[1:])
		if !ok || n < -1 || n > MaxReplyBulk || (n == -1 && header[0] != '$') {
			return replyErrorf("length %q", clipReply(header))
		}
		if n == -1 {
			return nil
		}
		b, err := readN(r, int(n)+2)
		if err != nil {
			return err
		}
		if b[n] != '\r' || b[n+1] != '\n' {
			return replyErrorf("string of %d bytes not followed by CRLF", n)
		}
		keep(b)
		return nil
	case '*', '~', '>', '%', '|':
		// Array; RESP3 set, push, map and attribute (whose pairs count
		// twice).
		n, ok := parseLen(header[1:])
		if !ok || n < -1 || n > MaxReplyElems || (n == -1 && header[0] != '*') {
			return replyErrorf("aggregate length %q", clipReply(header))
		}
		if depth >= MaxReplyDepth {
			return replyErrorf("aggregates nested deeper than %d", MaxReplyDepth)
		}
		if header[0] == '%' || header[0] == '|' {
			n *= 2
		}
		for range n {
			if err := readReply(r, depth+1, keep); err != nil {
				return err
			}
		}
		if header[0] == '|' {
			// An attribute precedes the reply it describes.
			return readReply(r, depth+1, keep)
		}
		return nil
	}
	return replyErrorf("unknown reply type %q", clipReply(header))
}

// parseLen parses the length of a string or aggregate header: an optional
// '-' and 1 to 18 digits without leading zeros, so that it cannot overflow
// and only the canonical form a server sends is accepted ("$007" would be
// another reply that merely parses to the same number).
func parseLen(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 || (len(b) > 1 && b[0] == '0') || (neg && b[0] == '0') {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// readN reads exactly n bytes, in one piece.
func readN(r *bufio.Reader, n int) ([]byte, error) {
	if n <= r.Size() {
		b, err := r.Peek(n)
		if err != nil {
			return nil, err
		}
		b = append([]byte(nil), b...)
		_, err = r.Discard(n)
		return b, err
	}
	b := make([]byte, n)
	for got := 0; got < n; {
		m, err := r.Read(b[got:])
		got += m
		if err != nil && got < n {
			return nil, err
		}
	}
	return b, nil
}

// clipReply shortens b for quoting in a message.
func clipReply(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}
