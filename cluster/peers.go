package cluster

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"time"
)

// Entry is what a shard answers for one word it holds: its count and its
// rank in the set, or not found.
type Entry struct {
	Count uint64
	Rank  uint64
	Found bool
}

// LookupCommand is the command a node sends another shard for the words
// that shard holds: CLUSTER LOOKUP set-id word... It answers a flat array,
// count then rank for each word, rank 0 for a word the shard lacks.
const LookupCommand = "LOOKUP"

// DefaultTimeout bounds how long a node waits for another shard.
const DefaultTimeout = time.Second

// retryDown is how long calls to a shard that could not be reached fail at
// once, rather than each waiting for a connection that will not come.
const retryDown = 500 * time.Millisecond

// Peers asks the other shards of a cluster for the words they hold, over
// one connection per shard, on which the lookups of many clients are sent
// together. It is safe for concurrent use; Lookup never blocks, so an
// event loop may call it.
//
// Each shard's connection has a goroutine while lookups are pending: it
// takes every lookup queued so far, writes them as one batch, reads their
// answers in order and hands each to its callback, then takes the next
// batch, so that lookups that arrive during a round trip share the next
// one. Every lookup is answered, by its shard or with an error, within
// about the timeout.
type Peers struct {
	node     *Node
	password string
	timeout  time.Duration
	peers    []*peer // by shard index; nil for this node's own
}

// NewPeers returns the client of node's other shards. password, if not
// empty, is sent with AUTH on each new connection (every node of a
// cluster shares one); timeout bounds each lookup (DefaultTimeout if 0).
func NewPeers(node *Node, password string, timeout time.Duration) *Peers {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	p := &Peers{node: node, password: password, timeout: timeout}
	for i, s := range node.Config.Shards {
		if i == node.Self {
			p.peers = append(p.peers, nil)
			continue
		}
		p.peers = append(p.peers, &peer{shard: s})
	}
	return p
}

// peer is the connection to one other shard and the lookups waiting for it.
type peer struct {
	shard Shard

	mu        sync.Mutex
	queue     []*call
	running   bool      // a goroutine is sending the queue
	downUntil time.Time // after a failed connect, calls fail at once until then
	downErr   error

	// The connection, used only by the running goroutine.
	conn net.Conn
	br   *bufio.Reader
}

// call is one Lookup.
type call struct {
	req      []byte
	words    int
	deadline time.Time
	done     func([]Entry, error)
}

// Lookup asks shard for words (stored forms, as the shard's table holds
// them) and calls done once, on another goroutine, with an entry for each
// word in order, or with an error that says which shard failed and why.
// The words are copied before Lookup returns.
func (p *Peers) Lookup(shard int, words [][]byte, done func([]Entry, error)) {
	pr := p.peers[shard]
	c := &call{req: p.request(words), words: len(words), deadline: time.Now().Add(p.timeout), done: done}
	pr.mu.Lock()
	if time.Now().Before(pr.downUntil) {
		err := pr.downErr
		pr.mu.Unlock()
		go done(nil, err)
		return
	}
	pr.queue = append(pr.queue, c)
	if !pr.running {
		pr.running = true
		go pr.run(p)
	}
	pr.mu.Unlock()
}

// request encodes CLUSTER LOOKUP set-id word...
func (p *Peers) request(words [][]byte) []byte {
	return AppendLookup(make([]byte, 0, 64+16*len(words)), p.node.Info.SetID, words)
}

// AppendLookup appends the command that asks a shard of set setID for
// words: CLUSTER LOOKUP set-id word...
func AppendLookup(b []byte, setID string, words [][]byte) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(3+len(words)), 10)
	b = append(b, "\r\n"...)
	b = appendBulk(b, []byte("CLUSTER"))
	b = appendBulk(b, []byte(LookupCommand))
	b = appendBulk(b, []byte(setID))
	for _, w := range words {
		b = appendBulk(b, w)
	}
	return b
}

// AppendAuth appends AUTH password.
func AppendAuth(b []byte, password string) []byte {
	b = append(b, "*2\r\n"...)
	b = appendBulk(b, []byte("AUTH"))
	return appendBulk(b, []byte(password))
}

func appendBulk(b, s []byte) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, "\r\n"...)
	b = append(b, s...)
	return append(b, "\r\n"...)
}

// ParseEntries parses the answer to a lookup of n words at the start of
// b, as an event loop reads it: used is 0 while b does not hold all of it.
// A shard's error reply is a *ReplyError, with used covering it (the
// connection goes on); any other error means the connection cannot be
// trusted any more.
func ParseEntries(b []byte, n int) (entries []Entry, used int, err error) {
	line, next, ok := cutLine(b)
	if !ok {
		return nil, 0, nil
	}
	if len(line) > 0 && line[0] == '-' {
		return nil, next, &ReplyError{string(line[1:])}
	}
	if m, err := strconv.Atoi(string(line[min(1, len(line)):])); len(line) == 0 || line[0] != '*' || err != nil || m != 2*n {
		return nil, 0, fmt.Errorf("answered %s to a lookup of %d words; is it a freqd of this version?", clip(line), n)
	}
	entries = make([]Entry, n)
	for i := range 2 * n {
		line, after, ok := cutLine(b[next:])
		if !ok {
			return nil, 0, nil
		}
		next += after
		v, err := strconv.ParseUint(string(line[min(1, len(line)):]), 10, 64)
		if len(line) == 0 || line[0] != ':' || err != nil {
			return nil, 0, fmt.Errorf("answered %s inside a lookup's reply", clip(line))
		}
		if i%2 == 0 {
			entries[i/2].Count = v
		} else {
			entries[i/2].Rank, entries[i/2].Found = v, v != 0
		}
	}
	return entries, next, nil
}

// ParseStatus parses a simple reply (AUTH's) at the start of b: used is
// 0 while it is incomplete; err is the error reply, or says the reply is
// of another kind.
func ParseStatus(b []byte) (used int, err error) {
	line, next, ok := cutLine(b)
	switch {
	case !ok:
		return 0, nil
	case len(line) > 0 && line[0] == '+':
		return next, nil
	}
	return next, fmt.Errorf("AUTH refused (%s): every node of a cluster needs the same password", clip(line))
}

// cutLine returns the CRLF-terminated line at the start of b, without the
// CRLF, and the bytes it takes; ok is false while it is incomplete.
func cutLine(b []byte) (line []byte, used int, ok bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return nil, 0, false
	}
	line = b[:i]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, i + 1, true
}

// run sends the queued lookups, batch after batch, until none is left.
func (pr *peer) run(p *Peers) {
	for {
		pr.mu.Lock()
		batch := pr.queue
		pr.queue = nil
		if len(batch) == 0 {
			pr.running = false
			pr.mu.Unlock()
			return
		}
		pr.mu.Unlock()
		pr.roundTrip(p, batch)
	}
}

// roundTrip writes a batch and answers each of its calls. A connection
// reused from an earlier batch that turns out closed (the shard restarted,
// or closed it idle) is replaced once, the batch sent again.
func (pr *peer) roundTrip(p *Peers, batch []*call) {
	deadline := batch[0].deadline
	for _, c := range batch[1:] {
		deadline = minTime(deadline, c.deadline)
	}
	reused := pr.conn != nil
	answered, err := pr.exchange(p, batch, deadline)
	if err != nil && reused && answered == 0 && time.Now().Before(deadline) {
		pr.close()
		answered, err = pr.exchange(p, batch, deadline)
	}
	if err != nil {
		pr.close()
		err = ShardError(pr.shard, err, p.timeout)
		for _, c := range batch[answered:] {
			c.done(nil, err)
		}
	}
}

// exchange sends a batch on the connection, opening it first if need be,
// and answers the calls in order. It returns how many were answered.
func (pr *peer) exchange(p *Peers, batch []*call, deadline time.Time) (int, error) {
	if pr.conn == nil {
		if err := pr.connect(p, deadline); err != nil {
			return 0, err
		}
	}
	pr.conn.SetDeadline(deadline)
	var out []byte
	for _, c := range batch {
		out = append(out, c.req...)
	}
	if _, err := pr.conn.Write(out); err != nil {
		return 0, err
	}
	for i, c := range batch {
		entries, err := readEntries(pr.br, c.words)
		var reply *ReplyError
		switch {
		case errors.As(err, &reply):
			// The shard answered, with an error: the connection is fine.
			c.done(nil, fmt.Errorf("shard %s at %s: %s", pr.shard.Slots, pr.shard.Addr, reply.Msg))
		case err != nil:
			return i, err
		default:
			c.done(entries, nil)
		}
	}
	return len(batch), nil
}

// connect opens the connection, and authenticates it when the cluster has
// a password. A shard that cannot be reached is marked down for a moment.
func (pr *peer) connect(p *Peers, deadline time.Time) error {
	conn, err := Dial(pr.shard.Addr, p.password, deadline)
	if err == nil {
		pr.conn, pr.br = conn, bufio.NewReaderSize(conn, 16<<10)
		return nil
	}
	pr.mu.Lock()
	pr.downUntil, pr.downErr = time.Now().Add(retryDown), ShardError(pr.shard, err, p.timeout)
	pr.mu.Unlock()
	return err
}

// Dial connects to a shard's address and, with a password, authenticates,
// all before deadline.
func Dial(addr, password string, deadline time.Time) (net.Conn, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Until(deadline))
	if err != nil || password == "" {
		return conn, err
	}
	conn.SetDeadline(deadline)
	if _, err = conn.Write(AppendAuth(nil, password)); err == nil {
		var line []byte
		if line, err = readLine(bufio.NewReader(conn)); err == nil {
			_, err = ParseStatus(append(line, '\r', '\n'))
		}
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	return conn, nil
}

// ShardError names a shard and says why it did not answer, without the
// local addresses net's errors carry; timeout is the bound it missed.
func ShardError(sh Shard, err error, timeout time.Duration) error {
	var op *net.OpError
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		err = fmt.Errorf("no answer within %v", timeout)
	case errors.As(err, &op):
		err = op.Err
	}
	return fmt.Errorf("shard %s at %s: %w", sh.Slots, sh.Addr, err)
}

func (pr *peer) close() {
	if pr.conn != nil {
		pr.conn.Close()
		pr.conn, pr.br = nil, nil
	}
}

// ReplyError is an error a shard answered a lookup with; the connection
// to it is fine.
type ReplyError struct{ Msg string }

func (e *ReplyError) Error() string { return e.Msg }

// readEntries reads the answer to one lookup of n words: an array of 2n
// integers, count then rank, or an error reply.
func readEntries(br *bufio.Reader, n int) ([]Entry, error) {
	line, err := readLine(br)
	if err != nil {
		return nil, err
	}
	if len(line) > 0 && line[0] == '-' {
		return nil, &ReplyError{string(line[1:])}
	}
	if m, err := strconv.Atoi(string(line[min(1, len(line)):])); len(line) == 0 || line[0] != '*' || err != nil || m != 2*n {
		return nil, fmt.Errorf("answered %s to a lookup of %d words; is it a freqd of this version?", clip(line), n)
	}
	entries := make([]Entry, n)
	for i := range 2 * n {
		line, err := readLine(br)
		if err != nil {
			return nil, err
		}
		v, err := strconv.ParseUint(string(line[min(1, len(line)):]), 10, 64)
		if len(line) == 0 || line[0] != ':' || err != nil {
			return nil, fmt.Errorf("answered %s inside a lookup's reply", clip(line))
		}
		if i%2 == 0 {
			entries[i/2].Count = v
		} else {
			entries[i/2].Rank, entries[i/2].Found = v, v != 0
		}
	}
	return entries, nil
}

// readLine reads one CRLF-terminated line, without the CRLF.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return nil, errors.New("answered a line longer than any freqd writes")
	}
	if err == io.EOF {
		return nil, errors.New("closed the connection")
	}
	if err != nil {
		return nil, err
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("answered %s, not the Redis protocol", clip(line))
	}
	return line[:len(line)-2], nil
}

// clip shortens what a peer sent for a message.
func clip(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "..."
	}
	return string(b)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
