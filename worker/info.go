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
	var lines []string
	for i := 0; i < w.board.Len(); i++ {
		s := w.board.Snapshot(i)
		if s.PID == 0 {
			continue
		}
		lines = append(lines, fmt.Sprintf("worker%d:pid=%d,generation=%d,state=%s,restarts=%d,uptime=%d,accepted=%d,open=%d,requests=%d,errors=%d\r\n",
			i, s.PID, s.Generation, s.State, s.Restarts, int(time.Since(s.Started).Seconds()), s.Accepted, s.Open, s.Requests, s.Errors))
	}
	fmt.Fprintf(&b, "workers:%d\r\n", len(lines))
	for _, l := range lines {
		b.WriteString(l)
	}
	return append(out, b.String()...)
}
