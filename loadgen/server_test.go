package loadgen

import (
	"fmt"
	"net"
	"os"
	"testing"

	"github.com/freqd/freqd/ingest"
	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/internal/testserver"
	"github.com/freqd/freqd/resp"
	"github.com/freqd/freqd/shm/freqfile"
)

// The package's tests load one real `freqd serve` (two workers, the embedded
// table), started by TestMain and reached over TCP and a unix socket.
var (
	serverTCP    string
	serverUnix   string
	defaultTable *freqfile.Table
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
	b, err := ingest.DefaultTable()
	if err == nil {
		defaultTable, err = freqfile.Parse(b)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "default table:", err)
		return 1
	}
	srv, err := testserver.Launch(dir, bin, mode.FDPass, 2)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer srv.Close()
	serverTCP, serverUnix = srv.TCP, "unix:"+srv.Unix
	return m.Run()
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
