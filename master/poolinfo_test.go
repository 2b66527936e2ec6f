package master_test

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/freqd/freqd/internal/mode"
)

// infoField returns a numeric field of an INFO text, -1 when absent.
func infoField(info, key string) int64 {
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return -1
			}
			return n
		}
	}
	return -1
}

// TestInfoDescribesThePool: whichever worker answers, INFO's server
// sections describe the whole server: every worker's clients and
// commands, the master's pid and uptime, and totals that never go back,
// not even when a worker is killed and replaced.
func TestInfoDescribesThePool(t *testing.T) {
	// reuseport: the kernel spreads connections over the workers' sockets
	// by address, so a few connections reach both workers whatever their
	// timing (in accept mode an idle pool may leave every one to one).
	s := startServer(t, mode.ReusePort, 2)
	s.waitWorkers(2, 5*time.Second)
	time.Sleep(1100 * time.Millisecond) // for a nonzero uptime

	// Connections to both workers, each with a lookup that hits and one
	// that misses.
	var conns []*rawClient
	pids := map[int64]bool{}
	for i := 0; i < 24 && (len(pids) < 2 || len(conns) < 6); i++ {
		c := dialRaw(t, "tcp", s.tcp)
		c.do("GET", "the")
		c.do("GET", "nosuchwordzz")
		conns = append(conns, c)
		pids[infoField(c.info("workers"), "worker_pid")] = true
	}
	if len(pids) < 2 {
		t.Fatalf("24 connections all reached one worker: %v", pids)
	}

	// Each reading, from any connection, counts every connection and
	// the commands of all of them, and never less than the one before.
	var last int64
	read := func(c *rawClient) string {
		t.Helper()
		info := c.info("")
		n := infoField(info, "total_commands_processed")
		if n < last {
			t.Fatalf("total_commands_processed went from %d to %d", last, n)
		}
		last = n
		return info
	}
	eventually(t, "every worker's commands to be published", func() bool {
		return infoField(read(conns[0]), "total_commands_processed") >= int64(3*len(conns))
	})
	for _, c := range conns {
		info := read(c)
		if got := infoField(info, "connected_clients"); got != int64(len(conns)) {
			t.Errorf("connected_clients %d, want %d (the pool's)", got, len(conns))
		}
		if got := infoField(info, "process_id"); got != int64(s.pid) {
			t.Errorf("process_id %d, want the master's %d", got, s.pid)
		}
		if up := infoField(info, "uptime_in_seconds"); up < 1 {
			t.Errorf("uptime_in_seconds %d, want the master's (over 1 s)", up)
		}
		for _, want := range []string{"role:master\r\n", "db0:keys=", "loading:0\r\n", "maxclients:10000\r\n"} {
			if !strings.Contains(info, want) {
				t.Errorf("INFO lacks %q", want)
			}
		}
		if mem, table := infoField(info, "used_memory"), infoField(info, "used_memory_table"); mem <= table || table <= 0 {
			t.Errorf("used_memory %d, table %d: want the processes' memory on top of the table", mem, table)
		}
	}
	info := read(conns[0])
	if hits, misses := infoField(info, "keyspace_hits"), infoField(info, "keyspace_misses"); hits < int64(len(conns)) || misses < int64(len(conns)) {
		t.Errorf("keyspace hits %d, misses %d; want at least %d each", hits, misses, len(conns))
	}

	// A worker killed and replaced takes nothing from the totals.
	before := read(conns[0])
	victim := s.workers()[0]
	syscall.Kill(victim, syscall.SIGKILL)
	eventually(t, "a replacement worker", func() bool {
		ws := s.workers()
		return len(ws) == 2 && ws[0] != victim && ws[1] != victim
	})
	survivor := dialRaw(t, "tcp", s.tcp)
	after := survivor.info("")
	if a, b := infoField(after, "total_commands_processed"), infoField(before, "total_commands_processed"); a < b {
		t.Errorf("total_commands_processed %d after a worker was replaced, %d before", a, b)
	}
	if a, b := infoField(after, "total_connections_received"), infoField(before, "total_connections_received"); a < b {
		t.Errorf("total_connections_received %d after a worker was replaced, %d before", a, b)
	}
	if a, b := infoField(after, "keyspace_misses"), infoField(before, "keyspace_misses"); a < b {
		t.Errorf("keyspace_misses %d after a worker was replaced, %d before", a, b)
	}
	if up := infoField(after, "uptime_in_seconds"); up < 1 {
		t.Errorf("uptime_in_seconds %d after a worker restart, want the master's", up)
	}
}

// info sends INFO [section] and returns the text of its bulk reply.
func (rc *rawClient) info(section string) string {
	rc.t.Helper()
	rc.c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(rc.c, "INFO %s\r\n", section); err != nil {
		rc.t.Fatal(err)
	}
	head, err := rc.r.ReadString('\n')
	n, perr := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(head, "$"), "\r\n"))
	if err != nil || perr != nil {
		rc.t.Fatalf("INFO: %q, %v", head, err)
	}
	body := make([]byte, n+2)
	if _, err := io.ReadFull(rc.r, body); err != nil {
		rc.t.Fatal(err)
	}
	return string(body[:n])
}
