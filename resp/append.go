package resp

import "strconv"

// AppendSimple appends a simple string reply ("+OK\r\n"). s must not hold
// CR or LF; replies built from client input belong in a bulk string.
func AppendSimple(b []byte, s string) []byte {
	b = append(b, '+')
	b = append(b, s...)
	return append(b, '\r', '\n')
}

// AppendError appends an error reply. msg starts with the error code, as in
// "ERR unknown command" or "NOPROTO unsupported protocol version". CR and LF
// in msg are replaced by spaces, as Redis does, because an error often
// quotes client input and a line break would end the reply early and let the
// client inject a reply of its own.
func AppendError(b []byte, msg string) []byte {
	b = append(b, '-')
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		b = append(b, c)
	}
	return append(b, '\r', '\n')
}

// AppendInt appends an integer reply (":42\r\n").
func AppendInt(b []byte, n int64) []byte {
	b = append(b, ':')
	b = strconv.AppendInt(b, n, 10)
	return append(b, '\r', '\n')
}

// AppendUint appends an integer reply for an unsigned value. Values beyond
// the int64 range RESP integers are specified with are written as they are;
// freqd's counts never come near it.
func AppendUint(b []byte, n uint64) []byte {
	b = append(b, ':')
	b = strconv.AppendUint(b, n, 10)
	return append(b, '\r', '\n')
}

// AppendBulk appends a bulk string reply ("$3\r\nfoo\r\n").
func AppendBulk(b []byte, p []byte) []byte {
	b = appendHeader(b, '$', len(p))
	b = append(b, p...)
	return append(b, '\r', '\n')
}

// AppendBulkString is AppendBulk for a string.
func AppendBulkString(b []byte, s string) []byte {
	b = appendHeader(b, '$', len(s))
	b = append(b, s...)
	return append(b, '\r', '\n')
}

// AppendBulkUint appends n in decimal as a bulk string, the form GET returns
// a number in, without formatting it into a temporary string first.
func AppendBulkUint(b []byte, n uint64) []byte {
	b = appendHeader(b, '$', decimalLen(n))
	b = strconv.AppendUint(b, n, 10)
	return append(b, '\r', '\n')
}

// AppendBulkFloat appends f as a bulk string with prec decimals ("3.142").
func AppendBulkFloat(b []byte, f float64, prec int) []byte {
	var tmp [32]byte
	num := strconv.AppendFloat(tmp[:0], f, 'f', prec, 64)
	return AppendBulk(b, num)
}

// AppendNullBulk appends the nil bulk string ("$-1\r\n"), RESP2's "no value".
func AppendNullBulk(b []byte) []byte {
	return append(b, "$-1\r\n"...)
}

// AppendNullArray appends the nil array ("*-1\r\n").
func AppendNullArray(b []byte) []byte {
	return append(b, "*-1\r\n"...)
}

// AppendArrayLen appends the header of an array of n elements; the caller
// appends the n elements after it.
func AppendArrayLen(b []byte, n int) []byte {
	return appendHeader(b, '*', n)
}

// AppendOK appends "+OK\r\n", the reply of most commands that change state.
func AppendOK(b []byte) []byte {
	return append(b, "+OK\r\n"...)
}

func appendHeader(b []byte, kind byte, n int) []byte {
	b = append(b, kind)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '\r', '\n')
}

// decimalLen returns the number of decimal digits of n.
func decimalLen(n uint64) int {
	d := 1
	for n >= 10 {
		n /= 10
		d++
	}
	return d
}
