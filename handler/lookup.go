package handler

// lookup returns a word's count and counts the lookup as a keyspace hit or
// miss, as Redis counts the key reads of a command for INFO.
func (s *Session) lookup(word []byte) (uint64, bool) {
	n, ok := s.h.table.Lookup(s.phraseQuery(word))
	if ok {
		s.h.hits.Add(1)
	} else {
		s.h.misses.Add(1)
	}
	return n, ok
}

// rank returns a word's rank, counted as lookup counts.
func (s *Session) rank(word []byte) (uint64, bool) {
	r, ok := s.h.table.Rank(s.phraseQuery(word))
	if ok {
		s.h.hits.Add(1)
	} else {
		s.h.misses.Add(1)
	}
	return r, ok
}
