package classic_test

import (
	"bufio"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/freqd/freqd/internal/mode"

	"github.com/freqd/freqd/internal/testserver"
)

// TestStopEveryDesign stops each design with SIGTERM (graceful) and SIGQUIT
// (immediate) while a client is connected: the client is disconnected, the
// server exits 0, and its unix socket file and pidfile are gone, as are the
// fork design's children.
func TestStopEveryDesign(t *testing.T) {
	for _, mode := range mode.Classic {
		for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGQUIT} {
			t.Run(string(mode)+"/"+sig.String(), func(t *testing.T) {
				t.Parallel()
				s := startServer(t, mode)
				b, err := os.ReadFile(s.pidfile)
				if err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(s.pid) {
					t.Fatalf("pidfile %s: got %q, %v; want %d", s.pidfile, b, err, s.pid)
				}
				conn := dial(t, s, "unix")
				r := bufio.NewReader(conn)
				if err := ping(conn, r); err != nil {
					t.Fatal(err)
				}

				kids := children(s.pid, false)
				if mode == "fork" && len(kids) != 1 {
					t.Fatalf("fork design with one client has children %v; want one", kids)
				}
				syscall.Kill(s.pid, sig)
				select {
				case <-s.exited:
				case <-time.After(10 * time.Second):
					t.Fatalf("still running 10s after %s", sig)
				}
				if code := s.cmd.ProcessState.ExitCode(); code != 0 {
					t.Errorf("exit code %d after %s; want 0", code, sig)
				}
				if _, err := r.ReadByte(); err == nil || (!errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET)) {
					t.Errorf("connected client after %s: read %v; want end of file", sig, err)
				}
				for _, path := range []string{s.unix, s.pidfile} {
					if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
						t.Errorf("%s still exists after %s (%v)", path, sig, err)
					}
				}
				for _, kid := range kids {
					if !waitFor(5*time.Second, func() bool { return !testserver.Alive(kid) }) {
						t.Errorf("child %d outlived the server", kid)
					}
				}
				// The log is read from a pipe by a goroutine of its own,
				// which may be a line behind the exit.
				if !waitFor(5*time.Second, func() bool { return strings.Contains(s.log.String(), `"@message":"stopped"`) }) {
					t.Errorf("no \"stopped\" line logged")
				}
			})
		}
	}
}
