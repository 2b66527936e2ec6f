package master_test

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

	"github.com/redis/go-redis/v9"
)

// freqdBin is the freqd binary built once for every test in this package:
// the tests run the real master and real workers as processes.
var freqdBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "freqd-master-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	freqdBin = filepath.Join(dir, "freqd")
	build := exec.Command("go", "build", "-o", freqdBin, "github.com/freqd/freqd/cmd/freqd")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build freqd:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a running `freqd serve` started by a test.
type server struct {
	t       *testing.T
	mode    string
	cmd     *exec.Cmd
	pid     int
	tcp     string // host:port actually bound
	unix    string // socket path, "" if none
	udp     string // udp: address actually bound (host:port), "" if none
	dgram   string // unixgram: socket path, "" if none
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

// startServer starts a master on a kernel-chosen loopback port and a unix
// socket in a temporary directory, waits until it is ready, and arranges for
// it and every worker it started to be killed (by pid) when the test ends.
func startServer(t *testing.T, mode string, workers int, extra ...string) *server {
	t.Helper()
	return startServerBin(t, freqdBin, mode, workers, extra...)
}

// startServerBin is startServer with another freqd binary.
func startServerBin(t *testing.T, bin, mode string, workers int, extra ...string) *server {
	t.Helper()
	dir := t.TempDir()
	s := &server{t: t, mode: mode, unix: filepath.Join(dir, "freqd.sock"), pidfile: filepath.Join(dir, "freqd.pid"),
		log: &syncBuffer{}, exited: make(chan struct{})}
	args := append([]string{"serve", "--mode", mode, "--workers", strconv.Itoa(workers),
		"--listen", "127.0.0.1:0", "--listen", "unix:" + s.unix, "--pidfile", s.pidfile,
		"--log-json", "--log-level", "debug", "--shutdown-timeout", "3s"}, extra...)
	s.cmd = exec.Command(bin, args...)
	// A real pipe, not an io.Writer: Wait must return when the master
	// exits, even while a successor master (SIGUSR2) still writes to it.
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stderr = pw
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	s.pid = s.cmd.Process.Pid
	go func() { s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(s.kill)
	t.Cleanup(func() { pr.Close() })

	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(io.TeeReader(pr, s.log))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) == nil && line["@message"] == "ready" {
				select { // only the first ready line matters; never block the pipe
				case ready <- fmt.Sprint(line["listen"]):
				default:
				}
			}
		}
		io.Copy(s.log, pr)
	}()
	select {
	case listen := <-ready:
		for _, a := range strings.Split(listen, ",") {
			switch {
			case strings.HasPrefix(a, "udp:"):
				s.udp = strings.TrimPrefix(a, "udp:")
			case strings.HasPrefix(a, "unixgram:"):
				s.dgram = strings.TrimPrefix(a, "unixgram:")
			case !strings.HasPrefix(a, "unix:"):
				s.tcp = a
			}
		}
	case <-s.exited:
		t.Fatalf("freqd serve exited before ready:\n%s", s.log)
	case <-time.After(20 * time.Second):
		t.Fatalf("freqd serve not ready after 20s:\n%s", s.log)
	}
	return s
}

// kill ends the master and every worker by pid, whatever state they are in.
func (s *server) kill() {
	pids := children(s.pid)
	syscall.Kill(s.pid, syscall.SIGKILL)
	for _, p := range pids {
		syscall.Kill(p, syscall.SIGCONT)
		syscall.Kill(p, syscall.SIGKILL)
	}
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		s.t.Errorf("master %d did not exit after SIGKILL", s.pid)
	}
	if s.t.Failed() {
		s.t.Logf("server log:\n%s", s.log)
	}
}

// workers returns the pids of the master's live children.
func (s *server) workers() []int { return children(s.pid) }

// waitWorkers waits until the master has n live, serving children.
func (s *server) waitWorkers(n int, within time.Duration) []int {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for {
		w := s.workers()
		if len(w) == n {
			return w
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("want %d workers, have %d (%v)", n, len(w), w)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// children lists the processes whose parent is pid, excluding zombies.
func children(pid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		ppid, state, ok := procStat(p)
		if ok && ppid == pid && state != 'Z' {
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

func alive(pid int) bool {
	_, state, ok := procStat(pid)
	return ok && state != 'Z'
}

// client returns a go-redis client for addr (host:port or a unix path).
func client(t *testing.T, network, addr string, poolSize int) *redis.Client {
	c := redis.NewClient(&redis.Options{Network: network, Addr: addr, PoolSize: poolSize,
		MaxRetries: -1, DialTimeout: 5 * time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second})
	t.Cleanup(func() { c.Close() })
	return c
}

// openFDs counts a process's open descriptors.
func openFDs(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

var bg = context.Background()

// dialAddr is the network and address of a listener for go-redis and net.Dial.
func dialAddr(s *server, network string) string {
	if network == "unix" {
		return s.unix
	}
	return s.tcp
}
