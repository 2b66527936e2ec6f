package faults

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/freqd/freqd/internal/testserver"
)

// TestReloadStorm sends 20 SIGHUPs 50 ms apart under load, in every
// pre-forked mode, replacing the data file between them with one of two
// valid tables in turn. Each reload starts a generation beside the serving
// one and drains the old only once the new serves; SIGHUPs that arrive
// meanwhile fold into one more reload. So no request fails, every answer
// is one of the two tables', and the storm ends with one generation
// serving the last file written.
func TestReloadStorm(t *testing.T) {
	dir := t.TempDir()
	a, b := testserver.Subtlex().Scaled(words, 1), testserver.Subtlex().Scaled(words, 2)
	tables := []struct {
		path  string
		table testserver.Table
	}{{filepath.Join(dir, "a.freq"), a}, {filepath.Join(dir, "b.freq"), b}}
	for _, tb := range tables {
		if err := testserver.BuildTable(freqdBin, tb.path, tb.table); err != nil {
			t.Fatal(err)
		}
	}
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			const workers = 2
			data := filepath.Join(t.TempDir(), "words.freq")
			replace(t, tables[0].path, data)
			s := start(t, mode, workers, "--data", data)
			stop := make(chan struct{})
			tcp := load(s, "tcp", testserver.Either(a, b), stop)
			unix := load(s, "unix", testserver.Either(a, b), stop)
			time.Sleep(200 * time.Millisecond)

			const reloads = 20
			last := tables[0]
			for i := range reloads {
				last = tables[(i+1)%2]
				replace(t, last.path, data)
				signal(t, s.Pid, syscall.SIGHUP)
				time.Sleep(50 * time.Millisecond)
			}
			probe := words[len(words)/2]
			settled := time.Now()
			var gen int
			eventually(t, "one generation serving the last table", func() bool {
				got, err := command(s, "GET "+probe)
				var one bool
				gen, one = generation(s, workers)
				return err == nil && got == fmt.Sprint(last.table[probe]) && one
			})
			settle := time.Since(settled)
			time.Sleep(300 * time.Millisecond) // load on the final generation
			close(stop)
			tcp.Wait()
			unix.Wait()

			record(t, fmt.Sprintf("%d SIGHUPs; one generation (%d) %v after the last", reloads, gen, settle.Round(10*time.Millisecond)), tcp, unix)
			for _, r := range []*testserver.Load{tcp, unix} {
				if r.Failed.Load() != 0 || r.Refused.Load() != 0 {
					t.Errorf("requests lost during the reloads: %s", r)
				}
			}
		})
	}
}

// replace puts a copy of the file src at dst atomically, as a deployment
// would: a reader of dst sees the old file or the new one, never a mix.
func replace(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		t.Fatal(err)
	}
}
