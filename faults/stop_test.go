package faults

import (
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/freqd/freqd/internal/testserver"
)

// TestWorkerStopped SIGSTOPs one worker under load with --worker-timeout
// 1s, in every pre-forked mode. The stopped worker's heartbeat goes stale;
// the master aborts it, kills it when it cannot act on the abort, and
// replaces it, while the other worker keeps serving. Only the connections
// the stopped worker held may fail: one per client at most.
func TestWorkerStopped(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			s := start(t, mode, 2, "--worker-timeout", "1s")
			stop := make(chan struct{})
			r := load(s, "tcp", testserver.Subtlex().Check, stop)
			time.Sleep(300 * time.Millisecond)

			victim := s.Workers()[0]
			signal(t, victim, syscall.SIGSTOP)
			stoppedAt := time.Now()
			servedWhileStopped := r.OK.Load()
			eventually(t, "the stopped worker to be replaced", func() bool {
				now := s.Workers()
				return len(now) == 2 && !slices.Contains(now, victim)
			})
			replacedAfter := time.Since(stoppedAt)
			servedWhileStopped = r.OK.Load() - servedWhileStopped
			servedBefore := r.OK.Load()
			time.Sleep(500 * time.Millisecond) // the replacement serves
			close(stop)
			r.Wait()

			record(t, fmt.Sprintf("replaced after %v; %d served meanwhile", replacedAfter.Round(100*time.Millisecond), servedWhileStopped), r)
			if testserver.Alive(victim) {
				t.Errorf("stopped worker %d still alive after its replacement", victim)
			}
			if !s.Log.Contains("worker hung") {
				t.Errorf("no 'worker hung' line in the log")
			}
			if servedWhileStopped == 0 {
				t.Errorf("no request served while a worker was stopped: the other worker should have answered")
			}
			if r.OK.Load() == servedBefore {
				t.Errorf("no request served after the replacement")
			}
			if max := int64(keepalive + perRequest); r.Failed.Load() > max {
				t.Errorf("%d requests failed; at most %d (one per client) may have been on the stopped worker", r.Failed.Load(), max)
			}
		})
	}
}
