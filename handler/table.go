package handler

import "github.com/freqd/freqd/word"

// Table is what the handler needs from a frequency table. *freqfile.Table
// implements it; the handler only reads, so one table serves every
// connection of a process concurrently.
type Table interface {
	// Lookup returns a word's count, and false when the word is absent,
	// normalizing the query by the table's rules first.
	Lookup(word []byte) (count uint64, ok bool)
	// LookupNormal is Lookup for a word already normalized by the rules.
	LookupNormal(word []byte) (count uint64, ok bool)
	// Rank returns a word's position in frequency order, 1 for the most
	// frequent, and false when the word is absent.
	Rank(word []byte) (rank uint64, ok bool)
	// Len returns the number of words.
	Len() uint64
	// Total returns the sum of all counts.
	Total() uint64
	// Entry returns the word of a rank (1..Len) and its count: SCAN, KEYS
	// and RANDOMKEY walk the table in rank order through it.
	Entry(rank uint64) (word []byte, count uint64, ok bool)
	// Checksum changes with any byte of the table: the tag that ties a
	// SCAN cursor to the table it walks.
	Checksum() uint64
	// ID names what the table answers, build time aside: INFO's table_id.
	ID() uint32
	// Meta returns a fact the table records about itself ("built").
	Meta(key string) (string, bool)
	// Size returns the table's size in bytes.
	Size() int64
	// AppendKey appends the word Lookup(query) searches for: the query as
	// the table normalizes it. A cluster routes by the slot of this key.
	AppendKey(dst, query []byte) []byte
	// Rules returns how the table's words were normalized: queries and
	// texts are taken apart and normalized the same way.
	Rules() word.Rules
}
