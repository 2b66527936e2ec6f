package classic_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/freqd/freqd/internal/mode"

	"github.com/freqd/freqd/internal/testserver"
)

// TestCommandsEveryDesign runs the same conversation as the master's suite
// (master/serve_test.go) against every classic design, over TCP and over a
// unix socket: the designs differ in how they serve, never in what.
func TestCommandsEveryDesign(t *testing.T) {
	for _, mode := range mode.Classic {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			s := startServer(t, mode)
			for _, network := range []string{"tcp", "unix"} {
				t.Run(network, func(t *testing.T) {
					checkCommands(t, s, network)
					checkInline(t, s, network)
					checkByteAtATime(t, s, network)
					checkProtocolError(t, s, network)
				})
			}
		})
	}
}

func checkCommands(t *testing.T, s *server, network string) {
	c := client(t, network, s.dialAddr(network))
	defer c.Close() // the iterative design serves nobody else while it is open
	testserver.CheckConversation(t, c)

	// INFO names the design and the process that answered: the server
	// itself, or in the fork design a child of it.
	info, err := c.Info(bg).Result()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(info, "mode:"+string(s.mode)+"\r\n") {
		t.Errorf("INFO does not name mode %s:\n%s", s.mode, info)
	}
	if !strings.Contains(info, fmt.Sprintf("db0:keys=%d,", len(folded))) {
		t.Errorf("INFO keyspace does not count %d words:\n%s", len(folded), info)
	}
	if s.mode == mode.Fork {
		if !strings.Contains(info, fmt.Sprintf("master_pid:%d\r\n", s.pid)) || strings.Contains(info, fmt.Sprintf("process_id:%d\r\n", s.pid)) {
			t.Errorf("INFO in the fork design should come from a child of %d:\n%s", s.pid, info)
		}
	} else if !strings.Contains(info, fmt.Sprintf("process_id:%d\r\n", s.pid)) {
		t.Errorf("INFO does not name the server's pid %d:\n%s", s.pid, info)
	}

	// Pipelining: many commands in one write, answers in order. go-redis
	// pipelines on a pool of connections of their own, so this takes a
	// second connection: close the first, or the iterative design would
	// not get to it.
	c.Close()
	c = client(t, network, s.dialAddr(network))
	defer c.Close()
	testserver.CheckPipeline(t, c)
}

// dial opens a raw connection with a deadline that ends a hung test.
func dial(t *testing.T, s *server, network string) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout(network, s.dialAddr(network), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	return conn
}

// bulk is the RESP reply of GET w.
func bulk(w string) string {
	n := strconv.FormatUint(folded[w], 10)
	return fmt.Sprintf("$%d\r\n%s\r\n", len(n), n)
}

// checkInline sends inline commands, as nc or telnet send them, pipelined
// in one write.
func checkInline(t *testing.T, s *server, network string) {
	conn := dial(t, s, network)
	defer conn.Close()
	fmt.Fprintf(conn, "GET the\r\nPING\r\nexists you zzqxjw\r\nQUIT\r\n")
	got, err := io.ReadAll(conn)
	want := bulk("the") + "+PONG\r\n:1\r\n+OK\r\n"
	if err != nil || string(got) != want {
		t.Errorf("inline: got %q, %v; want %q and the connection closed", got, err, want)
	}
}

// checkByteAtATime writes a multibulk and an inline request one byte per
// write, so the server sees every partial state of both.
func checkByteAtATime(t *testing.T, s *server, network string) {
	conn := dial(t, s, network)
	defer conn.Close()
	req := "*2\r\n$3\r\nGET\r\n$3\r\nyou\r\nRANK monday\r\nQUIT\r\n"
	for i := 0; i < len(req); i++ {
		if _, err := conn.Write([]byte{req[i]}); err != nil {
			t.Fatalf("write byte %d: %v", i, err)
		}
		time.Sleep(time.Millisecond) // let each byte arrive on its own
	}
	got, err := io.ReadAll(conn)
	want := bulk("you") + fmt.Sprintf(":%d\r\n", folded.Rank("monday")) + "+OK\r\n"
	if err != nil || string(got) != want {
		t.Errorf("byte at a time: got %q, %v; want %q", got, err, want)
	}
}

// checkProtocolError sends a request no parser can trust: the server must
// answer with an error and close, after answering what came before.
func checkProtocolError(t *testing.T, s *server, network string) {
	conn := dial(t, s, network)
	defer conn.Close()
	fmt.Fprintf(conn, "PING\r\n*2\r\n$3\r\nGET\r\n$9223372036854775807\r\n")
	got, err := io.ReadAll(conn)
	if err != nil || !strings.HasPrefix(string(got), "+PONG\r\n-ERR ") || !strings.HasSuffix(string(got), "\r\n") {
		t.Errorf("protocol error: got %q, %v; want +PONG, an -ERR line and the connection closed", got, err)
	}
}

// TestPipelineWithoutReading has a client pipeline at least 10,000 GETs and
// read nothing for a while, so replies back up through the socket buffers
// and the server's writes are partial; meanwhile other clients must still
// be served (except by the iterative design, whose point is that they are
// not). Then every reply must arrive, complete and in order.
//
// Over the unix socket the pipeline is made long enough that its replies
// are four times the server's send buffer (net.core.wmem_default, which
// unix sockets do not autotune), so backing up is certain, and the epoll
// design must report that it stopped reading from the client and waited
// for EPOLLOUT before the client reads anything.
func TestPipelineWithoutReading(t *testing.T) {
	for _, mode := range mode.Classic {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			s := startServer(t, mode)
			for _, network := range []string{"tcp", "unix"} {
				t.Run(network, func(t *testing.T) {
					n := 10000
					if network == "unix" {
						n = max(n, 4*sysctlInt(t, "/proc/sys/net/core/wmem_default")/len(bulk("the")))
					}
					checkBackedUpPipeline(t, s, network, n)
				})
			}
		})
	}
}

func checkBackedUpPipeline(t *testing.T, s *server, network string, n int) {
	words := []string{"the", "you", "zzqxjw", "monday", "of", "xylophone", "i", "a"}
	var req, want bytes.Buffer
	for i := 0; i < n; i++ {
		w := words[i%len(words)]
		fmt.Fprintf(&req, "*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n", len(w), w)
		if _, ok := folded[w]; ok {
			want.WriteString(bulk(w))
		} else {
			want.WriteString("$-1\r\n")
		}
	}
	conn := dial(t, s, network)
	defer conn.Close()
	sent := make(chan error, 1)
	go func() {
		_, err := conn.Write(req.Bytes())
		sent <- err
	}()
	if s.mode == mode.Epoll && network == "unix" {
		// Read nothing until the event loop reports that it stopped
		// reading from this client because its replies piled up, and that
		// it kept unsent output and waited for EPOLLOUT: the paths this
		// test exists for.
		info := client(t, "tcp", s.tcp)
		var last string
		paused := waitFor(10*time.Second, func() bool {
			var err error
			last, err = info.Info(bg, "eventloop").Result()
			return err == nil && infoField(last, "read_pauses") >= 1
		})
		if !paused {
			t.Fatalf("the event loop never paused reading from a client %d replies behind:\n%s", n, last)
		}
		if v := infoField(last, "write_stalls"); v < 1 {
			t.Errorf("write_stalls = %d while a client is backed up; want at least 1:\n%s", v, last)
		}
		info.Close()
	} else {
		time.Sleep(300 * time.Millisecond)
	}
	if s.mode != mode.Iterative {
		other := client(t, "tcp", s.tcp)
		if got, err := other.Ping(bg).Result(); err != nil || got != "PONG" {
			t.Errorf("another client while one is backed up: got %q, %v; want PONG", got, err)
		}
		other.Close()
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	got := make([]byte, want.Len())
	if _, err := io.ReadFull(bufio.NewReader(conn), got); err != nil {
		t.Fatalf("reading %d bytes of replies to %d GETs: %v", want.Len(), n, err)
	}
	if err := <-sent; err != nil {
		t.Fatalf("writing the pipeline: %v", err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		i := 0
		for i < len(got) && got[i] == want.Bytes()[i] {
			i++
		}
		t.Fatalf("replies differ from byte %d: got %q, want %q", i, clip(got[i:], 40), clip(want.Bytes()[i:], 40))
	}
}

// sysctlInt reads an integer kernel setting.
func sysctlInt(t *testing.T, path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

func clip(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// infoField returns an integer field of an INFO reply, -1 if absent.
func infoField(info, key string) int64 {
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}
