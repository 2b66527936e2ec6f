package fdpass_test

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"unsafe"

	"github.com/freqd/freqd/fdpass"
	"golang.org/x/sys/unix"
)

// Messages queued before the sender closes are delivered, then io.EOF.
func TestRecvEOFWhenPeerCloses(t *testing.T) {
	for _, api := range apis {
		t.Run(api, func(t *testing.T) {
			checkLeaks(t)
			p := newPair(t, api)
			if err := p.send([]byte("last words")); err != nil {
				t.Fatal(err)
			}
			p.closeSender()
			buf := make([]byte, 16)
			n, _, err := p.recv(buf, 1)
			if err != nil || string(buf[:n]) != "last words" {
				t.Fatalf("first receive got %q, %v; want the queued message", buf[:n], err)
			}
			for range 2 {
				if n, fds, err := p.recv(buf, 1); err != io.EOF {
					closeAll(fds)
					t.Fatalf("receive after the peer closed got n=%d, %v; want io.EOF", n, err)
				}
			}
		})
	}
}

// A worker learns of the master's death from EOF on the dispatch socket.
func TestRecvEOFWhenSenderProcessDies(t *testing.T) {
	checkLeaks(t)
	a, b, err := fdpass.Socketpair()
	if err != nil {
		t.Fatal(err)
	}
	c := startChild(t, "sender", a)
	a.Close()
	conn := fileConn(t, b)
	c.expect(t, "sent")

	buf := make([]byte, 16)
	n, fds, err := fdpass.Recv(conn, buf, 1)
	if err != nil {
		t.Fatalf("receive the child's message: %v", err)
	}
	closeAll(fds)
	if want := fmt.Sprint(c.cmd.Process.Pid); string(buf[:n]) != want || len(fds) != 1 {
		t.Errorf("received %q with %d descriptors, want %q with 1", buf[:n], len(fds), want)
	}
	if err := c.kill(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("child exited with %v, want killed; stderr: %s", err, c.stderr)
	}
	if n, fds, err := fdpass.Recv(conn, buf, 1); err != io.EOF {
		closeAll(fds)
		t.Errorf("receive after the sender died got n=%d, %v; want io.EOF", n, err)
	}
}

// A sender that bypasses Send can queue a zero-length message with
// descriptors. The receiver must not mistake it for EOF and leak them.
func TestRecvZeroLengthMessageWithDescriptors(t *testing.T) {
	for _, api := range apis {
		t.Run(api, func(t *testing.T) {
			checkLeaks(t)
			a, b, err := fdpass.Socketpair()
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			var recv func([]byte, int) (int, []int, error)
			if api == "raw" {
				defer b.Close()
				recv = func(p []byte, maxFDs int) (int, []int, error) { return fdpass.RecvFd(int(b.Fd()), p, maxFDs) }
			} else {
				cb := fileConn(t, b)
				recv = func(p []byte, maxFDs int) (int, []int, error) { return fdpass.Recv(cb, p, maxFDs) }
			}
			r, w := newPipe(t)
			defer r.Close()
			err = sendZeroLength(int(a.Fd()), w)
			unix.Close(w)
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 8)
			if n, fds, err := recv(buf, 1); !errors.Is(err, fdpass.ErrEmptyPayload) || n != 0 || fds != nil {
				closeAll(fds)
				t.Errorf("receive got n=%d, %d descriptors, %v; want an error matching ErrEmptyPayload", n, len(fds), err)
			}
			if err := expectEOF(r); err != nil {
				t.Errorf("descriptor of the rejected message: %v", err)
			}
			if err := fdpass.SendFd(int(a.Fd()), []byte("next")); err != nil {
				t.Fatal(err)
			}
			if n, _, err := recv(buf, 1); err != nil || string(buf[:n]) != "next" {
				t.Errorf("next receive got %q, %v; want \"next\"", buf[:n], err)
			}
		})
	}
}

// sendZeroLength sends fds with no payload at all, which unix.Sendmsg would
// pad with a dummy byte.
func sendZeroLength(sock int, fds ...int) error {
	oob := unix.UnixRights(fds...)
	var msg unix.Msghdr
	msg.Control = &oob[0]
	msg.SetControllen(len(oob))
	_, _, errno := unix.Syscall(unix.SYS_SENDMSG, uintptr(sock), uintptr(unsafe.Pointer(&msg)), 0)
	if errno != 0 {
		return errno
	}
	return nil
}
