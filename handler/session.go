package handler

import (
	"github.com/freqd/freqd/resp"
)

// replyFlushSize is how many reply bytes Process gathers before it returns
// to let the caller write them, even if more requests are waiting. Without
// it a small pipelined input of replies far larger than their requests
// (INFO, COMMAND) would grow the reply buffer without bound.
const replyFlushSize = 64 << 10

// Session is one client connection's state: its parser, identity, the
// protocol version it chose, a transaction it has open, and whether it is
// closing. A Session is used by one goroutine at a time.
type Session struct {
	h       *Handler
	parser  resp.Parser
	id      uint64
	proto   resp.Proto
	name    []byte
	libName []byte
	libVer  []byte
	closing bool
	closed  bool
	tag     tagScratch
	phrase  []byte // a phrase query normalized (phrases.go)
	normal  []byte // a query word normalized by the table's rules

	// datagram marks the session of one datagram, where a transaction,
	// which must span requests, is refused.
	datagram bool

	// multi is the transaction open since MULTI, nil outside one; exec is
	// a transaction whose queued commands EXEC is running, a batch of
	// replies at a time (see Process).
	multi *transaction
	exec  *transaction

	// Cluster state (cluster.go): the words the running command needs from
	// other shards, a key being routed, and the slot of the last command's
	// keys (-1 for none), which a transaction keeps to itself.
	remote remoteState
	key    []byte
	slot   int

	// hits and misses count the running command's key reads, added to
	// pend when it completes, so that a run suspended for other shards'
	// words is not counted twice.
	hits, misses uint64

	// pend holds what the session has counted for INFO and not yet added
	// to the Handler's shared counters; flush adds it.
	pend tally

	// authedID is the session id under which the client authenticated, 0
	// before it has. It holds the id rather than a flag so that a Session
	// recycled for another client, which always gets a new id, cannot
	// inherit the previous client's login whatever else its reset forgets.
	authedID uint64
}

// NewSession starts the session of a new connection. Call Close when the
// connection ends, so that INFO counts connected clients right.
func (h *Handler) NewSession() *Session {
	s := h.newSession(h.opts.ClientIDBase + h.lastID.Add(1))
	s.parser.Unauthenticated = !s.authenticated()
	return s
}

// newSession counts a session with the given id in.
func (h *Handler) newSession(id uint64) *Session {
	h.connected.Add(1)
	h.connections.Add(1)
	s := &Session{h: h, id: id}
	s.parser.Limits = h.opts.Limits
	return s
}

// Close ends the session. It is safe to call more than once.
func (s *Session) Close() {
	// A batch cut short by a fault (a page of a mapped table gone) never
	// reached Process's own flush; what it ran still counts.
	s.flush()
	if !s.closed {
		s.closed = true
		s.h.connected.Add(-1)
	}
}

// ID returns the session's client id, unique within the Handler.
func (s *Session) ID() uint64 { return s.id }

// authenticated reports whether the session may run every command: always
// when the Handler has no RequirePass, else once AUTH has succeeded.
func (s *Session) authenticated() bool {
	return s.h.opts.RequirePass == "" || s.authedID == s.id
}

// Proto returns the protocol version the client chose: RESP2 unless it
// sent HELLO 3.
func (s *Session) Proto() resp.Proto {
	if s.proto == resp.RESP3 {
		return resp.RESP3
	}
	return resp.RESP2
}

// InTransaction reports whether the client is inside MULTI, or EXEC is
// still running its commands: the connection is not between requests.
func (s *Session) InTransaction() bool { return s.multi != nil || s.exec != nil }

// Executing reports whether EXEC has queued commands still to run: Process
// must be called again, whether or not more input has arrived.
func (s *Session) Executing() bool { return s.exec != nil && !s.closing }

// gavePassword reports whether the session authenticated with the
// password: never when the Handler has none, since then anyone may log in.
func (s *Session) gavePassword() bool {
	return s.h.opts.RequirePass != "" && s.authedID == s.id
}

// Process executes the complete requests at the start of in and appends
// their replies to out. It returns how many bytes of in it consumed, the
// extended out, and whether the connection must be closed once reply has
// been written: after QUIT, or after a protocol error (whose error reply is
// in reply), since a stream that broke the protocol cannot be trusted to
// say where its next request starts.
//
// Process stops early once about 64 KiB of replies are waiting, so replies
// stay bounded whatever is pipelined; the caller writes them and calls
// Process again on in[consumed:]. That holds inside EXEC too, whose queued
// commands run a batch of replies at a time: while Executing reports true,
// the caller calls Process again even with no new input. Otherwise a
// return with consumed == 0 means in holds no complete request: read more
// bytes, append them to in[consumed:], and call again. The Session
// remembers how far it parsed a partial request, so each call must begin
// with the first byte not yet consumed.
func (s *Session) Process(in, out []byte) (consumed int, reply []byte, closeAfter bool) {
	start := len(out)
	for !s.closing && !s.Waiting() && len(out)-start < replyFlushSize {
		if s.exec != nil {
			out = s.runQueued(out)
			continue
		}
		args, n, err := s.parser.Next(in[consumed:])
		if err == resp.ErrIncomplete {
			break
		}
		if err != nil {
			s.h.protocolErrors.Add(1)
			s.h.errorReplies.Add(1)
			out = resp.AppendError(out, "ERR "+err.Error())
			s.closing = true
			s.flush()
			return len(in), out, true
		}
		if len(args) == 0 {
			consumed += n
			continue
		}
		out = s.execute(args, out)
		if s.Waiting() {
			// Not consumed: the request is parsed and run again once
			// the other shards have answered, with the words of the
			// requests behind it, asked for at the same time.
			s.lookAhead(in[consumed+n:])
			break
		}
		consumed += n
	}
	if consumed == len(in) && s.exec == nil && !s.Waiting() {
		s.remote.reset() // the input is drained: nothing asked for is still to run
	}
	s.flush()
	return consumed, out, s.closing
}

// execute runs one request, or queues it inside MULTI, and appends its
// reply. Its checks come in Redis's order: the command (and subcommand)
// must exist, then have a valid number of arguments, then the connection
// must have authenticated, so a client that has not gets "unknown command"
// and arity errors before NOAUTH, as from Redis. A request refused by these
// checks inside MULTI makes EXEC fail, as in Redis.
func (s *Session) execute(args [][]byte, out []byte) []byte {
	start := len(out)
	cmd, container := resolve(args)
	// On a cluster node, a command on keys of another shard's slot, or of
	// several slots, is refused (after the checks Redis makes first).
	var moved string
	s.slot = -1
	if s.h.node != nil && cmd != nil && cmd.keys.begin != 0 && cmd.arityOK(len(args)) {
		moved = s.redirect(cmd, args)
	}
	switch {
	case s.h.opts.Unavailable != "" && (cmd == nil || cmd.name != "quit"):
		out = resp.AppendError(out, "ERR "+s.h.opts.Unavailable)
	case cmd == nil && container != nil:
		out = appendUnknownSubcommand(out, container.name, args[1])
		s.abortTransaction()
	case cmd == nil:
		out = appendUnknownCommand(out, args)
		s.abortTransaction()
	case !cmd.arityOK(len(args)):
		s.call(cmd.id)
		out = appendArityError(out, cmd.name)
		s.abortTransaction()
	case !s.authenticated() && cmd.flags&flagNoAuth == 0:
		s.call(cmd.id)
		out = resp.AppendError(out, errNoAuth)
		s.abortTransaction()
	case moved != "":
		s.call(cmd.id)
		out = resp.AppendError(out, moved)
		s.abortTransaction()
	case s.multi != nil && !cmd.immediate:
		// Counted when EXEC runs it.
		return s.queue(args, out)
	default:
		out = cmd.run(s, args, out)
		if s.remote.missing {
			// Other shards hold some of its words: counted when it runs
			// again with their answers.
			return s.suspend(out[:start])
		}
		out = s.completed(cmd.id, out, start)
	}
	// Counted after running, as Redis does, so INFO does not count itself.
	s.pend.commands++
	if len(out) > start && out[start] == '-' {
		s.h.errorReplies.Add(1)
	}
	return out
}
