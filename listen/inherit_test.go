package listen

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain lets the test binary play a process started by systemd's socket
// activation (see TestInheritsSystemdStreamAndDatagramSockets).
func TestMain(m *testing.M) {
	if os.Getenv("FREQD_TEST_INHERIT") == "1" {
		in, err := Inherit()
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		for _, a := range in.Systemd {
			fmt.Println(a)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestInheritsSystemdStreamAndDatagramSockets passes a TCP listener, a
// UDP socket and a unix datagram socket as systemd does (LISTEN_FDS from
// descriptor 3, LISTEN_PID the child's own pid) and checks that all three
// are adopted with their addresses: ListenDatagram= sockets are served,
// not refused.
func TestInheritsSystemdStreamAndDatagramSockets(t *testing.T) {
	dir := t.TempDir()
	socks, err := Bind([]string{"127.0.0.1:0", "udp:127.0.0.1:0", "unixgram:" + filepath.Join(dir, "g.sock")}, Options{Datagrams: true})
	if err != nil {
		t.Fatal(err)
	}
	var files []*os.File
	var want []string
	for _, s := range socks {
		defer s.Close()
		f, err := s.File()
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		files = append(files, f)
		want = append(want, s.Address.String())
	}
	// LISTEN_PID must be the pid of the process that reads it: the shell
	// sets it and execs the test binary in its place, as systemd would.
	cmd := exec.Command("/bin/sh", "-c", `LISTEN_PID=$$ exec "$0" -test.run '^$'`, os.Args[0])
	cmd.Env = append(os.Environ(), "FREQD_TEST_INHERIT=1", fmt.Sprintf("LISTEN_FDS=%d", len(files)))
	cmd.ExtraFiles = files
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if got := strings.Fields(string(out)); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("adopted %q, want %q", got, want)
	}
}

// TestInheritRefusesWhatIsNotAServingSocket: a connected (not listening)
// stream socket passed by systemd is an operator's mistake to report.
func TestInheritRefusesWhatIsNotAServingSocket(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	cmd := exec.Command("/bin/sh", "-c", `LISTEN_PID=$$ exec "$0" -test.run '^$'`, os.Args[0])
	cmd.Env = append(os.Environ(), "FREQD_TEST_INHERIT=1", "LISTEN_FDS=1")
	cmd.ExtraFiles = []*os.File{r}
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), "not a socket") {
		t.Errorf("a pipe passed as a socket: %q, want an error saying it is not a socket", out)
	}
}
