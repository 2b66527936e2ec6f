package master_test

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/internal/testserver"
)

var modes = mode.PreForked

// folded is the embedded SUBTLEX-US list as the default table serves it:
// case folded, counts of words that differ only in case summed. It is
// computed from the raw list, independently of the code under test.
var folded = testserver.Subtlex()

// rankOf is w's RANK in the default table.
func rankOf(w string) int64 { return folded.Rank(w) }

func TestCommandsEveryModeAndListener(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			s := startServer(t, mode, 2)
			for _, network := range []string{"tcp", "unix"} {
				t.Run(network, func(t *testing.T) {
					checkCommands(t, s, network, client(t, network, dialAddr(s, network), 4))
				})
			}
		})
	}
}

func checkCommands(t *testing.T, s *server, network string, c *redis.Client) {
	testserver.CheckConversation(t, c)

	// Pipelining: many commands in one write, answers in order.
	testserver.CheckPipeline(t, c)

	// INFO names the mode and every live worker.
	info, err := c.Info(bg).Result()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(info, "mode:"+string(s.mode)) {
		t.Errorf("INFO does not name mode %s:\n%s", s.mode, info)
	}
	for _, pid := range s.workers() {
		if !strings.Contains(info, fmt.Sprintf("pid=%d,", pid)) {
			t.Errorf("INFO does not list worker %d:\n%s", pid, info)
		}
	}

	// Inline commands, as nc or telnet send them, pipelined in one write.
	conn, err := net.Dial(network, dialAddr(s, network))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET the\r\nPING\r\nQUIT\r\n")
	var buf bytes.Buffer
	buf.ReadFrom(conn)
	want := testserver.Subtlex().Reply("the") + "+PONG\r\n+OK\r\n"
	if buf.String() != want {
		t.Errorf("inline: got %q, want %q", buf.String(), want)
	}
}
