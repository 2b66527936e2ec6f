package classic_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/freqd/freqd/internal/mode"

	"github.com/freqd/freqd/internal/testserver"
)

// ping sends PING on a raw connection and reads the reply.
func ping(conn net.Conn, r *bufio.Reader) error {
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING: got %q, want +PONG", line)
	}
	return nil
}

// TestForkReapsChildrenAndKeepsNoDescriptors serves 200 connections, eight
// at a time, each by a process of its own, and then requires that every
// child has been reaped (none is left a zombie) and that the server holds
// exactly the descriptors it held before.
func TestForkReapsChildrenAndKeepsNoDescriptors(t *testing.T) {
	s := startServer(t, mode.Fork)
	session := func(network string) error {
		conn, err := net.DialTimeout(network, s.dialAddr(network), 5*time.Second)
		if err != nil {
			return err
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		return ping(conn, bufio.NewReader(conn))
	}
	settled := func() bool { return len(children(s.pid, true)) == 0 }

	// One connection first, so that whatever the server opens once, lazily,
	// is counted in "before".
	if err := session("tcp"); err != nil {
		t.Fatal(err)
	}
	if !waitFor(5*time.Second, settled) {
		t.Fatalf("children still present after one connection: %v", children(s.pid, true))
	}
	before := testserver.FDTargets(s.pid)

	const total, parallel = 200, 8
	var wg sync.WaitGroup
	errs := make(chan error, total)
	for g := 0; g < parallel; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < total; i += parallel {
				network := "tcp"
				if i%2 == 1 {
					network = "unix"
				}
				if err := session(network); err != nil {
					errs <- fmt.Errorf("connection %d (%s): %w", i, network, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	if !waitFor(10*time.Second, settled) {
		t.Fatalf("after %d connections the server still has children %v, zombies among them %v",
			total, children(s.pid, true), testserver.Zombies(s.pid))
	}
	// A reaped child's pidfd is closed just after the reap: allow a moment.
	var after []string
	waitFor(5*time.Second, func() bool { after = testserver.FDTargets(s.pid); return slices.Equal(before, after) })
	if !slices.Equal(before, after) {
		t.Errorf("descriptors leaked over %d connections:\nbefore %d: %s\nafter %d: %s",
			total, len(before), strings.Join(before, ", "), len(after), strings.Join(after, ", "))
	}
}

// TestForkBoundsChildren pins --max-children: with two children busy, a
// third connection is held back, not served and not given a process, until
// one of them ends.
func TestForkBoundsChildren(t *testing.T) {
	s := startServer(t, mode.Fork, "--max-children", "2")
	var open []net.Conn
	for i := 0; i < 2; i++ {
		conn := dial(t, s, "tcp")
		if err := ping(conn, bufio.NewReader(conn)); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		open = append(open, conn)
	}

	third := dial(t, s, "unix")
	r := bufio.NewReader(third)
	third.Write([]byte("PING\r\n"))
	third.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if line, err := r.ReadString('\n'); !os.IsTimeout(err) {
		t.Fatalf("third client served while two children are busy and --max-children is 2: got %q, %v", line, err)
	}
	if n := len(children(s.pid, false)); n != 2 {
		t.Errorf("%d children with --max-children 2; want 2", n)
	}

	open[0].Close()
	third.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, err := r.ReadString('\n'); err != nil || line != "+PONG\r\n" {
		t.Fatalf("third client after a child exited: got %q, %v; want +PONG", line, err)
	}
	if !strings.Contains(s.log.String(), "max children running") {
		t.Errorf("no warning logged when the bound was reached:\n%s", s.log)
	}
}
