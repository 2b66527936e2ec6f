package faults

import (
	"bufio"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/freqd/freqd/internal/testserver"
)

// TestMaxClients fills --max-clients with keep-alive clients under load
// and held connections, in every pre-forked mode: the connection over the
// limit gets Redis's error and is closed, the clients within it are served
// without a failure, and once one leaves a new client is served again.
func TestMaxClients(t *testing.T) {
	const maxClients, loaders = 6, 2
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			s := start(t, mode, 2, "--max-clients", fmt.Sprint(maxClients))
			stop := make(chan struct{})
			// Keep-alive clients only: each holds one connection throughout.
			r := testserver.RunLoad("tcp", s.TCP, loaders, 0, words, testserver.Subtlex().Check, stop)
			eventually(t, "the load to be served", func() bool { return r.OK.Load() >= 10*loaders })

			var held []net.Conn
			defer func() {
				for _, c := range held {
					c.Close()
				}
			}()
			for i := loaders; i < maxClients; i++ {
				c := dial(t, s)
				if reply := ask(c, "PING"); reply != "+PONG\r\n" {
					t.Fatalf("connection %d of %d: PING got %q", i+1, maxClients, reply)
				}
				held = append(held, c)
			}

			const refusal = "-ERR max number of clients reached\r\n"
			over := dial(t, s)
			// The error comes first, unasked: read it before sending anything.
			if got, end := readToEnd(over, testserver.RequestTimeout); string(got) != refusal || !closed(end) {
				t.Errorf("connection %d: %q, end %v; want %q and a close", maxClients+1, got, end, refusal)
			}

			held[0].Close()
			held = held[1:]
			eventually(t, "a new client to be served once one left", func() bool {
				c, err := net.DialTimeout("tcp", s.TCP, testserver.RequestTimeout)
				if err != nil {
					return false
				}
				defer c.Close()
				return ask(c, "PING") == "+PONG\r\n"
			})
			time.Sleep(200 * time.Millisecond)
			close(stop)
			r.Wait()
			record(t, fmt.Sprintf("connection %d refused with the error; served again after one left", maxClients+1), r)
			if r.Failed.Load() != 0 {
				t.Errorf("clients within the limit failed: %s", r)
			}
		})
	}
}

// ask sends one inline command on c and returns the first line of the
// reply, or the error's text.
func ask(c net.Conn, cmd string) string {
	c.SetDeadline(time.Now().Add(testserver.RequestTimeout))
	if _, err := fmt.Fprintf(c, "%s\r\n", cmd); err != nil {
		return err.Error()
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err.Error()
	}
	return line
}
