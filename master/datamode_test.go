package master_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDataFileTruncatedWhileServed: by default the workers serve a sealed
// copy, so a data file truncated in place changes nothing; with
// --data-mode map they answer errors instead of crashing, and a SIGHUP after
// a good file is back restores service.
func TestDataFileTruncatedWhileServed(t *testing.T) {
	for _, mode := range []string{"copy", "map"} {
		t.Run(string(mode), func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "words.freq")
			buildTable(t, data, "alpha", 100, "beta", 5)
			s := startServer(t, "fdpass", 2, "--data", data, "--data-mode", mode)
			ws := s.waitWorkers(2, 5*time.Second)
			if err := os.Truncate(data, 0); err != nil {
				t.Fatal(err)
			}
			c := client(t, "tcp", s.tcp, 1)
			got, err := c.Get(bg, "alpha").Result()
			switch mode {
			case "copy":
				if err != nil || got != "100" {
					t.Errorf("sealed copy after truncation: GET alpha = %q, %v; want 100", got, err)
				}
			case "map":
				if err == nil || !strings.Contains(err.Error(), "data file changed") {
					t.Errorf("mapped file after truncation: GET alpha = %q, %v; want the data-file error", got, err)
				}
			}
			if now := s.workers(); !sameSet(now, ws) {
				t.Errorf("workers changed (crashed?) after the truncation: %v -> %v", ws, now)
			}
			// A bad file is not picked up; a good one is.
			syscall.Kill(s.pid, syscall.SIGHUP)
			eventually(t, "the failed reload", func() bool { return strings.Contains(s.log.String(), "reload failed") })
			buildTable(t, data, "alpha", 300, "beta", 5)
			syscall.Kill(s.pid, syscall.SIGHUP)
			eventually(t, "the good file to be served", func() bool {
				got, err := client(t, "tcp", s.tcp, 1).Get(bg, "alpha").Result()
				return err == nil && got == "300"
			})
		})
	}
}

// TestMappedFileTruncatedUnderDatagrams: with --data-mode map, a datagram
// whose lookup faults on the truncated file gets the error reply, and the
// worker that read it lives.
func TestMappedFileTruncatedUnderDatagrams(t *testing.T) {
	data := filepath.Join(t.TempDir(), "words.freq")
	buildTable(t, data, "alpha", 100, "beta", 5)
	s := startDatagramServer(t, "fdpass", 2, "--data", data, "--data-mode", "map")
	ws := s.waitWorkers(2, 5*time.Second)
	udp := dialDatagram(t, s, "udp")
	if got := ask(t, udp, "GET alpha\r\n"); got != "$3\r\n100\r\n" {
		t.Fatalf("before: %q", got)
	}
	if err := os.Truncate(data, 0); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		if got := ask(t, udp, "GET alpha\r\n"); !strings.Contains(got, "data file changed") {
			t.Errorf("after truncation: %q, want the data-file error", got)
		}
	}
	if now := s.waitWorkers(2, time.Second); !sameSet(now, ws) {
		t.Errorf("workers changed (crashed?): %v -> %v", ws, now)
	}
}
