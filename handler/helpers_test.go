package handler

import (
	"strconv"
	"strings"

	"github.com/freqd/freqd/resp"
)

// Request and reply builders, so that test tables read as commands and
// answers rather than as protocol bytes.

func multibulk(args ...string) string {
	b := resp.AppendArrayLen(nil, len(args))
	for _, a := range args {
		b = resp.AppendBulkString(b, a)
	}
	return string(b)
}

func inline(args ...string) string { return strings.Join(args, " ") + "\r\n" }

func bulk(s string) string         { return string(resp.AppendBulkString(nil, s)) }
func bulkUint(n uint64) string     { return bulk(strconv.FormatUint(n, 10)) }
func integer(n uint64) string      { return string(resp.AppendUint(nil, n)) }
func simple(s string) string       { return "+" + s + "\r\n" }
func errorReply(msg string) string { return "-" + msg + "\r\n" }
func array(elems ...string) string {
	return string(resp.AppendArrayLen(nil, len(elems))) + strings.Join(elems, "")
}
func arityError(name string) string {
	return errorReply("ERR wrong number of arguments for '" + name + "' command")
}
func scoreBulk(score float64) string { return string(resp.AppendBulkFloat(nil, score, scoreDecimals)) }
func double(v float64) string        { return string(resp.AppendDouble(nil, v, -1, resp.RESP2)) }

const nilBulk = "$-1\r\n"

// process runs in through a fresh Session of h in one call.
func process(h *Handler, in string) (reply string, consumed int, closeAfter bool) {
	s := h.NewSession()
	defer s.Close()
	n, out, c := s.Process([]byte(in), nil)
	return string(out), n, c
}

// processChunks feeds chunks to one Session the way a server loop does,
// moving the unconsumed bytes to fresh memory between reads, and returns
// every reply and whether the session asked to close.
func processChunks(s *Session, chunks ...[]byte) (string, bool) {
	var replies []byte
	var pending []byte
	for _, c := range chunks {
		pending = append(pending[:len(pending):len(pending)], c...)
		for len(pending) > 0 || s.Executing() {
			n, out, closeAfter := s.Process(pending, replies)
			replies = out
			pending = pending[n:]
			if closeAfter {
				return string(replies), true
			}
			if n == 0 && !s.Executing() {
				break
			}
		}
	}
	return string(replies), false
}
