package faults

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/freqd/freqd/internal/testserver"
)

// TestDatagramNeverReaders runs, in every pre-forked mode, unix datagram
// clients that send requests and never read the replies, beside stream
// clients and datagram clients (unix and UDP) that behave. A worker must
// never wait on a client that does not read: the replies it cannot take
// are dropped and counted, and everyone else is served as if it were not
// there. The well-behaved datagram clients must have 99% of their 200
// requests answered, each within 2 s and all within 20 s, though each
// takes well under a millisecond; a worker that waited 100 ms per dropped
// reply (as freqd did) made each of their requests wait half a second or
// more.
func TestDatagramNeverReaders(t *testing.T) {
	const (
		neverReaders = 3
		rate         = 300 // requests a second from each never-reader
		requests     = 200
		wait         = 2 * time.Second
		budget       = 20 * time.Second
	)
	table := testserver.Subtlex()
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "d.sock")
			s := start(t, mode, 2, "--listen", "unixgram:"+path, "--listen", "udp:127.0.0.1:0")
			stop := make(chan struct{})
			tcp := load(s, "tcp", table.Check, stop)
			unix := load(s, "unix", table.Check, stop)

			var nrs []*testserver.NeverReader
			for range neverReaders {
				nr, err := testserver.StartNeverReader(path, words, rate)
				if err != nil {
					t.Fatal(err)
				}
				defer nr.Stop()
				nrs = append(nrs, nr)
			}
			full := int64(testserver.MaxDatagramQueue() + 50)
			eventually(t, "the never-readers' queues to fill", func() bool {
				for _, nr := range nrs {
					if nr.Sent.Load() <= full {
						return false
					}
				}
				return true
			})

			networks := []string{"unixgram", "udp"}
			addrs := []string{path, s.UDP}
			runs := make([]*testserver.DatagramRun, len(networks))
			errs := make(chan error, len(networks))
			for i := range networks {
				go func() {
					var err error
					runs[i], err = testserver.AskDatagrams(networks[i], addrs[i], words, table.Check, requests, wait, budget)
					errs <- err
				}()
			}
			for range networks {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			var sent int64
			for _, nr := range nrs {
				sent += nr.Stop()
			}
			close(stop)
			tcp.Wait()
			unix.Wait()

			var notes []string
			dgram := &testserver.Load{}
			for i, network := range networks {
				run := runs[i]
				t.Logf("%s beside %d never-readers (%d requests): %s", network, neverReaders, sent, run)
				notes = append(notes, fmt.Sprintf("%s p99 %v", network, run.Quantile(0.99).Round(time.Microsecond)))
				dgram.OK.Add(int64(run.OK))
				dgram.Wrong.Add(int64(run.Wrong))
				dgram.Failed.Add(int64(run.Unanswered()))
				if p99 := run.Quantile(0.99); p99 > wait {
					t.Errorf("%s: %d of %d requests unanswered within %v each and %v in all; want at most 1%%",
						network, run.Unanswered(), run.Planned, wait, budget)
				}
			}
			dropped := poolDropped(t, s)
			notes = append(notes, fmt.Sprintf("%d replies to %d never-readers dropped", dropped, neverReaders))
			record(t, strings.Join(notes, ", "), tcp, unix, dgram)
			for _, l := range []*testserver.Load{tcp, unix} {
				if l.Failed.Load() != 0 {
					t.Errorf("stream clients failed: %s", l)
				}
			}
			if dropped == 0 {
				t.Errorf("INFO counts no dropped datagram reply")
			}
		})
	}
}

// poolDropped reads pool_datagram_replies_dropped from INFO, once the
// workers' next heartbeat (every 500 ms) has published their counts.
func poolDropped(t *testing.T, s *testserver.Server) int64 {
	t.Helper()
	var n int64
	eventually(t, "INFO to count dropped datagram replies", func() bool {
		info, err := command(s, "INFO workers")
		if err != nil {
			return false
		}
		for _, line := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(line, "pool_datagram_replies_dropped:"); ok {
				n, _ = strconv.ParseInt(v, 10, 64)
			}
		}
		return n > 0
	})
	return n
}
