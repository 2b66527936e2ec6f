package classic_test

import (
	"bufio"
	"io"
	"os"
	"testing"
	"time"

	"github.com/freqd/freqd/internal/mode"
)

// TestIterativeServesOneClientAtATime pins what the design is: a second
// client waits, unanswered, while the first is connected, and is served as
// soon as the first leaves, whichever listener each came through.
func TestIterativeServesOneClientAtATime(t *testing.T) {
	s := startServer(t, mode.Iterative)
	first := dial(t, s, "tcp")
	if err := ping(first, bufio.NewReader(first)); err != nil {
		t.Fatalf("first client: %v", err)
	}

	second := dial(t, s, "unix")
	r := bufio.NewReader(second)
	second.Write([]byte("GET the\r\n"))
	second.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if line, err := r.ReadString('\n'); !os.IsTimeout(err) {
		t.Fatalf("second client answered while the first is connected: got %q, %v", line, err)
	}

	first.Write([]byte("QUIT\r\n"))
	second.SetReadDeadline(time.Now().Add(5 * time.Second))
	want := bulk("the")
	got := make([]byte, len(want))
	if _, err := io.ReadFull(r, got); err != nil || string(got) != want {
		t.Fatalf("second client after the first quit: got %q, %v; want %q", got, err, want)
	}
	if err := ping(second, r); err != nil {
		t.Fatalf("second client, next request: %v", err)
	}
}
