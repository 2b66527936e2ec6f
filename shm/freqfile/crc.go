package freqfile

// crcCombine returns the CRC-32C of a||b from crcA = CRC-32C(a), crcB =
// CRC-32C(b) and len(b), so that a writer can checksum the sections of a
// file in the order it produces them rather than the order they lie in.
//
// A CRC is the remainder of the message times x^32 modulo the polynomial,
// with the register preset and the result inverted. Appending n bytes to a
// multiplies a's remainder by x^(8n); the presets of the two parts cancel
// out, so CRC(a||b) = CRC(a)·x^(8n) ⊕ CRC(b), the product taken modulo the
// polynomial. x^(8n) is found by squaring (table x2n), in O(log n).
func crcCombine(crcA, crcB uint32, lenB int64) uint32 {
	if lenB <= 0 {
		return crcA
	}
	return crcMulMod(crcX8n(uint64(lenB)), crcA) ^ crcB
}

// castagnoliReflected is the CRC-32C polynomial, bit-reversed as the
// reflected CRC computes with it.
const castagnoliReflected = 0x82f63b78

// crcMulMod multiplies a and b modulo the polynomial. Both are reflected:
// bit 31 is the coefficient of x^0.
func crcMulMod(a, b uint32) uint32 {
	var p uint32
	for m := uint32(1) << 31; m != 0; m >>= 1 {
		if a&m != 0 {
			p ^= b
		}
		// b *= x
		if b&1 != 0 {
			b = b>>1 ^ castagnoliReflected
		} else {
			b >>= 1
		}
	}
	return p
}

// crcX2n[k] is x^(2^k) modulo the polynomial.
var crcX2n = func() (t [64]uint32) {
	p := uint32(1) << 30 // x^1
	for k := range t {
		t[k] = p
		p = crcMulMod(p, p)
	}
	return t
}()

// crcX8n returns x^(8n) modulo the polynomial.
func crcX8n(n uint64) uint32 {
	p := uint32(1) << 31 // x^0
	for k := 3; n != 0; k, n = k+1, n>>1 {
		if n&1 != 0 {
			p = crcMulMod(crcX2n[k], p)
		}
	}
	return p
}
