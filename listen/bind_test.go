package listen

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestSocketStaysNonblockingAfterAChildStarts pins the trap of handing a
// listener to a child: os.StartProcess calls Fd on every ExtraFile, which
// clears O_NONBLOCK on the open file description every holder shares, so
// the parent's own accept loop would then block. Socket.File must not let
// that happen.
func TestSocketStaysNonblockingAfterAChildStarts(t *testing.T) {
	socks, err := Bind([]string{"127.0.0.1:0"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := socks[0]
	defer s.Close()
	f, err := s.File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command("true")
	cmd.ExtraFiles = append(cmd.ExtraFiles, f)
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	var flags int
	s.Control(func(fd int) error { flags, err = unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); return err })
	if err != nil || flags&unix.O_NONBLOCK == 0 {
		t.Fatalf("socket flags %#x (%v): O_NONBLOCK was cleared", flags, err)
	}
	// And a raw accept on it still returns at once with nothing waiting.
	s.Control(func(fd int) error {
		_, _, err = unix.Accept4(fd, unix.SOCK_CLOEXEC)
		return nil
	})
	if !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("accept on an idle socket: %v, want EAGAIN", err)
	}
}

// TestSocketsAreOffTheRuntimePoller checks that a bound socket is not
// registered with Go's netpoller: a registered socket wakes a poller
// thread for every connection or datagram, for nobody. The epoll sets this
// process holds must not watch the socket's descriptor.
func TestSocketsAreOffTheRuntimePoller(t *testing.T) {
	dir := t.TempDir()
	socks, err := Bind([]string{"127.0.0.1:0", "unix:" + dir + "/s.sock", "udp:127.0.0.1:0", "unixgram:" + dir + "/g.sock"},
		Options{Datagrams: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range socks {
		defer s.Close()
	}
	watched := epollWatched(t)
	for _, s := range socks {
		s.Control(func(fd int) error {
			if watched[fd] {
				t.Errorf("%s (descriptor %d) is in an epoll set of this process", s.Address, fd)
			}
			return nil
		})
	}
}

// epollWatched lists the descriptors any epoll instance of this process
// watches, from /proc/self/fdinfo.
func epollWatched(t *testing.T) map[int]bool {
	t.Helper()
	out := map[int]bool{}
	ents, err := os.ReadDir("/proc/self/fdinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile("/proc/self/fdinfo/" + e.Name())
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "tfd:"); ok {
				var fd int
				fmt.Sscan(rest, &fd)
				out[fd] = true
			}
		}
	}
	return out
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
	if _, err := Bind([]string{"unix:" + path}, Options{}); err == nil || !strings.Contains(err.Error(), "live server") {
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
	socks, err := Bind([]string{"unix:" + path}, Options{UnixMode: 0o600})
	if err != nil {
		t.Fatalf("bind over a stale socket: %v", err)
	}
	socks[0].Close()
}

func TestBusyPortIsAClearError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = Bind([]string{"127.0.0.1:0", ln.Addr().String()}, Options{})
	if err == nil || !strings.Contains(err.Error(), "already in use") {
		t.Fatalf("bind a busy port: %v; want 'already in use'", err)
	}
}

// TestTCPListenerIsPlainTCPWithDeferredAccept: Bind's TCP sockets are
// IPPROTO_TCP, not the Multipath TCP Go would otherwise choose, and are
// accepted only once the client has sent something, for ordinary and
// SO_REUSEPORT slots alike; a client that sends nothing is still accepted.
func TestTCPListenerIsPlainTCPWithDeferredAccept(t *testing.T) {
	socks, err := Bind([]string{"127.0.0.1:0"}, Options{ReusePort: true})
	if err != nil {
		t.Fatal(err)
	}
	defer socks[0].Close()
	slot, err := BindSlot(socks[0], 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slot.Close()
	for _, s := range []*Socket{socks[0], slot} {
		var proto, deferSecs int
		s.Control(func(fd int) error {
			proto, _ = unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PROTOCOL)
			deferSecs, _ = unix.GetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT)
			return nil
		})
		if proto != unix.IPPROTO_TCP {
			t.Errorf("%s: protocol %d, want IPPROTO_TCP (%d)", s.Key(), proto, unix.IPPROTO_TCP)
		}
		if deferSecs < 1 {
			t.Errorf("%s: TCP_DEFER_ACCEPT %d, want at least 1 s", s.Key(), deferSecs)
		}
	}

	// Accept on a socket of its own: with a reuseport slot beside it, the
	// kernel could route either client to the slot.
	plain, err := Bind([]string{"127.0.0.1:0"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := plain[0].Listener()
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	silent, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	speaking, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer speaking.Close()
	fmt.Fprintf(speaking, "PING\r\n")
	// The client that spoke is accepted first, though it connected second;
	// the silent one after the kernel's deferral runs out.
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second))
	first, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if first.RemoteAddr().String() != speaking.LocalAddr().String() {
		t.Errorf("accepted %s first, want the client that sent a request (%s)", first.RemoteAddr(), speaking.LocalAddr())
	}
	second, err := ln.Accept()
	if err != nil {
		t.Fatalf("the silent client was never accepted: %v", err)
	}
	second.Close()
}
