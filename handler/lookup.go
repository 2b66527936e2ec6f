package handler

import (
	"bytes"

	"github.com/freqd/freqd/word"
)

// lookup returns a word's count and counts the lookup as a keyspace hit or
// miss, as Redis counts the key reads of a command for INFO. Every command
// that takes a word answers through it: the table normalizes the query as
// its words were normalized, and on a table that counts contractions by
// their parts (word.Parts) a contraction gets its rarest part's count, so
// that "don't" is as common as SUBTLEX-US's "don" says rather than never
// seen. On a node of a cluster the word and its parts are looked up in the
// whole set (corpus), each in the shard that holds it.
//
// Such a table holds no word with an apostrophe, so a contraction is
// always a miss first: hits, nearly every query, pay nothing for the rule.
func (s *Session) lookup(w []byte) (uint64, bool) {
	q := s.phraseQuery(w)
	n, ok := s.corpus().Lookup(q)
	if !ok && s.h.rules.SplitContractions {
		n, _, ok = s.contraction(q)
	}
	s.count(ok)
	return n, ok
}

// rank returns a word's rank, counted as lookup counts; a contraction on a
// table that splits them has its rarest part's rank.
func (s *Session) rank(w []byte) (uint64, bool) {
	q := s.phraseQuery(w)
	t := s.corpus()
	r, ok := t.Rank(q)
	if !ok && s.h.rules.SplitContractions {
		var part []byte
		if _, part, ok = s.contraction(q); ok {
			r, ok = t.Rank(part)
		}
	}
	s.count(ok)
	return r, ok
}

// contraction answers a word the table does not hold that has an
// apostrophe, on a table that splits contractions (word.Contraction); the
// part is valid until the Session's next lookup. A phrase is not taken
// apart: its words are the table's. Every part is looked up, found or not,
// so that a node of a cluster asks the shards holding them all at once.
func (s *Session) contraction(q []byte) (count uint64, rarest []byte, ok bool) {
	if !word.HasApostrophe(q) || bytes.IndexByte(q, ' ') >= 0 {
		return 0, nil, false
	}
	s.normal = s.h.rules.AppendNormal(s.normal[:0], q)
	return word.Contraction(s.normal, s.corpus().LookupNormal)
}

// count counts a key read of the running command.
func (s *Session) count(hit bool) {
	if hit {
		s.hits++
	} else {
		s.misses++
	}
}

// completed ends a run of command id that went to the end: its call and
// the key reads it made are counted, and a command that needed other
// shards' words has its reply replaced by an error if one of them did not
// answer. A call is counted once it has run, as Redis counts one, so that
// INFO's commandstats do not count the INFO reading them.
func (s *Session) completed(id int, out []byte, start int) []byte {
	s.call(id)
	s.pend.hits += s.hits
	s.pend.misses += s.misses
	s.hits, s.misses = 0, 0
	return s.finishRemote(out, start)
}

// tally is what a Session has counted (commands, their calls, key reads)
// and not yet added to the Handler's counters, which every session of the
// process shares. Each add to those is an atomic read-modify-write, a
// locked instruction that waits for the loads and stores before it; three
// for every command were a measurable share of a pipelined GET's cost
// (docs/benchmarks.md). A Session adds its tally once per Process call
// instead, and before INFO reads the counters, so INFO still sees every
// command before it.
type tally struct {
	cmd                    int    // the command whose calls are pending
	calls                  uint64 // calls of cmd not yet added
	commands, hits, misses uint64
}

// call counts a call of command id. Calls of the same command in a row,
// a pipeline's usual shape, gather into one add.
func (s *Session) call(id int) {
	p := &s.pend
	if p.calls != 0 && p.cmd != id {
		s.h.calls[p.cmd].Add(p.calls)
		p.calls = 0
	}
	p.cmd = id
	p.calls++
}

// flush adds the session's tally to the Handler's counters.
func (s *Session) flush() {
	p := &s.pend
	if p.calls != 0 {
		s.h.calls[p.cmd].Add(p.calls)
	}
	if p.commands != 0 {
		s.h.commands.Add(p.commands)
	}
	if p.hits != 0 {
		s.h.hits.Add(p.hits)
	}
	if p.misses != 0 {
		s.h.misses.Add(p.misses)
	}
	*p = tally{}
}
