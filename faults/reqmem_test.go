package faults

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/internal/testserver"
)

// TestRequestMemoryBudget has 20 clients each send 7 MB of a request and
// stop, against --max-request-memory 32MiB: without a budget they would
// pin about 160 MB of buffers in the workers until the read timeout. The
// workers close the clients holding the most, with an error, and keep what
// they hold in unfinished requests within the budget (as they report it,
// and as their resident memory shows), and a normal client is served
// throughout.
func TestRequestMemoryBudget(t *testing.T) {
	const budget = 32 << 20
	s := start(t, mode.FDPass, 2, "--max-request-memory", "32MiB", "--read-timeout", "60s")
	base := workersRSS(s)

	const clients, size = 20, 7_000_000
	var told, cut atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	for range clients {
		wg.Go(func() {
			c, err := net.Dial("tcp", s.TCP)
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			c.SetDeadline(time.Now().Add(30 * time.Second))
			// An MGET of eight 900 kB words (each under the 1 MiB
			// argument bound, 7.2 MB together under the 8 MiB request
			// bound), all but its last word sent.
			arg := "$900000\r\n" + strings.Repeat("w", 900000) + "\r\n"
			req := "*9\r\n$4\r\nMGET\r\n" + strings.Repeat(arg, 8)
			for b := []byte(req[:size]); len(b) > 0; {
				n, err := c.Write(b[:min(len(b), 64<<10)])
				if err != nil {
					break
				}
				b = b[n:]
			}
			line, err := bufio.NewReader(c).ReadString('\n')
			switch {
			case strings.Contains(line, "--max-request-memory"):
				told.Add(1)
			case err != nil && err != io.EOF && !strings.Contains(err.Error(), "closed"):
				cut.Add(1)
			}
		})
	}
	// Sample while the clients hold their requests.
	var peakHeld, peakRSS int64
	evictions := int64(0)
	for end := time.Now().Add(4 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		for _, st := range loopStats(s) {
			peakHeld = max(peakHeld, st["request_memory"])
			evictions = max(evictions, st["request_memory_evictions"])
		}
		peakRSS = max(peakRSS, workersRSS(s)-base)
	}
	if got, err := command(s, "GET the"); err != nil || got != strconv.FormatUint(testserver.Subtlex()["the"], 10) {
		t.Errorf("a normal client beside them: GET the = %q, %v", got, err)
	}
	mu.Lock()
	for _, c := range conns {
		c.Close() // ends the clients still held by the server
	}
	mu.Unlock()
	wg.Wait()
	summary.mu.Lock()
	summary.rows = append(summary.rows, row{scenario: t.Name(), served: 1,
		notes: fmt.Sprintf("20 x 7 MB partial requests, budget 32 MiB: %d told, peak held %d MiB per worker, peak RSS growth %d MiB",
			told.Load(), peakHeld>>20, peakRSS>>20)})
	summary.mu.Unlock()
	t.Logf("clients told %d, cut %d; peak held in one worker %d MiB; peak RSS growth of the workers %d MiB; evictions seen %d",
		told.Load(), cut.Load(), peakHeld>>20, peakRSS>>20, evictions)
	if peakHeld > budget {
		t.Errorf("a worker held %d bytes in unfinished requests, over the %d budget", peakHeld, budget)
	}
	if told.Load() == 0 {
		t.Errorf("no client was told it was closed for the request memory budget")
	}
	// The budget bounds what a worker holds; the Go heap may keep freed
	// buffers of closed clients until it collects, and a worker's buffer
	// grows by doubling: allow two budgets per worker and some slack. A
	// server built with the race detector keeps shadow memory for every
	// byte, so its RSS says nothing of the budget.
	if limit := int64(2*2*budget + 64<<20); peakRSS > limit && !slices.Contains(buildFlags, "-race") {
		t.Errorf("the workers' resident memory grew by %d MiB, more than %d MiB", peakRSS>>20, limit>>20)
	}
}

// loopStats asks INFO eventloop on fresh connections until each worker has
// answered (or a few tries), and returns each worker's numeric fields.
func loopStats(s *testserver.Server) map[string]map[string]int64 {
	out := map[string]map[string]int64{}
	for range 6 {
		text, err := command(s, "INFO eventloop")
		if err != nil {
			continue
		}
		fields := map[string]int64{}
		for _, line := range strings.Split(text, "\n") {
			k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
			if n, err := strconv.ParseInt(v, 10, 64); ok && err == nil {
				fields[k] = n
			}
		}
		info, _ := command(s, "INFO workers")
		out[info] = fields // keyed loosely: what matters is each sample's figures
	}
	return out
}

// workersRSS is the sum of the workers' resident set sizes.
func workersRSS(s *testserver.Server) int64 {
	var sum int64
	for _, pid := range s.Workers() {
		if n, err := testserver.RSS(pid); err == nil {
			sum += n
		}
	}
	return sum
}
