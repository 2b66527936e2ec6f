package handler

import (
	"strings"
	"testing"
	"time"
)

// TestStreamLendsBuffersOnlyWhileBusy: Streams sharing a Buffers borrow a
// buffer while it holds bytes (a partial request, a reply not yet written)
// and give it back once it is empty, and a buffer lent to one connection
// is never handed to another while it is in use: interleaved connections
// get their own answers.
func TestStreamLendsBuffersOnlyWhileBusy(t *testing.T) {
	tab := realTable(t)
	h := New(tab.table, Options{})
	bufs := NewBuffers(8)
	now := time.Now()
	newStream := func() *Stream {
		st := h.NewStream(h.NewSession(), now, func() string { return "test" })
		st.UseBuffers(bufs)
		return st
	}
	feed := func(st *Stream, data string) {
		t.Helper()
		buf, err := st.ReadBuffer()
		if err != nil {
			t.Fatal(err)
		}
		st.Received(copy(buf, data), now)
		st.Process(now)
	}
	a, b := newStream(), newStream()

	// a: one request answered, the next one half arrived; its reply is not
	// written yet.
	feed(a, multibulk("GET", "the")+"*2\r\n$3\r\nGET\r\n$3\r\nyo")
	if a.Held() == 0 {
		t.Fatal("a partial request holds no buffer")
	}
	// b borrows while a holds its buffers, and gives everything back once
	// its reply is written.
	feed(b, multibulk("GET", "you"))
	if got, want := string(b.Pending()), bulkUint(tab.count["you"]); got != want {
		t.Fatalf("b: %q, want %q", got, want)
	}
	b.Wrote(len(b.Pending()), now)
	if n := len(bufs.free); n != 2 {
		t.Fatalf("%d buffers kept after b's request was answered, want b's 2", n)
	}
	// a finishes its request in a buffer of its own: nothing b did
	// touched it.
	feed(a, "u\r\n")
	if got, want := string(a.Pending()), bulkUint(tab.count["the"])+bulkUint(tab.count["you"]); got != want {
		t.Fatalf("a: %q, want %q", got, want)
	}
	a.Wrote(len(a.Pending()), now)
	if a.Held() != 0 || len(bufs.free) != 4 {
		t.Fatalf("a holds %d bytes, %d buffers kept; want 0 and all 4", a.Held(), len(bufs.free))
	}
	// A read that finds nothing gives back the buffer it was handed.
	if _, err := a.ReadBuffer(); err != nil {
		t.Fatal(err)
	}
	a.Received(0, now)
	if len(bufs.free) != 4 {
		t.Fatalf("%d buffers kept after a read found nothing, want 4", len(bufs.free))
	}
	a.Close()
	b.Close()
}

// faultingTable is a table whose page for one word is gone: looking that
// word up panics, as a read of a truncated mapping does under
// debug.SetPanicOnFault.
type faultingTable struct {
	Table
	gone string
}

func (f faultingTable) Lookup(w []byte) (uint64, bool) {
	if string(w) == f.gone {
		panic("page gone")
	}
	return f.Table.Lookup(w)
}

func (f faultingTable) LookupNormal(w []byte) (uint64, bool) {
	if string(w) == f.gone {
		panic("page gone")
	}
	return f.Table.LookupNormal(w)
}

// TestAFaultKeepsTheCountsOfTheBatchBeforeIt: the commands a pipeline ran
// before one met a fault are counted, whether they came on a connection
// (closed for the fault) or in one datagram.
func TestAFaultKeepsTheCountsOfTheBatchBeforeIt(t *testing.T) {
	tab := realTable(t)
	h := New(faultingTable{Table: tab.table, gone: "boom"}, Options{})
	now := time.Now()
	batch := multibulk("GET", "the") + multibulk("GET", "zzqxj") + multibulk("GET", "boom")

	st := h.NewStream(h.NewSession(), now, func() string { return "test" })
	st.OnFault(func(any) []byte { return []byte("-ERR fault\r\n") })
	buf, err := st.ReadBuffer()
	if err != nil {
		t.Fatal(err)
	}
	st.Received(copy(buf, batch), now)
	st.Process(now)
	if got := string(st.Pending()); !strings.HasSuffix(got, "-ERR fault\r\n") {
		t.Fatalf("replies %q, want the fault reply last", got)
	}
	st.Close()
	s := h.Stats()
	if s.Commands < 2 || s.KeyspaceHits != 1 || s.KeyspaceMisses != 1 {
		t.Fatalf("after a stream's fault: %d commands, %d hits, %d misses; want at least 2, 1 and 1", s.Commands, s.KeyspaceHits, s.KeyspaceMisses)
	}

	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the datagram's fault did not reach its caller")
			}
		}()
		h.ServeDatagram([]byte(batch), nil, DatagramLimits{MaxReply: 1 << 16})
	}()
	d := h.Stats()
	if d.Commands-s.Commands < 2 || d.KeyspaceHits != 2 || d.KeyspaceMisses != 2 {
		t.Fatalf("after a datagram's fault: %d commands, %d hits, %d misses; want at least %d, 2 and 2", d.Commands, d.KeyspaceHits, d.KeyspaceMisses, s.Commands+2)
	}
}
