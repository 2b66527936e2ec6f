package handler

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
)

// RESP3 reply builders.
const null3 = "_\r\n"

func map3(pairs ...string) string {
	return "%" + strconv.Itoa(len(pairs)/2) + "\r\n" + strings.Join(pairs, "")
}
func double3(f float64) string { return "," + strconv.FormatFloat(f, 'f', scoreDecimals, 64) + "\r\n" }

func hello3Reply(id uint64) string {
	return map3(bulk("server"), bulk("redis"), bulk("version"), bulk(compatVersion), bulk("proto"), ":3\r\n",
		bulk("id"), integer(id), bulk("mode"), bulk("standalone"), bulk("role"), bulk("master"), bulk("modules"), array())
}

// TestHello3SwitchesTheConnection: after HELLO 3 the replies RESP3 types
// differently are written its way, and HELLO 2 switches back to the RESP2
// forms byte for byte.
func TestHello3SwitchesTheConnection(t *testing.T) {
	st := realTable(t)
	h := New(st.table, Options{})
	s := h.NewSession()
	defer s.Close()
	absent := "zzxqvjk"
	if got, _ := processChunks(s, []byte(multibulk("HELLO", "3"))); got != hello3Reply(s.ID()) {
		t.Fatalf("HELLO 3: %q", got)
	}
	tagScore := math.Log2((1e6 + 10) / (1e6*float64(st.count["limit"]+1)/float64(st.total+uint64(len(st.count))) + 10))
	tests := []struct {
		args         []string
		resp3, resp2 string
	}{
		{[]string{"GET", absent}, null3, nilBulk},
		{[]string{"GET", "the"}, bulkUint(st.count["the"]), bulkUint(st.count["the"])},
		{[]string{"MGET", "the", absent}, array(bulkUint(st.count["the"]), null3), array(bulkUint(st.count["the"]), nilBulk)},
		{[]string{"RANK", absent}, null3, nilBulk},
		{[]string{"FREQ", "the", absent}, array(integer(st.count["the"]), integer(0)), array(integer(st.count["the"]), integer(0))},
		{[]string{"FPM", "the"}, array("," + strconv.FormatFloat(float64(st.count["the"])/float64(st.total)*1e6, 'g', -1, 64) + "\r\n"),
			array(double(float64(st.count["the"]) / float64(st.total) * 1e6))},
		{[]string{"CLIENT", "GETNAME"}, null3, nilBulk},
		{[]string{"CONFIG", "GET", "save"}, map3(bulk("save"), bulk("")), array(bulk("save"), bulk(""))},
		{[]string{"TAG", "limit"}, map3(bulk("limit"), double3(tagScore)), array(bulk("limit"), scoreBulk(tagScore))},
		{[]string{"COMMAND", "INFO", "nope"}, array(null3), array(nilBulk)},
		{[]string{"OBJECT", "ENCODING", absent}, null3, nilBulk},
		{[]string{"MEMORY", "USAGE", absent}, null3, nilBulk},
		{[]string{"INFO", "replication"}, verbatim3("# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\nmaster_repl_offset:0\r\nrepl_backlog_active:0\r\n"),
			bulk("# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\nmaster_repl_offset:0\r\nrepl_backlog_active:0\r\n")},
	}
	for i, tc := range tests {
		if got, _ := processChunks(s, []byte(multibulk(tc.args...))); got != tc.resp3 {
			t.Errorf("case %d (%v) in RESP3: got %q, want %q", i, tc.args, got, tc.resp3)
		}
	}
	if got, _ := processChunks(s, []byte(inline("HELLO", "2"))); got != helloReply(s.ID()) {
		t.Fatalf("HELLO 2: %q", got)
	}
	for i, tc := range tests {
		if got, _ := processChunks(s, []byte(multibulk(tc.args...))); got != tc.resp2 {
			t.Errorf("case %d (%v) back in RESP2: got %q, want %q", i, tc.args, got, tc.resp2)
		}
	}
}

func verbatim3(text string) string {
	return fmt.Sprintf("=%d\r\ntxt:%s\r\n", len(text)+4, text)
}

// TestHelloWithoutVersionKeepsTheProtocol: HELLO alone describes the
// server in the protocol already chosen; a refused HELLO changes nothing.
func TestHelloWithoutVersionKeepsTheProtocol(t *testing.T) {
	h := New(realTable(t).table, Options{})
	s := h.NewSession()
	defer s.Close()
	got, _ := processChunks(s, []byte(inline("HELLO", "3")+inline("HELLO")+inline("HELLO", "4")+inline("HELLO", "3", "BAD")+inline("GET", "zzxqvjk")))
	want := hello3Reply(s.ID()) + hello3Reply(s.ID()) + errorReply("NOPROTO unsupported protocol version") +
		errorReply("ERR Syntax error in HELLO option 'BAD'") + null3
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestHello3AuthenticatesAndNames: HELLO 3 AUTH SETNAME logs a protected
// connection in, names it and switches it in one round trip; a wrong
// password leaves it in RESP2, unauthenticated and unnamed.
func TestHello3AuthenticatesAndNames(t *testing.T) {
	h := protected(t)
	s := h.NewSession()
	defer s.Close()
	got, _ := processChunks(s, []byte(multibulk("HELLO", "3", "AUTH", "default", "wrong", "SETNAME", "x")+multibulk("GET", "zzxqvjk")))
	if want := wrongPass + noAuth; got != want {
		t.Errorf("wrong password: %q, want %q", got, want)
	}
	got, _ = processChunks(s, []byte(multibulk("HELLO", "3", "AUTH", "default", testPass, "SETNAME", "tagger")+
		multibulk("GET", "zzxqvjk")+multibulk("CLIENT", "GETNAME")))
	if want := hello3Reply(s.ID()) + null3 + bulk("tagger"); got != want {
		t.Errorf("right password: %q, want %q", got, want)
	}
}

// TestDatagramProtocolLastsOneDatagram: HELLO 3 in a datagram makes the
// rest of it RESP3; the next datagram starts in RESP2.
func TestDatagramProtocolLastsOneDatagram(t *testing.T) {
	h := New(realTable(t).table, Options{})
	got := string(h.ServeDatagram([]byte("HELLO 3\r\nGET zzxqvjk\r\n"), nil, DatagramLimits{MaxReply: MaxUDP4Reply}))
	if !strings.HasPrefix(got, "%7\r\n") || !strings.HasSuffix(got, null3) {
		t.Errorf("first datagram: %q", got)
	}
	if got := string(h.ServeDatagram([]byte("GET zzxqvjk\r\n"), nil, DatagramLimits{MaxReply: MaxUDP4Reply})); got != nilBulk {
		t.Errorf("next datagram: %q, want RESP2's nil", got)
	}
}
