package faults

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/freqd/freqd/internal/testserver"
)

// TestMasterKilled SIGKILLs the master under load, in every pre-forked
// mode. Its workers notice (their control socket reaches EOF, and
// Pdeathsig) and exit within 2 s, so no orphan keeps a port or serves on.
// The port is then free at once: a new master binds the same address and
// the same clients, still running, are served by it. Requests fail only
// between the kill and the new master.
func TestMasterKilled(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			s := start(t, mode, 2)
			ws := s.Workers()
			stop := make(chan struct{})
			r := load(s, "tcp", testserver.Subtlex().Check, stop)
			time.Sleep(300 * time.Millisecond)

			signal(t, s.Pid, syscall.SIGKILL)
			killed := time.Now()
			<-s.Exited()
			for _, p := range ws {
				for testserver.Alive(p) {
					if time.Since(killed) > 2*time.Second {
						t.Fatalf("worker %d still alive 2s after its master was killed", p)
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
			orphansGone := time.Since(killed)

			// Start fails the test if the master cannot bind the address.
			start(t, mode, 2, "--listen", s.TCP)
			down := time.Since(killed)
			servedBefore := r.OK.Load()
			time.Sleep(500 * time.Millisecond) // the new master serves the old clients
			close(stop)
			r.Wait()

			record(t, fmt.Sprintf("workers gone %v after the kill; new master on the port after %v",
				orphansGone.Round(time.Millisecond), down.Round(time.Millisecond)), r)
			if r.OK.Load() == servedBefore {
				t.Errorf("the new master on %s served none of the clients", s.TCP)
			}
		})
	}
}
