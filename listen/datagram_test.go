package listen

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseDatagramAddress(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{"udp:127.0.0.1:7379", "udp:127.0.0.1:7379", ""},
		{"udp::7379", "udp::7379", ""},
		{"udp:[::1]:7379", "udp:[::1]:7379", ""},
		{"unixgram:/run/freqd.dgram", "unixgram:/run/freqd.dgram", ""},
		{"udp:127.0.0.1", "", "want udp:host:port"},
		{"udp:127.0.0.1:99999", "", "bad port"},
		{"unixgram:", "", "empty socket path"},
		{"unixgram:/" + strings.Repeat("x", 120), "", "the limit is 107"},
	}
	for i, tc := range tests {
		a, err := ParseAddress(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("case %d (%s): error %v, want one containing %q", i, tc.in, err, tc.err)
		case tc.err == "" && (err != nil || a.String() != tc.want || !a.IsDatagram()):
			t.Errorf("case %d (%s): %v (%q), %v; want datagram address %q", i, tc.in, a, a.Network, err, tc.want)
		}
	}
}

// TestBindRefusesDatagrams pins the error the classic designs, which bind
// through Bind, give for a datagram address.
func TestBindRefusesDatagrams(t *testing.T) {
	_, err := Bind([]string{"127.0.0.1:0", "udp:127.0.0.1:0"}, Options{})
	if err == nil || !strings.Contains(err.Error(), "pre-forked modes only") {
		t.Fatalf("Bind with a udp: address: %v, want the pre-forked-only error", err)
	}
}

// TestStaleUnixgramSocketIsReplaced: a socket file nobody reads is
// replaced; one a live socket reads, or a file that is not a socket, is not.
func TestStaleUnixgramSocketIsReplaced(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "g.sock")
	live, err := bindUnixgram(Address{Network: Unixgram, Addr: path}, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bindUnixgram(Address{Network: Unixgram, Addr: path}, 0o600); err == nil || !strings.Contains(err.Error(), "live server") {
		t.Errorf("binding a live unixgram path: %v, want a live-server error", err)
	}
	live.Close() // the file stays, as after a crash
	again, err := bindUnixgram(Address{Network: Unixgram, Addr: path}, 0o600)
	if err != nil {
		t.Fatalf("binding over a stale socket file: %v", err)
	}
	again.Close()

	stream, err := net.Listen("unix", filepath.Join(dir, "s.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	if _, err := bindUnixgram(Address{Network: Unixgram, Addr: filepath.Join(dir, "s.sock")}, 0o600); err == nil || !strings.Contains(err.Error(), "socket of another type") {
		t.Errorf("binding over a live stream socket: %v, want a socket-of-another-type error", err)
	}
	plain := filepath.Join(dir, "plain")
	os.WriteFile(plain, []byte("x"), 0o600)
	if _, err := bindUnixgram(Address{Network: Unixgram, Addr: plain}, 0o600); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("binding over a regular file: %v, want a not-a-socket error", err)
	}
}

// TestCheckProtectedUDP: protected mode refuses a UDP address other
// machines can reach when no password is set, as it refuses TCP ones: an
// open UDP port is also a reflector for forged sources.
func TestCheckProtectedUDP(t *testing.T) {
	tests := []struct {
		addr              string
		password, protect bool
		refused           bool
	}{
		{"udp:0.0.0.0:7379", false, true, true},
		{"udp::7379", false, true, true},
		{"udp:[::]:7379", false, true, true},
		{"udp:192.0.2.1:7379", false, true, true},
		{"udp:127.0.0.1:7379", false, true, false},
		{"udp:127.0.0.2:7379", false, true, false},
		{"udp:[::1]:7379", false, true, false},
		{"unixgram:/run/freqd.dgram", false, true, false},
		{"udp:0.0.0.0:7379", true, true, false},   // a password is set
		{"udp:0.0.0.0:7379", false, false, false}, // --protected-mode=no
		{"0.0.0.0:7379", false, true, true},       // TCP, for comparison
	}
	for i, tc := range tests {
		err := CheckProtected([]string{"127.0.0.1:7379", tc.addr}, tc.password, tc.protect)
		switch {
		case tc.refused && (err == nil || !strings.Contains(err.Error(), "listen "+tc.addr+": this address is reachable from other machines and no password is set")):
			t.Errorf("case %d (%s, password %v, protected %v): %v, want it refused", i, tc.addr, tc.password, tc.protect, err)
		case !tc.refused && err != nil:
			t.Errorf("case %d (%s, password %v, protected %v): %v, want it allowed", i, tc.addr, tc.password, tc.protect, err)
		}
	}
}
