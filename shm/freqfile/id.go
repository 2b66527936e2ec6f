package freqfile

import (
	"encoding/binary"
	"hash/crc32"
	"sync"
)

// The table id names what a table answers, so that replicas can show they
// serve the same table: INFO's table_id, /readyz, `freqd status` and
// `freqd bench` compare it. The body checksum cannot serve, because the
// metadata it covers records when the table was built, and two builds of
// the same input a second apart (an init container in each of a
// Deployment's pods) would differ.
//
// The id is the CRC-32C of the body up to the metadata, continued over the
// metadata without its "built" line, and then over the header's flags
// (case folding changes answers). The body's CRC up to the metadata is not
// stored, but it need not be recomputed over the whole body (gigabytes for
// a large table): a CRC step is invertible, so the stored body CRC is run
// backwards over the metadata, a few hundred bytes, to the CRC before it.
//
// A table written by any version of freqd has an id this way, and tables
// that differ only in their build time share it.

// unbuilt is the metadata key left out of the id.
const unbuilt = "built"

// ID returns the table id described above.
func (t *Table) ID() uint32 {
	t.idOnce.Do(func() {
		metaStart := t.hdr.fileSize - uint64(t.hdr.metaSize)
		crc := crcBefore(t.hdr.bodyCRC, t.data[metaStart:t.hdr.fileSize])
		rest := Metadata{}
		for k, v := range t.meta {
			if k != unbuilt {
				rest[k] = v
			}
		}
		// The keys were valid when decoded, so encoding cannot fail.
		b, _ := rest.encode()
		crc = crc32.Update(crc, castagnoli, b)
		t.id = crc32.Update(crc, castagnoli, binary.LittleEndian.AppendUint32(nil, t.hdr.flags))
	})
	return t.id
}

// byTopByte maps the top byte of a CRC-32C table entry back to its index.
// For a reflected CRC the 256 top bytes are distinct (the polynomial's
// x^32 term), which is what makes a step invertible.
var byTopByte = sync.OnceValue(func() *[256]byte {
	var rev [256]byte
	for i, v := range castagnoli {
		rev[v>>24] = byte(i)
	}
	return &rev
})

// crcBefore returns c such that crc32.Update(c, castagnoli, tail) == crc.
func crcBefore(crc uint32, tail []byte) uint32 {
	rev := byTopByte()
	// crc32.Update complements the register on the way in and out; one
	// forward step is r' = table[byte(r)^b] ^ r>>8.
	r := ^crc
	for i := len(tail) - 1; i >= 0; i-- {
		idx := rev[r>>24]
		r = (r^castagnoli[idx])<<8 | uint32(idx^tail[i])
	}
	return ^r
}
