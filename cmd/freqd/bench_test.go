package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// benchServer starts `freqd serve` with two workers and extra args on a
// free loopback port, and returns its address. The master and its workers
// are killed by pid when the test ends.
func benchServer(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(freqdBin, append([]string{"serve", "--workers", "2", "--listen", "127.0.0.1:0", "--log-json"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		kids := benchChildren(cmd.Process.Pid) // before the master dies and they are re-parented
		cmd.Process.Kill()
		for _, k := range kids {
			syscall.Kill(k, syscall.SIGKILL)
		}
		cmd.Wait()
	})
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line struct {
				Message string `json:"@message"`
				Listen  string `json:"listen"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Message == "ready" {
				ready <- line.Listen
				break
			}
		}
		io.Copy(io.Discard, stderr) // a full pipe would block the server
	}()
	select {
	case addr := <-ready:
		return addr
	case <-time.After(20 * time.Second):
		t.Fatal("freqd serve: no ready line within 20s")
		return ""
	}
}

// benchChildren lists the processes whose parent is pid.
func benchChildren(pid int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var kids []int
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// "pid (comm) state ppid ...": comm may hold spaces and parentheses.
		i := strings.LastIndexByte(string(b), ')')
		if f := strings.Fields(string(b[i+1:])); i >= 0 && len(f) > 1 {
			if ppid, _ := strconv.Atoi(f[1]); ppid == pid {
				c, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
				kids = append(kids, c)
			}
		}
	}
	return kids
}

// benchJSON runs freqd bench --json with args and decodes its result.
func benchJSON(t *testing.T, args ...string) (result, map[string]any) {
	t.Helper()
	r := freqd(t, t.TempDir(), nil, append([]string{"bench", "--json"}, args...)...)
	var m map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
		t.Fatalf("bench %q printed %q (stderr %q); want one JSON object: %v", args, r.stdout, r.stderr, err)
	}
	return r, m
}

// num reads a number at a dotted path of a decoded JSON object.
func num(t *testing.T, m map[string]any, path string) float64 {
	t.Helper()
	var v any = m
	for _, k := range strings.Split(path, ".") {
		v = v.(map[string]any)[k]
	}
	f, ok := v.(float64)
	if !ok {
		t.Fatalf("JSON field %s is %v (%T); want a number", path, v, v)
	}
	return f
}

func TestBenchJSONAgainstServer(t *testing.T) {
	addr := benchServer(t)
	r, m := benchJSON(t, "--addr", addr, "--requests", "2000", "--conns", "4")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q; want 0", r.code, r.stderr)
	}
	// The field names are documented as stable for scripts.
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	want := "addr conns duration_ns errors failed interrupted keys latency_ns loop miss ok pipeline rate_rps reconnect requests seed throughput_rps unsent wake_lag_ns"
	if got := strings.Join(keys, " "); got != want {
		t.Errorf("JSON fields:\n %s\nwant\n %s", got, want)
	}
	if num(t, m, "requests") != 2000 || num(t, m, "ok") != 2000 || num(t, m, "errors.wrong") != 0 {
		t.Errorf("result %s; want 2000 requests, all right", r.stdout)
	}
	if p50, max := num(t, m, "latency_ns.p50"), num(t, m, "latency_ns.max"); !(0 < p50 && p50 <= max) {
		t.Errorf("latency p50 %v, max %v; want 0 < p50 <= max", p50, max)
	}
	if r.stderr != "" {
		t.Errorf("stderr %q; want nothing when stderr is not a terminal", r.stderr)
	}
}

// TestBenchText covers the human-readable report and --reconnect.
func TestBenchText(t *testing.T) {
	addr := benchServer(t)
	r := freqd(t, t.TempDir(), nil, "bench", "--addr", addr, "--requests", "300", "--conns", "3", "--reconnect")
	if r.code != 0 {
		t.Fatalf("exit %d, stdout %q, stderr %q; want 0", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"a new connection per round trip", "requests    300 in ", "300 ok, 0 failed", "throughput", "p99.9", "wrong 0"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, r.stdout)
		}
	}
}

// TestBenchDataFile serves a table built for the test and benches it: with
// --data every answer is right, and with the embedded table instead the
// bench says the tables differ before it sends any load.
func TestBenchDataFile(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, dir, "w.tsv", "the\t50\nof\t40\nzebra\t3\nquark\t2\n")
	if r := freqd(t, dir, nil, "build", "-o", "w.freq", "w.tsv"); r.code != 0 {
		t.Fatalf("build: exit %d: %s", r.code, r.stderr)
	}
	file := filepath.Join(dir, "w.freq")
	addr := benchServer(t, "--data", file)

	r, m := benchJSON(t, "--addr", addr, "--data", file, "--requests", "400", "--conns", "2", "--miss", "0.2")
	if r.code != 0 || num(t, m, "ok") != 400 {
		t.Errorf("with --data: exit %d, %s; want 400 right answers", r.code, r.stdout)
	}
	r = freqd(t, dir, nil, "bench", "--json", "--addr", addr, "--requests", "400", "--conns", "2")
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "serves another table") {
		t.Errorf("against the embedded table: exit %d, stdout %q, stderr %q; want exit 1 and the tables said to differ", r.code, r.stdout, r.stderr)
	}
}

// TestBenchCountsWrongAnswers points the bench at a listener that answers
// ":1" to everything.
func TestBenchCountsWrongAnswers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				// One request per "GET\r\n" line: the bench sends only GETs.
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					if sc.Text() == "GET\r" || sc.Text() == "GET" {
						if _, err := c.Write([]byte(":1\r\n")); err != nil {
							return
						}
					}
				}
			}()
		}
	}()
	r, m := benchJSON(t, "--addr", ln.Addr().String(), "--requests", "200", "--conns", "2")
	if r.code != 1 {
		t.Errorf("exit %d; want 1 when answers are wrong", r.code)
	}
	if num(t, m, "errors.wrong") != 200 || num(t, m, "ok") != 0 {
		t.Errorf("result %s; want 200 wrong", r.stdout)
	}
	if fe, _ := m["first_error"].(string); !strings.Contains(fe, "got :1") {
		t.Errorf("first_error %q; want it to show the wrong reply", fe)
	}
}

func TestBenchCountsRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r, m := benchJSON(t, "--addr", addr, "--requests", "20", "--conns", "20")
	if r.code != 1 || num(t, m, "errors.refused") != 20 {
		t.Errorf("exit %d, %s; want 20 refused and exit 1", r.code, r.stdout)
	}
}

func TestBenchUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string // in stderr
	}{
		{[]string{"--conns", "10001"}, 2, "--conns 10001 is out of range"},
		{[]string{"--conns", "0"}, 2, "must be above 0"},
		{[]string{"--pipeline", "5000"}, 2, "--pipeline 5000"},
		{[]string{"--keys", "pareto"}, 2, "use zipf or uniform"},
		{[]string{"--miss", "1.5"}, 2, "--miss 1.5"},
		{[]string{"--rate", "-3"}, 2, "--rate -3"},
		{[]string{"--duration", "48h"}, 2, "--duration 48h0m0s"},
		{[]string{"--nosuchflag"}, 2, "unknown flag --nosuchflag; see 'freqd bench --help'"},
		{[]string{"extra"}, 2, "unexpected argument extra"},
		{[]string{"--data", "/nonexistent/w.freq", "--requests", "1"}, 1, "/nonexistent/w.freq"},
	}
	for i, tc := range tests {
		r := freqd(t, t.TempDir(), nil, append([]string{"bench"}, tc.args...)...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("case %d (%q): exit %d, stderr %q; want exit %d and %q", i, tc.args, r.code, r.stderr, tc.code, tc.want)
		}
	}
}
