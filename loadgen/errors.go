package loadgen

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// Kind is the way a request failed.
type Kind int

// The kinds of failure; see the package documentation.
const (
	Refused Kind = iota
	Reset
	Timeout
	Wrong
	Other
	Lost // a request datagram with no reply within the timeout
	numKinds
)

var kindNames = [numKinds]string{"refused", "reset", "timeout", "wrong", "other", "lost"}

func (k Kind) String() string {
	if k < 0 || k >= numKinds {
		return "unknown"
	}
	return kindNames[k]
}

// classify names the kind of a failed connect, write or read.
func classify(err error) Kind {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ENOENT):
		// A unix socket path with no file is a server that is not
		// there, as a TCP port that refuses is.
		return Refused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return Reset
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return Timeout
	}
	return Other
}

// protocolError is a reply that breaks RESP or a bound of the reader: after
// one, nothing says where the next reply starts, so the connection is closed.
type protocolError struct{ msg string }

func (e *protocolError) Error() string { return "reply is not valid RESP: " + e.msg }
