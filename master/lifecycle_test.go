package master_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/freqd/freqd/internal/testserver"
)

// buildTable writes a frequency file at path from "word count" pairs with
// the real `freqd build`.
func buildTable(t *testing.T, path string, pairs ...any) {
	t.Helper()
	table := testserver.Table{}
	for i := 0; i+1 < len(pairs); i += 2 {
		table[fmt.Sprint(pairs[i])] = uint64(pairs[i+1].(int))
	}
	if err := testserver.BuildTable(freqdBin, path, table); err != nil {
		t.Fatal(err)
	}
}

// bulk is the RESP reply for a count.
func bulk(n int) string { v := fmt.Sprint(n); return fmt.Sprintf("$%d\r\n%s\r\n", len(v), v) }

// eventually polls cond for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	waitFor(t, 10*time.Second, cond, func() string { return "timed out waiting for " + what })
}

func sameSet(a, b []int) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestReloadUnderLoad: SIGHUP with new data switches the answers to the new
// table with zero failed requests; a bad file changes nothing; a burst of
// SIGHUPs ends with one healthy generation.
func TestReloadUnderLoad(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "words.freq")
			buildTable(t, data, "alpha", 100, "beta", 5)
			s := startServer(t, mode, 2, "--data", data)
			old := s.waitWorkers(2, 5*time.Second)

			// Any of the tables' answers is right while generations switch
			// (the load runs across all three reloads below).
			either := func(w, reply string) bool {
				if w == "alpha" {
					return reply == bulk(100) || reply == bulk(200) || reply == bulk(300)
				}
				return reply == bulk(5)
			}
			stop := make(chan struct{})
			r := runLoad("tcp", s.tcp, 2, 2, []string{"alpha", "beta"}, either, stop)

			time.Sleep(500 * time.Millisecond) // load before the switch
			buildTable(t, data, "alpha", 200, "beta", 5)
			syscall.Kill(s.pid, syscall.SIGHUP)
			c := client(t, "tcp", s.tcp, 1)
			eventually(t, "the new table", func() bool {
				got, _ := c.Get(bg, "alpha").Result()
				return got == "200" && len(s.workers()) == 2 && !slices.ContainsFunc(s.workers(), func(p int) bool { return slices.Contains(old, p) })
			})

			// A corrupt file: logged, and the table being served stays.
			if err := os.WriteFile(data, []byte("FREQDTBL but not really a table"), 0o644); err != nil {
				t.Fatal(err)
			}
			before := s.workers()
			syscall.Kill(s.pid, syscall.SIGHUP)
			eventually(t, "the failed reload to be logged", func() bool { return strings.Contains(s.log.String(), "reload failed") })
			if got, err := c.Get(bg, "alpha").Result(); err != nil || got != "200" {
				t.Errorf("after a bad reload: GET alpha = %q, %v; want 200", got, err)
			}
			if !sameSet(before, s.workers()) {
				t.Errorf("a bad reload replaced workers: %v -> %v", before, s.workers())
			}

			// Ten SIGHUPs in a row leave one generation of two workers.
			buildTable(t, data, "alpha", 300, "beta", 5)
			for i := 0; i < 10; i++ {
				syscall.Kill(s.pid, syscall.SIGHUP)
			}
			eventually(t, "one generation after a burst of SIGHUPs", func() bool {
				got, _ := c.Get(bg, "alpha").Result()
				return got == "300" && len(s.workers()) == 2 && !strings.Contains(s.infoWorkers(t), "draining")
			})
			time.Sleep(500 * time.Millisecond) // load after the switch
			close(stop)
			r.Wait()
			t.Logf("%s: reloads under load: %s", mode, r)
			if r.Failed.Load() != 0 || r.Refused.Load() != 0 || r.Wrong.Load() != 0 {
				t.Errorf("requests lost during reloads: %s", r)
			}
		})
	}
}

// infoWorkers returns the "# Workers" section of INFO.
func (s *server) infoWorkers(t *testing.T) string {
	info, err := client(t, "tcp", s.tcp, 1).Info(bg, "workers").Result()
	if err != nil {
		return err.Error()
	}
	return info
}

// TestPoolSizeSignals: SIGTTIN adds a worker, SIGTTOU removes one, under
// load, with no failed request.
func TestPoolSizeSignals(t *testing.T) {
	s := startServer(t, "fdpass", 2)
	s.waitWorkers(2, 5*time.Second)
	stop := make(chan struct{})
	r := runLoad("tcp", s.tcp, 2, 2, testWords, defaultTable, stop)
	syscall.Kill(s.pid, syscall.SIGTTIN)
	s.waitWorkers(3, 5*time.Second)
	// Signals of one kind do not queue: wait for each to take effect.
	syscall.Kill(s.pid, syscall.SIGTTOU)
	s.waitWorkers(2, 10*time.Second)
	syscall.Kill(s.pid, syscall.SIGTTOU)
	s.waitWorkers(1, 10*time.Second)
	// That one is the minimum is the pool model's (TestShrinkAndGrow).
	close(stop)
	r.Wait()
	t.Logf("TTIN/TTOU under load: %s", r)
	if r.Failed.Load() != 0 || r.Wrong.Load() != 0 || r.OK.Load() == 0 {
		t.Errorf("requests failed while resizing the pool: %s", r)
	}
}

// TestStoppedWorkerIsReplaced: a worker that stops beating (SIGSTOP) is
// aborted and replaced after --worker-timeout.
func TestStoppedWorkerIsReplaced(t *testing.T) {
	s := startServer(t, "fdpass", 2, "--worker-timeout", "1s")
	ws := s.waitWorkers(2, 5*time.Second)
	syscall.Kill(ws[0], syscall.SIGSTOP)
	eventually(t, "the stopped worker to be replaced", func() bool {
		now := s.workers()
		return len(now) == 2 && !slices.Contains(now, ws[0])
	})
	if !strings.Contains(s.log.String(), "worker hung") {
		t.Errorf("no 'worker hung' line in the log")
	}
	if alive(ws[0]) {
		t.Errorf("hung worker %d still alive", ws[0])
	}
}

// copyFile copies src to dst atomically (temp file, rename), so a running
// binary at dst is replaced, not overwritten.
func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, b, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		t.Fatal(err)
	}
}

// TestUpgradeUnderLoad: SIGUSR2 starts the binary at the master's path as a
// new master on the same sockets; the old master hands over and exits, the
// pidfile names the new one, the unix socket file survives, and no request
// fails. A new binary that cannot start leaves the old master serving.
func TestUpgradeUnderLoad(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			bin := filepath.Join(t.TempDir(), "freqd")
			copyFile(t, freqdBin, bin, 0o755)
			s := startServerBin(t, bin, mode, 2)
			old := s.waitWorkers(2, 5*time.Second)

			stop := make(chan struct{})
			tcp := runLoad("tcp", s.tcp, 2, 2, testWords, defaultTable, stop)
			unixLoad := runLoad("unix", s.unix, 1, 1, testWords, defaultTable, stop)
			time.Sleep(300 * time.Millisecond)

			// A broken build at the path: the upgrade fails, nothing changes.
			if err := os.WriteFile(bin+".tmp", []byte("#!/bin/sh\nexit 3\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			os.Rename(bin+".tmp", bin)
			syscall.Kill(s.pid, syscall.SIGUSR2)
			eventually(t, "the failed upgrade to be logged", func() bool { return strings.Contains(s.log.String(), "upgrade failed") })
			if !alive(s.pid) || !sameSet(s.workers(), old) {
				t.Fatalf("a failed upgrade disturbed the old master")
			}

			// A good build: the new master takes over.
			copyFile(t, freqdBin, bin, 0o755)
			syscall.Kill(s.pid, syscall.SIGUSR2)
			select {
			case <-s.exited:
			case <-time.After(15 * time.Second):
				t.Fatal("old master still running 15s after SIGUSR2")
			}
			newPid := 0
			eventually(t, "the pidfile to name the new master", func() bool {
				b, _ := os.ReadFile(s.pidfile)
				fmt.Sscan(string(b), &newPid)
				return newPid != 0 && newPid != s.pid && alive(newPid)
			})
			t.Cleanup(func() { killTree(newPid) })
			time.Sleep(300 * time.Millisecond)
			close(stop)
			tcp.Wait()
			unixLoad.Wait()
			t.Logf("%s: upgrade under load: tcp %s; unix %s", mode, tcp, unixLoad)
			for _, r := range []*testserver.Load{tcp, unixLoad} {
				if r.Failed.Load() != 0 || r.Refused.Load() != 0 || r.Wrong.Load() != 0 {
					t.Errorf("requests lost during the upgrade: %s", r)
				}
			}
			for _, p := range old {
				if alive(p) {
					t.Errorf("old worker %d outlived its master", p)
				}
			}
			if _, err := os.Stat(s.unix); err != nil {
				t.Errorf("unix socket file after upgrade: %v", err)
			}
			if len(children(newPid)) != 2 {
				t.Errorf("new master has %d workers, want 2", len(children(newPid)))
			}
			// The new master serves both listeners.
			for _, network := range []string{"tcp", "unix"} {
				if got, err := client(t, network, dialAddr(s, network), 1).Get(bg, "the").Result(); err != nil || got != strconv.FormatUint(folded["the"], 10) {
					t.Errorf("%s after upgrade: GET the = %q, %v", network, got, err)
				}
			}
		})
	}
}

// TestSystemdActivation starts freqd the way systemd does: listening sockets
// passed as fd 3+ with LISTEN_FDS and LISTEN_PID, and a NOTIFY_SOCKET to
// report READY, RELOADING and STOPPING on.
func TestSystemdActivation(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lnFile, _ := ln.(*net.TCPListener).File()
	ln.Close()
	defer lnFile.Close()
	notifyPath := filepath.Join(dir, "notify")
	notify, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notifyPath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer notify.Close()
	messages := make(chan string, 16)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := notify.Read(buf)
			if err != nil {
				return
			}
			messages <- string(buf[:n])
		}
	}()
	expect := func(want string) string {
		t.Helper()
		select {
		case m := <-messages:
			if !strings.Contains(m, want) {
				t.Fatalf("sd_notify: got %q, want %q", m, want)
			}
			return m
		case <-time.After(15 * time.Second):
			t.Fatalf("sd_notify: no %q", want)
		}
		return ""
	}

	// LISTEN_PID must be the server's own pid: exec from a shell keeps it.
	cmd := exec.Command("/bin/sh", "-c", `LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" serve --workers 2 --log-json`, freqdBin)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+notifyPath)
	cmd.ExtraFiles = []*os.File{lnFile}
	var log testserver.Log
	cmd.Stderr = &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { killTree(pid); <-exited })

	ready := expect("READY=1")
	if !strings.Contains(ready, fmt.Sprintf("MAINPID=%d", pid)) {
		t.Errorf("READY without MAINPID=%d: %q", pid, ready)
	}
	addr := ln.Addr().String()
	c := client(t, "tcp", addr, 1)
	if got, err := c.Get(bg, "the").Result(); err != nil || got != strconv.FormatUint(folded["the"], 10) {
		t.Fatalf("GET through the systemd socket: %q, %v\n%s", got, err, log.String())
	}
	syscall.Kill(pid, syscall.SIGHUP)
	if m := expect("RELOADING=1"); !strings.Contains(m, "MONOTONIC_USEC=") {
		t.Errorf("RELOADING without MONOTONIC_USEC: %q", m)
	}
	expect("READY=1")
	syscall.Kill(pid, syscall.SIGTERM)
	expect("STOPPING=1")
	select {
	case <-exited:
	case <-time.After(15 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
}
