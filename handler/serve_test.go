package handler

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// serveTCP runs h on a loopback listener, a goroutine per connection, until
// the test ends; it returns the address and a channel of ServeConn results.
func serveTCP(t *testing.T, h *Handler) (string, <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	results := make(chan error, 64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { results <- h.ServeConn(c) }()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String(), results
}

func TestServeConnWithGoRedis(t *testing.T) {
	st := realTable(t)
	h := New(st.table, Options{})
	addr, _ := serveTCP(t, h)
	ctx := context.Background()
	// Protocol 3 is go-redis's default: it sends HELLO 3, is refused, and
	// must carry on in RESP2; it also sends CLIENT SETINFO.
	rdb := redis.NewClient(&redis.Options{Addr: addr, ClientName: "freqd-test", MaxRetries: -1})
	defer rdb.Close()

	if got, err := rdb.Ping(ctx).Result(); err != nil || got != "PONG" {
		t.Fatalf("PING: %q, %v", got, err)
	}
	if got, err := rdb.Get(ctx, "the").Uint64(); err != nil || got != st.count["the"] {
		t.Errorf("GET the: %d, %v; want %d", got, err, st.count["the"])
	}
	if _, err := rdb.Get(ctx, "zzxqvjk").Result(); err != redis.Nil {
		t.Errorf("GET of an absent word: %v, want redis.Nil", err)
	}
	if got, err := rdb.MGet(ctx, "you", "zzxqvjk").Result(); err != nil || len(got) != 2 ||
		got[0] != strconv.FormatUint(st.count["you"], 10) || got[1] != nil {
		t.Errorf("MGET: %v, %v", got, err)
	}
	if got, err := rdb.Exists(ctx, "the", "zzxqvjk", "I").Result(); err != nil || got != 2 {
		t.Errorf("EXISTS: %d, %v; want 2", got, err)
	}
	if got, err := rdb.DBSize(ctx).Result(); err != nil || got != int64(len(st.count)) {
		t.Errorf("DBSIZE: %d, %v", got, err)
	}
	if got, err := rdb.Do(ctx, "RANK", "I").Int64(); err != nil || uint64(got) != st.rank["I"] {
		t.Errorf("RANK I: %d, %v; want %d", got, err, st.rank["I"])
	}
	if got, err := rdb.Do(ctx, "FREQ", "the", "zzxqvjk").Int64Slice(); err != nil || len(got) != 2 ||
		uint64(got[0]) != st.count["the"] || got[1] != 0 {
		t.Errorf("FREQ: %v, %v", got, err)
	}
	// In RESP3, which go-redis chose, TAG is a map of word to score.
	if got, err := rdb.Do(ctx, "TAG", "LIMIT", "1", "the zymurgist and the cat").Result(); err != nil {
		t.Errorf("TAG: %v", err)
	} else if m, ok := got.(map[any]any); !ok || len(m) != 1 || m["zymurgist"] == nil {
		t.Errorf("TAG: %#v, want a map of zymurgist to its score", got)
	} else if score, ok := m["zymurgist"].(float64); !ok || score < 14 {
		t.Errorf("TAG: zymurgist scores %#v, want a double over 14 (a word never seen, in 5)", m["zymurgist"])
	}
	if got, err := rdb.ClientGetName(ctx).Result(); err != nil || got != "freqd-test" {
		t.Errorf("CLIENT GETNAME after go-redis's handshake: %q, %v", got, err)
	}
	cmds, err := rdb.Command(ctx).Result()
	if err != nil || cmds["get"] == nil || !cmds["get"].ReadOnly || cmds["get"].Arity != 2 {
		t.Errorf("COMMAND: get is %+v, %v", cmds["get"], err)
	}
	if got, err := rdb.ConfigGet(ctx, "save").Result(); err != nil || len(got) != 1 || got["save"] != "" {
		t.Errorf("CONFIG GET save: %v, %v", got, err)
	}
	info, err := rdb.Info(ctx, "table").Result()
	if err != nil || !strings.Contains(info, "table_words:"+strconv.Itoa(len(st.count))) {
		t.Errorf("INFO table: %q, %v", info, err)
	}
	if err := rdb.Do(ctx, "NOPE").Err(); err == nil || !strings.HasPrefix(err.Error(), "ERR unknown command 'NOPE'") {
		t.Errorf("unknown command: %v", err)
	}

	// A pipeline of many GETs arrives in one or a few reads and is
	// answered in order.
	words := []string{"you", "I", "the", "to", "zzxqvjk", "John", "London"}
	pipe := rdb.Pipeline()
	var gets []*redis.StringCmd
	for range 50 {
		for _, w := range words {
			gets = append(gets, pipe.Get(ctx, w))
		}
	}
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		t.Fatalf("pipeline: %v", err)
	}
	for i, g := range gets {
		w := words[i%len(words)]
		want, ok := st.count[w]
		got, err := g.Uint64()
		if ok && (err != nil || got != want) || !ok && err != redis.Nil {
			t.Errorf("pipelined GET %d (%s): %d, %v; want %d (present %v)", i, w, got, err, want, ok)
		}
	}
}

// dialPipe serves h on one end of an in-memory connection and returns the
// other end and ServeConn's result.
func dialPipe(t *testing.T, h *Handler) (net.Conn, <-chan error) {
	t.Helper()
	client, server := net.Pipe()
	done := make(chan error, 1)
	go func() { done <- h.ServeConn(server) }()
	t.Cleanup(func() { client.Close() })
	return client, done
}

func waitResult(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("ServeConn did not return")
		return nil
	}
}

func TestServeConnClosesAfterQuit(t *testing.T) {
	h := New(realTable(t).table, Options{})
	c, done := dialPipe(t, h)
	go io.WriteString(c, "PING\r\nQUIT\r\nPING\r\n")
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "+PONG\r\n+OK\r\n" {
		t.Errorf("read %q, %v; want PONG, OK, then EOF", got, err)
	}
	if err := waitResult(t, done); err != nil {
		t.Errorf("ServeConn: %v", err)
	}
	if n := h.Stats().ConnectedClients; n != 0 {
		t.Errorf("%d clients still counted as connected", n)
	}
}

func TestServeConnClosesAfterProtocolError(t *testing.T) {
	h := New(realTable(t).table, Options{})
	c, done := dialPipe(t, h)
	go io.WriteString(c, "*1\r\n$9223372036854775807\r\n")
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "-ERR Protocol error: invalid bulk length\r\n" {
		t.Errorf("read %q, %v", got, err)
	}
	if err := waitResult(t, done); err != nil {
		t.Errorf("ServeConn: %v", err)
	}
}

func TestServeConnReadTimeoutDropsStalledRequest(t *testing.T) {
	h := New(realTable(t).table, Options{Timeouts: Timeouts{Read: 50 * time.Millisecond}})
	c, done := dialPipe(t, h)
	// A request announced but never finished: the slowloris pattern.
	if _, err := io.WriteString(c, "*2\r\n$3\r\nGET\r\n$3\r\nth"); err != nil {
		t.Fatal(err)
	}
	err := waitResult(t, done)
	if err == nil || !strings.Contains(err.Error(), "read timeout") {
		t.Errorf("ServeConn returned %v, want a read timeout error", err)
	}
}

func TestServeConnIdleTimeoutClosesQuietly(t *testing.T) {
	h := New(realTable(t).table, Options{Timeouts: Timeouts{Idle: 50 * time.Millisecond, Read: time.Hour}}) // Read must not apply between requests
	c, done := dialPipe(t, h)
	go io.WriteString(c, "PING\r\n")
	r := bufio.NewReader(c)
	if line, err := r.ReadString('\n'); err != nil || line != "+PONG\r\n" {
		t.Fatalf("read %q, %v", line, err)
	}
	if err := waitResult(t, done); err != nil {
		t.Errorf("ServeConn after an idle timeout: %v, want nil", err)
	}
}

func TestServeConnWriteTimeoutDropsClientThatDoesNotRead(t *testing.T) {
	h := New(realTable(t).table, Options{Timeouts: Timeouts{Write: 50 * time.Millisecond}})
	c, done := dialPipe(t, h)
	// net.Pipe has no buffer: the reply write blocks until the client
	// reads, which it never does.
	go io.WriteString(c, "PING\r\n")
	err := waitResult(t, done)
	if err == nil || !strings.Contains(err.Error(), "write timeout") {
		t.Errorf("ServeConn returned %v, want a write timeout error", err)
	}
}

func TestServeConnLargeRequestAcrossReads(t *testing.T) {
	st := realTable(t)
	h := New(st.table, Options{})
	addr, results := serveTCP(t, h)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// About 540 KB of FREQ arguments, within MaxArgs: many reads, several
	// buffer doublings.
	const words = 60000
	args := []string{"FREQ"}
	for range words - 1 {
		args = append(args, "the")
	}
	go io.WriteString(c, multibulk(args...)+inline("QUIT"))
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	n := integer(st.count["the"])
	want := "*" + strconv.Itoa(words-1) + "\r\n" + strings.Repeat(n, words-1) + "+OK\r\n"
	if string(got) != want {
		t.Errorf("got %d bytes, want %d", len(got), len(want))
	}
	if err := <-results; err != nil {
		t.Errorf("ServeConn: %v", err)
	}
}

func TestServeConnEOFMidRequestIsReported(t *testing.T) {
	h := New(realTable(t).table, Options{})
	c, done := dialPipe(t, h)
	if _, err := io.WriteString(c, "PING\r\n*2\r\n$3"); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	if line, err := r.ReadString('\n'); err != nil || line != "+PONG\r\n" {
		t.Fatalf("read %q, %v", line, err)
	}
	c.Close()
	if err := waitResult(t, done); err == nil || errors.Is(err, io.EOF) || !strings.Contains(err.Error(), "middle of a request") {
		t.Errorf("ServeConn returned %v, want a disconnected-mid-request error", err)
	}
}
