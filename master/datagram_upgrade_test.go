package master_test

import (
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"
)

// TestDatagramListenersSurviveUpgrade: the UDP and unix datagram sockets go
// to the new master on SIGUSR2 like the stream listeners: same port, same
// socket file, the same client sockets answered.
func TestDatagramListenersSurviveUpgrade(t *testing.T) {
	s := startDatagramServer(t, "fdpass", 1)
	udp, dgram := dialDatagram(t, s, "udp"), dialDatagram(t, s, "unixgram")
	want := dgCount("the")
	if got := ask(t, udp, "GET the\r\n"); got != want {
		t.Fatalf("before: udp GET the = %q", got)
	}
	syscall.Kill(s.pid, syscall.SIGUSR2)
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		t.Fatal("old master still running 15s after SIGUSR2")
	}
	newPid := 0
	eventually(t, "the new master's pidfile", func() bool {
		b, _ := os.ReadFile(s.pidfile)
		fmt.Sscan(string(b), &newPid)
		return newPid != 0 && newPid != s.pid
	})
	t.Cleanup(func() { killTree(newPid) })
	if _, err := os.Stat(s.dgram); err != nil {
		t.Errorf("unixgram socket file after the upgrade: %v", err)
	}
	if got := ask(t, udp, "GET the\r\n"); got != want {
		t.Errorf("after the upgrade: udp GET the = %q, want %q", got, want)
	}
	if got := ask(t, dgram, "GET the\r\n"); got != want {
		t.Errorf("after the upgrade: unixgram GET the = %q, want %q", got, want)
	}
}
