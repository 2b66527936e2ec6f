package master

import (
	"fmt"
	"net"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// notify sends a state to systemd's NOTIFY_SOCKET (sd_notify(3)); without
// one it does nothing. The protocol is one datagram of NEWLINE-separated
// assignments, so a few lines here spare a dependency.
func (m *Master) notify(state ...string) {
	switch state[0] {
	case "READY=1":
		state = append(state, fmt.Sprintf("MAINPID=%d", os.Getpid()))
	case "RELOADING=1":
		state = append(state, monotonicUsec())
	}
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return
	}
	if strings.HasPrefix(path, "@") {
		path = "\x00" + path[1:] // abstract namespace
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		m.log.Warn("sd_notify: cannot reach NOTIFY_SOCKET", "error", err)
		return
	}
	defer c.Close()
	if _, err := c.Write([]byte(strings.Join(state, "\n") + "\n")); err != nil {
		m.log.Warn("sd_notify: write failed", "error", err)
	}
}

// monotonicUsec is CLOCK_MONOTONIC in microseconds, as RELOADING=1 wants it
// beside MONOTONIC_USEC.
func monotonicUsec() string {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return fmt.Sprintf("MONOTONIC_USEC=%d", ts.Nano()/1000)
}
