// Package launch starts `freqd serve` as a child process and waits for the
// line it logs once it serves ("ready", with the addresses it bound), the
// one way the benchmarks (package compare) and the tests
// (internal/testserver) start a server.
package launch

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// Options say how to start a server.
type Options struct {
	// Args follow the binary, "serve" included. The server must log JSON
	// (--log-json), which is how its ready line is found.
	Args []string
	// Log receives every line the server (and its workers) write to
	// standard error, as it arrives. It must not block.
	Log io.Writer
	// Wait bounds how long the server may take to log "ready".
	Wait time.Duration
	// Pdeathsig kills the server if this process dies first. The server is
	// then started from a goroutine locked to its OS thread for the
	// server's life: the signal fires when the starting thread exits, and
	// Go retires threads at will.
	Pdeathsig bool
}

// Process is a started server.
type Process struct {
	Cmd *exec.Cmd
	// Ready holds the fields of the ready line: "listen" (a comma list of
	// the bound addresses), "pid", "mode", and "metrics" when served.
	Ready map[string]any

	logPipe *os.File
	exited  chan struct{}
}

// Start starts bin with opts.Args and returns once it has logged "ready".
// If it exits first, or is not ready within opts.Wait, it is killed and
// the error says so; what it logged went to opts.Log.
func Start(bin string, opts Options) (*Process, error) {
	p := &Process{Cmd: exec.Command(bin, opts.Args...), exited: make(chan struct{})}
	// A process group of its own keeps a terminal's Ctrl-C for the caller,
	// which stops the server itself, in order.
	p.Cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if opts.Pdeathsig {
		p.Cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	}
	// A real pipe, not an io.Writer: Wait must return when the server
	// exits, even while a successor master (SIGUSR2) or an orphaned worker
	// still holds the write end.
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	p.Cmd.Stderr = pw
	started := make(chan error, 1)
	go func() {
		if opts.Pdeathsig {
			runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		}
		if err := p.Cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.Cmd.Wait()
		close(p.exited)
	}()
	err = <-started
	pw.Close()
	if err != nil {
		pr.Close()
		return nil, err
	}
	p.logPipe = pr
	ready := make(chan map[string]any, 1)
	go p.readLog(opts.Log, ready)
	select {
	case p.Ready = <-ready:
		return p, nil
	case <-p.exited:
		p.logPipe.Close()
		return nil, fmt.Errorf("%s exited before it was ready (%s)", strings.Join(opts.Args, " "), p.Cmd.ProcessState)
	case <-time.After(opts.Wait):
		p.Cmd.Process.Kill()
		<-p.exited
		p.logPipe.Close()
		return nil, fmt.Errorf("%s: not ready after %v", strings.Join(opts.Args, " "), opts.Wait)
	}
}

// readLog copies the server's log lines to w and sends the first ready
// line, then drains the pipe until it closes: a full pipe would block the
// server.
func (p *Process) readLog(w io.Writer, ready chan<- map[string]any) {
	if w == nil {
		w = io.Discard
	}
	sc := bufio.NewScanner(p.logPipe)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	sent := false
	var buf []byte
	for sc.Scan() {
		line := sc.Bytes()
		buf = append(append(buf[:0], line...), '\n')
		w.Write(buf)
		if sent {
			continue
		}
		var fields map[string]any
		if json.Unmarshal(line, &fields) == nil && fields["@message"] == "ready" {
			ready <- fields
			sent = true
		}
	}
	io.Copy(w, p.logPipe)
}

// Listen is the ready line's bound addresses: host:port, unix:/path,
// udp:host:port and unixgram:/path.
func (p *Process) Listen() []string {
	s, _ := p.Ready["listen"].(string)
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// Exited is closed once the server's process has exited and been reaped.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// CloseLog stops reading the server's log.
func (p *Process) CloseLog() { p.logPipe.Close() }
