package faults

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/freqd/freqd/internal/testserver"
)

// TestWorkerKillStorm SIGKILLs a random worker every 150 ms for 2.5 s
// while TCP and unix clients are served, in every pre-forked mode. A killed
// worker takes the requests in flight on it along, and nothing else: at
// most one per client connection it held, so failures are bounded by kills
// × clients; no connection is refused, because the listeners (and, in
// fdpass mode, the descriptor queue) belong to the master. Afterwards the
// pool is whole again on the very same listening sockets.
func TestWorkerKillStorm(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			const workers = 3
			s := start(t, mode, workers)
			before := testserver.ListenInodes(s.Port())

			stop := make(chan struct{})
			tcp := load(s, "tcp", testserver.Subtlex().Check, stop)
			unix := load(s, "unix", testserver.Subtlex().Check, stop)
			kills := 0
			for end := time.Now().Add(2500 * time.Millisecond); time.Now().Before(end); {
				time.Sleep(150 * time.Millisecond)
				if w := s.Workers(); len(w) > 0 && syscall.Kill(w[rand.IntN(len(w))], syscall.SIGKILL) == nil {
					kills++
				}
			}
			time.Sleep(500 * time.Millisecond) // the last replacements serve
			close(stop)
			tcp.Wait()
			unix.Wait()

			const clients = 2 * (keepalive + perRequest)
			record(t, fmt.Sprintf("%d SIGKILLs, bound %d", kills, kills*clients), tcp, unix)
			if n := tcp.Refused.Load() + unix.Refused.Load(); n != 0 {
				t.Errorf("%d connections refused", n)
			}
			if n := tcp.Failed.Load() + unix.Failed.Load(); n > int64(kills*clients) {
				t.Errorf("%d requests failed for %d kills of workers serving %d clients: more than in flight", n, kills, clients)
			}
			s.WaitWorkers(workers, 10*time.Second)
			if after := testserver.ListenInodes(s.Port()); !slices.Equal(after, before) {
				t.Errorf("listening sockets changed: before %v, after %v", before, after)
			}
			if _, err := os.Stat(s.Unix); err != nil {
				t.Errorf("unix socket file after the storm: %v", err)
			}
		})
	}
}
