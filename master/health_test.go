package master_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/freqd/freqd/ingest"
	"github.com/freqd/freqd/shm/freqfile"
)

// healthz fetches one of the health endpoints next to the metrics.
func healthz(t *testing.T, metrics, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(strings.TrimSuffix(metrics, "/metrics") + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestHealthAndShutdownDelay: /livez and /readyz answer on the metrics
// address without a Redis client or password, /readyz names the table
// served; on SIGTERM with --shutdown-delay the server reports not ready at
// once and goes on serving new connections for the delay, then drains and
// exits.
func TestHealthAndShutdownDelay(t *testing.T) {
	s := startServer(t, "fdpass", 2, "--metrics-listen", "127.0.0.1:0", "--shutdown-delay", "1500ms",
		"--requirepass", "sesame")
	if code, body := healthz(t, s.Metrics, "/livez"); code != 200 || body != "ok\n" {
		t.Errorf("/livez: %d %q", code, body)
	}
	b, err := ingest.DefaultTable()
	if err != nil {
		t.Fatal(err)
	}
	want, err := freqfile.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	var ready struct {
		Ready  bool
		Reason string
		Table  struct {
			ID    string
			Words uint64
			Total uint64
		}
	}
	code, body := healthz(t, s.Metrics, "/readyz")
	if err := json.Unmarshal([]byte(body), &ready); code != 200 || err != nil || !ready.Ready {
		t.Fatalf("/readyz while serving: %d %q (%v)", code, body, err)
	}
	if ready.Table.Words != want.Len() || ready.Table.Total != want.Total() || len(ready.Table.ID) != 8 {
		t.Errorf("/readyz names table %+v; want %d words, total %d", ready.Table, want.Len(), want.Total())
	}

	start := time.Now()
	syscall.Kill(s.pid, syscall.SIGTERM)
	eventually(t, "/readyz to fail", func() bool {
		code, body := healthz(t, s.Metrics, "/readyz")
		return code == 503 && strings.Contains(body, "shutdown delay")
	})
	// Still serving new clients during the delay.
	for time.Since(start) < time.Second {
		c := client(t, "tcp", s.tcp, 1)
		if err := c.Do(bg, "AUTH", "sesame").Err(); err != nil {
			t.Fatalf("a new client during the delay: AUTH: %v", err)
		}
		if got, err := c.Get(bg, "the").Result(); err != nil || got != "1501908" {
			t.Fatalf("a new client during the delay: GET the = %q, %v", got, err)
		}
		c.Close()
		time.Sleep(100 * time.Millisecond)
	}
	select {
	case <-s.exited:
		if d := time.Since(start); d < 1500*time.Millisecond {
			t.Errorf("exited %v after SIGTERM, before the 1.5 s delay", d)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the master did not exit after the delay")
	}
}
