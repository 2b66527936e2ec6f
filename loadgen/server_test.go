package loadgen

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/freqd/freqd/internal/testserver"
	"github.com/freqd/freqd/master"
	"github.com/freqd/freqd/resp"
	"github.com/freqd/freqd/shm"
)

// The package's tests load one real `freqd serve` (two workers, the embedded
// table), started by TestMain and reached over TCP and a unix socket.
var (
	serverTCP    string
	serverUnix   string
	defaultTable *shm.Table
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "freqd-loadgen-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin, err := testserver.Build(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	b, err := master.DefaultTable()
	if err == nil {
		defaultTable, err = shm.Parse(b)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "default table:", err)
		return 1
	}
	sock := filepath.Join(dir, "freqd.sock")
	srv, err := startServer(bin, "--workers", "2", "--listen", "127.0.0.1:0", "--listen", "unix:"+sock, "--log-json")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer srv.kill()
	for _, a := range srv.listen {
		if strings.HasPrefix(a, "unix:") {
			serverUnix = a
		} else {
			serverTCP = a
		}
	}
	if serverTCP == "" || serverUnix == "" {
		fmt.Fprintf(os.Stderr, "server listens on %q; want a TCP and a unix address\n", srv.listen)
		return 1
	}
	return m.Run()
}

// server is a running `freqd serve`.
type server struct {
	cmd    *exec.Cmd
	listen []string // addresses from the ready line
}

// startServer starts bin serve with args and waits for its "ready" log
// line, which names the addresses it listens on.
func startServer(bin string, args ...string) (*server, error) {
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd}
	ready := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line struct {
				Message string `json:"@message"`
				Listen  string `json:"listen"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Message == "ready" {
				ready <- strings.Split(line.Listen, ",")
				break
			}
		}
		// Keep draining: a full pipe would block the server's logger.
		io.Copy(io.Discard, stderr)
	}()
	select {
	case s.listen = <-ready:
		return s, nil
	case <-time.After(20 * time.Second):
		s.kill()
		return nil, fmt.Errorf("freqd serve %q: no ready line within 20s", args)
	}
}

// kill stops the master and its workers by pid: the workers are found as
// the master's children before it dies, as they are re-parented after.
func (s *server) kill() {
	pid := s.cmd.Process.Pid
	children := childrenOf(pid)
	s.cmd.Process.Kill()
	for _, c := range children {
		syscall.Kill(c, syscall.SIGKILL)
	}
	s.cmd.Wait()
}

// childrenOf lists the processes whose parent is pid, from /proc/*/stat.
func childrenOf(pid int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var kids []int
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// "pid (comm) state ppid ...": comm may hold spaces and parentheses.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 2 {
			continue
		}
		if ppid, _ := strconv.Atoi(f[1]); ppid == pid {
			if c, err := strconv.Atoi(filepath.Base(filepath.Dir(p))); err == nil {
				kids = append(kids, c)
			}
		}
	}
	return kids
}

// fakeServer is a TCP listener that parses requests with freqd's own codec
// and answers each with reply(args); a nil reply closes the connection
// without answering. It stands in for a broken server, never for freqd.
func fakeServer(t *testing.T, reply func(args [][]byte) []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveFake(c, reply)
		}
	}()
	return ln.Addr().String()
}

func serveFake(c net.Conn, reply func(args [][]byte) []byte) {
	defer c.Close()
	var p resp.Parser
	buf := make([]byte, 0, 64<<10)
	tmp := make([]byte, 16<<10)
	for {
		n, err := c.Read(tmp)
		if err != nil {
			return
		}
		buf = append(buf, tmp[:n]...)
		var out []byte
		rest := buf
		for {
			args, used, err := p.Next(rest)
			if err == resp.ErrIncomplete {
				break
			}
			if err != nil {
				return
			}
			r := reply(args)
			if r == nil {
				return
			}
			out = append(out, r...)
			rest = rest[used:]
		}
		buf = append(buf[:0], rest...) // keep the incomplete request's bytes
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}
