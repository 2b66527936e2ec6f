package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/freqd/freqd/resp"
)

// `freqd get --udp` defaults. A datagram can be lost, so a request that gets
// no reply within the timeout is sent again, up to the retries: with the
// defaults a dead server is reported after 4 × 500 ms = 2 s. FREQ reads
// only, so asking twice is harmless.
const (
	defaultDatagramTimeout = 500 * time.Millisecond
	defaultDatagramRetries = 3
)

// datagramQuery asks a server over UDP or a unix datagram socket.
type datagramQuery struct {
	addr     string // host:port, udp:host:port or unixgram:/path
	password string // sent with AUTH ahead of the query when not empty
	timeout  time.Duration
	retries  int
}

// freq sends FREQ words... in one datagram and returns the counts. A
// datagram is a session of its own, so with a password the AUTH goes in
// the same datagram, first: that also lifts the bound a server puts on
// replies to unauthenticated UDP requests (3 times the request), which
// FREQ's reply keeps to anyway, since each word adds at least 7 bytes to
// the request ($1, CRLF, the word, CRLF) and a count of up to 18 digits
// adds at most 21 to the reply.
func (q *datagramQuery) freq(words []string) ([]int64, error) {
	if q.timeout <= 0 || q.retries < 0 {
		return nil, errors.New("--timeout must be above 0 and --retries at least 0")
	}
	var req []byte
	if q.password != "" {
		req = resp.AppendArrayLen(req, 2)
		req = resp.AppendBulkString(req, "AUTH")
		req = resp.AppendBulkString(req, q.password)
	}
	req = resp.AppendArrayLen(req, 1+len(words))
	req = resp.AppendBulkString(req, "FREQ")
	for _, w := range words {
		req = resp.AppendBulkString(req, w)
	}
	if len(req) > 65507 {
		return nil, fmt.Errorf("the request is %d bytes, more than a datagram holds; ask for fewer words, or over a stream (--addr)", len(req))
	}
	conn, err := q.dial()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	buf := make([]byte, 64<<10)
	for attempt := 0; ; attempt++ {
		if _, err := conn.Write(req); err != nil {
			return nil, err
		}
		conn.SetReadDeadline(time.Now().Add(q.timeout))
		n, err := conn.Read(buf)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			if attempt < q.retries {
				continue
			}
			return nil, fmt.Errorf("no reply after %d tries %v apart; is a server listening there (--listen udp:... or unixgram:...)?", attempt+1, q.timeout)
		}
		if err != nil {
			return nil, err
		}
		reply := buf[:n]
		if q.password != "" {
			if reply, err = skipAuthReply(reply); err != nil {
				return nil, err
			}
		}
		return parseCounts(reply, len(words))
	}
}

// skipAuthReply checks AUTH's reply at the start of b and returns the rest.
func skipAuthReply(b []byte) ([]byte, error) {
	line, rest, ok := bytes.Cut(b, []byte("\r\n"))
	switch {
	case ok && string(line) == "+OK":
		return rest, nil
	case ok && len(line) > 0 && line[0] == '-':
		return nil, fmt.Errorf("AUTH refused: %s", line[1:])
	}
	return nil, fmt.Errorf("unexpected reply to AUTH %.40q", b)
}

// dial opens a socket connected to the server. A unix datagram socket is
// bound to an abstract name, since the server can only answer a socket
// that has an address.
func (q *datagramQuery) dial() (net.Conn, error) {
	if p, ok := strings.CutPrefix(q.addr, "unixgram:"); ok {
		local := &net.UnixAddr{Net: "unixgram", Name: "@freqd-get-" + strconv.Itoa(os.Getpid())}
		return net.DialUnix("unixgram", local, &net.UnixAddr{Name: p, Net: "unixgram"})
	}
	return net.Dial("udp", strings.TrimPrefix(q.addr, "udp:"))
}

// parseCounts reads FREQ's reply, an array of n integers, or the error the
// server sent instead.
func parseCounts(b []byte, n int) ([]int64, error) {
	line, rest, ok := bytes.Cut(b, []byte("\r\n"))
	switch {
	case ok && bytes.HasPrefix(line, []byte("-NOAUTH")):
		return nil, fmt.Errorf("%s (give the password with --password or FREQD_REQUIREPASS)", line[1:])
	case ok && len(line) > 0 && line[0] == '-':
		return nil, errors.New(string(line[1:]))
	case !ok || string(line) != "*"+strconv.Itoa(n):
		return nil, fmt.Errorf("unexpected reply %.40q", b)
	}
	counts := make([]int64, n)
	for i := range counts {
		line, rest, ok = bytes.Cut(rest, []byte("\r\n"))
		if !ok || len(line) < 2 || line[0] != ':' {
			return nil, fmt.Errorf("unexpected reply element %.40q", line)
		}
		v, err := strconv.ParseInt(string(line[1:]), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("unexpected reply element %.40q", line)
		}
		counts[i] = v
	}
	return counts, nil
}
