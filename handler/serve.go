package handler

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

// ServeConn serves one connection until the client quits, breaks the
// protocol, disconnects or times out, and closes it. It reads into one
// buffer, processes every complete request it holds, and writes all their
// replies with one Write, so a pipelining client costs one read and one
// write per batch. Buffers and timeouts are a Stream's, as in the event
// loop.
//
// It returns nil when the client ended the conversation (EOF, QUIT, an
// idle timeout) or was disconnected for a protocol error it has been told
// about, and an error for what the operator may want to know: a request
// that did not arrive within the read timeout, a client that did not read
// its replies within the write timeout, or a failing connection.
func (h *Handler) ServeConn(c net.Conn) error {
	defer c.Close()
	st := h.NewStream(h.NewSession(), time.Now(), func() string { return fmt.Sprint(c.RemoteAddr()) })
	defer st.Close()
	for {
		st.Process(time.Now())
		for out := st.Pending(); len(out) > 0; out = st.Pending() {
			// A failure to set a deadline shows up in the Write.
			_ = c.SetWriteDeadline(st.WriteDeadline(time.Now()))
			n, err := c.Write(out)
			st.Wrote(n, time.Now())
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return st.WriteTimedOut()
			}
			if err != nil {
				return fmt.Errorf("freqd: write to %s: %w", c.RemoteAddr(), err)
			}
		}
		if done, err := st.Finished(); done {
			return err
		}
		if st.Runnable() {
			continue // Process stopped at a batch of replies: more to run
		}
		if st.Waiting() {
			st.FetchNow() // other shards hold words of the next request
			continue
		}
		buf, err := st.ReadBuffer()
		if err != nil {
			return err
		}
		_ = c.SetReadDeadline(st.ReadDeadline(time.Now()))
		n, err := c.Read(buf)
		st.Received(n, time.Now())
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			st.ReceivedEOF()
		case errors.Is(err, os.ErrDeadlineExceeded):
			return st.ReadTimedOut()
		default:
			if n > 0 {
				// Answer what arrived with the error; the connection is
				// going away, so a failed write changes nothing.
				st.Process(time.Now())
				_, _ = c.Write(st.Pending())
			}
			return fmt.Errorf("freqd: read from %s: %w", c.RemoteAddr(), err)
		}
	}
}
