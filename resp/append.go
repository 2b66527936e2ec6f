package resp

import (
	"slices"
	"strconv"
)

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
	b = appendDigits(b, n, decimalLen(n))
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
	d := decimalLen(n)
	b = appendHeader(b, '$', d)
	b = appendDigits(b, n, d)
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

// appendDigits appends the d decimal digits of n, d being decimalLen(n).
// A count is the body of nearly every reply; writing its digits in place,
// two at a time from the end, spares strconv's copy from a buffer of its
// own, which was a tenth of a pipelined GET's time.
func appendDigits(b []byte, n uint64, d int) []byte {
	b = slices.Grow(b, d)
	b = b[:len(b)+d]
	i := len(b)
	for n >= 100 {
		q := n / 100
		r := n - 100*q
		i -= 2
		b[i], b[i+1] = digitPairs[2*r], digitPairs[2*r+1]
		n = q
	}
	if n >= 10 {
		b[i-2], b[i-1] = digitPairs[2*n], digitPairs[2*n+1]
	} else {
		b[i-1] = byte('0' + n)
	}
	return b
}

// digitPairs holds "00" to "99", for appendDigits.
const digitPairs = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

// decimalLen returns the number of decimal digits of n.
func decimalLen(n uint64) int {
	d := 1
	for n >= 10 {
		n /= 10
		d++
	}
	return d
}
