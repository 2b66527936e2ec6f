package worker

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// appendInfo renders the INFO section only a pre-forked worker knows: the
// mode, the master and every worker slot, read from the shared scoreboard.
func (w *Worker) appendInfo(out []byte) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "mode:%s\r\n", w.spec.Mode)
	fmt.Fprintf(&b, "master_pid:%d\r\n", os.Getppid())
	fmt.Fprintf(&b, "worker_slot:%d\r\n", w.spec.Slot)
	fmt.Fprintf(&b, "worker_pid:%d\r\n", os.Getpid())
	fmt.Fprintf(&b, "generation:%d\r\n", w.spec.Generation)
	// Datagram replies this worker dropped (no room at the client) and
	// refused (amplification); the pool's totals follow.
	fmt.Fprintf(&b, "datagram_replies_dropped:%d\r\n", w.dgram.dropped.Load())
	fmt.Fprintf(&b, "datagram_replies_refused:%d\r\n", w.h.Stats().DatagramRefused)
	// The worker lines are keyed by scoreboard entry: during a reload an old
	// and a new worker share a pool slot. The handler's own INFO figures
	// (connected_clients, total_commands_processed) are this worker's; the
	// pool's totals follow.
	var lines []string
	var totalAccepted, totalRequests, totalDropped, totalRefused uint64
	var totalOpen int64
	for i := 0; i < w.board.Len(); i++ {
		s := w.board.Snapshot(i)
		if s.PID == 0 {
			continue
		}
		lines = append(lines, fmt.Sprintf("worker%d:pid=%d,slot=%d,generation=%d,state=%s,restarts=%d,uptime=%d,accepted=%d,open=%d,requests=%d,errors=%d\r\n",
			i, s.PID, s.Slot, s.Generation, s.State, s.Restarts, int(time.Since(s.Started).Seconds()), s.Accepted, s.Open, s.Requests, s.Errors))
		totalAccepted += s.Accepted
		totalRequests += s.Requests
		totalOpen += s.Open
		totalDropped += s.DatagramDropped
		totalRefused += s.DatagramRefused
	}
	fmt.Fprintf(&b, "workers:%d\r\n", len(lines))
	fmt.Fprintf(&b, "pool_connections_accepted:%d\r\n", totalAccepted)
	fmt.Fprintf(&b, "pool_connections_open:%d\r\n", totalOpen)
	fmt.Fprintf(&b, "pool_commands_processed:%d\r\n", totalRequests)
	fmt.Fprintf(&b, "pool_datagram_replies_dropped:%d\r\n", totalDropped)
	fmt.Fprintf(&b, "pool_datagram_replies_refused:%d\r\n", totalRefused)
	for _, l := range lines {
		b.WriteString(l)
	}
	return append(out, b.String()...)
}
