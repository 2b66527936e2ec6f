package worker_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/internal/testserver"
)

// freqdBin is the freqd binary the tests run: a worker is a process of a
// real master.
var freqdBin string

func TestMain(m *testing.M) { testserver.Main(m, &freqdBin) }

// Bounds of TestDatagramClientThatNeverReads. They are far from what the
// test measures: a GET over a unix datagram takes a fraction of a
// millisecond, so a reply missing its 2 s, or 200 requests averaging over
// 100 ms each, means a worker held up, not a slow machine. A worker that
// waits 100 ms for room for each reply to the client that never reads
// (what freqd did) makes each request of the other client wait behind
// max_dgram_qlen of those: half a second or more apiece.
const (
	neverReaderRate = 500 // requests a second from the client that never reads
	probeRequests   = 200
	probeWait       = 2 * time.Second
	probeBudget     = 20 * time.Second
)

// TestDatagramClientThatNeverReads runs a unix datagram client that never
// reads its replies beside one that does. The replies the first cannot
// take are dropped and counted, and the second is served as if the first
// were not there: its p99 stays within the wait, and its requests finish
// within the budget.
func TestDatagramClientThatNeverReads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.sock")
	// One worker: two read loops on the socket, the fewest a worker has.
	s := testserver.Start(t, freqdBin, mode.FDPass, 1, "--listen", "unixgram:"+path, "--metrics-listen", "127.0.0.1:0")
	s.WaitWorkers(1, 10*time.Second)
	table := testserver.Subtlex()
	words := table.Sample(50)

	nr, err := testserver.StartNeverReader(path, words, neverReaderRate)
	if err != nil {
		t.Fatal(err)
	}
	defer nr.Stop()
	// Its queue holds max_dgram_qlen replies; a few more requests and
	// every reply finds it full.
	full := int64(testserver.MaxDatagramQueue() + 50)
	testserver.Eventually(t, 15*time.Second, func() bool { return nr.Sent.Load() > full },
		func() string {
			return fmt.Sprintf("the never-reading client sent %d requests, want %d", nr.Sent.Load(), full)
		})

	run, err := testserver.AskDatagrams("unixgram", path, words, table.Check, probeRequests, probeWait, probeBudget)
	if err != nil {
		t.Fatal(err)
	}
	sent := nr.Stop()
	t.Logf("beside a client that never reads (%d requests sent): %s", sent, run)
	if run.Wrong != 0 {
		t.Errorf("%d wrong answers", run.Wrong)
	}
	if p99 := run.Quantile(0.99); p99 > probeWait {
		t.Errorf("p99 of the reading client: %d of %d requests unanswered within %v each and %v in all; want at most 1%%",
			run.Unanswered(), run.Planned, probeWait, probeBudget)
	}

	// The drops are counted: by the worker at once, by the pool and the
	// metrics at the next heartbeat (500 ms).
	testserver.Eventually(t, 10*time.Second, func() bool {
		info, err := infoFields(s.TCP, "workers")
		return err == nil && info["worker_datagram_replies_dropped"] > 0 && info["pool_datagram_replies_dropped"] > 0 &&
			metric(t, s, "freqd_datagram_replies_dropped_total") > 0
	}, func() string {
		info, err := infoFields(s.TCP, "workers")
		return fmt.Sprintf("INFO workers or the metrics count no dropped reply: %v, %v; metric %v",
			info, err, metric(t, s, "freqd_datagram_replies_dropped_total"))
	})
}

// TestDatagramAmplification asks, over UDP and a unix datagram socket,
// for replies far larger than the requests: over UDP a request that did
// not authenticate with the password gets at most 3 times its size (on the
// wire) back, the refusal in place of a larger reply; over unix, or after
// AUTH, the whole reply.
func TestDatagramAmplification(t *testing.T) {
	const pass = "amp-sesame"
	const refuseOpen = "-ERR reply >3x request: use TCP, or pad the request\r\n"
	const refuseAuth = "-ERR reply >3x request: AUTH in the datagram or use TCP\r\n"
	const noAuth = "-NOAUTH Authentication required.\r\n"
	mget := "MGET" + strings.Repeat(" the", 200) + "\r\n"
	auth := "*2\r\n$4\r\nAUTH\r\n$" + strconv.Itoa(len(pass)) + "\r\n" + pass + "\r\n"
	type ask struct {
		req, udp string // udp: the reply over UDP; "whole" for the one over unix
	}
	const whole = "whole"
	cases := []struct {
		name  string
		flags []string
		asks  []ask
	}{
		{"no password", nil, []ask{
			{"COMMAND\r\n", refuseOpen},
			{"HELLO\r\n", refuseOpen},
			{"INFO\r\n", refuseOpen},
			{mget, refuseOpen},
			{mget + strings.Repeat("\r\n", 1300), whole}, // padded to a third of the reply
			{"*3\r\n$4\r\nAUTH\r\n$7\r\ndefault\r\n$1\r\nx\r\nCOMMAND\r\n", refuseOpen},
			{"GET the\r\n", whole},
		}},
		{"password", []string{"--requirepass", pass}, []ask{
			{"COMMAND\r\n", noAuth},
			{"HELLO\r\n", refuseAuth},
			{auth + "COMMAND\r\n", whole},
			{auth + mget, whole},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "d.sock")
			s := testserver.Start(t, freqdBin, mode.FDPass, 1, append([]string{"--listen", "unixgram:" + path,
				"--listen", "udp:127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"}, tc.flags...)...)
			udp, err := net.Dial("udp", s.UDP)
			if err != nil {
				t.Fatal(err)
			}
			defer udp.Close()
			ug, err := net.DialUnix("unixgram", &net.UnixAddr{Net: "unixgram", Name: fmt.Sprintf("@freqd-worker-test-%d", os.Getpid())},
				&net.UnixAddr{Net: "unixgram", Name: path})
			if err != nil {
				t.Fatal(err)
			}
			defer ug.Close()
			refused := int64(0)
			for i, a := range tc.asks {
				overUnix := exchange(t, ug, a.req)
				if strings.HasPrefix(overUnix, "-ERR reply >3x") {
					t.Errorf("case %d (%.20q): refused over unix: %q", i, a.req, overUnix)
				}
				got, want := exchange(t, udp, a.req), a.udp
				if want == whole {
					want = overUnix
				}
				if got != want {
					t.Errorf("case %d (%.20q): over UDP %d bytes %.80q, want %d bytes %.80q", i, a.req, len(got), got, len(want), want)
				}
				if a.udp != whole && len(got) > 3*len(a.req)+56 {
					t.Errorf("case %d (%.20q): %d bytes for %d, over the bound", i, a.req, len(got), len(a.req))
				}
				if a.udp == refuseOpen || a.udp == refuseAuth {
					refused++
				}
			}
			// Counted by the worker at once, by the metrics at the next
			// heartbeat (500 ms).
			testserver.Eventually(t, 10*time.Second, func() bool {
				info, err := infoFields(s.TCP, "workers", tc.flags...)
				return err == nil && info["worker_datagram_replies_refused"] == refused &&
					metric(t, s, "freqd_datagram_replies_refused_total") == float64(refused)
			}, func() string {
				info, err := infoFields(s.TCP, "workers", tc.flags...)
				return fmt.Sprintf("want %d refusals counted; INFO workers: %v, %v; metric %v",
					refused, info, err, metric(t, s, "freqd_datagram_replies_refused_total"))
			})
			// The pool's count is the server's since it started: replacing
			// the worker that refused does not set it back.
			old := s.Workers()
			for _, pid := range old {
				syscall.Kill(pid, syscall.SIGKILL)
			}
			testserver.Eventually(t, 10*time.Second, func() bool {
				info, err := infoFields(s.TCP, "workers", tc.flags...)
				return err == nil && !slices.Contains(old, int(info["worker_pid"])) &&
					info["worker_datagram_replies_refused"] == 0 && info["pool_datagram_replies_refused"] == refused
			}, func() string {
				info, err := infoFields(s.TCP, "workers", tc.flags...)
				return fmt.Sprintf("after the worker was replaced, want pool_datagram_replies_refused %d; INFO workers: %v, %v", refused, info, err)
			})
		})
	}
}

// exchange sends one request datagram on c and returns the reply datagram.
// Loopback loses nothing unless a buffer overflows: one resend is plenty.
func exchange(t *testing.T, c net.Conn, req string) string {
	t.Helper()
	buf := make([]byte, 70000)
	for range 3 {
		if _, err := c.Write([]byte(req)); err != nil {
			t.Fatalf("send %.40q: %v", req, err)
		}
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if n, err := c.Read(buf); err == nil {
			return string(buf[:n])
		}
	}
	t.Fatalf("no reply to %.40q after 3 tries", req)
	return ""
}

// metric sums the samples of a metric the master serves.
func metric(t *testing.T, s *testserver.Server, name string) float64 {
	t.Helper()
	res, err := http.Get(s.Metrics)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var sum float64
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ") {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			sum += v
		}
	}
	return sum
}

// infoFields reads INFO section over TCP and returns its numeric fields.
// Server flags "--requirepass", pass make it authenticate first.
func infoFields(addr, section string, serverFlags ...string) (map[string]int64, error) {
	c, err := net.DialTimeout("tcp", addr, testserver.RequestTimeout)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(testserver.RequestTimeout))
	br := bufio.NewReader(c)
	if len(serverFlags) == 2 && serverFlags[0] == "--requirepass" {
		fmt.Fprintf(c, "AUTH %s\r\n", serverFlags[1])
		if line, err := br.ReadString('\n'); err != nil || line != "+OK\r\n" {
			return nil, fmt.Errorf("AUTH: %q, %v", line, err)
		}
	}
	if _, err := fmt.Fprintf(c, "INFO %s\r\n", section); err != nil {
		return nil, err
	}
	line, err := br.ReadString('\n')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "$")))
	if err != nil {
		return nil, fmt.Errorf("INFO reply %q", line)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(br, body); err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, l := range strings.Split(string(body), "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				out[k] = n
			}
		}
	}
	return out, nil
}

// TestDatagramAddressFamilies: replies reach UDP clients whatever the
// socket's family: IPv6, and IPv4 clients of a dual-stack socket, whose
// addresses the reply must give in IPv4-mapped form.
func TestDatagramAddressFamilies(t *testing.T) {
	if c, err := net.ListenPacket("udp6", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	} else {
		c.Close()
	}
	want := "$" + strconv.Itoa(len(strconv.FormatUint(testserver.Subtlex()["the"], 10))) + "\r\n" +
		strconv.FormatUint(testserver.Subtlex()["the"], 10) + "\r\n"
	cases := []struct {
		name   string
		listen []string
		dial   func(port string) string
	}{
		{"IPv6", []string{"udp:[::1]:0"}, func(port string) string { return "[::1]:" + port }},
		{"IPv6 client of a dual-stack socket", []string{"udp::0", "--protected-mode", "no"}, func(port string) string { return "[::1]:" + port }},
		{"IPv4 client of a dual-stack socket", []string{"udp::0", "--protected-mode", "no"}, func(port string) string { return "127.0.0.1:" + port }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := testserver.Start(t, freqdBin, mode.FDPass, 1, append([]string{"--listen"}, tc.listen...)...)
			_, port, err := net.SplitHostPort(s.UDP)
			if err != nil {
				t.Fatalf("UDP address %q: %v", s.UDP, err)
			}
			c, err := net.Dial("udp", tc.dial(port))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if got := exchange(t, c, "GET the\r\n"); got != want {
				t.Errorf("GET the over %s: %q, want %q", c.RemoteAddr(), got, want)
			}
		})
	}
}
