package loadgen

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

// maxReplyDatagram is the reply buffer of a datagram client: every UDP
// payload fits, and freqd holds unix datagram replies to the same bound.
const maxReplyDatagram = 64 << 10

// datagramState is what a datagram client adds to a connection's: the
// buffer one reply datagram is read into, and a reader over it for the
// RESP reader.
type datagramState struct {
	buf []byte
	rd  bytes.Reader
	// retired holds the last sockets given up after a loss, still open:
	// closed at once, their port could be handed straight to the next
	// socket, and a late reply to the lost request would then arrive there
	// and be taken for the next answer (seen as a rare wrong answer).
	retired [retiredSockets]net.Conn
	next    int
}

// retiredSockets bounds how many given-up sockets a client keeps open.
const retiredSockets = 16

// retire keeps conn open a while instead of closing it, closing the oldest
// retired socket instead.
func (d *datagramState) retire(conn net.Conn) {
	if old := d.retired[d.next]; old != nil {
		old.Close()
	}
	d.retired[d.next] = conn
	d.next = (d.next + 1) % retiredSockets
}

func (d *datagramState) closeRetired() {
	for i, c := range d.retired {
		if c != nil {
			c.Close()
			d.retired[i] = nil
		}
	}
}

func newDatagramState() *datagramState {
	return &datagramState{buf: make([]byte, maxReplyDatagram)}
}

// exchangeDatagram is exchange for a datagram transport: the n requests go
// out in one datagram and their replies come back in one. No reply within
// the timeout counts all n as Lost, and the socket is replaced, so that a
// reply arriving late cannot be taken for the answer to a later request.
func (c *client) exchangeDatagram(n int, closedLoop bool) (failed bool) {
	if closedLoop {
		c.startNow(n)
	}
	if c.conn == nil {
		if err := c.dial(); err != nil {
			c.tally.fail(classify(err), n, func() string { return "open a socket for " + c.address + ": " + err.Error() })
			return true
		}
	}
	if err := c.conn.SetDeadline(time.Now().Add(c.timeout)); err != nil {
		return c.abandon(0, n, err)
	}
	if _, err := c.conn.Write(c.req); err != nil {
		return c.abandon(0, n, err)
	}
	m, err := c.conn.Read(c.dgram.buf)
	if err != nil {
		if classify(err) == Timeout && c.ctx.Err() == nil {
			c.tally.fail(Lost, n, func() string {
				return c.keys.describe(c.exp[0]) + ": no reply from " + c.address + " within " + c.timeout.String()
			})
			c.unhook()
			c.dgram.retire(c.conn)
			c.conn = nil
			return true
		}
		return c.abandon(0, n, err)
	}
	c.dgram.rd.Reset(c.dgram.buf[:m])
	c.br.Reset(&c.dgram.rd)
	for i := range n {
		v, got, err := readGET(c.br, c.exp[i])
		if err != nil {
			// freqd answers a datagram it refuses as a whole (too large a
			// reply, a protocol error) with one error reply: the requests
			// after the first have no reply of their own.
			c.tally.fail(Other, n-i, func() string {
				if i > 0 && m > 0 {
					return fmt.Sprintf("%s: the reply datagram holds %d replies for %d requests", c.keys.describe(c.exp[i]), i, n)
				}
				return c.keys.describe(c.exp[i]) + ": " + err.Error()
			})
			return true
		}
		c.judge(i, v, got)
	}
	return false
}

// unixgramClients numbers this process's unix datagram sockets.
var unixgramClients atomic.Uint64

// dialUnixgram opens a unix datagram socket connected to path. The server
// can only answer a socket bound to an address, so it is bound to an
// abstract name (Linux) unique to this process and socket: no file to
// clean up, and gone when the socket is closed.
func dialUnixgram(path string) (net.Conn, error) {
	local := &net.UnixAddr{Net: "unixgram",
		Name: "@freqd-bench-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatUint(unixgramClients.Add(1), 10)}
	return net.DialUnix("unixgram", local, &net.UnixAddr{Name: path, Net: "unixgram"})
}
