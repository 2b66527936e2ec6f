package handler

// globMatch reports whether str matches the glob pattern pat as Redis
// matches KEYS, SCAN MATCH and CONFIG GET patterns: * any run of bytes, ?
// one byte, [abc], [^abc] and [a-z] a byte of a set, \x the byte x. A [
// that is never closed runs to the end of the pattern, as in Redis.
//
// It backtracks to the last * only, which is enough for globs (a * can
// absorb whatever an earlier one would have), so its time is bounded by
// len(pat)·len(str) whatever the pattern: "a*a*a*a*b" is no attack.
func globMatch(pat, str []byte, nocase bool) bool {
	p, s := 0, 0
	starP, starS := -1, 0
	for s < len(str) {
		if p < len(pat) {
			switch pat[p] {
			case '*':
				starP, starS = p, s
				p++
				continue
			case '?':
				p++
				s++
				continue
			default:
				if ok, next := matchOne(pat, p, str[s], nocase); ok {
					p = next
					s++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		starS++
		s, p = starS, starP+1
	}
	for p < len(pat) && pat[p] == '*' {
		p++
	}
	return p == len(pat)
}

// matchOne matches byte c against the pattern element at pat[p], a
// literal, an escape or a set, and returns where the next element starts.
func matchOne(pat []byte, p int, c byte, nocase bool) (bool, int) {
	switch pat[p] {
	case '\\':
		if p+1 < len(pat) {
			return sameByte(pat[p+1], c, nocase), p + 2
		}
		return c == '\\', p + 1
	case '[':
		i := p + 1
		negate := i < len(pat) && pat[i] == '^'
		if negate {
			i++
		}
		found := false
		for i < len(pat) && pat[i] != ']' {
			switch {
			case pat[i] == '\\' && i+1 < len(pat):
				found = found || sameByte(pat[i+1], c, nocase)
				i += 2
			case i+2 < len(pat) && pat[i+1] == '-':
				lo, hi, x := pat[i], pat[i+2], c
				if lo > hi {
					lo, hi = hi, lo
				}
				if nocase {
					lo, hi, x = lower(lo), lower(hi), lower(x)
				}
				found = found || (lo <= x && x <= hi)
				i += 3
			default:
				found = found || sameByte(pat[i], c, nocase)
				i++
			}
		}
		if i < len(pat) {
			i++ // the closing ]
		}
		return found != negate, i
	}
	return sameByte(pat[p], c, nocase), p + 1
}

func sameByte(a, b byte, nocase bool) bool {
	if nocase {
		return lower(a) == lower(b)
	}
	return a == b
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// isGlobLiteral reports whether pat matches only itself: it holds none of
// the bytes that make a glob.
func isGlobLiteral(pat []byte) bool {
	for _, c := range pat {
		switch c {
		case '*', '?', '[', '\\':
			return false
		}
	}
	return true
}
