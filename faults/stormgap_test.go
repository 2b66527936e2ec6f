package faults

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/internal/testserver"
)

// TestKillStormLeavesAWorkerServing SIGKILLs a random worker every 50 ms
// for 5 s, and samples every 10 ms, from the master's metrics (which the
// master serves whatever its workers do), how many workers are ready
// (idle or busy). Back-off is for workers that fail on their own: workers
// killed from outside are replaced at once, and while every slot would
// wait out a delay one restarts without it, so the pool is never without a
// ready worker for long. The longest gap is reported, and must stay under
// a second; before the rule it reached several seconds.
func TestKillStormLeavesAWorkerServing(t *testing.T) {
	s := start(t, mode.FDPass, 2, "--metrics-listen", "127.0.0.1:0")
	stopLoad := make(chan struct{})
	tcp := load(s, "tcp", testserver.Subtlex().Check, stopLoad)
	client := &http.Client{Timeout: 2 * time.Second}
	kills := 0
	stopKills := make(chan struct{})
	killed := make(chan int)
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
				if w := s.Workers(); len(w) > 0 && syscall.Kill(w[rand.IntN(len(w))], syscall.SIGKILL) == nil {
					n++
				}
			}
		}
	}()
	var longest, gap time.Duration
	var since time.Time
	samples := 0
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
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
	record(t, fmt.Sprintf("%d SIGKILLs in 5 s; longest time without a ready worker %v (%d samples)", kills, longest.Round(time.Millisecond), samples), tcp)
	t.Logf("%d kills, longest gap without a ready worker: %v", kills, longest)
	if samples < 50 {
		t.Fatalf("only %d metrics samples in 5 s", samples)
	}
	if longest >= time.Second {
		t.Errorf("no ready worker for %v during a kill storm; want under 1s", longest)
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
