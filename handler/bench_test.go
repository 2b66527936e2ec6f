package handler

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// benchProcess measures one Session processing in repeatedly, as a server
// loop does with a reused reply buffer.
func benchProcess(b *testing.B, in string) {
	benchProcessOn(b, realTable(b).table, in)
}

// benchProcessOn is benchProcess against the given table.
func benchProcessOn(b *testing.B, t Table, in string) {
	h := New(t, Options{})
	s := h.NewSession()
	defer s.Close()
	req := []byte(in)
	out := make([]byte, 0, 64<<10)
	b.SetBytes(int64(len(req)))
	b.ReportAllocs()
	for b.Loop() {
		n, reply, _ := s.Process(req, out[:0])
		if n != len(req) || len(reply) == 0 {
			b.Fatalf("consumed %d of %d bytes, reply %q", n, len(req), reply)
		}
		out = reply
	}
}

func BenchmarkProcessGet(b *testing.B) {
	benchProcess(b, multibulk("GET", "the"))
}

func BenchmarkProcessGetPipelined16(b *testing.B) {
	words := []string{"the", "you", "I", "to", "zzxqvjk", "John", "London", "a",
		"and", "it", "of", "that", "in", "is", "me", "what"}
	var in strings.Builder
	for _, w := range words {
		in.WriteString(multibulk("GET", w))
	}
	benchProcess(b, in.String())
}

// BenchmarkProcessGetDefault is BenchmarkProcessGetPipelined16 against the
// embedded table as `freqd serve` serves it, whose rules normalize every
// query and answer contractions from their parts.
func BenchmarkProcessGetDefault(b *testing.B) {
	words := []string{"the", "you", "I", "to", "zzxqvjk", "John", "London", "a",
		"and", "it", "of", "that", "in", "is", "me", "what"}
	var in strings.Builder
	for _, w := range words {
		in.WriteString(multibulk("GET", w))
	}
	benchProcessOn(b, defaultTable(b), in.String())
}

func BenchmarkProcessGetInline(b *testing.B) {
	benchProcess(b, inline("GET", "the"))
}

const paragraph = `It was a bright cold day in April, and the clocks were striking thirteen.
Winston Smith, his chin nuzzled into his breast in an effort to escape the vile
wind, slipped quickly through the glass doors of Victory Mansions, though not
quickly enough to prevent a swirl of gritty dust from entering along with him.
The hallway smelt of boiled cabbage and old rag mats. At one end of it a
coloured poster, too large for indoor display, had been tacked to the wall.`

func BenchmarkProcessTag(b *testing.B) {
	benchProcess(b, multibulk("TAG", paragraph))
}

// BenchmarkStreamConnection is one connection's life as the event loop
// lives it under a client that connects for each request: a new session and
// stream, one request read and answered, the client's end of input, close.
// Its allocations are what every such connection costs the garbage
// collector. The buffers come from a Buffers, as in the event loop.
func BenchmarkStreamConnection(b *testing.B) {
	h := New(realTable(b).table, Options{})
	bufs := NewBuffers(16)
	req := []byte(multibulk("GET", "the"))
	now := time.Now()
	peer := func() string { return "bench" }
	b.ReportAllocs()
	for b.Loop() {
		st := h.NewStream(h.NewSession(), now, peer)
		st.UseBuffers(bufs)
		buf, err := st.ReadBuffer()
		if err != nil {
			b.Fatal(err)
		}
		st.Received(copy(buf, req), now)
		st.Process(now)
		st.Wrote(len(st.Pending()), now)
		if _, err := st.ReadBuffer(); err != nil {
			b.Fatal(err)
		}
		st.ReceivedEOF()
		if done, _ := st.Finished(); !done {
			b.Fatal("connection not finished after the client's end of input")
		}
		st.Close()
	}
}

// BenchmarkProcessTagMegabyte tags a 1,000,000-byte text, the test texts
// of testdata/texts end to end and repeated, as scripts/tag-throughput.py
// sends it, against the embedded table as `freqd serve` serves it (MB/s is
// TAG's throughput through one Session, no client).
func BenchmarkProcessTagMegabyte(b *testing.B) {
	benchProcessOn(b, defaultTable(b), multibulk("TAG", "LIMIT", "10", megabyteText(b)))
}

func megabyteText(b *testing.B) string {
	dir := filepath.Join("..", "testdata", "texts")
	ents, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	var parts []string
	for _, e := range ents {
		t, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			b.Fatal(err)
		}
		parts = append(parts, string(t))
	}
	text := strings.Join(parts, "\n")
	for len(text) < 1_000_000 {
		text += "\n" + text
	}
	return text[:strings.LastIndexByte(text[:1_000_000], ' ')]
}
