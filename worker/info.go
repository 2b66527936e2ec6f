package worker

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/freqd/freqd/handler"
	"github.com/freqd/freqd/internal/procstat"
	"github.com/freqd/freqd/shm/scoreboard"
)

// publish writes this worker's counters, command rate and memory to its
// scoreboard entry, where every worker's INFO sums them, and returns its
// counters. counts is scratch space for the calls per command.
func (w *Worker) publish(now time.Time, counts *[]uint64) handler.Stats {
	st := w.h.Stats()
	w.entry.SetCounters(st.Commands, st.ErrorReplies)
	w.entry.SetDatagramCounters(w.dgram.dropped.Load(), st.DatagramRefused)
	*counts = w.h.CommandCounts((*counts)[:0])
	w.entry.SetCommandCounts(*counts)
	mem, _ := procstat.ReadMemory(0) // zero if /proc cannot be read: INFO then counts none
	w.entry.SetStats(scoreboard.Stats{
		Connections:    st.Connections,
		ProtocolErrors: st.ProtocolErrors,
		AuthFailures:   st.AuthFailures,
		Hits:           st.KeyspaceHits,
		Misses:         st.KeyspaceMisses,
		OpsPerSec:      w.h.OpsPerSec(now),
		MemPrivate:     mem.Private,
		MemRSS:         mem.RSS,
	})
	return st
}

// serverStats gives INFO the whole server's figures: the pool's totals from
// the scoreboard (this worker's first brought up to date, so that a client
// sees its own commands counted), the master's pid, start and memory.
// Other workers' figures are as fresh as their last heartbeat.
func (w *Worker) serverStats(ss *handler.ServerStats) {
	var counts []uint64
	w.publish(time.Now(), &counts)
	t := w.board.Totals()
	ss.PID = os.Getppid()
	ss.Started = w.board.Started()
	ss.Stats = handler.Stats{
		ConnectedClients: t.Open,
		Connections:      t.Connections,
		Commands:         t.Requests,
		ErrorReplies:     t.Errors,
		ProtocolErrors:   t.ProtocolErrors,
		AuthFailures:     t.AuthFailures,
		KeyspaceHits:     t.Hits,
		KeyspaceMisses:   t.Misses,
	}
	ss.OpsPerSec = t.OpsPerSec
	// The master's figures are read from /proc; a worker that may not
	// read them (hidepid) counts the workers and the table alone.
	master, _ := procstat.ReadMemory(os.Getppid())
	ss.UsedMemory = t.MemPrivate + master.Private + uint64(max(w.table.Size(), 0))
	ss.UsedMemoryRSS = t.MemRSS + master.RSS
	ss.Calls = t.Commands[:min(len(counts), len(t.Commands))]
}

// appendInfo renders the INFO section only a pre-forked worker knows: the
// mode, the master, this worker's own figures, and every worker slot, read
// from the shared scoreboard. The server sections (clients, stats, ...)
// describe the whole pool; the worker_ lines here are the answering
// worker's alone.
func (w *Worker) appendInfo(out []byte) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "mode:%s\r\n", w.spec.Mode)
	fmt.Fprintf(&b, "master_pid:%d\r\n", os.Getppid())
	fmt.Fprintf(&b, "worker_slot:%d\r\n", w.spec.Slot)
	fmt.Fprintf(&b, "worker_pid:%d\r\n", os.Getpid())
	fmt.Fprintf(&b, "generation:%d\r\n", w.spec.Generation)
	own := w.h.Stats()
	fmt.Fprintf(&b, "worker_connected_clients:%d\r\n", own.ConnectedClients)
	fmt.Fprintf(&b, "worker_connections_received:%d\r\n", own.Connections)
	fmt.Fprintf(&b, "worker_commands_processed:%d\r\n", own.Commands)
	// Datagram replies this worker dropped (no room at the client) and
	// refused (amplification); the pool's totals follow.
	fmt.Fprintf(&b, "worker_datagram_replies_dropped:%d\r\n", w.dgram.dropped.Load())
	fmt.Fprintf(&b, "worker_datagram_replies_refused:%d\r\n", own.DatagramRefused)
	// The worker lines are keyed by scoreboard entry: during a reload an old
	// and a new worker share a pool slot.
	var lines []string
	var totalAccepted, totalRequests uint64
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
	}
	fmt.Fprintf(&b, "workers:%d\r\n", len(lines))
	fmt.Fprintf(&b, "pool_connections_accepted:%d\r\n", totalAccepted)
	fmt.Fprintf(&b, "pool_connections_open:%d\r\n", totalOpen)
	fmt.Fprintf(&b, "pool_commands_processed:%d\r\n", totalRequests)
	// The datagram counters are the server's since it started, those of
	// workers gone included, like the stats section's: a counter a worker
	// restart could set back would hide the drops it is there to show.
	t := w.board.Totals()
	fmt.Fprintf(&b, "pool_datagram_replies_dropped:%d\r\n", t.DatagramDropped)
	fmt.Fprintf(&b, "pool_datagram_replies_refused:%d\r\n", t.DatagramRefused)
	for _, l := range lines {
		b.WriteString(l)
	}
	return append(out, b.String()...)
}
