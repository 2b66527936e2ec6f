package resp

import (
	"math"
	"strconv"
)

// Proto is the protocol version a connection speaks: RESP2 until the client
// asks for RESP3 with HELLO 3. The replies RESP3 gives a type of their own
// (null, double, map, set, verbatim string) are written by the Append
// functions that take a Proto; every other reply is the same in both.
type Proto uint8

// The protocol versions. The zero Proto is written as RESP2, the version a
// connection starts in.
const (
	RESP2 Proto = 2
	RESP3 Proto = 3
)

// AppendNull appends "no value": RESP3's null ("_\r\n"), or for RESP2 the
// nil bulk string ("$-1\r\n") that Redis sends wherever RESP3 has null.
func AppendNull(b []byte, p Proto) []byte {
	if p == RESP3 {
		return append(b, "_\r\n"...)
	}
	return AppendNullBulk(b)
}

// AppendDouble appends f as a RESP3 double (",1.5\r\n") or, for RESP2, as
// the bulk string Redis sends a double in ("$3\r\n1.5\r\n"). prec is the
// number of decimals, or -1 for the fewest digits that read back as f.
// Infinities and NaN are written "inf", "-inf" and "nan", as RESP3 spells
// them and as Redis writes them in RESP2.
func AppendDouble(b []byte, f float64, prec int, p Proto) []byte {
	var tmp [32]byte
	var num []byte
	switch {
	case math.IsInf(f, 1):
		num = append(tmp[:0], "inf"...)
	case math.IsInf(f, -1):
		num = append(tmp[:0], "-inf"...)
	case math.IsNaN(f):
		num = append(tmp[:0], "nan"...)
	case prec < 0:
		num = strconv.AppendFloat(tmp[:0], f, 'g', -1, 64)
	default:
		num = strconv.AppendFloat(tmp[:0], f, 'f', prec, 64)
	}
	if p == RESP3 {
		b = append(b, ',')
		b = append(b, num...)
		return append(b, '\r', '\n')
	}
	return AppendBulk(b, num)
}

// AppendMapLen appends the header of a map of n key-value pairs: RESP3's
// map ("%n"), or for RESP2 a flat array of 2n elements, keys and values
// alternating, as Redis writes maps there. The caller appends the pairs.
func AppendMapLen(b []byte, n int, p Proto) []byte {
	if p == RESP3 {
		return appendHeader(b, '%', n)
	}
	return appendHeader(b, '*', 2*n)
}

// AppendSetLen appends the header of a set of n elements: RESP3's set
// ("~n"), or an array for RESP2.
func AppendSetLen(b []byte, n int, p Proto) []byte {
	if p == RESP3 {
		return appendHeader(b, '~', n)
	}
	return appendHeader(b, '*', n)
}

// AppendVerbatim appends text as a RESP3 verbatim string of the given
// three-letter format ("txt" or "mkd"), which clients show as it is rather
// than quoted, or as a bulk string for RESP2.
func AppendVerbatim(b []byte, format string, text []byte, p Proto) []byte {
	if p != RESP3 || len(format) != 3 {
		return AppendBulk(b, text)
	}
	b = appendHeader(b, '=', len(text)+4)
	b = append(b, format...)
	b = append(b, ':')
	b = append(b, text...)
	return append(b, '\r', '\n')
}
