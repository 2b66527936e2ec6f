package master_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// runToFailure runs `freqd serve` with args, expecting it to refuse to
// start; it returns the exit code and everything it logged.
func runToFailure(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(freqdBin, append([]string{"serve"}, args...)...)
	done := make(chan struct{})
	var out []byte
	go func() { out, _ = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		if cmd.Process != nil {
			cmd.Process.Kill()
			killTree(cmd.Process.Pid)
		}
		t.Fatalf("freqd serve %v did not exit", args)
	}
	return cmd.ProcessState.ExitCode(), string(out)
}

// TestStartupRefusals: bad configuration is refused at start with a clear
// message, and nothing is left bound or running.
func TestStartupRefusals(t *testing.T) {
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.freq")
	os.WriteFile(corrupt, []byte("this is not a frequency table at all, not even close to one"), 0o644)
	long := "unix:" + dir + "/" + strings.Repeat("s", 120)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"protected mode", []string{"--listen", "0.0.0.0:0"}, "no password is set"},
		{"corrupt data", []string{"--listen", "127.0.0.1:0", "--data", corrupt}, corrupt},
		{"missing data", []string{"--listen", "127.0.0.1:0", "--data", dir + "/nope.freq"}, "no such file"},
		{"socket path too long", []string{"--listen", long}, "the limit is 107"},
		{"bad mode", []string{"--mode", "threads"}, "unknown mode threads; the pre-forked modes are fdpass, accept, reuseport, the classic ones iterative, fork, goroutine, epoll"},
		{"unknown user", []string{"--listen", "127.0.0.1:0", "--user", "no-such-user-freqd"}, "no-such-user-freqd"},
	}
	for i, tc := range tests {
		code, out := runToFailure(t, tc.args...)
		if code == 0 || !strings.Contains(out, tc.want) {
			t.Errorf("case %d (%s): exit %d, output:\n%s\nwant an error containing %q", i, tc.name, code, out, tc.want)
		}
	}
	// With a password, or with protected mode off, the same address works.
	s := startServer(t, "fdpass", 1, "--listen", "0.0.0.0:0", "--protected-mode", "no")
	_ = s
}

// TestPortInUseAndPidfileLock: a second master on the same port or the same
// pidfile is refused, naming what is in the way, and the first keeps serving.
func TestPortInUseAndPidfileLock(t *testing.T) {
	s := startServer(t, "fdpass", 1)
	code, out := runToFailure(t, "--listen", s.tcp)
	if code == 0 || !strings.Contains(out, "address already in use") {
		t.Errorf("second master on %s: exit %d\n%s", s.tcp, code, out)
	}
	code, out = runToFailure(t, "--listen", "127.0.0.1:0", "--pidfile", s.pidfile)
	if code == 0 || !strings.Contains(out, "locked by a running master") {
		t.Errorf("second master with the same pidfile: exit %d\n%s", code, out)
	}
	if b, _ := os.ReadFile(s.pidfile); strings.TrimSpace(string(b)) != strconv.Itoa(s.pid) {
		t.Errorf("pidfile now says %q, want %d", b, s.pid)
	}
	if got, err := client(t, "tcp", s.tcp, 1).Ping(bg).Result(); err != nil || got != "PONG" {
		t.Errorf("first master after the refusals: %q, %v", got, err)
	}
}

// TestMaxClients: the connection over the limit gets Redis's error and is
// closed; the connections within the limit go on being served.
func TestMaxClients(t *testing.T) {
	s := startServer(t, "fdpass", 2, "--max-clients", "3")
	var held []*redis.Client
	for i := 0; i < 3; i++ {
		c := client(t, "tcp", s.tcp, 1)
		if err := c.Ping(bg).Err(); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		held = append(held, c)
	}
	// The error comes first thing, before any command: read it raw (a
	// client library would first send HELLO and swallow the error as an
	// old server's answer to it).
	c, err := net.Dial("tcp", s.tcp)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if line != "-ERR max number of clients reached\r\n" {
		t.Errorf("fourth connection: %q, %v", line, err)
	}
	for i, c := range held {
		if err := c.Ping(bg).Err(); err != nil {
			t.Errorf("client %d within the limit: %v", i, err)
		}
	}
}

// TestMaxRequestsRecyclesWithoutFailure: workers that serve --max-requests
// are replaced under load without a failed request.
func TestMaxRequestsRecyclesWithoutFailure(t *testing.T) {
	s := startServer(t, "accept", 2, "--max-requests", "500")
	first := s.waitWorkers(2, 5*time.Second)
	stop := make(chan struct{})
	r := runLoad("tcp", s.tcp, 2, 2, testWords, defaultTable, stop)
	eventually(t, "both first workers to be recycled", func() bool {
		now := s.workers()
		return len(now) == 2 && !slices.ContainsFunc(now, func(p int) bool { return slices.Contains(first, p) })
	})
	time.Sleep(300 * time.Millisecond)
	close(stop)
	r.Wait()
	t.Logf("recycling under load: %s", r)
	if r.Failed.Load() != 0 || r.Wrong.Load() != 0 || r.Refused.Load() != 0 {
		t.Errorf("requests lost while recycling: %s", r)
	}
	if !strings.Contains(s.log.String(), "recycling worker") {
		t.Errorf("no recycling in the log")
	}
}

// TestWorkersRunAsUser: with --user the master stays root and the workers
// run as that user.
func TestWorkersRunAsUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	// The binary must be reachable by nobody: copy it out of the 0700 temp dir.
	dir, err := os.MkdirTemp("", "freqd-user-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "freqd")
	copyFile(t, freqdBin, bin, 0o755)
	s := startServerBin(t, bin, "fdpass", 2, "--user", "nobody")
	for _, p := range s.waitWorkers(2, 5*time.Second) {
		var st syscall.Stat_t
		if err := syscall.Stat("/proc/"+strconv.Itoa(p), &st); err != nil || st.Uid != 65534 {
			t.Errorf("worker %d runs as uid %d (%v), want nobody (65534)", p, st.Uid, err)
		}
	}
	var st syscall.Stat_t
	syscall.Stat("/proc/"+strconv.Itoa(s.pid), &st)
	if st.Uid != 0 {
		t.Errorf("master runs as uid %d, want root", st.Uid)
	}
	if got, err := client(t, "tcp", s.tcp, 1).Get(bg, "the").Result(); err != nil || got == "" {
		t.Errorf("GET through workers running as nobody: %q, %v", got, err)
	}
}

// TestMetrics scrapes the master's Prometheus endpoint: per-worker command
// counts, restarts by cause, the pool and the accept queues.
func TestMetrics(t *testing.T) {
	s := startServer(t, "fdpass", 2, "--metrics-listen", "127.0.0.1:0")
	url := s.Metrics
	if url == "" {
		t.Fatalf("no metrics address in the ready line")
	}
	scrape := func() string {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	sum := func(text, prefix string) float64 {
		var total float64
		for _, line := range strings.Split(text, "\n") {
			if strings.HasPrefix(line, prefix) {
				f := strings.Fields(line)
				v, _ := strconv.ParseFloat(f[len(f)-1], 64)
				total += v
			}
		}
		return total
	}
	c := client(t, "tcp", s.tcp, 1)
	for i := 0; i < 25; i++ {
		c.Get(bg, "the")
	}
	// Workers publish their counters with each heartbeat: wait for the
	// GETs to be counted before killing one, or they could die unpublished.
	eventually(t, "the metrics to show the GETs", func() bool {
		return sum(scrape(), `freqd_commands_total{command="get"`) >= 25
	})
	w := s.waitWorkers(2, 5*time.Second)
	syscall.Kill(w[0], syscall.SIGKILL)
	s.waitWorkers(2, 5*time.Second)

	// A killed worker's counters go with it (a counter reset, which
	// Prometheus's rate() expects); the restart is the master's to count.
	var text string
	eventually(t, "the metrics to show the restart", func() bool {
		text = scrape()
		return sum(text, `freqd_worker_restarts_total{cause="signal killed"}`) == 1
	})
	for _, want := range []string{"freqd_workers 2", "freqd_table_words 74286", `freqd_accept_queue_limit{listen="` + s.tcp + `"`, "freqd_worker_heartbeat_age_seconds"} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
