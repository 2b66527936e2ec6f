package handler

// lookup returns a word's count and counts the lookup as a keyspace hit or
// miss, as Redis counts the key reads of a command for INFO.
func (s *Session) lookup(word []byte) (uint64, bool) {
	n, ok := s.corpus().Lookup(s.phraseQuery(word))
	s.count(ok)
	return n, ok
}

// rank returns a word's rank, counted as lookup counts.
func (s *Session) rank(word []byte) (uint64, bool) {
	r, ok := s.corpus().Rank(s.phraseQuery(word))
	s.count(ok)
	return r, ok
}

// count counts a key read of the running command.
func (s *Session) count(hit bool) {
	if hit {
		s.hits++
	} else {
		s.misses++
	}
}

// completed ends a command that ran to the end: the key reads it made are
// counted, and a command that needed other shards' words has its reply
// replaced by an error if one of them did not answer.
func (s *Session) completed(out []byte, start int) []byte {
	if s.hits != 0 {
		s.h.hits.Add(s.hits)
	}
	if s.misses != 0 {
		s.h.misses.Add(s.misses)
	}
	s.hits, s.misses = 0, 0
	return s.finishRemote(out, start)
}
