package handler

import (
	"sync"

	"github.com/freqd/freqd/resp"
)

// Datagram reply bounds. A UDP datagram carries at most 65,535 bytes of IP
// payload: less the 8-byte UDP header and, over IPv4, the 20-byte IP header
// (IPv6 counts its header outside the payload length). Jumbograms are not
// used. Unix datagram sockets have no such bound, but freqd holds them to
// the IPv4 one, so that a client that works over one datagram transport
// works over every other.
const (
	MaxUDP4Reply = 65507
	MaxUDP6Reply = 65527
)

// Errors that replace a whole datagram's replies.
const (
	errDatagramReplyTooLarge = "ERR reply too large for a datagram; use a TCP or unix stream connection"
	errDatagramIncomplete    = "ERR Protocol error: the datagram ends inside a command; a datagram must hold whole commands"
)

// ServeDatagram answers one request datagram: it appends to out the reply
// datagram for req and returns the extended slice. It is the datagram
// counterpart of a Session's Process and, like it, does no I/O.
//
// A request datagram holds one or more whole commands, multibulk or inline
// (an inline command may end with the datagram instead of a newline). The
// reply holds their replies in order, or exactly one error reply instead:
//
//   - when the datagram breaks the protocol or ends inside a command: no
//     command of it runs;
//   - when the replies would exceed maxReply bytes (MaxUDP4Reply, say): the
//     client must ask over a stream connection. Commands stop running as
//     soon as the bound is passed. maxReply < 1 means no bound.
//
// An empty datagram, or one of blank lines, gets an empty reply: the caller
// sends nothing.
//
// Each datagram is a session of its own, with nothing carried over to the
// next one from the same peer: CLIENT SETNAME names only the rest of its
// datagram, CLIENT ID is new each time, and QUIT answers +OK and ends the
// datagram (commands after it do not run), as it ends a stream. Datagram
// sessions are not counted as connections in INFO; their commands are.
//
// With RequirePass set, a datagram's first command must authenticate it
// (AUTH password, or HELLO 2 AUTH default password); otherwise every
// command of the datagram is answered NOAUTH. Redis's tighter request
// bounds before authentication do not apply: the datagram's size already
// bounds what an unauthenticated client can make the server hold.
func (h *Handler) ServeDatagram(req, out []byte, maxReply int) []byte {
	ds := datagramSessions.Get().(*datagramSession)
	defer datagramSessions.Put(ds)
	s := &ds.Session
	s.resetForDatagram(h)

	start := len(out)
	req, err := ds.wholeCommands(req)
	if err != nil {
		h.protocolErrors.Add(1)
		h.errorReplies.Add(1)
		return resp.AppendError(out, "ERR "+err.Error())
	}
	first := true
	for off := 0; off < len(req) && !s.closing; {
		args, n, err := s.parser.Next(req[off:])
		if err != nil {
			// wholeCommands parsed the same bytes without error; this
			// is a bug, but the client still gets one error, not a crash.
			h.errorReplies.Add(1)
			return resp.AppendError(out[:start], "ERR "+err.Error())
		}
		off += n
		if len(args) == 0 {
			continue
		}
		if first || s.authenticated() {
			out = s.execute(args, out)
		} else {
			// Only the first command may log a datagram in.
			h.commands.Add(1)
			h.errorReplies.Add(1)
			out = resp.AppendError(out, errNoAuth)
		}
		first = false
		if maxReply > 0 && len(out)-start > maxReply {
			h.errorReplies.Add(1)
			return resp.AppendError(out[:start], errDatagramReplyTooLarge)
		}
	}
	return out
}

// datagramSession is the Session of one datagram, recycled between
// datagrams with its parser and TAG scratch space so that a datagram costs
// no allocation for them.
type datagramSession struct {
	Session
	line []byte // the request with a newline added after a final inline command
}

var datagramSessions = sync.Pool{New: func() any { return new(datagramSession) }}

// resetForDatagram readies a recycled Session as a fresh one of h.
func (s *Session) resetForDatagram(h *Handler) {
	s.h = h
	s.id = h.opts.ClientIDBase + h.lastID.Add(1)
	s.authedID = 0
	s.parser.Reset()
	s.parser.Limits = h.opts.Limits
	s.parser.Unauthenticated = false
	s.name = s.name[:0]
	s.libName = s.libName[:0]
	s.libVer = s.libVer[:0]
	s.closing = false
	s.closed = true // not counted as a connection, so Close has nothing to undo
}

// wholeCommands checks that req is a sequence of whole, well-formed
// commands before any of them runs, and returns the bytes to run: req
// itself, or a copy ending in a newline when the last command is an inline
// one that the end of the datagram ends. It leaves the parser reset.
func (s *datagramSession) wholeCommands(req []byte) ([]byte, error) {
	defer s.parser.Reset()
	for off := 0; off < len(req); {
		_, n, err := s.parser.Next(req[off:])
		switch {
		case err == resp.ErrIncomplete && req[off] != '*' && req[len(req)-1] != '\n':
			s.line = append(append(s.line[:0], req...), '\n')
			req = s.line
			continue // parse the completed line again
		case err == resp.ErrIncomplete:
			return nil, errIncompleteDatagram
		case err != nil:
			return nil, err
		}
		off += n
	}
	return req, nil
}

// errIncompleteDatagram is what wholeCommands reports for a datagram cut
// short inside a command.
var errIncompleteDatagram = datagramError(errDatagramIncomplete[len("ERR "):])

type datagramError string

func (e datagramError) Error() string { return string(e) }
