package compare

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/freqd/freqd/resp"
)

// maxInfo bounds the INFO reply read from a server.
const maxInfo = 1 << 20

// workerInfo is one worker line of INFO's "# Workers" section.
type workerInfo struct {
	slot     int
	pid      int
	state    string
	accepted uint64
	open     uint64
}

// workersInfo is INFO's "# Workers" section.
type workersInfo struct {
	servedBy int // pid of the worker that answered
	workers  []workerInfo
}

// readWorkers asks the server at addr for INFO workers and parses the
// worker lines.
func readWorkers(addr string, timeout time.Duration) (workersInfo, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return workersInfo{}, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(c, "INFO workers\r\n"); err != nil {
		return workersInfo{}, err
	}
	text, err := readBulk(bufio.NewReader(c))
	if err != nil {
		return workersInfo{}, fmt.Errorf("INFO workers from %s: %w", addr, err)
	}
	return parseWorkers(text)
}

// readBulk reads one RESP bulk string.
func readBulk(r *bufio.Reader) (string, error) {
	b, err := resp.ReadReply(r)
	if err != nil {
		return "", err
	}
	head, body, _ := strings.Cut(string(b), "\r\n")
	if !strings.HasPrefix(head, "$") || head == "$-1" {
		return "", fmt.Errorf("reply %q is not a bulk string", head)
	}
	if len(body) > maxInfo+2 {
		return "", fmt.Errorf("INFO reply of %d bytes, more than the %d expected", len(body), maxInfo)
	}
	return strings.TrimSuffix(body, "\r\n"), nil
}

// parseWorkers parses the "# Workers" section of an INFO reply: lines
// "workerN:pid=..,generation=..,state=..,...,accepted=..,open=..,..." and
// "worker_pid:PID" for the worker that answered.
func parseWorkers(text string) (workersInfo, error) {
	var wi workersInfo
	for _, line := range strings.Split(text, "\n") {
		key, val, ok := strings.Cut(strings.TrimRight(line, "\r"), ":")
		if !ok {
			continue
		}
		if key == "worker_pid" {
			wi.servedBy, _ = strconv.Atoi(val)
			continue
		}
		slot, err := strconv.Atoi(strings.TrimPrefix(key, "worker"))
		if !strings.HasPrefix(key, "worker") || err != nil {
			continue
		}
		w := workerInfo{slot: slot}
		for _, field := range strings.Split(val, ",") {
			k, v, _ := strings.Cut(field, "=")
			var err error
			switch k {
			case "pid":
				w.pid, err = strconv.Atoi(v)
			case "state":
				w.state = v
			case "accepted":
				w.accepted, err = strconv.ParseUint(v, 10, 64)
			case "open":
				w.open, err = strconv.ParseUint(v, 10, 64)
			}
			if err != nil {
				return workersInfo{}, fmt.Errorf("INFO line %q: %s=%q is not a number", line, k, v)
			}
		}
		if w.pid <= 0 {
			return workersInfo{}, fmt.Errorf("INFO line %q has no pid", line)
		}
		wi.workers = append(wi.workers, w)
	}
	if len(wi.workers) == 0 {
		return workersInfo{}, fmt.Errorf("INFO has no worker lines; is the server pre-forked?")
	}
	return wi, nil
}

// Spread is how the connections of a run were spread over the workers: the
// connections each worker slot accepted during the run.
type Spread struct {
	Accepted []uint64 `json:"accepted"` // by worker slot
	Min      uint64   `json:"min"`
	Max      uint64   `json:"max"`
	Stddev   float64  `json:"stddev"`
}

// spread compares two readings of the worker counters, leaving out the
// connection that read the second. A slot whose worker
// was replaced in between counts from zero: its new worker's counter
// started there, and what the killed one accepted died with it.
func spread(before, after workersInfo) *Spread {
	prev := map[int]workerInfo{}
	for _, w := range before.workers {
		prev[w.slot] = w
	}
	ws := append([]workerInfo(nil), after.workers...)
	sort.Slice(ws, func(i, j int) bool { return ws[i].slot < ws[j].slot })
	sp := &Spread{Min: math.MaxUint64}
	var sum, sumSq float64
	for _, w := range ws {
		n := w.accepted
		if p, ok := prev[w.slot]; ok && p.pid == w.pid && p.accepted <= n {
			n -= p.accepted
		}
		if w.pid == after.servedBy && n > 0 {
			n-- // the connection that asked for this INFO
		}
		sp.Accepted = append(sp.Accepted, n)
		sp.Min, sp.Max = min(sp.Min, n), max(sp.Max, n)
		sum += float64(n)
		sumSq += float64(n) * float64(n)
	}
	mean := sum / float64(len(ws))
	sp.Stddev = math.Sqrt(max(0, sumSq/float64(len(ws))-mean*mean))
	return sp
}
