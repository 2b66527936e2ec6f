package handler

import (
	"bytes"
	"fmt"

	"github.com/freqd/freqd/resp"
)

// compatVersion is the Redis version freqd presents itself as to clients
// that gate features on it (HELLO, INFO's redis_version): the one whose
// replies and error texts freqd's commands follow.
const compatVersion = "7.2.0"

// PING [message]: PONG, or the message back as a bulk string.
func runPing(_ *Session, args [][]byte, out []byte) []byte {
	switch len(args) {
	case 1:
		return resp.AppendSimple(out, "PONG")
	case 2:
		return resp.AppendBulk(out, args[1])
	}
	return appendArityError(out, "ping")
}

// ECHO message: the message back.
func runEcho(_ *Session, args [][]byte, out []byte) []byte {
	return resp.AppendBulk(out, args[1])
}

// QUIT: OK, then the connection closes once the reply is written.
func runQuit(s *Session, _ [][]byte, out []byte) []byte {
	s.closing = true
	return resp.AppendOK(out)
}

// SELECT index: freqd has one database, 0, which clients configured for
// database 0 select anyway; any other index gets Redis's error for an index
// beyond its databases, and CONFIG GET databases says 1, so a client
// configured for another database fails as it starts, with a clear message.
func runSelect(_ *Session, args [][]byte, out []byte) []byte {
	db, ok := parseInt(args[1])
	switch {
	case !ok:
		return resp.AppendError(out, errNotInteger)
	case db != 0:
		return resp.AppendError(out, "ERR DB index is out of range")
	}
	return resp.AppendOK(out)
}

// HELLO [protover [AUTH user pass] [SETNAME name]]: choose the protocol
// version, RESP2 or RESP3, optionally authenticating and naming the
// connection in the same round trip, and describe the server in a map (a
// flat array in RESP2). Without a version it only describes the server.
//
// The steps are Redis's, in its order: the version is checked first, so
// HELLO 4 AUTH is refused without authenticating; then the options' syntax
// and the name; then AUTH, as the AUTH command checks it; and on a
// password-protected connection that is still not authenticated, HELLO
// refuses to do anything else. The name and the version are set only once
// all that passed, and the reply is written in the version chosen.
func runHello(s *Session, args [][]byte, out []byte) []byte {
	proto := s.Proto()
	if len(args) > 1 {
		v, ok := parseInt(args[1])
		if !ok {
			return resp.AppendError(out, "ERR Protocol version is not an integer or out of range")
		}
		if v != 2 && v != 3 {
			return resp.AppendError(out, "NOPROTO unsupported protocol version")
		}
		proto = resp.Proto(v)
	}
	var name, user, pass []byte
	setName, auth := false, false
	for i := 2; i < len(args); i++ {
		opt := args[i]
		switch {
		case bytes.EqualFold(opt, []byte("AUTH")) && i+2 < len(args):
			user, pass, auth = args[i+1], args[i+2], true
			i += 2
		case bytes.EqualFold(opt, []byte("SETNAME")) && i+1 < len(args):
			i++
			if e := labelError("Client names", args[i]); e != "" {
				return resp.AppendError(out, e)
			}
			name, setName = args[i], true
		default:
			return resp.AppendError(out, "ERR Syntax error in HELLO option '"+string(clip(opt, 128))+"'")
		}
	}
	if auth && !s.authenticate(user, pass) {
		return resp.AppendError(out, errWrongPass)
	}
	if !s.authenticated() {
		return resp.AppendError(out, errHelloNoAuth)
	}
	if setName {
		s.name = append(s.name[:0], name...)
	}
	s.proto = proto
	out = resp.AppendMapLen(out, 7, proto)
	out = resp.AppendBulkString(out, "server")
	out = resp.AppendBulkString(out, "redis")
	out = resp.AppendBulkString(out, "version")
	out = resp.AppendBulkString(out, compatVersion)
	out = resp.AppendBulkString(out, "proto")
	out = resp.AppendInt(out, int64(proto))
	out = resp.AppendBulkString(out, "id")
	out = resp.AppendUint(out, s.id)
	out = resp.AppendBulkString(out, "mode")
	out = resp.AppendBulkString(out, s.h.mode())
	out = resp.AppendBulkString(out, "role")
	out = resp.AppendBulkString(out, "master")
	out = resp.AppendBulkString(out, "modules")
	return resp.AppendArrayLen(out, 0)
}

// CLIENT SETNAME name: label the connection.
func runClientSetName(s *Session, args [][]byte, out []byte) []byte {
	if e := labelError("Client names", args[2]); e != "" {
		return resp.AppendError(out, e)
	}
	s.name = append(s.name[:0], args[2]...)
	return resp.AppendOK(out)
}

// CLIENT GETNAME: the connection's label, nil when it has none.
func runClientGetName(s *Session, _ [][]byte, out []byte) []byte {
	if len(s.name) == 0 {
		return resp.AppendNull(out, s.proto)
	}
	return resp.AppendBulk(out, s.name)
}

// CLIENT ID: the connection's id, unique across the server's processes.
func runClientID(s *Session, _ [][]byte, out []byte) []byte {
	return resp.AppendUint(out, s.id)
}

// CLIENT SETINFO LIB-NAME|LIB-VER value: what client libraries send to
// say who they are.
func runClientSetInfo(s *Session, args [][]byte, out []byte) []byte {
	attr, val := args[2], args[3]
	var dst *[]byte
	switch {
	case bytes.EqualFold(attr, []byte("LIB-NAME")):
		dst = &s.libName
	case bytes.EqualFold(attr, []byte("LIB-VER")):
		dst = &s.libVer
	default:
		return resp.AppendError(out, "ERR Unrecognized option '"+string(clip(attr, 128))+"'")
	}
	if e := labelError(string(bytes.ToLower(attr)), val); e != "" {
		return resp.AppendError(out, e)
	}
	*dst = append((*dst)[:0], val...)
	return resp.AppendOK(out)
}

// maxLabel bounds a client name or library label. Redis sets none, but a
// session's labels travel with its connection when a worker hands it to
// another (AppendState), in one control message; no client library sends
// anything near this long.
const maxLabel = 512

// labelError checks a client name or library label: Redis allows only
// printable, non-space ASCII, so that it can be listed unquoted; freqd also
// bounds its length (maxLabel). It returns the error reply's text, or ""
// for a good label.
func labelError(what string, b []byte) string {
	if len(b) > maxLabel {
		return fmt.Sprintf("ERR %s cannot be longer than %d bytes.", what, maxLabel)
	}
	for _, c := range b {
		if c < '!' || c > '~' {
			return "ERR " + what + " cannot contain spaces, newlines or special characters."
		}
	}
	return ""
}
