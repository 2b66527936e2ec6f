package freqfile

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// Metadata is what a table says about itself beyond its words: how its
// words were normalized, where it came from, which shard of a set it is.
// It is stored as "key=value\n" lines, sorted by key, at the end of the
// file, covered by the body checksum. Readers ignore keys they do not know;
// a key whose meaning changes lookups is checked by the code that applies
// it, which refuses a value it does not understand.
type Metadata map[string]string

// MaxMetaSize bounds the metadata section, so that opening a table stays
// cheap whatever the file claims.
const MaxMetaSize = 64 << 10

// validKey reports whether k may name a metadata entry: lower-case ASCII
// letters, digits, '_', '-' and '.', starting with a letter.
func validKey(k string) bool {
	if k == "" || k[0] < 'a' || k[0] > 'z' {
		return false
	}
	for _, c := range []byte(k) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// encode renders m as the metadata section, or says which entry cannot be
// stored.
func (m Metadata) encode() ([]byte, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b []byte
	for _, k := range keys {
		v := m[k]
		if !validKey(k) {
			return nil, fmt.Errorf("metadata key %q: want lower-case letters, digits, '_', '-' and '.', starting with a letter", k)
		}
		if strings.ContainsAny(v, "\n\x00") {
			return nil, fmt.Errorf("metadata %s: the value holds a newline or NUL", k)
		}
		b = append(append(append(append(b, k...), '='), v...), '\n')
	}
	if len(b) > MaxMetaSize {
		return nil, fmt.Errorf("metadata is %d bytes, over the %d-byte limit", len(b), MaxMetaSize)
	}
	return b, nil
}

// decodeMeta parses the metadata section.
func decodeMeta(b []byte) (Metadata, error) {
	m := Metadata{}
	for len(b) > 0 {
		line, rest, ok := bytes.Cut(b, []byte{'\n'})
		if !ok {
			return nil, corruptf("metadata does not end with a newline")
		}
		k, v, ok := bytes.Cut(line, []byte{'='})
		if !ok || !validKey(string(k)) {
			return nil, corruptf("metadata line %q is not key=value", clip(string(line)))
		}
		if _, dup := m[string(k)]; dup {
			return nil, corruptf("metadata key %s appears twice", k)
		}
		m[string(k)] = string(v)
		b = rest
	}
	return m, nil
}
