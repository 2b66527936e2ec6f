package classic_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/freqd/freqd/internal/mode"
)

// TestTimeoutsEveryDesign pins --idle-timeout, --read-timeout (counted from
// a request's first byte, not reset as more trickles in) and --write-timeout
// in every design; the epoll design enforces them with its
// own timer sweep rather than socket deadlines, so each is checked there too.
func TestTimeoutsEveryDesign(t *testing.T) {
	for _, mode := range mode.Classic {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			s := startServer(t, mode, "--idle-timeout", "2s", "--read-timeout", "300ms", "--write-timeout", "300ms")
			// The iterative design serves one client at a time, so the
			// cases run one after the other, each on its own connection.
			t.Run("idle", func(t *testing.T) {
				conn := dial(t, s, "tcp")
				r := bufio.NewReader(conn)
				if err := ping(conn, r); err != nil {
					t.Fatal(err)
				}
				expectClosedWithin(t, r, 2*time.Second, 6*time.Second)
			})
			t.Run("read", func(t *testing.T) {
				conn := dial(t, s, "tcp")
				r := bufio.NewReader(conn)
				if err := ping(conn, r); err != nil {
					t.Fatal(err)
				}
				// Trickle a request that never completes: the read timeout
				// must close the connection, well before the idle timeout.
				conn.Write([]byte("*2\r\n$3\r\nGET\r\n$5\r\n"))
				go func() {
					for _, b := range []byte("the") {
						time.Sleep(100 * time.Millisecond)
						conn.Write([]byte{b})
					}
				}()
				expectClosedWithin(t, r, 300*time.Millisecond, 1800*time.Millisecond)
			})
			t.Run("write", func(t *testing.T) {
				conn := dial(t, s, "unix")
				n := 4 * sysctlInt(t, "/proc/sys/net/core/wmem_default") / len(bulk("the"))
				req := bytes.Repeat([]byte("GET the\r\n"), n)
				go conn.Write(req)
				time.Sleep(1500 * time.Millisecond) // read nothing for well over the write timeout
				got, err := io.ReadAll(conn)
				if !errors.Is(err, syscall.ECONNRESET) && err != nil {
					t.Fatalf("reading after the write timeout: %v", err)
				}
				if full := n * len(bulk("the")); len(got) >= full {
					t.Fatalf("got all %d bytes of replies; want the connection closed for not reading", full)
				}
			})
			if t.Failed() {
				return
			}
			c := client(t, "tcp", s.tcp)
			if got, err := c.Ping(bg).Result(); err != nil || got != "PONG" {
				t.Errorf("a new client after the timeouts: got %q, %v; want PONG", got, err)
			}
		})
	}
}

// expectClosedWithin reads until the server closes the connection, which
// must happen no sooner than min and no later than max from now.
func expectClosedWithin(t *testing.T, r *bufio.Reader, min, max time.Duration) {
	t.Helper()
	start := time.Now()
	_, err := r.ReadByte()
	took := time.Since(start)
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		t.Fatalf("connection still open after %v; want it closed by the server's timeout", took)
	case err == nil:
		t.Fatalf("unexpected data from the server; want the connection closed")
	case took < min*8/10 || took > max:
		t.Fatalf("closed after %v (%v); want between %v and %v", took, err, min, max)
	}
}
