package handler

import "github.com/freqd/freqd/resp"

// GET word: the count as a bulk string, as Redis returns a stored number,
// or nil when the word is absent.
func runGet(s *Session, args [][]byte, out []byte) []byte {
	return appendCountBulk(s, args[1], out)
}

// MGET word...: GET for each word, in an array.
func runMGet(s *Session, args [][]byte, out []byte) []byte {
	out = resp.AppendArrayLen(out, len(args)-1)
	for _, w := range args[1:] {
		out = appendCountBulk(s, w, out)
	}
	return out
}

func appendCountBulk(s *Session, word []byte, out []byte) []byte {
	if n, ok := s.lookup(word); ok {
		return resp.AppendBulkUint(out, n)
	}
	return resp.AppendNull(out, s.proto)
}

// EXISTS word...: how many of the words are present, a repeated word
// counted each time as Redis does.
func runExists(s *Session, args [][]byte, out []byte) []byte {
	var n int64
	for _, w := range args[1:] {
		if _, ok := s.lookup(w); ok {
			n++
		}
	}
	return resp.AppendInt(out, n)
}

// FREQ word...: the counts as integers, 0 for an absent word, for clients
// that want numbers rather than GET's strings and nils.
func runFreq(s *Session, args [][]byte, out []byte) []byte {
	out = resp.AppendArrayLen(out, len(args)-1)
	for _, w := range args[1:] {
		n, _ := s.lookup(w)
		out = resp.AppendUint(out, n)
	}
	return out
}

// RANK word: the word's position in frequency order, nil when absent.
func runRank(s *Session, args [][]byte, out []byte) []byte {
	if r, ok := s.rank(args[1]); ok {
		return resp.AppendUint(out, r)
	}
	return resp.AppendNull(out, s.proto)
}

// DBSIZE: the number of words.
func runDBSize(s *Session, _ [][]byte, out []byte) []byte {
	return resp.AppendUint(out, s.h.table.Len())
}
