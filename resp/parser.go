package resp

import "bytes"

// maxHeaderLen bounds a "*count" or "$length" line. The longest valid one is
// a sign and 19 digits after the type byte; anything longer is garbage, and
// saying so early keeps a client from making us buffer it.
const maxHeaderLen = 32

// Parser splits a byte stream into requests. The zero value is ready to use
// with default Limits. A Parser belongs to one connection; it is not safe for
// concurrent use.
//
// It remembers how far it got into an incomplete request, so a large request
// arriving in many small reads is parsed once, not once per read. In return,
// every call must be given the bytes not yet consumed, from the first one, in
// the same order, followed by whatever has arrived since; where they sit in
// memory may change between calls, so the caller is free to compact or
// reallocate its buffer.
type Parser struct {
	// Limits bounds each request. Set it before the first call to Next.
	Limits Limits

	// Unauthenticated applies Limits.UnauthMaxArgs and UnauthMaxBulkLen to
	// multibulk requests on top of the other bounds, as Redis does for a
	// client that has not yet authenticated. A server sets it on a
	// password-protected connection and clears it once AUTH succeeds; it may
	// change between requests, and the next request is parsed under the new
	// setting, so an AUTH lifts the bounds for the request pipelined after it.
	Unauthenticated bool

	pos     int      // bytes of the current request already parsed
	argc    int      // announced multibulk count; 0 while the header is unread
	offs    []int    // start and end of each multibulk argument parsed so far
	args    [][]byte // the last request's arguments, reused between calls
	scratch []byte   // unescaped quoted inline arguments
	err     error    // the protocol error that ended the stream, if any

	// Room for the offsets and arguments of a short request, so that a
	// connection that makes one request allocates nothing for them. offs
	// and args point here until a longer request needs more; a Parser
	// must therefore not be copied once used.
	offs0 [6]int
	args0 [3][]byte
}

// Next parses the request at the start of buf.
//
// With a nil error it returns the request's arguments and the number of
// bytes it spanned; the caller drops those bytes and calls Next again for a
// pipelined request that may follow. An empty request (a blank inline line,
// or "*0\r\n") is returned as zero arguments with n > 0: Redis skips them
// silently, and so should the caller. The arguments alias buf (or the
// Parser's own scratch space) and are valid until the next call to Next.
//
// With ErrIncomplete, buf holds no complete request yet: nothing is
// consumed, and the caller reads more and calls again.
//
// Any other error is a *ProtocolError: the caller sends it to the client as
// an "ERR" reply and closes the connection. From then on Next returns the
// same error until Reset.
func (p *Parser) Next(buf []byte) (args [][]byte, n int, err error) {
	if p.err != nil {
		return nil, 0, p.err
	}
	if len(buf) == 0 {
		return nil, 0, ErrIncomplete
	}
	lim := p.Limits.Effective()
	if buf[0] == '*' {
		args, n, err = p.multibulk(buf, &lim)
	} else {
		args, n, err = p.inline(buf, &lim)
	}
	if err != nil && err != ErrIncomplete {
		p.err = err
		p.restart()
	}
	return args, n, err
}

// Reset forgets any partial request and a previous protocol error, for
// reusing the Parser on a new connection.
func (p *Parser) Reset() {
	p.restart()
	p.err = nil
}

// restart clears the progress made into the current request.
func (p *Parser) restart() {
	p.pos = 0
	p.argc = 0
	p.offs = p.offs[:0]
}

// multibulk parses "*<count>\r\n" followed by count "$<len>\r\n<bytes>\r\n".
func (p *Parser) multibulk(buf []byte, lim *Limits) ([][]byte, int, error) {
	if p.argc == 0 {
		line, next, err := readHeader(buf, 0, errMultibulkTooBig, errInvalidMultibulk)
		if err != nil {
			return nil, 0, err
		}
		count, ok := parseInt(line[1:])
		switch {
		case !ok || count > int64(lim.MaxArgs):
			return nil, 0, errInvalidMultibulk
		case p.Unauthenticated && count > int64(lim.UnauthMaxArgs):
			return nil, 0, errUnauthMultibulk
		case count <= 0:
			// "*0", "*-1" and any other negative count are empty
			// requests: Redis skips them without a reply.
			return nil, next, nil
		case int64(next)+count*int64(len("$0\r\n\r\n")) > int64(lim.MaxRequestLen):
			return nil, 0, errRequestTooBig
		}
		p.argc = int(count)
		p.pos = next
		if p.offs == nil {
			p.offs, p.args = p.offs0[:0], p.args0[:0]
		}
		p.offs = p.offs[:0]
	}
	for len(p.offs) < 2*p.argc {
		if p.pos >= len(buf) {
			return nil, 0, ErrIncomplete
		}
		if buf[p.pos] != '$' {
			return nil, 0, errExpectedDollar[buf[p.pos]]
		}
		line, start, err := readHeader(buf, p.pos, errBulkCountTooBig, errInvalidBulk)
		if err != nil {
			return nil, 0, err
		}
		size, ok := parseInt(line[1:])
		if !ok || size < 0 || size > int64(lim.MaxBulkLen) {
			return nil, 0, errInvalidBulk
		}
		if p.Unauthenticated && size > int64(lim.UnauthMaxBulkLen) {
			return nil, 0, errUnauthBulk
		}
		end := start + int(size)
		if end+2 > lim.MaxRequestLen {
			return nil, 0, errRequestTooBig
		}
		if end+2 > len(buf) {
			// The header is reparsed next time; it is a few bytes.
			return nil, 0, ErrIncomplete
		}
		if buf[end] != '\r' || buf[end+1] != '\n' {
			return nil, 0, errMissingBulkCRLF
		}
		p.offs = append(p.offs, start, end)
		p.pos = end + 2
	}
	p.args = p.args[:0]
	for i := 0; i < len(p.offs); i += 2 {
		// Capacity is clipped so that appending to an argument cannot
		// overwrite the bytes of the next one.
		p.args = append(p.args, buf[p.offs[i]:p.offs[i+1]:p.offs[i+1]])
	}
	n := p.pos
	p.restart()
	return p.args, n, nil
}

// readHeader reads the CRLF-terminated line that starts at buf[start]. It
// returns tooBig for a line over maxHeaderLen, bad for a line ended by a
// bare LF, and ErrIncomplete when the end has not arrived.
func readHeader(buf []byte, start int, tooBig, bad error) (line []byte, next int, err error) {
	i := bytes.IndexByte(buf[start:], '\n')
	if i < 0 {
		if len(buf)-start > maxHeaderLen+1 {
			return nil, 0, tooBig
		}
		return nil, 0, ErrIncomplete
	}
	// Length is judged before form, and the same way as above, so that
	// the error does not depend on whether the LF had arrived.
	if i > maxHeaderLen+1 {
		return nil, 0, tooBig
	}
	if i == 0 || buf[start+i-1] != '\r' {
		return nil, 0, bad
	}
	line = buf[start : start+i-1]
	return line, start + i + 1, nil
}

// parseInt parses a decimal integer as Redis's string2ll does: an optional
// minus sign, then either "0" alone or digits without a leading zero, and
// nothing around them; "-0", "03" and "+3" are refused, as is overflow.
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg = true
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 || (b[0] == '0' && (len(b) > 1 || neg)) {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	// 19 digits fit in a uint64, so only the sign can overflow int64.
	switch {
	case neg && v <= 1<<63:
		return int64(-v), true
	case v > 1<<63-1:
		return 0, false
	}
	return int64(v), true
}
