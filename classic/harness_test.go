package classic_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/freqd/freqd/internal/testserver"
	"github.com/redis/go-redis/v9"
)

// freqdBin is the freqd binary built once for every test in this package:
// the tests run each design as a real process on real sockets.
var freqdBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "freqd-classic-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	freqdBin = filepath.Join(dir, "freqd")
	args := []string{"build", "-o", freqdBin}
	if raceBuild {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, "github.com/freqd/freqd/cmd/freqd")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build freqd:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var bg = context.Background()

// folded is the embedded SUBTLEX-US list as the default table serves it
// (case folded), computed from the raw list by the shared test support.
var folded = testserver.Subtlex()

// server is a running `freqd serve --mode <design>` started by a test.
type server struct {
	t       *testing.T
	mode    string
	cmd     *exec.Cmd
	pid     int
	tcp     string // host:port actually bound
	unix    string // socket path
	pidfile string
	log     *syncBuffer
	exited  chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServer starts a design on a kernel-chosen loopback port and a unix
// socket in a temporary directory, waits for its "ready" line, and arranges
// for it and every process it started to be killed, by pid, when the test
// ends.
func startServer(t *testing.T, mode string, extra ...string) *server {
	t.Helper()
	dir := t.TempDir()
	s := &server{t: t, mode: mode, unix: filepath.Join(dir, "freqd.sock"), pidfile: filepath.Join(dir, "freqd.pid"),
		log: &syncBuffer{}, exited: make(chan struct{})}
	args := append([]string{"serve", "--mode", mode,
		"--listen", "127.0.0.1:0", "--listen", "unix:" + s.unix, "--pidfile", s.pidfile,
		"--log-json", "--log-level", "debug", "--shutdown-timeout", "3s"}, extra...)
	s.cmd = exec.Command(freqdBin, args...)
	pr, pw := io.Pipe()
	s.cmd.Stderr = io.MultiWriter(s.log, pw)
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.pid = s.cmd.Process.Pid
	go func() { s.cmd.Wait(); pw.Close(); close(s.exited) }()
	t.Cleanup(s.kill)

	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) == nil && line["@message"] == "ready" {
				ready <- fmt.Sprint(line["listen"])
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case listen := <-ready:
		for _, a := range strings.Split(listen, ",") {
			if !strings.HasPrefix(a, "unix:") {
				s.tcp = a
			}
		}
	case <-s.exited:
		t.Fatalf("freqd serve --mode %s exited before ready:\n%s", mode, s.log)
	case <-time.After(20 * time.Second):
		t.Fatalf("freqd serve --mode %s not ready after 20s:\n%s", mode, s.log)
	}
	return s
}

// kill ends the server and every child it started by pid, whatever state
// they are in.
func (s *server) kill() {
	pids := children(s.pid, false)
	syscall.Kill(s.pid, syscall.SIGKILL)
	for _, p := range pids {
		syscall.Kill(p, syscall.SIGKILL)
	}
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		s.t.Errorf("server %d did not exit after SIGKILL", s.pid)
	}
	if strings.Contains(s.log.String(), "WARNING: DATA RACE") {
		s.t.Errorf("the server reported a data race")
	}
	if s.t.Failed() {
		s.t.Logf("server log:\n%s", s.log)
	}
}

// dialAddr is the address of a listener for go-redis and net.Dial.
func (s *server) dialAddr(network string) string {
	if network == "unix" {
		return s.unix
	}
	return s.tcp
}

// children lists the processes whose parent is pid; zombies are included
// only when asked for.
func children(pid int, zombies bool) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		ppid, state, ok := procStat(p)
		if ok && ppid == pid && (zombies || state != 'Z') {
			out = append(out, p)
		}
	}
	return out
}

// zombieChildren lists pid's children that have exited and not been reaped.
func zombieChildren(pid int) []int {
	var out []int
	for _, p := range children(pid, true) {
		if _, state, ok := procStat(p); ok && state == 'Z' {
			out = append(out, p)
		}
	}
	return out
}

// procStat reads a process's parent pid and state from /proc/PID/stat.
func procStat(pid int) (ppid int, state byte, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, false
	}
	// The command name is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+4 > len(b) {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+2:]))
	if len(f) < 2 {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(f[1])
	return ppid, f[0][0], err == nil
}

// openFDs lists a process's open descriptors with what they point to.
func openFDs(t *testing.T, pid int) []string {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		target, _ := os.Readlink(filepath.Join(dir, e.Name()))
		out = append(out, e.Name()+" -> "+target)
	}
	return out
}

// client returns a go-redis client for addr (host:port or a unix path)
// with one connection, so that it never needs a second one from a design
// that serves one connection at a time.
func client(t *testing.T, network, addr string) *redis.Client {
	c := redis.NewClient(&redis.Options{Network: network, Addr: addr, PoolSize: 1,
		MaxRetries: -1, DialTimeout: 5 * time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second})
	t.Cleanup(func() { c.Close() })
	return c
}

// waitFor polls cond until it holds or within passes.
func waitFor(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}
