package faults

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/internal/testserver"
)

// TestKillStormLeavesAWorkerServing SIGKILLs a random worker every 50 ms,
// stormKills times, and samples every 10 ms, from the master's metrics
// (which the master serves whatever its workers do), how many workers are
// ready (idle or busy). Back-off is for workers that fail on their own:
// workers killed from outside are replaced at once, and while every slot
// would wait out a delay one restarts without it, so the pool is never
// without a ready worker for long. The longest gap is reported. Its bound
// is generous, for loaded machines where starting a worker is slow and the
// sampler itself is late: under the old rule each slot's delay doubled
// with every kill, to 3.2 s by the seventh in a row and 30 s later, so a
// storm of this length left the pool empty for far longer.
func TestKillStormLeavesAWorkerServing(t *testing.T) {
	const stormKills = 60
	s := start(t, mode.FDPass, 2, "--metrics-listen", "127.0.0.1:0")
	stopLoad := make(chan struct{})
	tcp := load(s, "tcp", testserver.Subtlex().Check, stopLoad)
	client := &http.Client{Timeout: 2 * time.Second}
	kills := 0
	stopKills := make(chan struct{})
	killed := make(chan int)
	var stormDone atomic.Bool
	go func() {
		n := 0
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopKills:
				killed <- n
				return
			case <-tick.C:
				if n >= stormKills {
					stormDone.Store(true)
				} else if w := s.Workers(); len(w) > 0 && syscall.Kill(w[rand.IntN(len(w))], syscall.SIGKILL) == nil {
					n++
				}
			}
		}
	}()
	var longest, gap time.Duration
	var since time.Time
	samples := 0
	// Until the storm is over and enough samples are in, however slowly a
	// loaded machine runs the sampler; a minute at most.
	for end := time.Now().Add(time.Minute); time.Now().Before(end) && !(stormDone.Load() && samples >= 50); time.Sleep(10 * time.Millisecond) {
		ready, err := readyWorkers(client, s.Metrics)
		if err != nil {
			continue
		}
		samples++
		now := time.Now()
		switch {
		case ready == 0 && since.IsZero():
			since = now
		case ready > 0 && !since.IsZero():
			gap, since = now.Sub(since), time.Time{}
			longest = max(longest, gap)
		}
	}
	if !since.IsZero() {
		longest = max(longest, time.Since(since))
	}
	close(stopKills)
	kills = <-killed
	close(stopLoad)
	tcp.Wait()
	record(t, fmt.Sprintf("%d SIGKILLs, one every 50 ms; longest time without a ready worker %v (%d samples)", kills, longest.Round(time.Millisecond), samples), tcp)
	t.Logf("%d kills, longest gap without a ready worker: %v", kills, longest)
	if samples < 50 || kills < stormKills {
		t.Fatalf("only %d metrics samples and %d kills in a minute", samples, kills)
	}
	if longest >= 3*time.Second {
		t.Errorf("no ready worker for %v during a kill storm; want under 3s", longest)
	}
	s.WaitWorkers(2, 10*time.Second)
}

// readyWorkers counts the workers in state idle or busy on the master's
// metrics page.
func readyWorkers(c *http.Client, url string) (int, error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "freqd_worker_state{") && strings.HasSuffix(line, " 1") &&
			(strings.Contains(line, `state="idle"`) || strings.Contains(line, `state="busy"`)) {
			n++
		}
	}
	return n, sc.Err()
}
