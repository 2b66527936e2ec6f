package loadgen

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"github.com/freqd/freqd/resp"
)

// Bounds of the reply reader. A right answer to GET is at most 20 digits;
// the bounds only need to be generous enough to skip over a wrong reply
// without losing the stream, and small enough that a broken or hostile
// server cannot make the generator allocate or loop without end.
const (
	readBufferSize = 32 << 10 // also the longest reply line
	maxBulkLen     = 1 << 20  // longest bulk string skipped over
	maxQuoted      = 40       // bytes of a wrong reply quoted in a message
)

// verdict is the judgement of one well-formed reply.
type verdict uint8

const (
	replyRight verdict = iota // the table's answer
	replyWrong                // a well-formed reply that is not the answer
	replyError                // an error reply ("-ERR ...")
)

// readGET reads the reply to one GET and judges it against e. On a wrong or
// error reply it also returns what arrived, quoted, for the failure message;
// on a right one it returns "" and allocates nothing. It returns an error
// only when the stream cannot be read on: I/O failed, or the reply broke
// RESP or a bound (a *protocolError).
func readGET(r *bufio.Reader, e expect) (verdict, string, error) {
	line, err := resp.ReadLine(r)
	if err != nil {
		return 0, "", asProtocolError(err)
	}
	switch line[0] {
	case '$':
		n, ok := parseLen(line[1:])
		if !ok || n < -1 || n > maxBulkLen {
			return 0, "", &protocolError{fmt.Sprintf("bulk length %q", clip(line[1:]))}
		}
		if n == -1 {
			if e.present {
				return replyWrong, "nil", nil
			}
			return replyRight, "", nil
		}
		return readBulk(r, int(n), e)
	case '-':
		return replyError, string(clip(line)), nil
	case '+', ':':
		return replyWrong, string(clip(line)), nil
	case '*':
		if err := resp.SkipReply(r, line); err != nil {
			return 0, "", asProtocolError(err)
		}
		return replyWrong, string(clip(line)) + " (an array)", nil
	}
	return 0, "", &protocolError{fmt.Sprintf("unknown reply type %q", clip(line))}
}

// readBulk reads the n bytes and CRLF of a bulk string whose header has been
// read, and judges them as the count e expects.
func readBulk(r *bufio.Reader, n int, e expect) (verdict, string, error) {
	if n+2 > r.Size() {
		// Far longer than any count: wrong whatever it says.
		if _, err := r.Discard(n); err != nil {
			return 0, "", err
		}
		if err := readCRLF(r); err != nil {
			return 0, "", err
		}
		return replyWrong, fmt.Sprintf("a bulk string of %d bytes", n), nil
	}
	b, err := r.Peek(n + 2)
	if err != nil {
		return 0, "", err
	}
	if b[n] != '\r' || b[n+1] != '\n' {
		return 0, "", &protocolError{"bulk string not followed by CRLF"}
	}
	body := b[:n]
	v, got := replyRight, ""
	var want [20]byte
	if !e.present || !bytes.Equal(body, strconv.AppendUint(want[:0], e.count, 10)) {
		v, got = replyWrong, strconv.Quote(string(clip(body)))
	}
	_, err = r.Discard(n + 2)
	return v, got, err
}

// asProtocolError turns a malformed reply reported by package resp into
// the generator's protocolError; I/O errors pass through.
func asProtocolError(err error) error {
	if errors.Is(err, resp.ErrReply) {
		return &protocolError{err.Error()}
	}
	return err
}

func readCRLF(r *bufio.Reader) error {
	b, err := r.Peek(2)
	if err != nil {
		return err
	}
	if b[0] != '\r' || b[1] != '\n' {
		return &protocolError{"bulk string not followed by CRLF"}
	}
	_, err = r.Discard(2)
	return err
}

// parseLen parses the decimal length of a bulk string or array header: an
// optional '-' and 1 to 18 digits without leading zeros, so that it cannot
// overflow and only the canonical form is accepted.
func parseLen(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	// Only the canonical form a server sends: "$-01" or "$007" would be a
	// different reply that merely parses to the same number.
	if (len(b) > 1 && b[0] == '0') || (neg && b[0] == '0') {
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

// clip shortens b for quoting in a message.
func clip(b []byte) []byte {
	if len(b) > maxQuoted {
		return b[:maxQuoted]
	}
	return b
}
