package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/internal/testserver"
	"github.com/freqd/freqd/shm/freqfile"
)

// The stamp a release build gets from `make build`, here fixed so that
// the tests can look for it wherever freqd reports its version.
const (
	stampVersion = "v9.8.7-test"
	stampCommit  = "0123456789abcdef0123456789abcdef01234567"
	stampDate    = "2026-01-02T03:04:05Z"
)

var stamped struct {
	once sync.Once
	bin  string
	err  error
}

// stampedBin builds freqd once with the version stamped by the linker, as
// `make build` does.
func stampedBin(t *testing.T) string {
	t.Helper()
	stamped.once.Do(func() {
		const pkg = "github.com/freqd/freqd/internal/version"
		dir, err := os.MkdirTemp("", "freqd-stamped-")
		if err != nil {
			stamped.err = err
			return
		}
		stamped.bin, stamped.err = testserver.Build(dir, "-ldflags",
			fmt.Sprintf("-X %s.version=%s -X %s.commit=%s -X %s.date=%s", pkg, stampVersion, pkg, stampCommit, pkg, stampDate))
	})
	if stamped.err != nil {
		t.Fatal(stamped.err)
	}
	return stamped.bin
}

// TestServerReportsItsVersion pins that a stamped binary names its version
// wherever an operator looks: freqd version, INFO's freqd_version in every
// design (served by workers, by the classic servers, and by the fork
// design's connection processes), the first log line, and /metrics.
func TestServerReportsItsVersion(t *testing.T) {
	bin := stampedBin(t)
	out, err := exec.Command(bin, "version").Output()
	want := fmt.Sprintf("freqd %s (commit %s, built %s, ", stampVersion, stampCommit[:12], stampDate)
	if err != nil || !strings.HasPrefix(string(out), want) {
		t.Fatalf("freqd version: %q, %v; want it to start %q", out, err, want)
	}
	for _, m := range mode.All {
		t.Run(string(m), func(t *testing.T) {
			var extra []string
			if m == mode.FDPass {
				extra = []string{"--metrics-listen", "127.0.0.1:0"}
			}
			s := testserver.Start(t, bin, m, 1, extra...)
			c := redis.NewClient(&redis.Options{Addr: s.TCP, Protocol: 2, DisableIdentity: true})
			defer c.Close()
			info, err := c.Info(context.Background(), "server").Result()
			if err != nil {
				t.Fatal(err)
			}
			if v, _ := infoField(info, "freqd_version"); strings.TrimSpace(v) != stampVersion {
				t.Errorf("INFO freqd_version is %q; want %s", v, stampVersion)
			}
			if first, _, _ := strings.Cut(s.Log.String(), "\n"); !strings.Contains(first, `"@message":"starting"`) ||
				!strings.Contains(first, `"version":"`+stampVersion+`"`) || !strings.Contains(first, `"commit":"`+stampCommit+`"`) {
				t.Errorf("first log line %s; want starting with version and commit", first)
			}
			if s.Metrics == "" {
				return
			}
			resp, err := http.Get(s.Metrics)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			gauge := fmt.Sprintf(`freqd_build_info{builddate="%s",goversion="%s",revision="%s",version="%s"} 1`,
				stampDate, goVersionOf(t, bin), stampCommit, stampVersion)
			if !strings.Contains(string(body), gauge+"\n") {
				t.Errorf("/metrics lacks %s", gauge)
			}
		})
	}
}

// goVersionOf is the Go release that built bin, as `go version` reads it.
func goVersionOf(t *testing.T, bin string) string {
	out, err := exec.Command("go", "version", bin).Output()
	f := strings.Fields(string(out))
	if err != nil || len(f) < 2 {
		t.Fatalf("go version %s: %q, %v", bin, out, err)
	}
	return f[1]
}

// procNames reads what ps shows of pid: the command name and the command
// line, its NUL separators as spaces and its padding dropped.
func procNames(pid int) (comm, cmdline string) {
	c, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	l, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return strings.TrimSuffix(string(c), "\n"), strings.Join(strings.Fields(strings.ReplaceAll(string(l), "\x00", " ")), " ")
}

// TestProcessNames starts a real master and workers and reads their names
// from /proc as ps and pgrep do: every process is called freqd, and the
// command lines say master and worker N (generation G), also for the
// generation a reload (SIGHUP) starts; the classic designs say theirs.
func TestProcessNames(t *testing.T) {
	s := testserver.Start(t, freqdBin, mode.FDPass, 2)
	if comm, line := procNames(s.Pid); comm != "freqd" || line != "freqd: master" {
		t.Errorf("master %d: comm %q, cmdline %q; want freqd and freqd: master", s.Pid, comm, line)
	}
	checkWorkers := func(gen int) {
		t.Helper()
		want := map[string]bool{}
		for slot := 0; slot < 2; slot++ {
			want[fmt.Sprintf("freqd: worker %d (generation %d)", slot, gen)] = true
		}
		testserver.Eventually(t, 10*time.Second, func() bool {
			got := map[string]bool{}
			for _, w := range s.Workers() {
				if comm, line := procNames(w); comm == "freqd" {
					got[line] = true
				}
			}
			return fmt.Sprint(got) == fmt.Sprint(want)
		}, func() string {
			var got []string
			for _, w := range s.Workers() {
				comm, line := procNames(w)
				got = append(got, fmt.Sprintf("%d: %s / %s", w, comm, line))
			}
			return fmt.Sprintf("workers are %q; want comm freqd and %v", got, want)
		})
	}
	checkWorkers(1)
	if err := syscall.Kill(s.Pid, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	checkWorkers(2)

	// pgrep -x freqd finds the master and every worker by name.
	if _, err := exec.LookPath("pgrep"); err == nil {
		out, _ := exec.Command("pgrep", "-x", "freqd").Output()
		found := strings.Fields(string(out))
		for _, pid := range append(s.Workers(), s.Pid) {
			if !strings.Contains(" "+strings.Join(found, " ")+" ", fmt.Sprintf(" %d ", pid)) {
				t.Errorf("pgrep -x freqd found %v, not %d", found, pid)
			}
		}
	}

	e := testserver.Start(t, freqdBin, mode.Epoll, 0)
	if comm, line := procNames(e.Pid); comm != "freqd" || line != "freqd: epoll server" {
		t.Errorf("epoll server %d: comm %q, cmdline %q; want freqd and freqd: epoll server", e.Pid, comm, line)
	}
}

// TestForkConnectionProcessName pins the name of the fork design's
// connection processes, which start through /proc/self/exe too.
func TestForkConnectionProcessName(t *testing.T) {
	s := testserver.Start(t, freqdBin, mode.Fork, 0)
	conn, err := net.Dial("tcp", s.TCP)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Read(make([]byte, 16)); err != nil {
		t.Fatal(err)
	}
	kids := s.Workers()
	if len(kids) != 1 {
		t.Fatalf("fork server has children %v; want the one connection process", kids)
	}
	if comm, line := procNames(kids[0]); comm != "freqd" || line != "freqd: connection" {
		t.Errorf("connection process %d: comm %q, cmdline %q; want freqd and freqd: connection", kids[0], comm, line)
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestClientFailuresAreOneLine runs the client commands against a port
// nothing listens on, a unix socket that does not exist, and a server
// that wants a password: each failure is one line in freqd's words (no
// go-redis log line), exit 1.
func TestClientFailuresAreOneLine(t *testing.T) {
	addr := closedAddr(t)
	s := testserver.Start(t, freqdBin, mode.FDPass, 1, "--requirepass", "sesame")
	t.Setenv("FREQD_REQUIREPASS", "")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"get", "--addr", addr, "the"}, "freqd get: nothing listens at " + addr + " (connection refused)"},
		{[]string{"tag", "--addr", addr, "some", "text"}, "freqd tag: nothing listens at " + addr},
		{[]string{"status", "--addr", addr}, "freqd status: nothing listens at " + addr},
		{[]string{"get", "--addr", "unix:/nonexistent/freqd.sock", "the"}, "freqd get: no socket at /nonexistent/freqd.sock"},
		{[]string{"get", "--addr", s.TCP, "the"}, "freqd get: " + s.TCP + " requires a password; give --password or set FREQD_REQUIREPASS"},
		{[]string{"status", "--addr", s.TCP, "--password", "wrong"}, "freqd status: " + s.TCP + " refused the password"},
	}
	for _, tc := range tests {
		r := freqd(t, t.TempDir(), nil, tc.args...)
		lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
		if r.code != 1 || len(lines) != 1 || !strings.HasPrefix(r.stderr, tc.want) || strings.Contains(r.stderr, "redis:") {
			t.Errorf("freqd %q: exit %d, stderr %q; want exit 1 and one line starting %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	// The right password, from the flag and from the environment.
	if r := freqd(t, t.TempDir(), nil, "get", "--addr", s.TCP, "--password", "sesame", "the"); r.code != 0 || !strings.HasPrefix(r.stdout, "the\t") {
		t.Errorf("get with --password: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	t.Setenv("FREQD_REQUIREPASS", "sesame")
	if r := freqd(t, t.TempDir(), nil, "status", "--addr", s.TCP); r.code != 0 || !strings.Contains(r.stdout, "1 workers") {
		t.Errorf("status with FREQD_REQUIREPASS: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
}

// TestTagTakesItsArguments pins that freqd tag TEXT... tags the arguments
// and leaves standard input alone, and reads standard input only when
// there are none.
func TestTagTakesItsArguments(t *testing.T) {
	s := testserver.Start(t, freqdBin, mode.FDPass, 1)
	stdin := []byte("zyzzyva quokka\n")
	r := freqd(t, t.TempDir(), stdin, "tag", "--addr", s.TCP, "--limit", "2", "The", "ship", "sailed", "through", "the", "archipelago", "at", "dusk")
	if r.code != 0 || r.stdout != "archipelago\t13.587\ndusk\t13.440\n" {
		t.Errorf("tag with arguments: exit %d, stdout %q, stderr %q; want archipelago and dusk", r.code, r.stdout, r.stderr)
	}
	r = freqd(t, t.TempDir(), stdin, "tag", "--addr", s.TCP, "--limit", "2")
	if r.code != 0 || !strings.Contains(r.stdout, "zyzzyva\t") || !strings.Contains(r.stdout, "quokka\t") {
		t.Errorf("tag from standard input: exit %d, stdout %q, stderr %q; want zyzzyva and quokka", r.code, r.stdout, r.stderr)
	}
}

// TestBenchSaysTheServerTableDiffers runs bench against a server that
// serves another table than the one bench checks against: it stops at
// once and says so, instead of reporting every answer wrong.
func TestBenchSaysTheServerTableDiffers(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.freq")
	if err := testserver.BuildTable(freqdBin, small, testserver.Table{"alpha": 30, "beta": 20, "gamma": 10}); err != nil {
		t.Fatal(err)
	}
	s := testserver.Start(t, freqdBin, mode.FDPass, 1, "--data", small)

	r := freqd(t, dir, nil, "bench", "--addr", s.TCP, "--requests", "100")
	want := "freqd bench: the server at " + s.TCP + " serves another table"
	if r.code != 1 || !strings.HasPrefix(r.stderr, want) || !strings.Contains(r.stderr, "the embedded SUBTLEX-US table") ||
		!strings.HasSuffix(r.stderr, "give bench the file the server serves with --data FILE\n") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("bench against another table: exit %d, stderr %q; want one line starting %q and suggesting --data", r.code, r.stderr, want)
	}
	if r := freqd(t, dir, nil, "bench", "--addr", s.TCP, "--requests", "100", "--data", small, "--json"); r.code != 0 {
		t.Errorf("bench with the server's --data: exit %d, stderr %q", r.code, r.stderr)
	}

	// A table of as many words, with other counts: the number of words
	// would not tell the two apart; the table id does.
	same := filepath.Join(dir, "same-size.freq")
	if err := testserver.BuildTable(freqdBin, same, testserver.Table{"alpha": 3, "beta": 2, "gamma": 1}); err != nil {
		t.Fatal(err)
	}
	r = freqd(t, dir, nil, "bench", "--addr", s.TCP, "--requests", "100", "--data", same)
	want = fmt.Sprintf("freqd bench: the server at %s serves another table (table id %s) than %s (table id %s); give bench the file the server serves with --data FILE\n",
		s.TCP, fileTableID(t, small), same, fileTableID(t, same))
	if r.code != 1 || r.stderr != want {
		t.Errorf("bench with a same-size table: exit %d, stderr %q; want %q", r.code, r.stderr, want)
	}
}

// fileTableID is the table id of the frequency file at path.
func fileTableID(t *testing.T, path string) string {
	t.Helper()
	f, err := freqfile.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return tableID(f)
}

// TestStartupLogNamesVersionInText pins the text form of the first log
// line, which an operator reads in a terminal or the journal.
func TestStartupLogNamesVersionInText(t *testing.T) {
	cmd := exec.Command(stampedBin(t), "serve", "--listen", closedAddr(t), "--workers", "1", "--data", "/nonexistent/words.freq")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	first, _, _ := strings.Cut(stderr.String(), "\n")
	if err == nil || !strings.Contains(first, "freqd.master: starting: version="+stampVersion+" commit="+stampCommit) {
		t.Errorf("first line %q (exit %v); want the version and commit", first, err)
	}
	var probe map[string]any
	if json.Unmarshal([]byte(first), &probe) == nil {
		t.Errorf("text log came out as JSON: %s", first)
	}
}
