package loadgen

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strconv"
	"time"
)

// errTableDamaged stops a run whose table cannot give the word of a rank.
var errTableDamaged = errors.New("the frequency table gave no word for a rank it claims to hold; check the file with 'freqd inspect'")

// client is one connection of a run and the buffers it reuses, so that a
// round trip on an open connection allocates nothing.
type client struct {
	ctx     context.Context // the run's: cancelling it interrupts I/O
	dialer  net.Dialer
	network string
	address string
	timeout time.Duration
	reconn  bool
	dgram   *datagramState // datagram transports only

	conn   net.Conn
	unhook func() bool // unregisters the cancel hook of conn
	br     *bufio.Reader

	keys  *keys
	req   []byte
	exp   []expect
	start []time.Time // when each request's latency starts
	tally tally
	shard *shard
}

func newClient(ctx context.Context, cfg *Config, k *keys, s *shard) *client {
	network, address := cfg.network()
	var dgram *datagramState
	if isDatagramAddr(cfg.Addr) {
		dgram = newDatagramState()
	}
	return &client{
		dgram:   dgram,
		ctx:     ctx,
		dialer:  net.Dialer{Timeout: cfg.Timeout},
		network: network,
		address: address,
		timeout: cfg.Timeout,
		reconn:  cfg.Reconnect,
		br:      bufio.NewReaderSize(nil, readBufferSize),
		keys:    k,
		req:     make([]byte, 0, 64*cfg.Pipeline),
		exp:     make([]expect, cfg.Pipeline),
		start:   make([]time.Time, cfg.Pipeline),
		tally:   tally{latencies: make([]int64, 0, cfg.Pipeline)},
		shard:   s,
	}
}

// roundTrip sends n requests at once and reads their replies, then adds the
// outcome to the shard. When intended is nil (a closed loop) latency starts
// just before the write, or before the connect when every round trip
// reconnects; otherwise request i's latency starts at intended[i], its due
// time in an open loop.
//
// It reports whether the connection failed, so that a closed loop can back
// off, and returns errTableDamaged if the run must stop. The outcome of a
// round trip cut short by cancelling the run is dropped, not counted: it
// says nothing about the server.
func (c *client) roundTrip(n int, intended []time.Time) (failed bool, err error) {
	c.req = c.req[:0]
	for i := range n {
		var ok bool
		c.req, c.exp[i], ok = c.keys.next(c.req)
		if !ok {
			return false, errTableDamaged
		}
	}
	if intended != nil {
		copy(c.start, intended[:n])
	}
	failed = c.exchange(n, intended == nil)
	if c.reconn {
		c.close()
	}
	if c.ctx.Err() == nil {
		c.shard.add(&c.tally)
	}
	c.tally.reset()
	return failed, nil
}

// exchange does the I/O of a round trip and fills the tally.
func (c *client) exchange(n int, closedLoop bool) (failed bool) {
	if c.dgram != nil {
		return c.exchangeDatagram(n, closedLoop)
	}
	if closedLoop && c.reconn {
		c.startNow(n)
	}
	if c.conn == nil {
		if err := c.dial(); err != nil {
			c.tally.fail(classify(err), n, func() string { return "connect " + c.address + ": " + err.Error() })
			return true
		}
	}
	if closedLoop && !c.reconn {
		c.startNow(n)
	}
	if err := c.conn.SetDeadline(time.Now().Add(c.timeout)); err != nil {
		return c.abandon(0, n, err)
	}
	if _, err := c.conn.Write(c.req); err != nil {
		return c.abandon(0, n, err)
	}
	for i := range n {
		v, got, err := readGET(c.br, c.exp[i])
		if err != nil {
			return c.abandon(i, n, err)
		}
		c.judge(i, v, got)
	}
	return false
}

// judge adds the verdict on the reply to request i to the tally.
func (c *client) judge(i int, v verdict, got string) {
	switch v {
	case replyRight:
		c.tally.latencies = append(c.tally.latencies, int64(time.Since(c.start[i])))
	case replyWrong:
		c.tally.fail(Wrong, 1, func() string {
			return c.keys.describe(c.exp[i]) + ": want " + want(c.exp[i]) + ", got " + got
		})
	case replyError:
		c.tally.fail(Other, 1, func() string { return c.keys.describe(c.exp[i]) + ": error reply " + got })
	}
}

func (c *client) startNow(n int) {
	now := time.Now()
	for i := range n {
		c.start[i] = now
	}
}

// abandon fails requests i..n-1 of a round trip whose connection broke, and
// closes the connection so that the next round trip starts on a new one.
func (c *client) abandon(i, n int, err error) bool {
	k := classify(err)
	c.tally.fail(k, n-i, func() string {
		return c.keys.describe(c.exp[i]) + " on " + c.address + ": " + err.Error()
	})
	c.close()
	return true
}

func (c *client) dial() error {
	var conn net.Conn
	var err error
	if c.network == "unixgram" {
		conn, err = dialUnixgram(c.address)
	} else {
		conn, err = c.dialer.DialContext(c.ctx, c.network, c.address)
	}
	if err != nil {
		return err
	}
	c.conn = conn
	c.br.Reset(conn)
	// Cancelling the run must not wait out a round trip's timeout.
	c.unhook = context.AfterFunc(c.ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	return nil
}

func (c *client) close() {
	if c.conn == nil {
		return
	}
	c.unhook()
	c.conn.Close()
	c.conn = nil
	c.br.Reset(nil)
}

// finish releases everything the client holds, at the end of a run.
func (c *client) finish() {
	c.close()
	if c.dgram != nil {
		c.dgram.closeRetired()
	}
}

// want describes the right answer to e.
func want(e expect) string {
	if !e.present {
		return "nil"
	}
	return strconv.Quote(strconv.FormatUint(e.count, 10))
}
