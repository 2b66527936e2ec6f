package handler

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/freqd/freqd/resp"
)

// A session's state travels with its connection when a worker hands the
// connection to another process between requests (a reload, a recycle, a
// resize, a binary upgrade): the client has authenticated, named itself,
// chosen a protocol, and must notice nothing. AppendState renders what the
// next process needs; ResumeSession rebuilds the session there.
//
// Everything a client sets on its connection that outlives a request is in
// it: the client id, whether it authenticated, the protocol version HELLO
// chose, and its name and library labels. A transaction is not: a
// connection inside MULTI is not between requests, and is handed over only
// after EXEC or DISCARD (see Session.InTransaction). The selected database
// is always 0 and WATCH watches nothing, so neither needs carrying.
//
// The encoding is the byte 'S' and a version byte, the client id and a
// flags byte as uvarints, in version 2 the protocol version as a uvarint,
// then each label as a uvarint length and its bytes. The leading 'S' lets
// a message that carries a connection say whether a state comes with it
// (IsState). Version 1 (no protocol: RESP2) is still read, so that a
// connection handed over by an older binary during an upgrade keeps its
// session; a version this code does not know is refused rather than
// guessed at: the receiving worker then closes the connection, which the
// client sees as a server restart.
const (
	stateMark    = 'S'
	stateVersion = 2
)

// Flags of the state.
const (
	stateAuthenticated = 1 << 0
)

// MaxStateSize bounds an encoded state: three labels of maxLabel bytes and
// a few varints.
const MaxStateSize = 3*maxLabel + 64

// IsState reports whether b begins like a session state: a message that
// carries a connection and a state is a handed-over connection, one
// without is new.
func IsState(b []byte) bool { return len(b) > 0 && b[0] == stateMark }

// errState reports a state that cannot be resumed.
var errState = errors.New("handler: malformed session state")

// AppendState appends the session's state to b.
func (s *Session) AppendState(b []byte) []byte {
	var flags uint64
	if s.h.opts.RequirePass != "" && s.authedID == s.id {
		flags |= stateAuthenticated
	}
	b = append(b, stateMark, stateVersion)
	b = binary.AppendUvarint(b, s.id)
	b = binary.AppendUvarint(b, flags)
	b = binary.AppendUvarint(b, uint64(s.Proto()))
	for _, label := range [][]byte{s.name, s.libName, s.libVer} {
		b = binary.AppendUvarint(b, uint64(len(label)))
		b = append(b, label...)
	}
	return b
}

// ResumeSession starts the session of a connection handed over from
// another process, from the state that process's Session appended. A
// client that had authenticated there stays authenticated only if this
// Handler requires a password too; the operator may have changed it. The
// connection is counted as open, not as a new one received.
func (h *Handler) ResumeSession(state []byte) (*Session, error) {
	if len(state) < 2 || state[0] != stateMark || (state[1] != 1 && state[1] != stateVersion) {
		return nil, fmt.Errorf("%w: not a version 1 or %d state", errState, stateVersion)
	}
	version := state[1]
	b := state[2:]
	next := func() (uint64, bool) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, false
		}
		b = b[n:]
		return v, true
	}
	id, ok1 := next()
	flags, ok2 := next()
	proto, ok3 := uint64(resp.RESP2), true
	if version >= 2 {
		proto, ok3 = next()
	}
	if !ok1 || !ok2 || !ok3 || (proto != uint64(resp.RESP2) && proto != uint64(resp.RESP3)) {
		return nil, errState
	}
	var labels [3][]byte
	for i := range labels {
		n, ok := next()
		if !ok || n > maxLabel || n > uint64(len(b)) {
			return nil, errState
		}
		labels[i] = append([]byte(nil), b[:n]...)
		b = b[n:]
	}
	if len(b) != 0 {
		return nil, errState
	}
	s := h.newSession(id)
	h.connections.Add(^uint64(0)) // handed over, not received
	s.proto = resp.Proto(proto)
	s.name, s.libName, s.libVer = labels[0], labels[1], labels[2]
	if flags&stateAuthenticated != 0 {
		// The old process checked the password; a resumed session is as
		// authenticated as it was, under the same id.
		s.authedID = s.id
	}
	s.parser.Unauthenticated = !s.authenticated()
	return s, nil
}
