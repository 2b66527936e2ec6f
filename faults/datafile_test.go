package faults

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/freqd/freqd/internal/testserver"
)

// TestDataFileDamagedWhileServed damages the data file in place under
// load: truncated to nothing, then overwritten with its own valid header
// followed by garbage. The master validated the file once and serves a
// sealed in-memory copy, so no answer changes and no worker dies (a
// mapped file truncated under a reader would raise SIGBUS). A SIGHUP
// while the file is bad is refused and the old table stays; a SIGHUP
// after a good file is written back switches to it without a failure.
func TestDataFileDamagedWhileServed(t *testing.T) {
	data := filepath.Join(t.TempDir(), "words.freq")
	if out, err := exec.Command(freqdBin, "build", "--default", "-o", data).CombinedOutput(); err != nil {
		t.Fatalf("freqd build --default: %v\n%s", err, out)
	}
	good, err := os.ReadFile(data)
	if err != nil {
		t.Fatal(err)
	}
	const workers = 2
	s := start(t, "fdpass", workers, "--data", data)
	ws := s.Workers()
	stop := make(chan struct{})
	damaged := load(s, "tcp", testserver.Subtlex().Check, stop)
	time.Sleep(300 * time.Millisecond)

	const headerLen = 128 // docs/format.md: the header has its own checksum
	garbage := slices.Clone(good)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := headerLen; i < len(garbage); i++ {
		garbage[i] = byte(rng.Uint32())
	}
	damage := []struct {
		name string
		do   func() error
	}{
		{"truncated to 0 bytes", func() error { return os.Truncate(data, 0) }},
		{"valid header, garbage body", func() error { return overwrite(data, garbage) }},
	}
	for i, d := range damage {
		if err := d.do(); err != nil {
			t.Fatalf("case %d (%s): %v", i, d.name, err)
		}
		time.Sleep(300 * time.Millisecond) // served from the damaged file
		failedBefore := strings.Count(s.Log.String(), "reload failed")
		signal(t, s.Pid, syscall.SIGHUP)
		eventually(t, fmt.Sprintf("case %d (%s): the reload to fail", i, d.name), func() bool {
			return strings.Count(s.Log.String(), "reload failed") > failedBefore
		})
		time.Sleep(300 * time.Millisecond) // served after the refused reload
		if now := s.Workers(); !sameSet(now, ws) {
			t.Errorf("case %d (%s): workers changed from %v to %v: one died, or the bad file was loaded", i, d.name, ws, now)
		}
	}
	close(stop)
	damaged.Wait()
	if damaged.Failed.Load() != 0 {
		t.Errorf("requests failed while the file was damaged: %s", damaged)
	}

	// A good file again, a different table: the next reload takes it.
	next := testserver.Subtlex().Scaled(words, 3)
	if err := testserver.BuildTable(freqdBin, data, next); err != nil {
		t.Fatal(err)
	}
	stop = make(chan struct{})
	switched := load(s, "tcp", testserver.Either(testserver.Subtlex(), next), stop)
	signal(t, s.Pid, syscall.SIGHUP)
	probe := words[len(words)/2]
	eventually(t, "the good file to be served", func() bool {
		got, err := command(s, "GET "+probe)
		_, one := generation(s, workers)
		return err == nil && got == fmt.Sprint(next[probe]) && one
	})
	time.Sleep(300 * time.Millisecond)
	close(stop)
	switched.Wait()
	if switched.Failed.Load() != 0 {
		t.Errorf("requests failed while switching to the good file: %s", switched)
	}
	record(t, "truncated, then garbage: 2 reloads refused, old table kept; good file: switched", damaged, switched)
}

// overwrite replaces the contents of the file at path in place (same
// inode, as a careless `cat new > path` does), unlike an atomic rename.
func overwrite(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// sameSet says whether a and b hold the same pids.
func sameSet(a, b []int) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestMappedFileTruncatedAndWorkersRestart: with --data-mode map, the data
// file is truncated in place and the workers die (killed here): their
// replacements cannot map the file. That is no crash loop: the master
// says what is true (no worker can serve; replace the file and send
// SIGHUP), keeps its listeners, and its workers answer every client with
// that error rather than a reset. Once a good file is renamed into place,
// a SIGHUP brings the answers back.
func TestMappedFileTruncatedAndWorkersRestart(t *testing.T) {
	data := filepath.Join(t.TempDir(), "words.freq")
	if err := testserver.BuildTable(freqdBin, data, testserver.Table{"alpha": 100, "beta": 5}); err != nil {
		t.Fatal(err)
	}
	s := start(t, "fdpass", 2, "--data", data, "--data-mode", "map")
	before := testserver.ListenInodes(s.Port())
	if err := os.Truncate(data, 0); err != nil {
		t.Fatal(err)
	}
	for _, w := range s.Workers() {
		syscall.Kill(w, syscall.SIGKILL)
	}
	eventually(t, "the master to say no worker can serve", func() bool { return s.Log.Contains("no worker can serve it") })
	var got string
	eventually(t, "clients to get the reason", func() bool {
		var err error
		got, err = command(s, "GET alpha")
		return err == nil && strings.Contains(got, "no worker can serve")
	})
	// A SIGHUP with the file still bad says so truthfully.
	signal(t, s.Pid, syscall.SIGHUP)
	eventually(t, "the refused reload", func() bool { return s.Log.Contains("no worker can serve the old table either") })

	// A good file, renamed into place (freqd build writes atomically).
	if err := testserver.BuildTable(freqdBin, data, testserver.Table{"alpha": 300, "beta": 5}); err != nil {
		t.Fatal(err)
	}
	signal(t, s.Pid, syscall.SIGHUP)
	eventually(t, "answers from the good file", func() bool {
		got, err := command(s, "GET alpha")
		return err == nil && got == "300"
	})
	if after := testserver.ListenInodes(s.Port()); !slices.Equal(after, before) {
		t.Errorf("listening sockets changed: before %v, after %v", before, after)
	}
	stop := make(chan struct{})
	l := load(s, "tcp", testserver.Table{"alpha": 300, "beta": 5}.Check, stop)
	time.Sleep(300 * time.Millisecond)
	close(stop)
	l.Wait()
	record(t, "mapped file truncated, workers killed: unavailable workers said why; good file + SIGHUP: served", l)
}
