package handler

import (
	"strings"
	"sync"
	"testing"

	"github.com/freqd/freqd/data"
)

func TestServeDatagram(t *testing.T) {
	st := realTable(t)
	h := New(st.table, Options{})
	absent := "zzxqvjk"
	tooLarge := errorReply(errDatagramReplyTooLarge)
	incomplete := errorReply(errDatagramIncomplete)
	// A reply of exactly 100 bytes: "$93\r\n" + 93 bytes + "\r\n".
	echo93 := strings.Repeat("e", 93)
	tests := []struct {
		name     string
		req      string
		maxReply int
		want     string
	}{
		{"get", multibulk("GET", "the"), MaxUDP4Reply, bulkUint(st.count["the"])},
		{"get absent", multibulk("GET", absent), MaxUDP4Reply, nilBulk},
		{"every read command in one datagram",
			multibulk("GET", "you") + inline("MGET", "the", absent) + multibulk("EXISTS", "the", absent) +
				inline("FREQ", "John", absent) + multibulk("RANK", "you") + inline("DBSIZE") +
				multibulk("PING") + inline("ECHO", "hi"),
			MaxUDP4Reply,
			bulkUint(st.count["you"]) + array(bulkUint(st.count["the"]), nilBulk) + integer(1) +
				array(integer(st.count["John"]), integer(0)) + integer(1) + integer(data.SubtlexUSWords) +
				simple("PONG") + bulk("hi")},
		{"inline ended by the datagram", "GET the", MaxUDP4Reply, bulkUint(st.count["the"])},
		{"inline after a whole command, ended by the datagram", "PING\r\nRANK the", MaxUDP4Reply, simple("PONG") + integer(st.rank["the"])},
		{"error replies of single commands stay per command", inline("GET") + inline("PING"), MaxUDP4Reply, arityError("get") + simple("PONG")},
		{"truncated multibulk", multibulk("GET", "the")[:12], MaxUDP4Reply, incomplete},
		{"whole command before a truncated one does not run", inline("PING") + "*2\r\n$3\r\nGET\r\n", MaxUDP4Reply, incomplete},
		{"protocol error", "*abc\r\n", MaxUDP4Reply, errorReply("ERR Protocol error: invalid multibulk length")},
		{"protocol error after a whole command", inline("PING") + "*1\r\n$x\r\n", MaxUDP4Reply, errorReply("ERR Protocol error: invalid bulk length")},
		{"bare bulk", "$5\r\nabcde\r\n", MaxUDP4Reply, errorReply("ERR unknown command '$5', with args beginning with: ") + errorReply("ERR unknown command 'abcde', with args beginning with: ")},
		{"unbalanced quotes", "GET \"the\r\n", MaxUDP4Reply, errorReply("ERR Protocol error: unbalanced quotes in request")},
		{"reply of exactly maxReply bytes", inline("ECHO", echo93), 100, bulk(echo93)},
		{"reply one byte over maxReply", inline("ECHO", echo93+"e"), 100, tooLarge},
		{"replies over maxReply together", inline("ECHO", echo93) + inline("PING"), 100, tooLarge},
		{"no bound", inline("ECHO", echo93+"e"), 0, bulk(echo93 + "e")},
		{"quit ends the datagram", inline("PING") + inline("QUIT") + inline("PING"), MaxUDP4Reply, simple("PONG") + simple("OK")},
		{"client name lives for the datagram", inline("CLIENT", "SETNAME", "x") + inline("CLIENT", "GETNAME"), MaxUDP4Reply, simple("OK") + bulk("x")},
		{"client name does not outlive the datagram", inline("CLIENT", "GETNAME"), MaxUDP4Reply, nilBulk},
		{"empty datagram", "", MaxUDP4Reply, ""},
		{"blank lines", "\r\n\n*0\r\n", MaxUDP4Reply, ""},
	}
	for i, tc := range tests {
		got := string(h.ServeDatagram([]byte(tc.req), nil, DatagramLimits{MaxReply: tc.maxReply}))
		if got != tc.want {
			t.Errorf("case %d (%s): reply %q, want %q", i, tc.name, clipString(got), clipString(tc.want))
		}
	}
}

func clipString(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

// TestServeDatagramOversizeMGET asks for thousands of words in one
// datagram, the way a client that does not know the bound would.
func TestServeDatagramOversizeMGET(t *testing.T) {
	st := realTable(t)
	h := New(st.table, Options{})
	args := []string{"MGET"}
	for len(args) < 7000 {
		args = append(args, "the")
	}
	req := multibulk(args...)
	if len(req) > MaxUDP4Reply {
		t.Fatalf("request of %d bytes does not fit in a datagram itself", len(req))
	}
	before := h.Stats()
	got := string(h.ServeDatagram([]byte(req), nil, DatagramLimits{MaxReply: MaxUDP4Reply}))
	if want := errorReply(errDatagramReplyTooLarge); got != want {
		t.Fatalf("reply %q, want %q", clipString(got), want)
	}
	if n := h.Stats().ErrorReplies - before.ErrorReplies; n != 1 {
		t.Errorf("error replies counted: %d, want 1", n)
	}
	// The same request with room for the reply is answered in full.
	got = string(h.ServeDatagram([]byte(req), nil, DatagramLimits{}))
	if want := array(repeat(bulkUint(st.count["the"]), len(args)-1)...); got != want {
		t.Errorf("unbounded reply is %d bytes, want %d", len(got), len(want))
	}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// TestServeDatagramRejectsBeforeRunning pins that a malformed datagram runs
// none of its commands: the counters do not move but for the one error.
func TestServeDatagramRejectsBeforeRunning(t *testing.T) {
	h := New(realTable(t).table, Options{})
	before := h.Stats()
	got := string(h.ServeDatagram([]byte(inline("GET", "the")+inline("PING")+"*3\r\n$3\r\nGET"), nil, DatagramLimits{MaxReply: MaxUDP4Reply}))
	if got != errorReply(errDatagramIncomplete) {
		t.Fatalf("reply %q, want the incomplete-datagram error", got)
	}
	after := h.Stats()
	if after.Commands != before.Commands {
		t.Errorf("%d commands ran, want none", after.Commands-before.Commands)
	}
	if after.ProtocolErrors-before.ProtocolErrors != 1 || after.ErrorReplies-before.ErrorReplies != 1 {
		t.Errorf("protocol errors +%d, error replies +%d; want +1 each",
			after.ProtocolErrors-before.ProtocolErrors, after.ErrorReplies-before.ErrorReplies)
	}
	if after.Connections != before.Connections || after.ConnectedClients != before.ConnectedClients {
		t.Errorf("a datagram was counted as a connection: %+v -> %+v", before, after)
	}
}

// TestServeDatagramAppendsToOut checks that replies go after what out
// already holds, and that an error replaces only what this call added.
func TestServeDatagramAppendsToOut(t *testing.T) {
	h := New(realTable(t).table, Options{})
	prefix := "kept"
	got := string(h.ServeDatagram([]byte(inline("PING")), []byte(prefix), DatagramLimits{MaxReply: MaxUDP4Reply}))
	if got != prefix+simple("PONG") {
		t.Errorf("reply %q, want %q", got, prefix+simple("PONG"))
	}
	got = string(h.ServeDatagram([]byte(inline("ECHO", strings.Repeat("x", 200))), []byte(prefix), DatagramLimits{MaxReply: 100}))
	if want := prefix + errorReply(errDatagramReplyTooLarge); got != want {
		t.Errorf("reply %q, want %q", got, want)
	}
}

// TestServeDatagramConcurrent serves datagrams from many goroutines at once,
// as a worker's read loops do, so that the race detector sees the recycled
// sessions change hands.
func TestServeDatagramConcurrent(t *testing.T) {
	st := realTable(t)
	h := New(st.table, Options{})
	words := []string{"the", "you", "John", "I", "zzxqvjk"}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			var out []byte
			for i := range 500 {
				w := words[(g+i)%len(words)]
				req := inline("CLIENT", "SETNAME", "g") + inline("FREQ", w) + inline("CLIENT", "GETNAME")
				out = h.ServeDatagram([]byte(req), out[:0], DatagramLimits{MaxReply: MaxUDP4Reply})
				want := simple("OK") + array(integer(st.count[w])) + bulk("g")
				if string(out) != want {
					t.Errorf("goroutine %d, datagram %d: reply %q, want %q", g, i, out, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

func FuzzServeDatagram(f *testing.F) {
	h := New(realTable(f).table, Options{})
	for _, seed := range []string{
		multibulk("GET", "the"), inline("MGET", "a", "b"), "GET the", "*2\r\n$3\r\nGET", "*-2\r\n",
		"$9223372036854775807\r\n", "\"unbalanced", "PING\r\nQUIT\r\nPING", "\x00\xff\r\n\n",
		"COMMAND", "INFO\r\n", "x", multibulk("AUTH", "default", "x") + "HELLO\r\n", "MGET a a a a a a a a\r\n\r\n",
	} {
		f.Add([]byte(seed), 64)
	}
	f.Fuzz(func(t *testing.T, req []byte, maxReply int) {
		if maxReply < 128 {
			maxReply = 128 // room for the errors that replace a datagram's replies
		}
		for _, spoofable := range []bool{false, true} {
			out := h.ServeDatagram(req, nil, DatagramLimits{MaxReply: maxReply, Spoofable: spoofable})
			if len(out) > maxReply {
				t.Fatalf("reply of %d bytes exceeds the bound %d", len(out), maxReply)
			}
			// Without a password no datagram authenticates: every reply
			// to a spoofable one keeps to the amplification bound.
			if spoofable && len(out) > AmplificationBound(len(req)) {
				t.Fatalf("reply of %d bytes to a spoofable request of %d: over the bound %d", len(out), len(req), AmplificationBound(len(req)))
			}
			if len(out) > 0 && !strings.ContainsRune("+-:$*", rune(out[0])) {
				t.Fatalf("reply %q does not start with a RESP type", out)
			}
		}
	})
}

func BenchmarkServeDatagram(b *testing.B) {
	h := New(realTable(b).table, Options{})
	req := []byte(multibulk("GET", "the"))
	var out []byte
	b.ReportAllocs()
	for b.Loop() {
		out = h.ServeDatagram(req, out[:0], DatagramLimits{MaxReply: MaxUDP4Reply})
	}
}

func TestServeDatagramAuth(t *testing.T) {
	st := realTable(t)
	h := New(st.table, Options{RequirePass: "sesame"})
	the := bulkUint(st.count["the"])
	noAuthReply := errorReply(errNoAuth)
	wrong := errorReply(errWrongPass)
	manyWords := []string{"MGET"}
	for len(manyWords) < 40 {
		manyWords = append(manyWords, "the")
	}
	tests := []struct {
		name string
		req  string
		want string
	}{
		{"auth first", multibulk("AUTH", "sesame") + inline("GET", "the"), simple("OK") + the},
		{"auth with the user first", multibulk("AUTH", "default", "sesame") + inline("GET", "the"), simple("OK") + the},
		{"hello auth first", multibulk("HELLO", "2", "AUTH", "default", "sesame") + inline("PING"), "HELLO" + simple("PONG")},
		{"no auth", inline("GET", "the") + inline("PING"), noAuthReply + noAuthReply},
		{"auth later does not count", inline("GET", "the") + multibulk("AUTH", "sesame") + inline("GET", "the"), noAuthReply + noAuthReply + noAuthReply},
		{"wrong password", multibulk("AUTH", "open") + inline("GET", "the"), wrong + noAuthReply},
		{"a login does not outlive its datagram", inline("GET", "the"), noAuthReply},
		{"quit needs no login", inline("QUIT"), simple("OK")},
		// A datagram already bounds its size: no tighter bounds before AUTH.
		{"long multibulk after auth", multibulk("AUTH", "sesame") + multibulk(manyWords...), simple("OK") + array(repeat(the, len(manyWords)-1)...)},
	}
	for i, tc := range tests {
		got := string(h.ServeDatagram([]byte(tc.req), nil, DatagramLimits{MaxReply: MaxUDP4Reply}))
		if strings.HasPrefix(tc.want, "HELLO") {
			// HELLO's reply carries the session id, new for each datagram.
			if !strings.HasPrefix(got, "*14\r\n") || !strings.HasSuffix(got, strings.TrimPrefix(tc.want, "HELLO")) {
				t.Errorf("case %d (%s): reply %q, want HELLO's map then %q", i, tc.name, got, strings.TrimPrefix(tc.want, "HELLO"))
			}
			continue
		}
		if got != tc.want {
			t.Errorf("case %d (%s): reply %q, want %q", i, tc.name, clipString(got), clipString(tc.want))
		}
	}
}

// TestServeDatagramAmplification: a reply to a spoofable (UDP) request that
// did not authenticate with the password keeps within AmplificationBound
// of the request, or becomes the short refusal; an authenticated request,
// or a unix datagram, gets its whole reply.
func TestServeDatagramAmplification(t *testing.T) {
	st := realTable(t)
	open := New(st.table, Options{})
	locked := New(st.table, Options{RequirePass: "sesame"})
	refuseOpen, refuseAuth := errorReply(errDatagramAmplifyOpen), errorReply(errDatagramAmplifyAuth)
	unixgram := DatagramLimits{MaxReply: MaxUDP4Reply}
	command := string(open.ServeDatagram([]byte(inline("COMMAND")), nil, unixgram))
	if !strings.HasPrefix(command, "*") || len(command) < 1000 {
		t.Fatalf("COMMAND over a unix datagram: %q, want the command table", clipString(command))
	}
	the := bulkUint(st.count["the"])
	mget := inline(append([]string{"MGET"}, repeat("the", 200)...)...)
	mgetReply := array(repeat(the, 200)...)
	// Blank lines pad a request to a third of its reply, QUIC's way.
	padTo := (len(mgetReply) - (amplificationFactor-1)*ipv4UDPHeaders + amplificationFactor - 1) / amplificationFactor
	padded := mget + strings.Repeat("\n", padTo-len(mget))
	auth := multibulk("AUTH", "sesame")
	hello := multibulk("HELLO", "2", "AUTH", "default", "sesame")
	tests := []struct {
		name string
		h    *Handler
		req  string
		want string // "HELLO..." : HELLO's map (its id varies), then the rest
	}{
		{"GET, no password", open, "GET the", the},
		{"PING, no password", open, "PING", simple("PONG")},
		{"COMMAND, no password", open, inline("COMMAND"), refuseOpen},
		{"INFO, no password", open, "INFO", refuseOpen},
		{"HELLO, no password", open, inline("HELLO"), refuseOpen},
		{"MGET of 200, no password", open, mget, refuseOpen},
		{"MGET of 200 padded to a third of its reply", open, padded, mgetReply},
		{"MGET of 200 padded one byte short", open, padded[:len(padded)-1], refuseOpen},
		{"a short error fits", open, "x", errorReply("ERR unknown command 'x', with args beginning with: ")},
		{"AUTH default proves nothing without a password", open, multibulk("AUTH", "default", "anything") + inline("COMMAND"), refuseOpen},
		{"protocol error of a short request", open, "*2\r\n", refuseOpen},
		{"COMMAND before AUTH is answered NOAUTH", locked, inline("COMMAND"), errorReply(errNoAuth)},
		{"HELLO before AUTH", locked, inline("HELLO"), refuseAuth},
		{"wrong password", locked, multibulk("AUTH", "wrong") + inline("INFO"), errorReply(errWrongPass) + errorReply(errNoAuth)},
		{"AUTH later in the datagram does not count", locked, inline("PING") + auth + inline("COMMAND"), strings.Repeat(errorReply(errNoAuth), 3)},
		{"AUTH then COMMAND", locked, auth + inline("COMMAND"), simple("OK") + command},
		{"AUTH then MGET of 200", locked, auth + mget, simple("OK") + mgetReply},
		{"HELLO AUTH then COMMAND", locked, hello + inline("COMMAND"), "HELLO" + command},
	}
	for i, tc := range tests {
		before := tc.h.Stats().DatagramRefused
		got := string(tc.h.ServeDatagram([]byte(tc.req), nil, DatagramLimits{MaxReply: MaxUDP4Reply, Spoofable: true}))
		refused := tc.h.Stats().DatagramRefused - before
		if rest, ok := strings.CutPrefix(tc.want, "HELLO"); ok {
			if !strings.HasPrefix(got, "*14\r\n") || !strings.HasSuffix(got, rest) {
				t.Errorf("case %d (%s): reply %q, want HELLO's map, then %q", i, tc.name, clipString(got), clipString(rest))
			}
		} else if got != tc.want {
			t.Errorf("case %d (%s): reply %q, want %q", i, tc.name, clipString(got), clipString(tc.want))
		}
		wantRefused := uint64(0)
		if tc.want == refuseOpen || tc.want == refuseAuth {
			wantRefused = 1
		}
		if refused != wantRefused {
			t.Errorf("case %d (%s): %d refusals counted, want %d", i, tc.name, refused, wantRefused)
		}
		// A unix datagram is never refused for its size.
		if u := string(tc.h.ServeDatagram([]byte(tc.req), nil, unixgram)); u == refuseOpen || u == refuseAuth {
			t.Errorf("case %d (%s): unix datagram refused: %q", i, tc.name, u)
		}
	}
}

// TestDatagramRefusalIsShort: the refusals answer requests of any size, so
// they must fit the bound of the smallest request.
func TestDatagramRefusalIsShort(t *testing.T) {
	for _, msg := range []string{errDatagramAmplifyOpen, errDatagramAmplifyAuth} {
		if n := len(errorReply(msg)); n > AmplificationBound(1) {
			t.Errorf("refusal %q is %d bytes, over AmplificationBound(1) = %d", msg, n, AmplificationBound(1))
		}
	}
}

// TestDatagramError: an error made outside ServeDatagram keeps to the
// bound too.
func TestDatagramError(t *testing.T) {
	h := New(realTable(t).table, Options{})
	long := []byte(errorReply("ERR " + strings.Repeat("x", 80)))
	spoof := DatagramLimits{MaxReply: MaxUDP4Reply, Spoofable: true}
	if got := string(h.DatagramError([]byte("GET the"), nil, spoof, long)); got != errorReply(errDatagramAmplifyOpen) {
		t.Errorf("long error to a short UDP request: %q, want the refusal", got)
	}
	if got := string(h.DatagramError([]byte(multibulk("GET", "the")), []byte("p"), spoof, long)); got != "p"+string(long) {
		t.Errorf("long error to a longer UDP request: %q, want the error after the prefix", got)
	}
	if got := string(h.DatagramError([]byte("GET the"), nil, DatagramLimits{MaxReply: MaxUDP4Reply}, long)); got != string(long) {
		t.Errorf("long error to a unix datagram: %q, want the error", got)
	}
}
