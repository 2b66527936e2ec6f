package resp

import "bytes"

// inline parses one inline request: a line of space-separated arguments
// ended by "\r\n" or "\n", with redis-cli's quoting for arguments that hold
// spaces or binary bytes. It splits as Redis 7 does (sdssplitargs): an
// unquoted argument ends at a space, tab, CR or LF, but not at a vertical
// tab or form feed, which Redis skips only between arguments; and a NUL
// byte ends the line, since Redis reads it as a C string.
func (p *Parser) inline(buf []byte, lim *Limits) ([][]byte, int, error) {
	i := bytes.IndexByte(buf[p.pos:], '\n')
	if i < 0 {
		// The line so far may end in the CR of its terminator, hence +1.
		if len(buf) > lim.MaxInlineLen+1 {
			return nil, 0, errInlineTooBig
		}
		p.pos = len(buf)
		return nil, 0, ErrIncomplete
	}
	end := p.pos + i
	n := end + 1
	p.pos = 0
	line := buf[:end]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if len(line) > lim.MaxInlineLen {
		return nil, 0, errInlineTooBig
	}
	if i := bytes.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	if p.args == nil {
		p.args = p.args0[:0]
	}
	p.args = p.args[:0]
	if bytes.IndexByte(line, '"') < 0 && bytes.IndexByte(line, '\'') < 0 {
		p.args = splitPlain(p.args, line)
	} else {
		var ok bool
		if p.args, ok = p.splitQuoted(p.args, line); !ok {
			return nil, 0, errUnbalancedQuotes
		}
	}
	if len(p.args) == 0 {
		return nil, n, nil
	}
	if len(p.args) > lim.MaxArgs {
		return nil, 0, errInlineTooManyArgs
	}
	return p.args, n, nil
}

// isSpace reports whether c is skipped between inline arguments: what C's
// isspace accepts, as Redis skips them.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// endsArg reports whether c ends an unquoted inline argument. Vertical tab
// and form feed do not: in Redis they are part of the argument.
func endsArg(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

// splitPlain appends the arguments of line, which holds no quote, to args,
// aliasing line.
func splitPlain(args [][]byte, line []byte) [][]byte {
	for i := 0; i < len(line); {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		start := i
		for i < len(line) && !endsArg(line[i]) {
			i++
		}
		if i > start {
			args = append(args, line[start:i:i])
		}
	}
	return args
}

// splitQuoted splits line as redis-cli and Redis's sdssplitargs do: "double
// quotes" understand \n \r \t \b \a \xHH and \<any>, 'single quotes' only \',
// and a closing quote must be followed by a space or the end of the line.
// Unescaped arguments are built in p.scratch, which is sized up front (an
// argument is never longer than its quoted form) so that it never moves
// while earlier arguments point into it.
func (p *Parser) splitQuoted(args [][]byte, line []byte) ([][]byte, bool) {
	if cap(p.scratch) < len(line) {
		p.scratch = make([]byte, 0, len(line))
	}
	out := p.scratch[:0]
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i == len(line) {
			return args, true
		}
		start := len(out)
		inDouble, inSingle := false, false
	token:
		for ; i < len(line); i++ {
			c := line[i]
			switch {
			case inDouble:
				switch {
				case c == '\\' && i+3 < len(line) && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]):
					out = append(out, unhex(line[i+2])<<4|unhex(line[i+3]))
					i += 3
				case c == '\\' && i+1 < len(line):
					i++
					out = append(out, unescape(line[i]))
				case c == '"':
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return args, false
					}
					inDouble = false
					i++
					break token
				default:
					out = append(out, c)
				}
			case inSingle:
				switch {
				case c == '\\' && i+1 < len(line) && line[i+1] == '\'':
					i++
					out = append(out, '\'')
				case c == '\'':
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return args, false
					}
					inSingle = false
					i++
					break token
				default:
					out = append(out, c)
				}
			case endsArg(c):
				break token
			case c == '"':
				inDouble = true
			case c == '\'':
				inSingle = true
			default:
				out = append(out, c)
			}
		}
		if inDouble || inSingle {
			return args, false
		}
		args = append(args, out[start:len(out):len(out)])
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// unescape maps the byte after a backslash inside double quotes.
func unescape(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 'b':
		return '\b'
	case 'a':
		return '\a'
	}
	return c
}
