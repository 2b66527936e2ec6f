package faults

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/freqd/freqd/internal/testserver"
)

// TestDescriptorLimitLosesNoConnection starts the server under a
// descriptor limit of 128 (ulimit -n 128: soft and hard, so nothing can
// raise it) and lets 400 clients each connect and send one PING at once,
// and keep the connection a moment after the answer. A worker can hold
// fewer than 128 connections, and two workers cannot hold 400 at once
// however fast they answer: the rest must wait (in the fdpass queue, or in
// the listen backlog) and be answered when room is made, never be closed
// unanswered, in every mode.
func TestDescriptorLimitLosesNoConnection(t *testing.T) {
	wrapper := filepath.Join(t.TempDir(), "freqd-ulimit")
	script := fmt.Sprintf("#!/bin/sh\nulimit -n 128 || exit 1\nexec %s \"$@\"\n", freqdBin)
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			if testing.Short() {
				t.Skip("fault scenarios take seconds each; run them with make test-faults")
			}
			s := testserver.Start(t, wrapper, mode, 2)
			s.WaitWorkers(2, 10*time.Second)
			const clients = 400
			// Long enough that every client is connected before the
			// first ones close, so that the workers meet their bound.
			const hold = 300 * time.Millisecond
			var answered, failed atomic.Int64
			var mu sync.Mutex
			errs := map[string]int{}
			var wg sync.WaitGroup
			for range clients {
				wg.Go(func() {
					err := ping(s.TCP, hold)
					if err == nil {
						answered.Add(1)
						return
					}
					failed.Add(1)
					mu.Lock()
					errs[err.Error()]++
					mu.Unlock()
				})
			}
			wg.Wait()
			summary.mu.Lock()
			summary.rows = append(summary.rows, row{scenario: t.Name(), served: answered.Load(), failed: failed.Load(),
				notes: "400 clients under ulimit -n 128"})
			summary.mu.Unlock()
			t.Logf("%d of %d clients answered; failures %v", answered.Load(), clients, errs)
			if answered.Load() != clients {
				t.Errorf("%d of %d clients were not answered: %v", clients-answered.Load(), clients, errs)
			}
			if !s.Log.Contains("at the connection bound") && !s.Log.Contains("descriptor limit reached") {
				t.Errorf("no worker said it met its descriptor limit")
			}
			// The default --max-clients (10000) is more than 128 allows: said at start.
			if !s.Log.Contains(`"limit":128`) || !s.Log.Contains("--max-clients is more than one worker can hold") {
				t.Errorf("the master did not report the limit in effect and the --max-clients it cannot honour")
			}
		})
	}
}

// ping connects to addr, sends PING and reads the reply, within a
// generous deadline: clients over the limit wait their turn. It keeps the
// connection for hold after the reply.
func ping(addr string, hold time.Duration) error {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("reply %q", line)
	}
	time.Sleep(hold)
	return nil
}
