package fdpass

import (
	"fmt"
	"io"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// Send sends payload and fds as one message on c. The payload must be
// non-empty; fds may be empty and may hold at most MaxFDs descriptors. The
// caller keeps its own copies of fds: the receiver gets new descriptors for
// the same open files, and closing the caller's copies after Send returns
// does not affect them.
//
// When the socket's buffer is full, Send waits in Go's netpoller until the
// receivers make room (or c's write deadline passes).
func Send(c *net.UnixConn, payload []byte, fds ...int) error {
	oob, err := encodeRights(payload, fds)
	if err != nil {
		return err
	}
	n, _, err := c.WriteMsgUnix(payload, oob, nil)
	if err != nil {
		return fmt.Errorf("fdpass: send %d-byte message with %d descriptors: %w", len(payload), len(fds), err)
	}
	return checkWritten(n, payload, fds)
}

// SendFd is Send on a raw socket descriptor, for callers that do not use Go's
// netpoller. It retries when interrupted by a signal and sends with
// MSG_NOSIGNAL, so a dead peer is an EPIPE error, never a SIGPIPE. On a
// non-blocking socket whose buffer is full it returns an error for which
// errors.Is(err, unix.EAGAIN) holds, and nothing was sent.
func SendFd(sock int, payload []byte, fds ...int) error {
	oob, err := encodeRights(payload, fds)
	if err != nil {
		return err
	}
	var n int
	for {
		n, err = unix.SendmsgN(sock, payload, oob, nil, unix.MSG_NOSIGNAL)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("fdpass: send %d-byte message with %d descriptors: %w", len(payload), len(fds), os.NewSyscallError("sendmsg", err))
	}
	return checkWritten(n, payload, fds)
}

// checkWritten reports a short write. SOCK_SEQPACKET sends a message whole or
// not at all; a stream socket may not, and then the descriptors went with the
// first part of the payload, leaving the stream out of step.
func checkWritten(n int, payload []byte, fds []int) error {
	if n == len(payload) {
		return nil
	}
	return fmt.Errorf("fdpass: sent %d of %d payload bytes with %d descriptors: %w; use a SOCK_SEQPACKET socket, which keeps messages whole",
		n, len(payload), len(fds), io.ErrShortWrite)
}
