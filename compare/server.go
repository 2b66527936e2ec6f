package compare

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/freqd/freqd/internal/mode"
)

// Bounds on a server's start and stop. The server is asked for a short
// shutdown timeout, so a graceful stop that takes longer than stopGrace has
// hung and is killed.
const (
	readyTimeout    = 20 * time.Second
	shutdownTimeout = 2 * time.Second
	stopGrace       = shutdownTimeout + 3*time.Second
)

// server is one running `freqd serve`.
type server struct {
	mode mode.Mode
	addr string // first address of the ready line
	cmd  *exec.Cmd
	root procStat

	exited chan struct{} // closed when cmd.Wait returns
	mu     sync.Mutex
	seen   map[int]procStat // every process of the server observed, by pid
	tail   []string         // its last log lines, for error messages
}

// startServer starts bin serve in mode m with workers workers (ignored by the
// baseline designs) on a free loopback port and waits for it to log
// "ready".
func startServer(bin string, m mode.Mode, dataPath string, workers int) (*server, error) {
	args := []string{"serve", "--mode", string(m),
		"--listen", "127.0.0.1:0", "--log-json", "--log-level", "info",
		"--shutdown-timeout", shutdownTimeout.String()}
	if m.IsPreForked() {
		// The classic designs are one process each and refuse --workers.
		args = append(args, "--workers", strconv.Itoa(workers))
	}
	if dataPath != "" {
		args = append(args, "--data", dataPath)
	}
	s := &server{mode: m, cmd: exec.Command(bin, args...), exited: make(chan struct{}), seen: map[int]procStat{}}
	// A process group of its own keeps a terminal's Ctrl-C for us: we stop
	// the server ourselves, in order. Pdeathsig kills it if we die first.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := s.startLocked(); err != nil {
		return nil, fmt.Errorf("start %s serve --mode %s: %w", bin, m, err)
	}
	ready := make(chan string, 1)
	go s.readLog(stderr, ready)
	select {
	case s.addr = <-ready:
	case <-s.exited:
		return nil, fmt.Errorf("freqd serve --mode %s exited before it was ready: %s", m, s.lastLines())
	case <-time.After(readyTimeout):
		s.stop()
		return nil, fmt.Errorf("freqd serve --mode %s: not ready within %v: %s", m, readyTimeout, s.lastLines())
	}
	root, err := readStat(s.cmd.Process.Pid)
	if err != nil {
		s.stop()
		return nil, fmt.Errorf("freqd serve --mode %s: %w", m, err)
	}
	s.root = root
	s.observe()
	return s, nil
}

// startLocked starts the process from a goroutine locked to its thread
// until the process has exited: Pdeathsig fires when the thread that
// started the child exits, and Go retires idle threads (golang/go#27505).
func (s *server) startLocked() error {
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if err := s.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		s.cmd.Wait()
		close(s.exited)
	}()
	return <-started
}

// readLog reads the server's JSON log lines, sends the first listen
// address of the "ready" line, keeps the last few lines for error messages,
// and drains the pipe until it closes: a full pipe would block the server.
func (s *server) readLog(r io.Reader, ready chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	sent := false
	for sc.Scan() {
		line := sc.Text()
		s.mu.Lock()
		if s.tail = append(s.tail, line); len(s.tail) > 5 {
			s.tail = s.tail[1:]
		}
		s.mu.Unlock()
		if sent {
			continue
		}
		var l struct {
			Message string `json:"@message"`
			Listen  string `json:"listen"`
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.Message == "ready" && l.Listen != "" {
			addr, _, _ := strings.Cut(l.Listen, ",")
			ready <- addr
			sent = true
		}
	}
	io.Copy(io.Discard, r)
}

func (s *server) lastLines() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.tail) == 0 {
		return "no log output"
	}
	return strings.Join(s.tail, " | ")
}

// pid is the server's master (or only) process.
func (s *server) pid() int { return s.root.pid }

// observe records the server's current processes, so that stop can kill
// them by pid even after the master is gone and they are re-parented.
func (s *server) observe() []procStat {
	tree, err := processTree(s.root.pid)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range tree {
		s.seen[p.pid] = p
	}
	return tree
}

// stop ends the server: SIGTERM to the master, and once it has exited or
// stopGrace has passed, SIGKILL to it and to every process of it that was
// ever observed and is still alive. It reports the processes it had to
// kill; an error means some could not be ended.
func (s *server) stop() (killed int, err error) {
	if s.cmd.Process == nil {
		return 0, nil
	}
	s.observe()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(stopGrace):
		s.cmd.Process.Kill()
		killed++
		<-s.exited
	}
	s.mu.Lock()
	procs := make([]procStat, 0, len(s.seen))
	for _, p := range s.seen {
		if p.pid != s.root.pid {
			procs = append(procs, p)
		}
	}
	s.mu.Unlock()
	// Workers exit on their own once the master is gone; give them a moment
	// before they are killed.
	deadline := time.Now().Add(time.Second)
	for _, p := range procs {
		for alive(p) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if alive(p) {
			syscall.Kill(p.pid, syscall.SIGKILL)
			killed++
		}
	}
	var left []string
	for _, p := range procs {
		for i := 0; i < 100 && alive(p); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		if alive(p) {
			left = append(left, strconv.Itoa(p.pid))
		}
	}
	if len(left) > 0 {
		return killed, errors.New("freqd serve --mode " + string(s.mode) + ": processes " + strings.Join(left, ", ") + " survive SIGKILL")
	}
	return killed, nil
}
