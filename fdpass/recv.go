package fdpass

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// Recv receives one message from c: its payload into payload, and up to
// maxFDs descriptors (0 ≤ maxFDs ≤ MaxFDs), which are close-on-exec and now
// belong to the caller. A message without descriptors is returned with an
// empty fds and a nil error.
//
// It returns io.EOF once every copy of the sending end is closed and the
// queue is empty. A message that does not fit — more descriptors than
// maxFDs, a payload longer than payload, malformed control data — is an
// error wrapping ErrTooManyFDs, ErrTruncated or ErrBadControlMessage; every
// descriptor that arrived with it has been closed, and the next Recv reads
// the next message. On those errors n is 0 and fds is nil. A message whose
// descriptors did not all fit under this process's descriptor limit is
// returned with the ones that did and an error wrapping
// ErrDescriptorLimit.
//
// Recv waits in Go's netpoller while the socket is empty (or until c's read
// deadline passes). Received descriptors are close-on-exec because Go's
// ReadMsgUnix passes MSG_CMSG_CLOEXEC on Linux.
func Recv(c *net.UnixConn, payload []byte, maxFDs int) (n int, fds []int, err error) {
	oob, err := recvBuffer(payload, maxFDs)
	if err != nil {
		return 0, nil, err
	}
	n, oobn, flags, _, err := c.ReadMsgUnix(payload, oob)
	if errors.Is(err, io.EOF) {
		err = io.EOF
	} else if err != nil {
		err = fmt.Errorf("fdpass: receive: %w", err)
	}
	return checkMessage(n, len(payload), oob[:oobn], flags, maxFDs, err)
}

// RecvFd is Recv on a raw socket descriptor, for a blocking loop on a locked
// OS thread. It receives with MSG_CMSG_CLOEXEC, so no descriptor is ever
// visible without close-on-exec, and retries when interrupted by a signal.
// On a non-blocking socket with nothing queued it returns an error for which
// errors.Is(err, unix.EAGAIN) holds.
func RecvFd(sock int, payload []byte, maxFDs int) (n int, fds []int, err error) {
	oob, err := recvBuffer(payload, maxFDs)
	if err != nil {
		return 0, nil, err
	}
	var oobn, flags int
	for {
		n, oobn, flags, _, err = unix.Recvmsg(sock, payload, oob, unix.MSG_CMSG_CLOEXEC)
		if err != unix.EINTR {
			break
		}
	}
	switch {
	case err != nil:
		err = fmt.Errorf("fdpass: receive: %w", os.NewSyscallError("recvmsg", err))
	case n == 0:
		err = io.EOF
	}
	return checkMessage(n, len(payload), oob[:oobn], flags, maxFDs, err)
}

// recvBuffer checks Recv's arguments and returns a control buffer for them.
func recvBuffer(payload []byte, maxFDs int) ([]byte, error) {
	if len(payload) == 0 {
		return nil, errors.New("fdpass: receive buffer is empty; pass at least one byte so a message can be told from the peer's EOF")
	}
	if maxFDs < 0 || maxFDs > MaxFDs {
		return nil, fmt.Errorf("fdpass: maxFDs is %d; it must be between 0 and %d (SCM_MAX_FD)", maxFDs, MaxFDs)
	}
	return make([]byte, controlSpace(maxFDs)), nil
}

// checkMessage turns the outcome of one recvmsg into Recv's result: the
// message, or an error with every descriptor that arrived closed. readErr is
// the read's own error, io.EOF for a zero-length read.
func checkMessage(n, bufLen int, oob []byte, flags, maxFDs int, readErr error) (int, []int, error) {
	fds, err := parseRights(oob)
	switch {
	case readErr == io.EOF && len(oob) > 0:
		// Not the peer's death: a zero-length message, which only a sender
		// that bypasses Send can produce, still delivers its descriptors.
		err = fmt.Errorf("%w: received a zero-length message with %d descriptors and closed them; the sender must use fdpass.Send", ErrEmptyPayload, len(fds))
	case readErr != nil:
		err = readErr
	case flags&unix.MSG_CTRUNC != 0 && len(fds) < maxFDs && err == nil:
		// The control buffer had room for more: the kernel could not
		// install them, which happens at the descriptor limit (EMFILE).
		return n, fds, fmt.Errorf("%w: %d descriptors arrived, the kernel closed the rest of the message's; close some, or raise the limit", ErrDescriptorLimit, len(fds))
	case flags&unix.MSG_CTRUNC != 0:
		err = fmt.Errorf("%w: the message held more than the %d this receiver accepts, so the kernel truncated it; closed the %d that arrived (do sender and receiver agree on the message format?)", ErrTooManyFDs, maxFDs, len(fds))
	case err != nil:
		// Malformed control data; parseRights's error says how.
	case len(fds) > maxFDs:
		err = fmt.Errorf("%w: received %d, this receiver accepts at most %d; closed them all (do sender and receiver agree on the message format?)", ErrTooManyFDs, len(fds), maxFDs)
	case flags&unix.MSG_TRUNC != 0:
		err = fmt.Errorf("%w: the message was longer than the %d-byte buffer; closed its %d descriptors (make the buffer as large as the largest message sent)", ErrTruncated, bufLen, len(fds))
	}
	if err != nil {
		closeFDs(fds)
		return 0, nil, err
	}
	return n, fds, nil
}
