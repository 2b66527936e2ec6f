package loadgen

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/freqd/freqd/shm/freqfile"
)

// zipfExponent is the s of the rank distribution: word frequencies in
// English corpora fall off roughly as rank^-1 and a little faster in the
// tail, and math/rand/v2's Zipf needs s > 1.
const zipfExponent = 1.07

// missPrefix starts every absent word asked for. The expected answer is
// still what the table says, so a table that happens to hold such a word is
// answered right, not counted wrong.
const missPrefix = "freqd-bench-miss-"

// expect is what the table says the reply to one GET must be, and which
// word was asked, kept as a rank or nonce so that recording it costs nothing.
type expect struct {
	rank    uint64 // the word's rank, or 0 for an absent word
	nonce   uint64 // names the absent word when rank is 0
	count   uint64
	present bool
}

// keys picks the words of one connection's requests. It is not safe for
// concurrent use; each connection has its own.
type keys struct {
	table *freqfile.Table
	rng   *rand.Rand
	zipf  *rand.Zipf // nil: uniform ranks
	miss  float64
	words uint64
	word  []byte // scratch for absent words
}

func newKeys(t *freqfile.Table, dist KeyDist, miss float64, seed1, seed2 uint64) *keys {
	k := &keys{
		table: t,
		rng:   rand.New(rand.NewPCG(seed1, seed2)),
		miss:  miss,
		words: t.Len(),
		word:  make([]byte, 0, len(missPrefix)+16),
	}
	if dist == KeysZipf {
		k.zipf = rand.NewZipf(k.rng, zipfExponent, 1, k.words-1)
	}
	return k
}

// next appends a GET request for the next word to req and returns what its
// reply must be. It reports false only if the table cannot give the word of
// a rank, which a verified table never does.
func (k *keys) next(req []byte) ([]byte, expect, bool) {
	if k.miss > 0 && k.rng.Float64() < k.miss {
		nonce := k.rng.Uint64()
		k.word = appendMissWord(k.word[:0], nonce)
		count, ok := k.table.Lookup(k.word)
		return appendGET(req, k.word), expect{nonce: nonce, count: count, present: ok}, true
	}
	var rank uint64
	if k.zipf != nil {
		rank = k.zipf.Uint64() + 1
	} else {
		rank = k.rng.Uint64N(k.words) + 1
	}
	word, count, ok := k.table.Entry(rank)
	if !ok {
		return req, expect{}, false
	}
	return appendGET(req, word), expect{rank: rank, count: count, present: true}, true
}

// describe names the request e answers, for a failure message.
func (k *keys) describe(e expect) string {
	if e.rank == 0 {
		return fmt.Sprintf("GET %q (absent)", appendMissWord(nil, e.nonce))
	}
	word, _, _ := k.table.Entry(e.rank)
	return fmt.Sprintf("GET %q (rank %d)", word, e.rank)
}

func appendMissWord(b []byte, nonce uint64) []byte {
	b = append(b, missPrefix...)
	return strconv.AppendUint(b, nonce, 16)
}

// appendGET appends "GET word" as a RESP array of bulk strings, the form
// client libraries send, so the server parses what it parses in production.
func appendGET(b, word []byte) []byte {
	b = append(b, "*2\r\n$3\r\nGET\r\n$"...)
	b = strconv.AppendInt(b, int64(len(word)), 10)
	b = append(b, '\r', '\n')
	b = append(b, word...)
	return append(b, '\r', '\n')
}
