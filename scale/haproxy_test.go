package scale

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/internal/testserver"
	"github.com/freqd/freqd/resp"
)

var freqdBin string

func TestMain(m *testing.M) { testserver.Main(m, &freqdBin) }

// haproxy returns the haproxy binary, skipping the test when there is
// none, unless FREQD_TEST_HAPROXY=require (make test-scale, which installs
// it) says its absence is a failure.
func haproxy(t *testing.T) string {
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		if os.Getenv("FREQD_TEST_HAPROXY") == "require" {
			t.Fatalf("haproxy is not installed: %v", err)
		}
		t.Skip("haproxy is not installed; make test-scale installs it and runs this test")
	}
	return bin
}

// freePort returns a loopback TCP port nobody listens on now.
func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// hostPort is the host:port part of a metrics URL.
func hostPort(url string) string {
	return strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/metrics")
}

// TestReplicasBehindHAProxy runs contrib/haproxy/haproxy.cfg, addresses
// rewritten, in front of three replicas under keep-alive and
// connection-per-request load. One replica is SIGKILLed: only requests on
// connections open to it may fail. One is stopped with SIGTERM under
// --shutdown-delay: HAProxy sees /readyz fail and sends new connections
// elsewhere before it drains, so no new connection fails and none is
// refused, during the delay or after.
func TestReplicasBehindHAProxy(t *testing.T) {
	bin := haproxy(t)
	var replicas []*testserver.Server
	for range 3 {
		replicas = append(replicas, testserver.Start(t, freqdBin, mode.FDPass, 2,
			"--metrics-listen", "127.0.0.1:0", "--shutdown-delay", "5s"))
	}
	cfg, err := os.ReadFile("../contrib/haproxy/haproxy.cfg")
	if err != nil {
		t.Fatal(err)
	}
	front := freePort(t)
	text := strings.Replace(string(cfg), "bind 127.0.0.1:6380", "bind "+front, 1)
	lines := []string{}
	for _, line := range strings.Split(text, "\n") {
		if !strings.Contains(line, "server replica") {
			lines = append(lines, line)
		}
	}
	text = strings.Join(lines, "\n")
	for i, r := range replicas {
		_, checkPort, _ := net.SplitHostPort(hostPort(r.Metrics))
		text += fmt.Sprintf("    server replica%d %s check port %s\n", i+1, r.TCP, checkPort)
	}
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	hp := exec.Command(bin, "-db", "-f", path)
	hp.Stdout, hp.Stderr = os.Stderr, os.Stderr
	if err := hp.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hp.Process.Kill(); hp.Wait() })
	testserver.Eventually(t, 10*time.Second, func() bool {
		c, err := net.Dial("tcp", front)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, func() string { return "HAProxy does not accept on " + front })

	words := testserver.Subtlex().Sample(200)
	check := testserver.Subtlex().Check
	const keepalive, perRequest = 4, 4
	phase := func(name string, during func()) (*testserver.Load, *testserver.Load) {
		stop := make(chan struct{})
		ka := testserver.RunLoad("tcp", front, keepalive, 0, words, check, stop)
		pr := testserver.RunLoad("tcp", front, 0, perRequest, words, check, stop)
		time.Sleep(500 * time.Millisecond)
		during()
		close(stop)
		ka.Wait()
		pr.Wait()
		t.Logf("%s: keep-alive %s; connection per request %s", name, ka, pr)
		return ka, pr
	}

	// One replica dies: the requests in flight on connections open to it
	// fail, at most one per client; HAProxy marks it down within a second.
	ka, pr := phase("SIGKILL of one replica", func() {
		replicas[0].Kill()
		time.Sleep(2 * time.Second)
	})
	if n := ka.Failed.Load() + pr.Failed.Load(); n > keepalive+perRequest {
		t.Errorf("%d requests failed when one replica was killed; at most %d (one per client) were in flight on it", n, keepalive+perRequest)
	}
	for _, l := range []*testserver.Load{ka, pr} {
		if l.Refused.Load() != 0 || l.Wrong.Load() != 0 || l.OK.Load() == 0 {
			t.Errorf("after the kill: %s", l)
		}
	}

	// One replica stops gracefully, with a delay: HAProxy sees /readyz
	// fail and stops sending it new connections while it still serves,
	// and nothing new fails.
	var stoppedRouting bool
	ka, pr = phase("SIGTERM of one replica with --shutdown-delay 5s", func() {
		b := replicas[1]
		syscall.Kill(b.Pid, syscall.SIGTERM)
		// Its count of accepted connections stops growing (but for this
		// INFO's own) well before its delay is over.
		last := int64(-1)
		for deadline := time.Now().Add(4 * time.Second); time.Now().Before(deadline) && !stoppedRouting; time.Sleep(300 * time.Millisecond) {
			n := accepted(b)
			stoppedRouting = last >= 0 && n >= 0 && n-last <= 1
			last = n
		}
		select {
		case <-replicas[1].Exited():
		case <-time.After(20 * time.Second):
			t.Error("the replica did not exit after its delay")
		}
		time.Sleep(time.Second)
	})
	if !stoppedRouting {
		t.Errorf("HAProxy went on sending new connections to the replica during its shutdown delay")
	}
	if pr.Failed.Load() != 0 || pr.Refused.Load() != 0 || pr.Wrong.Load() != 0 {
		t.Errorf("new connections failed while a replica stopped gracefully: %s", pr)
	}
	// Keep-alive connections to the stopping replica are closed between
	// requests once it drains, as any server's are at shutdown: a client
	// may see that once per connection, and reconnects.
	if n := ka.Failed.Load(); n > keepalive || ka.Refused.Load() != 0 || ka.Wrong.Load() != 0 {
		t.Errorf("keep-alive clients while a replica stopped gracefully: %s", ka)
	}
}

// accepted is the number of connections a server's workers have taken, as
// INFO reports it, or -1 if it cannot be read.
func accepted(s *testserver.Server) int64 {
	c, err := net.DialTimeout("tcp", s.TCP, time.Second)
	if err != nil {
		return -1
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	fmt.Fprintf(c, "INFO workers\r\n")
	reply, err := resp.ReadReply(bufio.NewReader(c))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(reply), "\r\n") {
		if v, ok := strings.CutPrefix(line, "pool_connections_accepted:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}
