package master

import (
	"net"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestListenerStaysNonblockingAfterWorkerStart pins PITFALLS #1: handing a
// listener to a child through ExtraFiles must not turn the master's own
// socket blocking, or closing it would no longer interrupt Accept.
func TestListenerStaysNonblockingAfterWorkerStart(t *testing.T) {
	ln, err := bindTCP(Address{Network: "tcp", Addr: "127.0.0.1:0"}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, err := dupFile(ln.(syscall.Conn), "test")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command("true")
	cmd.ExtraFiles = append(cmd.ExtraFiles, f)
	if err := newSpawner().start(cmd); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	rc, _ := ln.(syscall.Conn).SyscallConn()
	var flags int
	rc.Control(func(fd uintptr) { flags, err = unix.FcntlInt(fd, unix.F_GETFL, 0) })
	if err != nil || flags&unix.O_NONBLOCK == 0 {
		t.Fatalf("listener flags %#x (%v): O_NONBLOCK was cleared", flags, err)
	}
	// And Close still interrupts a pending Accept.
	done := make(chan error, 1)
	go func() { _, err := ln.Accept(); done <- err }()
	time.Sleep(50 * time.Millisecond)
	ln.Close()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not interrupt Accept")
	}
}

func TestParseAddress(t *testing.T) {
	long := "unix:/" + strings.Repeat("x", 120)
	tests := []struct {
		in, want, err string
	}{
		{"127.0.0.1:7379", "127.0.0.1:7379", ""},
		{":7379", ":7379", ""},
		{"[::1]:7379", "[::1]:7379", ""},
		{"unix:/tmp/freqd.sock", "unix:/tmp/freqd.sock", ""},
		{"localhost", "", "want host:port"},
		{"127.0.0.1:notaport", "", "bad port"},
		{"unix:", "", "empty socket path"},
		{long, "", "the limit is 107"},
	}
	for i, tc := range tests {
		a, err := ParseAddress(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("case %d (%s): error %v, want one containing %q", i, tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || a.String() != tc.want {
			t.Errorf("case %d (%s): got %q, %v; want %q", i, tc.in, a, err, tc.want)
		}
	}
}

// TestUnixSocketInUseIsNotTakenOver and its stale twin pin the start-up
// checks on socket files.
func TestUnixSocketInUseIsNotTakenOver(t *testing.T) {
	path := t.TempDir() + "/s.sock"
	live, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	if _, err := bindUnix(Address{Network: "unix", Addr: path}, 0o660); err == nil || !strings.Contains(err.Error(), "live server") {
		t.Fatalf("bind over a live socket: %v; want a 'live server' error", err)
	}
}

func TestStaleUnixSocketIsReplaced(t *testing.T) {
	path := t.TempDir() + "/s.sock"
	old, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	old.(*net.UnixListener).SetUnlinkOnClose(false)
	old.Close() // the file stays, nobody listens: stale
	ln, err := bindUnix(Address{Network: "unix", Addr: path}, 0o600)
	if err != nil {
		t.Fatalf("bind over a stale socket: %v", err)
	}
	ln.Close()
}

func TestBusyPortIsAClearError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = bindTCP(Address{Network: "tcp", Addr: ln.Addr().String()}, false)
	if err == nil || !strings.Contains(err.Error(), "already in use") {
		t.Fatalf("bind a busy port: %v; want 'already in use'", err)
	}
}
