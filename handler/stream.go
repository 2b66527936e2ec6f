package handler

import (
	"fmt"
	"time"
)

// Buffer sizes of a Stream. A connection's input buffer starts small,
// doubles only while a request does not fit (up to the resp limits), and
// drops back once it is empty again; its reply buffer likewise is dropped
// once a batch has made it large. A single large TAG text thus does not pin
// megabytes for the rest of a long-lived connection. With Buffers, both are
// given back as soon as they are empty.
const (
	initialInput = 4 << 10 // and the reply buffer's, so Buffers keeps one size
	keepBuffer   = 64 << 10

	// maxPendingOutput is how many reply bytes may wait for a client to
	// read them before its requests stop being executed (and, in the event
	// loop, its socket stops being read). Its output then stays below this
	// plus one Process batch (64 KiB and one reply), whatever it
	// pipelines.
	maxPendingOutput = 128 << 10
)

// Stream is the part of serving a connection that does not depend on how
// its socket is read and written: the input buffer and the replies not yet
// written, the session that turns one into the other, and the clocks the
// read, idle and write timeouts run on, with their error texts. The
// blocking loop (ServeConn) and the event loop (package evloop) both serve
// a connection through one, so they buffer, bound and time out alike.
//
// A Stream is used by one goroutine at a time.
type Stream struct {
	sess     *Session
	timeouts Timeouts
	peer     func() string // names the client in errors; called only for them
	fault    func(r any) []byte

	maxBuffer int
	bufs      *Buffers // lends in and out while they hold bytes; nil: keep them

	in         []byte // unconsumed input is in[start:end]
	start, end int
	incomplete bool // in[start:end] holds no complete request: read more first
	eof        bool // the client has finished sending
	closeAfter bool // close once the replies are written: QUIT or a protocol error

	out  []byte // replies; out[sent:] are not yet written
	sent int

	lastActive   time.Time // last read, or last reply fully written (idle timeout)
	requestBegan time.Time // when the pending partial request began (read timeout)
	writeWait    time.Time // since when the pending replies have waited without progress (write timeout)
}

// NewStream serves a connection through sess, from now on. peer names the
// client in the errors the Stream returns; it is called only to make one.
func (h *Handler) NewStream(sess *Session, now time.Time, peer func() string) *Stream {
	lim := h.Limits()
	return &Stream{sess: sess, timeouts: h.opts.Timeouts, peer: peer,
		maxBuffer: max(lim.MaxRequestLen, lim.MaxInlineLen+2), lastActive: now}
}

// OnFault makes a fault while executing a request (a SIGBUS from a data
// file truncated under its mapping, turned into a panic by
// debug.SetPanicOnFault on the calling thread) end this connection with
// the reply fault returns, instead of crashing the process.
func (s *Stream) OnFault(fault func(r any) []byte) { s.fault = fault }

// UseBuffers makes the Stream borrow its buffers from b while they hold
// bytes and give them back once they are empty, instead of keeping its own
// for the life of the connection.
func (s *Stream) UseBuffers(b *Buffers) { s.bufs = b }

// Session is the connection's session.
func (s *Stream) Session() *Session { return s.sess }

// Close ends the session, and gives back the buffers the Stream borrowed.
func (s *Stream) Close() {
	s.sess.Close()
	if s.bufs != nil {
		s.bufs.put(s.in)
		s.bufs.put(s.out)
		s.in, s.out = nil, nil
		s.start, s.end, s.sent = 0, 0, 0
	}
}

// ReadBuffer compacts, allocates or grows the input buffer and returns the
// room a read may fill.
func (s *Stream) ReadBuffer() ([]byte, error) {
	switch {
	case s.in == nil:
		s.in = s.bufs.get()
	case s.start == s.end:
		s.start, s.end = 0, 0
	case s.start > 0:
		s.end = copy(s.in, s.in[s.start:s.end])
		s.start = 0
	}
	if s.end == len(s.in) {
		if len(s.in) >= s.maxBuffer {
			// The parser rejects any request this large before the buffer
			// fills; reaching here is a bug, not a client.
			return nil, fmt.Errorf("freqd: request from %s filled the %d-byte read buffer without being rejected by the parser", s.peer(), len(s.in))
		}
		grown := make([]byte, min(2*len(s.in), s.maxBuffer))
		copy(grown, s.in[:s.end])
		s.in = grown
	}
	return s.in[s.end:], nil
}

// Received records n bytes read into the buffer ReadBuffer returned; 0
// for a read that found nothing, which gives back a borrowed buffer that
// is still empty.
func (s *Stream) Received(n int, now time.Time) {
	if n > 0 {
		s.end += n
		s.incomplete = false
		s.lastActive = now
		return
	}
	s.releaseInput()
}

// releaseInput gives back a borrowed input buffer that holds nothing.
func (s *Stream) releaseInput() {
	if s.bufs != nil && s.start == s.end && s.in != nil {
		s.bufs.put(s.in)
		s.in, s.start, s.end = nil, 0, 0
	}
}

// Held is how many bytes the connection holds for a request that has begun
// to arrive and is not complete: its input buffer, while one is pending.
func (s *Stream) Held() int {
	if s.start < s.end {
		return len(s.in)
	}
	return 0
}

// ReceivedEOF records that the client has finished sending.
func (s *Stream) ReceivedEOF() {
	s.eof = true
	s.releaseInput()
}

// Runnable reports whether there is work to do: complete requests in the
// input buffer, or queued commands an EXEC is still running, and no
// request waiting for other shards.
func (s *Stream) Runnable() bool {
	return !s.closeAfter && !s.sess.Waiting() && ((s.start < s.end && !s.incomplete) || s.sess.Executing())
}

// Waiting reports whether the connection's next request waits for other
// shards of a cluster to answer. The caller sends its lookups with Fetch,
// once, and the connection runs again when the last answer is in; until
// then it is not read, and does not time out: the lookups are bounded in
// time themselves.
func (s *Stream) Waiting() bool { return s.sess.Waiting() }

// NeedsFetch reports whether the connection waits for lookups not yet
// sent: call Fetch.
func (s *Stream) NeedsFetch() bool { return s.sess.remote.phase == remoteWaiting }

// Fetch sends the waiting request's lookups to the other shards through
// peers (an event loop's own, or the Handler's). Each answer reaches
// deliver, on whatever goroutine peers answers on, as a function the
// caller must run on the goroutine that serves the Stream; the function
// reports whether that was the last answer, so that the connection can
// run again.
func (s *Stream) Fetch(peers Peers, deliver func(apply func() bool)) {
	startFetches(s.sess, s.sess.Fetches(), peers, deliver)
}

// FetchNow sends the waiting request's lookups and waits for the answers,
// for a caller with a goroutine of its own per connection.
func (s *Stream) FetchNow() { s.sess.fetchNow() }

// Process executes the complete requests in the input buffer while fewer
// than maxPendingOutput reply bytes wait to be written.
func (s *Stream) Process(now time.Time) {
	if !s.Runnable() || len(s.out)-s.sent > maxPendingOutput {
		return
	}
	if s.sent > 0 {
		s.out = s.out[:copy(s.out, s.out[s.sent:])]
		s.sent = 0
	}
	if s.out == nil && s.bufs != nil {
		s.out = s.bufs.get()[:0]
	}
	for s.Runnable() && len(s.out) <= maxPendingOutput {
		n, out, closeAfter := s.execute()
		s.out = out
		s.start += n
		if n > 0 {
			s.requestBegan = time.Time{}
		}
		switch {
		case closeAfter:
			s.closeAfter = true
		case n == 0 && !s.sess.Executing() && !s.sess.Waiting():
			s.incomplete = true
		}
	}
	switch {
	case s.start == s.end:
		s.start, s.end = 0, 0
		if len(s.in) > keepBuffer {
			s.in = nil
		}
		s.releaseInput()
	case s.incomplete && s.requestBegan.IsZero():
		s.requestBegan = now
	}
}

// execute runs the complete requests at the start of the input, turning a
// fault into the fault reply when OnFault asked for it.
func (s *Stream) execute() (n int, out []byte, closeAfter bool) {
	if s.fault != nil {
		defer func() {
			if r := recover(); r != nil {
				n, out, closeAfter = 0, append(s.out, s.fault(r)...), true
			}
		}()
	}
	return s.sess.Process(s.in[s.start:s.end], s.out)
}

// Pending returns the replies not yet written.
func (s *Stream) Pending() []byte { return s.out[s.sent:] }

// Wrote records that n bytes of Pending were written. Once every reply is,
// an outsized reply buffer is dropped.
func (s *Stream) Wrote(n int, now time.Time) {
	if n > 0 {
		s.sent += n
		s.writeWait = now
	}
	if s.sent == len(s.out) {
		if len(s.out) > 0 {
			s.lastActive = now
		}
		s.out, s.sent, s.writeWait = s.out[:0], 0, time.Time{}
		switch {
		case s.bufs != nil:
			s.bufs.put(s.out)
			s.out = nil
		case cap(s.out) > keepBuffer:
			s.out = nil
		}
	}
}

// WriteBlocked records that the socket took no more: the write timeout
// runs from the first time this happens without progress since.
func (s *Stream) WriteBlocked(now time.Time) {
	if s.writeWait.IsZero() {
		s.writeWait = now
	}
}

// WantsInput reports whether the connection should be read: the client
// may still send, not too many of its replies wait to be written, and no
// request waits for other shards (what it pipelines meanwhile waits in
// the kernel, not in the input buffer).
func (s *Stream) WantsInput() bool {
	return !s.eof && !s.closeAfter && len(s.out)-s.sent <= maxPendingOutput && !s.sess.Waiting()
}

// OutputBacklogged reports whether the client has so many unread replies
// that reading from it is paused.
func (s *Stream) OutputBacklogged() bool { return len(s.out)-s.sent > maxPendingOutput }

// Finished reports whether the connection should be closed now: every
// reply written, and either the session is closing (QUIT, a protocol
// error) or the client has finished sending and nothing runnable is left.
// err says why, when the operator may want to know: a client gone in the
// middle of a request.
func (s *Stream) Finished() (bool, error) {
	if len(s.out) > s.sent || s.sess.Waiting() || !(s.closeAfter || (s.eof && !s.Runnable())) {
		return false, nil
	}
	if s.eof && !s.closeAfter && s.start < s.end {
		return true, fmt.Errorf("freqd: client %s disconnected in the middle of a request", s.peer())
	}
	return true, nil
}

// AtBoundary reports whether the connection is between requests: nothing
// buffered, nothing to write, not closing, and not inside a transaction
// (MULTI, or an EXEC still running). Only there may it be handed to
// another process.
func (s *Stream) AtBoundary() bool {
	return s.start == s.end && len(s.out) == s.sent && !s.closeAfter && !s.sess.InTransaction()
}

// LastActive is when the connection last read bytes or finished writing
// a reply.
func (s *Stream) LastActive() time.Time { return s.lastActive }

// Expired reports whether the connection is past one of its timeouts at
// now, with the error to log (nil for an idle connection: it simply had
// nothing to ask).
func (s *Stream) Expired(now time.Time) (bool, error) {
	t := s.timeouts
	switch {
	case s.sess.Waiting():
		// Other shards answer within their own bound.
	case len(s.out) > s.sent:
		if t.Write > 0 && !s.writeWait.IsZero() && now.Sub(s.writeWait) >= t.Write {
			return true, s.writeTimeoutError()
		}
	case s.start < s.end:
		if t.Read > 0 && !s.requestBegan.IsZero() && now.Sub(s.requestBegan) >= t.Read {
			return true, s.readTimeoutError()
		}
	default:
		if t.Idle > 0 && now.Sub(s.lastActive) >= t.Idle {
			return true, nil
		}
	}
	return false, nil
}

// ReadDeadline is when a blocking read must give up: the read timeout from
// the moment a request began to arrive, the idle timeout between requests;
// zero for none.
func (s *Stream) ReadDeadline(now time.Time) time.Time {
	t := s.timeouts
	switch {
	case s.start < s.end && t.Read > 0:
		if s.requestBegan.IsZero() {
			s.requestBegan = now
		}
		return s.requestBegan.Add(t.Read)
	case s.start == s.end && t.Idle > 0:
		return s.lastActive.Add(t.Idle)
	}
	return time.Time{}
}

// ReadTimedOut is the result of a read that reached ReadDeadline: an error
// for a request that did not arrive in time, nil for an idle connection.
func (s *Stream) ReadTimedOut() error {
	if s.start < s.end {
		return s.readTimeoutError()
	}
	return nil
}

// WriteDeadline is when a blocking write must give up; zero for never.
func (s *Stream) WriteDeadline(now time.Time) time.Time {
	if s.timeouts.Write <= 0 {
		return time.Time{}
	}
	s.WriteBlocked(now)
	return s.writeWait.Add(s.timeouts.Write)
}

// WriteTimedOut is the error of a write that reached WriteDeadline.
func (s *Stream) WriteTimedOut() error { return s.writeTimeoutError() }

func (s *Stream) readTimeoutError() error {
	return fmt.Errorf("freqd: client %s did not complete a request within the read timeout (%v); raise --read-timeout if its requests are legitimately slow", s.peer(), s.timeouts.Read)
}

func (s *Stream) writeTimeoutError() error {
	return fmt.Errorf("freqd: client %s did not read its replies within the write timeout (%v)", s.peer(), s.timeouts.Write)
}

// Buffers is a free list of the buffers Streams read into and write
// replies from, shared by the connections of one event loop. A Stream
// borrows a buffer when bytes arrive or a reply is made and gives it back
// as soon as it is empty again, so a connection between requests holds no
// buffer, and a server whose clients connect for each request reuses a few
// warm buffers instead of allocating kilobytes for every client for the
// garbage collector to find. Buffers grown past their first size are not
// kept. Not safe for concurrent use.
type Buffers struct {
	free [][]byte
	max  int
}

// NewBuffers keeps up to max buffers for reuse; more are left to the
// garbage collector.
func NewBuffers(max int) *Buffers { return &Buffers{max: max} }

// get returns a buffer of initialInput bytes; a nil Buffers makes one.
func (b *Buffers) get() []byte {
	if b != nil {
		if k := len(b.free); k > 0 {
			buf := b.free[k-1]
			b.free[k-1] = nil
			b.free = b.free[:k-1]
			return buf[:initialInput]
		}
	}
	return make([]byte, initialInput)
}

// put takes back a buffer from get, unless it has grown or enough are
// kept.
func (b *Buffers) put(buf []byte) {
	if b != nil && cap(buf) == initialInput && len(b.free) < b.max {
		b.free = append(b.free, buf[:0])
	}
}
