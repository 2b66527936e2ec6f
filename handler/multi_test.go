package handler

import (
	"strings"
	"testing"
	"time"

	"github.com/freqd/freqd/resp"
)

func TestTransactionsAnswerLikeRedis(t *testing.T) {
	st := realTable(t)
	h := New(st.table, Options{})
	the := bulkUint(st.count["the"])
	execAbort := errorReply("EXECABORT Transaction discarded because of previous errors.")
	tests := []struct {
		name string
		in   []string // inline requests
		want []string // their replies
	}{
		{"queued commands run at EXEC",
			[]string{"MULTI", "GET the", "FREQ the zzxqvjk", "PING", "EXEC"},
			[]string{simple("OK"), simple("QUEUED"), simple("QUEUED"), simple("QUEUED"),
				array(the, array(integer(st.count["the"]), integer(0)), simple("PONG"))}},
		{"empty transaction", []string{"MULTI", "EXEC"}, []string{simple("OK"), array()}},
		{"EXEC without MULTI", []string{"EXEC"}, []string{errorReply("ERR EXEC without MULTI")}},
		{"DISCARD without MULTI", []string{"DISCARD"}, []string{errorReply("ERR DISCARD without MULTI")}},
		{"DISCARD drops the queue", []string{"MULTI", "GET the", "DISCARD", "EXEC"},
			[]string{simple("OK"), simple("QUEUED"), simple("OK"), errorReply("ERR EXEC without MULTI")}},
		{"nested MULTI is an error that does not abort",
			[]string{"MULTI", "MULTI", "GET the", "EXEC"},
			[]string{simple("OK"), errorReply("ERR MULTI calls can not be nested"), simple("QUEUED"), array(the)}},
		{"unknown command aborts EXEC",
			[]string{"MULTI", "GET the", "NOPE x", "EXEC", "GET the"},
			[]string{simple("OK"), simple("QUEUED"), errorReply("ERR unknown command 'NOPE', with args beginning with: 'x' "), execAbort, the}},
		{"wrong arity aborts EXEC",
			[]string{"MULTI", "GET", "EXEC"},
			[]string{simple("OK"), arityError("get"), execAbort}},
		{"unknown subcommand aborts EXEC",
			[]string{"MULTI", "CLIENT NOPE", "EXEC"},
			[]string{simple("OK"), errorReply("ERR unknown subcommand 'NOPE'. Try CLIENT HELP."), execAbort}},
		{"errors at run time stay in the array",
			[]string{"MULTI", "SELECT 1", "GET the", "EXEC"},
			[]string{simple("OK"), simple("QUEUED"), simple("QUEUED"), array(errorReply("ERR DB index is out of range"), the)}},
		{"WATCH always succeeds", []string{"WATCH the a", "MULTI", "GET the", "EXEC"},
			[]string{simple("OK"), simple("OK"), simple("QUEUED"), array(the)}},
		{"WATCH inside MULTI is refused and does not abort",
			[]string{"MULTI", "WATCH the", "EXEC"},
			[]string{simple("OK"), errorReply("ERR WATCH inside MULTI is not allowed"), array()}},
		{"UNWATCH is queued", []string{"MULTI", "UNWATCH", "EXEC"}, []string{simple("OK"), simple("QUEUED"), array(simple("OK"))}},
		{"MULTI state ends with EXEC", []string{"MULTI", "EXEC", "GET the"}, []string{simple("OK"), array(), the}},
		{"QUIT runs at once", []string{"MULTI", "GET the", "QUIT"}, []string{simple("OK"), simple("QUEUED"), simple("OK")}},
	}
	for i, tc := range tests {
		s := h.NewSession()
		got, closed := processChunks(s, []byte(strings.Join(tc.in, "\r\n")+"\r\n"))
		if want := strings.Join(tc.want, ""); got != want {
			t.Errorf("case %d (%s): got %q, want %q", i, tc.name, got, want)
		}
		if wantClosed := tc.in[len(tc.in)-1] == "QUIT"; closed != wantClosed {
			t.Errorf("case %d (%s): closed %v", i, tc.name, closed)
		}
		if s.InTransaction() != (tc.name == "QUIT runs at once") {
			t.Errorf("case %d (%s): still in a transaction: %v", i, tc.name, s.InTransaction())
		}
		s.Close()
	}
}

// TestTransactionCountsCommandsWhenRun: INFO's counters count a queued
// command when EXEC runs it, once.
func TestTransactionCountsCommandsWhenRun(t *testing.T) {
	h := New(realTable(t).table, Options{})
	s := h.NewSession()
	defer s.Close()
	processChunks(s, []byte("MULTI\r\nGET the\r\nGET zzxqvjk\r\n"))
	if st := h.Stats(); st.Commands != 1 {
		t.Errorf("%d commands counted before EXEC, want 1 (MULTI)", st.Commands)
	}
	processChunks(s, []byte("EXEC\r\n"))
	if st := h.Stats(); st.Commands != 4 || st.KeyspaceHits != 1 || st.KeyspaceMisses != 1 {
		t.Errorf("after EXEC: %+v; want 4 commands, 1 hit, 1 miss", st)
	}
}

// TestLargeTransactionRunsInBatches: a transaction of 100,000 GETs (the
// size of a redis-py pipeline() someone fills in a loop) answers every
// one, in order, while no single Process call returns more than a batch of
// replies.
func TestLargeTransactionRunsInBatches(t *testing.T) {
	st := realTable(t)
	h := New(st.table, Options{})
	s := h.NewSession()
	defer s.Close()
	const n = 100000
	in := []byte(multibulk("MULTI"))
	for range n {
		in = append(in, multibulk("GET", "the")...)
	}
	in = append(in, multibulk("EXEC")...)
	var replies []byte
	for len(in) > 0 || s.Executing() {
		consumed, out, closed := s.Process(in, nil)
		if closed {
			t.Fatal("connection closed")
		}
		if len(out) > replyFlushSize+4096 {
			t.Fatalf("one Process call returned %d bytes of replies", len(out))
		}
		if consumed == 0 && len(out) == 0 {
			t.Fatalf("stuck with %d bytes unconsumed", len(in))
		}
		replies = append(replies, out...)
		in = in[consumed:]
	}
	the := bulkUint(st.count["the"])
	want := simple("OK") + strings.Repeat(simple("QUEUED"), n) + string(resp.AppendArrayLen(nil, n)) + strings.Repeat(the, n)
	if string(replies) != want {
		t.Fatalf("replies differ from the expected %d bytes (got %d)", len(want), len(replies))
	}
}

// TestTransactionQueueIsBounded: queued commands past the request size
// limit are refused, and EXEC fails rather than run part of them.
func TestTransactionQueueIsBounded(t *testing.T) {
	h := New(realTable(t).table, Options{Limits: resp.Limits{MaxRequestLen: 1000}})
	s := h.NewSession()
	defer s.Close()
	in := "MULTI\r\n" + strings.Repeat("GET the\r\n", 60) + "EXEC\r\nGET the\r\n"
	got, _ := processChunks(s, []byte(in))
	if !strings.Contains(got, "-ERR the transaction's queued commands exceed 1000 bytes") ||
		!strings.Contains(got, "-EXECABORT") || !strings.HasSuffix(got, bulkUint(realTable(t).count["the"])) {
		t.Errorf("got %q", got)
	}
}

// TestStreamInTransactionIsNotAtABoundary: the event loop hands over only
// connections at a request boundary, and a connection inside MULTI is not
// at one until EXEC or DISCARD.
func TestStreamInTransactionIsNotAtABoundary(t *testing.T) {
	h := New(realTable(t).table, Options{})
	now := time.Now()
	st := h.NewStream(h.NewSession(), now, func() string { return "test" })
	defer st.Close()
	feed := func(s string) {
		buf, err := st.ReadBuffer()
		if err != nil {
			t.Fatal(err)
		}
		st.Received(copy(buf, s), now)
		st.Process(now)
		st.Wrote(len(st.Pending()), now)
	}
	feed("MULTI\r\nGET the\r\n")
	if st.AtBoundary() {
		t.Error("at a boundary inside MULTI")
	}
	feed("EXEC\r\n")
	if !st.AtBoundary() {
		t.Error("not at a boundary after EXEC")
	}
	feed("MULTI\r\n")
	feed("DISCARD\r\n")
	if !st.AtBoundary() {
		t.Error("not at a boundary after DISCARD")
	}
}

// TestDatagramRefusesMulti: over datagrams, where each datagram is a
// session of its own, MULTI is refused with a pointer to a stream.
func TestDatagramRefusesMulti(t *testing.T) {
	h := New(realTable(t).table, Options{})
	got := string(h.ServeDatagram([]byte("MULTI\r\nGET the\r\nEXEC\r\n"), nil, DatagramLimits{MaxReply: MaxUDP4Reply}))
	want := errorReply(errMultiDatagram) + bulkUint(realTable(t).count["the"]) + errorReply("ERR EXEC without MULTI")
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
