package handler

import (
	"crypto/sha256"
	"crypto/subtle"

	"github.com/freqd/freqd/resp"
)

// defaultUser is the only user freqd has: the one Redis's requirepass sets
// the password of, and the one AUTH with a password alone logs in as.
const defaultUser = "default"

// Replies of authentication, in Redis 7's words, so that clients recognise
// them by their codes (go-redis, for one, treats NOAUTH and WRONGPASS as
// final rather than as a reason to retry).
const (
	errNoAuth      = "NOAUTH Authentication required."
	errWrongPass   = "WRONGPASS invalid username-password pair or user is disabled."
	errNoPassword  = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
	errHelloNoAuth = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"
)

// AUTH [username] password: log the connection in as the default user.
// A password alone is refused outright when none is configured, since a
// client sending one has most likely been pointed at the wrong server; with
// a username, a server without a password accepts any password for
// "default", as Redis's passwordless default user does.
func runAuth(s *Session, args [][]byte, out []byte) []byte {
	var user, pass []byte
	switch len(args) {
	case 2:
		if s.h.opts.RequirePass == "" {
			return resp.AppendError(out, errNoPassword)
		}
		user, pass = []byte(defaultUser), args[1]
	case 3:
		user, pass = args[1], args[2]
	default:
		return resp.AppendError(out, errSyntax)
	}
	if !s.authenticate(user, pass) {
		return resp.AppendError(out, errWrongPass)
	}
	return resp.AppendOK(out)
}

// authenticate checks a username and password, marks the session
// authenticated when they are right, and counts them in the Handler's
// failures when they are not. A failure leaves the session as it was: one
// that had authenticated stays so, as in Redis. It costs the client the
// error reply and nothing else, no delay: a worker serves many connections
// and a sleep would stall them all. The defence against guessing is a long
// password, as Redis's documentation advises, and the failure count in INFO
// that shows someone trying.
func (s *Session) authenticate(user, pass []byte) bool {
	// The password is compared whatever the username, so that the time
	// taken does not tell a wrong user from a wrong password.
	ok := s.h.passwordMatches(pass)
	if string(user) != defaultUser || !ok {
		s.h.authFailures.Add(1)
		return false
	}
	s.authedID = s.id
	s.parser.Unauthenticated = false
	return true
}

// passwordMatches reports whether pass is RequirePass, or true when no
// password is set. It compares SHA-256 digests in constant time, so that
// neither how much of a guess is right nor the length of either password
// shows in the time it takes.
func (h *Handler) passwordMatches(pass []byte) bool {
	if h.opts.RequirePass == "" {
		return true
	}
	want := sha256.Sum256([]byte(h.opts.RequirePass))
	got := sha256.Sum256(pass)
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}
