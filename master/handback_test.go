package master_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/freqd/freqd/resp"
)

// rawClient is one connection spoken to by hand, so that a test knows it
// is the same connection throughout: a client library would reconnect and
// log in again, and hide a session that did not travel.
type rawClient struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dialRaw(t *testing.T, network, addr string) *rawClient {
	t.Helper()
	c, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawClient{t: t, c: c, r: bufio.NewReader(c)}
}

// do sends one inline command and returns its reply.
func (rc *rawClient) do(args ...string) string {
	rc.t.Helper()
	rc.c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(rc.c, "%s\r\n", strings.Join(args, " ")); err != nil {
		rc.t.Fatalf("%v: %v", args, err)
	}
	reply, err := resp.ReadReply(rc.r)
	if err != nil {
		rc.t.Fatalf("%v: %v (the connection did not survive)", args, err)
	}
	return string(reply)
}

// hello3 sends HELLO 3 with the client's password and name and reads the
// RESP3 map it gets back, whole.
func (rc *rawClient) hello3(pass, name string) string {
	rc.t.Helper()
	rc.c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(rc.c, "HELLO 3 AUTH default %s SETNAME %s\r\n", pass, name); err != nil {
		rc.t.Fatal(err)
	}
	head, err := rc.r.ReadString('\n')
	if err != nil || head != "%7\r\n" {
		rc.t.Fatalf("HELLO 3: %q, %v; want a map of 7", head, err)
	}
	reply := head
	for range 14 { // seven keys and values, each one line or a bulk's two
		line, err := rc.r.ReadString('\n')
		if err != nil {
			rc.t.Fatal(err)
		}
		reply += line
		if strings.HasPrefix(line, "$") {
			rest, _ := rc.r.ReadString('\n')
			reply += rest
		}
	}
	return reply
}

// TestHandedBackSessionKeepsItsState: a keep-alive client that has
// authenticated and named itself keeps both across every event that
// hands its connection to another worker (reload, recycle, resize) or
// another master (upgrade), in every mode, on the very same connection.
// The handed-back connections are existing clients: at --max-clients they
// are not refused.
func TestHandedBackSessionKeepsItsState(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			bin := filepath.Join(t.TempDir(), "freqd")
			copyFile(t, freqdBin, bin, 0o755)
			data := filepath.Join(t.TempDir(), "words.freq")
			buildTable(t, data, "alpha", 100)
			// Two clients and a limit of two: a handed-back client that
			// was counted as new would be refused.
			s := startServerBin(t, bin, mode, 2, "--data", data, "--requirepass", "sesame", "--max-clients", "2")
			s.waitWorkers(2, 5*time.Second)
			// Client 0 speaks RESP2 (AUTH, CLIENT SETNAME); client 1 logs
			// in, names itself and switches to RESP3 with one HELLO 3, and
			// must keep getting RESP3's null wherever it is handed.
			clients := []*rawClient{dialRaw(t, "tcp", s.tcp), dialRaw(t, "unix", s.unix)}
			if got := clients[0].do("AUTH", "sesame"); got != "+OK\r\n" {
				t.Fatalf("AUTH: %q", got)
			}
			if got := clients[0].do("CLIENT", "SETNAME", "client-0"); got != "+OK\r\n" {
				t.Fatalf("SETNAME: %q", got)
			}
			if got := clients[1].hello3("sesame", "client-1"); !strings.Contains(got, "$5\r\nproto\r\n:3\r\n") {
				t.Fatalf("HELLO 3: %q", got)
			}
			nulls := []string{"$-1\r\n", "_\r\n"}
			check := func(event string) {
				t.Helper()
				for i, c := range clients {
					if got := c.do("GET", "alpha"); got != bulk(100) {
						t.Errorf("after %s, client %d: GET alpha = %q; want %q", event, i, got, bulk(100))
					}
					if got, want := c.do("CLIENT", "GETNAME"), fmt.Sprintf("$8\r\nclient-%d\r\n", i); got != want {
						t.Errorf("after %s, client %d: CLIENT GETNAME = %q; want %q", event, i, got, want)
					}
					if got := c.do("GET", "nosuchword"); got != nulls[i] {
						t.Errorf("after %s, client %d: GET of an absent word = %q; want %q", event, i, got, nulls[i])
					}
				}
			}
			check("start")

			syscall.Kill(s.pid, syscall.SIGHUP)
			eventually(t, "the reload to finish", func() bool {
				return s.log.Contains(`"@message":"reloaded"`) && len(s.workers()) == 2
			})
			check("a reload")

			syscall.Kill(s.pid, syscall.SIGTTOU)
			eventually(t, "one worker", func() bool { return len(s.workers()) == 1 })
			check("SIGTTOU")
			syscall.Kill(s.pid, syscall.SIGTTIN)
			eventually(t, "two workers", func() bool { return len(s.workers()) == 2 })

			syscall.Kill(s.pid, syscall.SIGUSR2)
			select {
			case <-s.exited:
			case <-time.After(15 * time.Second):
				t.Fatal("old master still running 15s after SIGUSR2")
			}
			newPid := 0
			eventually(t, "the pidfile to name the new master", func() bool {
				b, _ := os.ReadFile(s.pidfile)
				fmt.Sscan(string(b), &newPid)
				return newPid != 0 && newPid != s.pid && alive(newPid)
			})
			t.Cleanup(func() { killTree(newPid) })
			check("an upgrade")
		})
	}
}
