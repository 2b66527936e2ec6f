package handler

import (
	"fmt"

	"github.com/freqd/freqd/resp"
)

// Transactions. freqd's table never changes while it is served, so a
// transaction needs no isolation: MULTI starts queueing, each command
// queued answers +QUEUED, and EXEC runs them in order and replies with an
// array of their replies, exactly as Redis would. A command refused while
// queueing (unknown, wrong number of arguments, NOAUTH, or a queue grown
// past its bound) makes EXEC answer -EXECABORT and run nothing, as Redis
// does. WATCH always succeeds and never aborts a transaction: nothing it
// could watch is ever modified.
//
// The queue is kept as the requests' bytes, re-encoded, so a queued
// command costs its size and a few bytes, and is bounded by the request
// size limit (resp.Limits.MaxRequestLen): a transaction is one request
// spread over several. EXEC runs the queue a batch of replies at a time,
// like a pipeline, so a transaction of many commands with large replies
// holds no more reply memory than the same commands pipelined.
//
// A connection inside MULTI, or whose EXEC is still running, is not
// between requests (Session.InTransaction, Stream.AtBoundary): a worker
// that retires keeps serving it until EXEC or DISCARD, then hands it over
// (or closes it when the shutdown timeout ends first). The queue therefore
// never travels with a handed-over connection.

// Replies of transactions, in Redis 7's words.
const (
	errNestedMulti   = "ERR MULTI calls can not be nested"
	errExecNoMulti   = "ERR EXEC without MULTI"
	errDiscardNoMult = "ERR DISCARD without MULTI"
	errWatchInMulti  = "ERR WATCH inside MULTI is not allowed"
	errExecAbort     = "EXECABORT Transaction discarded because of previous errors."
	errMultiDatagram = "ERR MULTI is not available over datagrams: each datagram is a session of its own; use a TCP or unix stream connection"
)

// transaction is an open MULTI, or the queue an EXEC is running.
type transaction struct {
	queue  []byte // the queued requests, as multibulk
	n      int    // how many
	next   int    // bytes of queue EXEC has run
	parser resp.Parser
	failed bool // a command was refused while queueing: EXEC aborts
	// On a cluster node, the slot of the queued commands' keys, and
	// whether they span several: EXEC then answers -CROSSSLOT, as Redis.
	slot      int
	slotSet   bool
	crossSlot bool
}

// queue adds a request to the open transaction.
func (s *Session) queue(args [][]byte, out []byte) []byte {
	t := s.multi
	size := 3 + decimalLen(uint64(len(args))) // as multibulk: *n\r\n, then $len\r\narg\r\n each
	for _, a := range args {
		size += 5 + decimalLen(uint64(len(a))) + len(a)
	}
	if limit := s.h.Limits().MaxRequestLen; len(t.queue)+size > limit {
		t.failed = true
		s.h.errorReplies.Add(1)
		return resp.AppendError(out, fmt.Sprintf("ERR the transaction's queued commands exceed %d bytes, the server's request size limit; EXEC will fail. Send fewer commands per MULTI", limit))
	}
	t.queue = resp.AppendArrayLen(t.queue, len(args))
	for _, a := range args {
		t.queue = resp.AppendBulk(t.queue, a)
	}
	t.n++
	if s.slot >= 0 {
		t.crossSlot = t.crossSlot || t.slotSet && t.slot != s.slot
		t.slot, t.slotSet = s.slot, true
	}
	return resp.AppendSimple(out, "QUEUED")
}

// abortTransaction marks the open transaction, if any, to fail at EXEC.
func (s *Session) abortTransaction() {
	if s.multi != nil {
		s.multi.failed = true
	}
}

// runQueued runs the next command of the transaction EXEC is running.
func (s *Session) runQueued(out []byte) []byte {
	t := s.exec
	args, n, err := t.parser.Next(t.queue[t.next:])
	if err != nil {
		// The queue holds what queue wrote; this is a bug, but the
		// client still gets a reply for every command it queued.
		s.exec = nil
		for range t.n {
			out = resp.AppendError(out, "ERR internal error: the transaction's queue is damaged")
		}
		return out
	}
	cmd, _ := resolve(args)
	start := len(out)
	out = cmd.run(s, args, out)
	if s.remote.missing {
		// Run again, from the same place in the queue, once the other
		// shards have answered.
		return s.suspend(out[:start])
	}
	out = s.completed(cmd.id, out, start)
	t.next += n
	t.n--
	if t.next == len(t.queue) {
		s.exec = nil
	}
	s.pend.commands++
	if len(out) > start && out[start] == '-' {
		s.h.errorReplies.Add(1)
	}
	return out
}

// MULTI: start queueing.
func runMulti(s *Session, _ [][]byte, out []byte) []byte {
	switch {
	case s.datagram:
		return resp.AppendError(out, errMultiDatagram)
	case s.multi != nil:
		return resp.AppendError(out, errNestedMulti)
	}
	s.multi = &transaction{}
	s.multi.parser.Limits = s.h.opts.Limits
	return resp.AppendOK(out)
}

// EXEC: run the queued commands, or refuse to after a queueing error.
func runExec(s *Session, _ [][]byte, out []byte) []byte {
	t := s.multi
	if t == nil {
		return resp.AppendError(out, errExecNoMulti)
	}
	s.multi = nil
	if t.crossSlot {
		return resp.AppendError(out, errCrossSlot)
	}
	if t.failed {
		return resp.AppendError(out, errExecAbort)
	}
	out = resp.AppendArrayLen(out, t.n)
	if t.n > 0 {
		s.exec = t
	}
	return out
}

// DISCARD: drop the queued commands.
func runDiscard(s *Session, _ [][]byte, out []byte) []byte {
	if s.multi == nil {
		return resp.AppendError(out, errDiscardNoMult)
	}
	s.multi = nil
	return resp.AppendOK(out)
}

// WATCH word...: OK; nothing it could watch ever changes.
func runWatch(s *Session, _ [][]byte, out []byte) []byte {
	if s.multi != nil {
		return resp.AppendError(out, errWatchInMulti)
	}
	return resp.AppendOK(out)
}

// UNWATCH: OK.
func runUnwatch(_ *Session, _ [][]byte, out []byte) []byte {
	return resp.AppendOK(out)
}
