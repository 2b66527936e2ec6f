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

// Errors that replace a whole datagram's replies. The refusals must stay
// within AmplificationBound(1), which TestDatagramRefusalIsShort pins: they
// answer requests of any size.
const (
	errDatagramReplyTooLarge = "ERR reply too large for a datagram; use a TCP or unix stream connection"
	errDatagramIncomplete    = "ERR Protocol error: the datagram ends inside a command; a datagram must hold whole commands"
	errDatagramAmplifyAuth   = "ERR reply >3x request: AUTH in the datagram or use TCP"
	errDatagramAmplifyOpen   = "ERR reply >3x request: use TCP, or pad the request"
)

// Amplification. A UDP request's source address is whatever the sender
// wrote, so a request can name a victim to receive its reply; a server whose
// replies are larger than the requests multiplies the traffic an attacker
// sends (a reflection attack). QUIC's answer (RFC 9000, section 8) is the
// rule freqd keeps: until the sender has shown it is who it says, send it
// no more than three times what it sent.
//
// QUIC counts UDP payload bytes, but requires a client's first datagram to
// hold at least 1,200, where the 28 bytes of IPv4 and UDP headers around
// each payload hardly count. freqd's requests are 7 to 30 bytes, where the
// headers are most of what travels, and a payload rule would forbid even the
// one-line error that tells the client what to do (a 59-byte reply to a
// 1-byte request). So freqd counts the headers, as the link does: reply +
// 28 ≤ 3 × (request + 28). What a spoofer gains stays at three times what it
// sends, which is QUIC's bound; what freqd refuses is what an attacker would
// want: COMMAND (1,214 bytes for 9), INFO, HELLO, large MGET and TAG replies
// to small requests. Over IPv6 the headers are 48 bytes, so the same bound
// is tighter still.
//
// Every UDP request is held to it, from loopback too: a host that routes
// loopback addresses from its network (route_localnet) accepts forged
// ones, and one rule for all of UDP is one rule the tests can exercise.
const (
	amplificationFactor = 3
	ipv4UDPHeaders      = 28
)

// AmplificationBound is the largest reply a request datagram of n bytes may
// get over UDP unless it authenticates: 3n + 56 bytes, three times the
// request on the wire, headers counted (see above).
func AmplificationBound(n int) int {
	return amplificationFactor*n + (amplificationFactor-1)*ipv4UDPHeaders
}

// DatagramLimits bound the reply to one request datagram.
type DatagramLimits struct {
	// MaxReply is the largest reply datagram (MaxUDP4Reply, say); below 1
	// there is no bound.
	MaxReply int

	// Spoofable marks a request whose source address the network could
	// have forged: one that came over UDP. Unless its datagram
	// authenticates, its reply is held to AmplificationBound of its size.
	// A unix datagram socket is not spoofable: the kernel names the
	// sending socket, and only local processes allowed to open the socket
	// file can send at all.
	Spoofable bool
}

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
//   - when the replies would exceed lim.MaxReply bytes: the client must ask
//     over a stream connection;
//   - when lim.Spoofable, the datagram did not authenticate, and the reply
//     would exceed AmplificationBound(len(req)): a short refusal (at most
//     AmplificationBound(1) bytes) tells the client to authenticate in the
//     datagram or to use TCP (without a password: to use TCP, or to pad the
//     request, with blank lines, say, to a third of the reply's size).
//
// Commands stop running as soon as a bound is passed.
//
// An empty datagram, or one of blank lines, gets an empty reply: the caller
// sends nothing.
//
// Each datagram is a session of its own, with nothing carried over to the
// next one from the same peer: CLIENT SETNAME names only the rest of its
// datagram, HELLO 3 makes only the rest of its datagram RESP3, CLIENT ID is
// new each time, and QUIT answers +OK and ends the datagram (commands after
// it do not run), as it ends a stream. MULTI, whose transaction must span
// requests, is refused with an error that says to use a stream. Datagram
// sessions are not counted as connections in INFO; their commands are.
//
// With RequirePass set, a datagram's first command must authenticate it
// (AUTH password, or HELLO 2 AUTH default password); otherwise every
// command of the datagram is answered NOAUTH. Redis's tighter request
// bounds before authentication do not apply: the datagram's size already
// bounds what an unauthenticated client can make the server hold.
//
// A datagram authenticates, for the amplification bound, only if RequirePass
// is set and its first command gives that password. Without a password
// nothing a datagram holds proves anything: AUTH default with any password
// succeeds (as for Redis's passwordless default user), so a spoofer could
// send it too, and every UDP reply is held to the bound. The password is no
// proof of the source address, as QUIC's address validation is, but the
// rule is there to keep strangers from aiming the server at someone, and a
// stranger does not have the password. Whoever does is trusted with the
// whole service already, and gets replies up to MaxReply. The password
// crosses the network in the clear, as over TCP: whoever reads it on the
// way can send authenticated requests from any source address and aim
// whole replies at a victim, so UDP with a password belongs on networks
// whose paths are trusted, as any password sent in the clear does.
func (h *Handler) ServeDatagram(req, out []byte, lim DatagramLimits) []byte {
	ds := datagramSessions.Get().(*datagramSession)
	defer datagramSessions.Put(ds)
	s := &ds.Session
	s.resetForDatagram(h)
	// Deferred after Put, so it runs first: a fault in a mapped table
	// panics out of here, and what the datagram ran before it still counts.
	defer s.flush()

	start := len(out)
	bound := lim.MaxReply
	if lim.Spoofable {
		if b := AmplificationBound(len(req)); bound < 1 || b < bound {
			bound = b
		}
	}
	out = s.serveDatagram(ds, req, out, lim.MaxReply, bound)
	if lim.Spoofable && !s.gavePassword() && len(out)-start > AmplificationBound(len(req)) {
		return h.refuseDatagram(out[:start])
	}
	return out
}

// serveDatagram runs the commands of req and appends their replies, or the
// one error that replaces them. bound is the reply bound until the datagram
// authenticates, maxReply the bound after: commands stop running as soon as
// the replies pass the bound in force.
func (s *Session) serveDatagram(ds *datagramSession, req, out []byte, maxReply, bound int) []byte {
	h := s.h
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
			// A datagram's reader may wait: a command whose words other
			// shards hold is answered before the next one runs.
			for s.Waiting() {
				s.lookAhead(req[off:])
				s.fetchNow()
				out = s.execute(args, out)
			}
		} else {
			// Only the first command may log a datagram in.
			h.commands.Add(1)
			h.errorReplies.Add(1)
			out = resp.AppendError(out, errNoAuth)
		}
		if first && s.gavePassword() {
			bound = maxReply
		}
		first = false
		if bound > 0 && len(out)-start > bound {
			if maxReply > 0 && len(out)-start > maxReply {
				h.errorReplies.Add(1)
				return resp.AppendError(out[:start], errDatagramReplyTooLarge)
			}
			return out // over the amplification bound: ServeDatagram refuses it
		}
	}
	return out
}

// DatagramError appends to out the error reply msg (a whole RESP error
// line) to request datagram req, or the amplification refusal when msg
// would break lim's bound: for an error a caller makes outside
// ServeDatagram, such as a lookup that faulted. req is taken not to have
// authenticated.
func (h *Handler) DatagramError(req, out []byte, lim DatagramLimits, msg []byte) []byte {
	if lim.Spoofable && len(msg) > AmplificationBound(len(req)) {
		return h.refuseDatagram(out)
	}
	return append(out, msg...)
}

// refuseDatagram appends the amplification refusal and counts it.
func (h *Handler) refuseDatagram(out []byte) []byte {
	h.datagramRefused.Add(1)
	h.errorReplies.Add(1)
	if h.opts.RequirePass != "" {
		return resp.AppendError(out, errDatagramAmplifyAuth)
	}
	return resp.AppendError(out, errDatagramAmplifyOpen)
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
	s.proto = resp.RESP2
	s.multi, s.exec = nil, nil
	s.remote.reset()
	s.hits, s.misses = 0, 0
	s.pend = tally{}
	s.datagram = true
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
