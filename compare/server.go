package compare

import (
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/freqd/freqd/internal/launch"
	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/internal/procstat"
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
	proc *launch.Process
	root procstat.Stat

	mu   sync.Mutex
	seen map[int]procstat.Stat // every process of the server observed, by pid
	tail *tail                 // its last log lines, for error messages
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
	s := &server{mode: m, seen: map[int]procstat.Stat{}, tail: &tail{}}
	p, err := launch.Start(bin, launch.Options{Args: args, Log: s.tail, Wait: readyTimeout, Pdeathsig: true})
	if err != nil {
		return nil, fmt.Errorf("freqd serve --mode %s: %w: %s", m, err, s.tail)
	}
	s.proc, s.cmd = p, p.Cmd
	if ls := p.Listen(); len(ls) > 0 {
		s.addr = ls[0]
	}
	root, err := procstat.Read(s.cmd.Process.Pid)
	if err != nil {
		s.stop()
		return nil, fmt.Errorf("freqd serve --mode %s: %w", m, err)
	}
	s.root = root
	s.observe()
	return s, nil
}

// tail keeps a server's last few log lines.
type tail struct {
	mu    sync.Mutex
	lines []string
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.lines = append(t.lines, strings.TrimRight(string(b), "\n")); len(t.lines) > 5 {
		t.lines = t.lines[1:]
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == 0 {
		return "no log output"
	}
	return strings.Join(t.lines, " | ")
}

// pid is the server's master (or only) process.
func (s *server) pid() int { return s.root.PID }

// observe records the server's current processes, so that stop can kill
// them by pid even after the master is gone and they are re-parented.
func (s *server) observe() []procstat.Stat {
	tree, err := processTree(s.root.PID)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range tree {
		s.seen[p.PID] = p
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
	case <-s.proc.Exited():
	case <-time.After(stopGrace):
		s.cmd.Process.Kill()
		killed++
		<-s.proc.Exited()
	}
	s.proc.CloseLog()
	s.mu.Lock()
	procs := make([]procstat.Stat, 0, len(s.seen))
	for _, p := range s.seen {
		if p.PID != s.root.PID {
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
			syscall.Kill(p.PID, syscall.SIGKILL)
			killed++
		}
	}
	var left []string
	for _, p := range procs {
		for i := 0; i < 100 && alive(p); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		if alive(p) {
			left = append(left, strconv.Itoa(p.PID))
		}
	}
	if len(left) > 0 {
		return killed, errors.New("freqd serve --mode " + string(s.mode) + ": processes " + strings.Join(left, ", ") + " survive SIGKILL")
	}
	return killed, nil
}
