package handler

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

// Buffer sizes for ServeConn. A connection's read buffer starts small, grows
// by doubling only while a request does not fit, and drops back once it is
// empty again; its reply buffer likewise is dropped once a batch has made it
// large. A single large TAG text thus does not pin megabytes for the rest of
// a long-lived connection.
const (
	initialReadBuffer = 4 << 10
	keepReadBuffer    = 64 << 10
)

// ServeConn serves one connection until the client quits, breaks the
// protocol, disconnects or times out, and closes it. It reads into one
// buffer, processes every complete request it holds, and writes all their
// replies with one Write, so a pipelining client costs one read and one
// write per batch.
//
// It returns nil when the client ended the conversation (EOF, QUIT, an
// idle timeout) or was disconnected for a protocol error it has been told
// about, and an error for what the operator may want to know: a request
// that did not arrive within ReadTimeout, a client that did not read its
// replies within WriteTimeout, or a failing connection.
func (h *Handler) ServeConn(c net.Conn) error {
	defer c.Close()
	s := h.NewSession()
	defer s.Close()

	lim := h.Limits.Effective()
	maxBuffer := max(lim.MaxRequestLen, lim.MaxInlineLen+2)
	buf := make([]byte, initialReadBuffer)
	var out []byte
	start, end := 0, 0         // unconsumed bytes are buf[start:end]
	var requestBegan time.Time // when the pending partial request began to arrive

	for {
		// Answer every complete request, one write per batch of replies.
		for start < end {
			n, reply, closeAfter := s.Process(buf[start:end], out[:0])
			out = reply
			start += n
			if n > 0 {
				requestBegan = time.Time{}
			}
			if len(out) > 0 {
				if err := h.write(c, out); err != nil {
					return err
				}
			}
			if closeAfter {
				return nil
			}
			if n == 0 {
				break
			}
		}
		if cap(out) > keepReadBuffer {
			out = nil
		}

		// Make room for the next read: compact, grow or shrink.
		switch {
		case start == end:
			start, end = 0, 0
			if len(buf) > keepReadBuffer {
				buf = make([]byte, initialReadBuffer)
			}
		case start > 0:
			end = copy(buf, buf[start:end])
			start = 0
		}
		if end == len(buf) {
			if len(buf) >= maxBuffer {
				// The parser rejects any request this large before
				// the buffer fills; reaching here is a bug, not a client.
				return fmt.Errorf("freqd: request from %s filled the %d-byte read buffer without being rejected by the parser", c.RemoteAddr(), len(buf))
			}
			grown := make([]byte, min(2*len(buf), maxBuffer))
			copy(grown, buf[:end])
			buf = grown
		}

		h.setReadDeadline(c, end > 0, &requestBegan)
		n, err := c.Read(buf[end:])
		end += n
		if err != nil {
			if n > 0 {
				// Answer what arrived with the error; the connection is
				// going away, so a failed write changes nothing.
				if _, reply, _ := s.Process(buf[start:end], out[:0]); len(reply) > 0 {
					_ = h.write(c, reply)
				}
			}
			return h.readError(c, err, end > 0)
		}
	}
}

// setReadDeadline arms the timeout that applies while waiting: IdleTimeout
// between requests, ReadTimeout from the moment a request began to arrive.
// A failure is not reported here: it means the connection is closed (or
// cannot time out at all), and the Read that follows says which.
func (h *Handler) setReadDeadline(c net.Conn, pending bool, began *time.Time) {
	var deadline time.Time
	switch {
	case pending && h.ReadTimeout > 0:
		if began.IsZero() {
			*began = time.Now()
		}
		deadline = began.Add(h.ReadTimeout)
	case !pending && h.IdleTimeout > 0:
		deadline = time.Now().Add(h.IdleTimeout)
	}
	_ = c.SetReadDeadline(deadline)
}

// readError turns the error that ended reading into ServeConn's result.
func (h *Handler) readError(c net.Conn, err error, pending bool) error {
	switch {
	case errors.Is(err, io.EOF) && !pending:
		return nil
	case errors.Is(err, io.EOF):
		return fmt.Errorf("freqd: client %s disconnected in the middle of a request", c.RemoteAddr())
	case errors.Is(err, os.ErrDeadlineExceeded) && !pending:
		return nil // idle timeout: the client simply had nothing to ask
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("freqd: client %s did not complete a request within the read timeout (%v); raise ReadTimeout if its requests are legitimately slow", c.RemoteAddr(), h.ReadTimeout)
	}
	return fmt.Errorf("freqd: read from %s: %w", c.RemoteAddr(), err)
}

// write sends one batch of replies within WriteTimeout.
func (h *Handler) write(c net.Conn, b []byte) error {
	if h.WriteTimeout > 0 {
		// As for reads, a failure here shows up in the Write.
		_ = c.SetWriteDeadline(time.Now().Add(h.WriteTimeout))
	}
	if _, err := c.Write(b); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return fmt.Errorf("freqd: client %s did not read its replies within the write timeout (%v)", c.RemoteAddr(), h.WriteTimeout)
		}
		return fmt.Errorf("freqd: write to %s: %w", c.RemoteAddr(), err)
	}
	return nil
}
