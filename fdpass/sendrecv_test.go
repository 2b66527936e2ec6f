package fdpass_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/freqd/freqd/fdpass"
	"golang.org/x/sys/unix"
)

// Descriptors arrive in order as new, close-on-exec descriptors for the same
// open files, with the payload, for one, a few and SCM_MAX_FD of them.
func TestSendRecvPassesOpenFiles(t *testing.T) {
	tests := []struct {
		name    string
		nfds    int
		payload []byte
	}{
		{"one descriptor", 1, []byte("c")},
		{"two descriptors", 2, []byte("two descriptors")},
		{"SCM_MAX_FD descriptors", fdpass.MaxFDs, bytes.Repeat([]byte("freqd "), 700)},
	}
	for _, api := range apis {
		for i, tc := range tests {
			t.Run(api+"/"+tc.name, func(t *testing.T) {
				checkLeaks(t)
				p := newPair(t, api)
				files := make([]*os.File, tc.nfds)
				fds := make([]int, tc.nfds)
				for j := range files {
					f, err := os.CreateTemp(t.TempDir(), "passed")
					if err != nil {
						t.Fatal(err)
					}
					defer f.Close()
					files[j], fds[j] = f, int(f.Fd())
				}
				if err := p.send(tc.payload, fds...); err != nil {
					t.Fatalf("case %d (%s): send: %v", i, tc.name, err)
				}
				buf := make([]byte, len(tc.payload)+1)
				n, got, err := p.recv(buf, tc.nfds)
				if err != nil {
					t.Fatalf("case %d (%s): receive: %v", i, tc.name, err)
				}
				defer closeAll(got)
				if !bytes.Equal(buf[:n], tc.payload) {
					t.Errorf("case %d (%s): received a %d-byte payload, want the %d bytes sent", i, tc.name, n, len(tc.payload))
				}
				if len(got) != tc.nfds {
					t.Fatalf("case %d (%s): received %d descriptors, want %d", i, tc.name, len(got), tc.nfds)
				}
				for j, fd := range got {
					if err := sameOpenFile(fd, files[j]); err != nil {
						t.Errorf("case %d (%s): descriptor %d: %v", i, tc.name, j, err)
					}
					if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil || flags&unix.FD_CLOEXEC == 0 {
						t.Errorf("case %d (%s): received descriptor %d has flags %#x (%v), want FD_CLOEXEC", i, tc.name, j, flags, err)
					}
				}
			})
		}
	}
}

// sameOpenFile checks that fd refers to the open file f: the same inode, and
// what is written through fd is read through f.
func sameOpenFile(fd int, f *os.File) error {
	var got, want unix.Stat_t
	if err := unix.Fstat(fd, &got); err != nil {
		return err
	}
	if err := unix.Fstat(int(f.Fd()), &want); err != nil {
		return err
	}
	if got.Dev != want.Dev || got.Ino != want.Ino {
		return fmt.Errorf("refers to device %d inode %d, want %d/%d (%s)", got.Dev, got.Ino, want.Dev, want.Ino, f.Name())
	}
	msg := []byte("written through the received descriptor to " + f.Name())
	if _, err := unix.Pwrite(fd, msg, 0); err != nil {
		return fmt.Errorf("write through it: %w", err)
	}
	back := make([]byte, len(msg))
	if _, err := f.ReadAt(back, 0); err != nil {
		return fmt.Errorf("read back through the original: %w", err)
	}
	if !bytes.Equal(back, msg) {
		return fmt.Errorf("read %q through the original, want %q", back, msg)
	}
	return nil
}

// A message without descriptors is a valid message: the caller sees an empty
// descriptor list and decides.
func TestRecvMessageWithoutDescriptors(t *testing.T) {
	for _, api := range apis {
		for _, maxFDs := range []int{0, 1, fdpass.MaxFDs} {
			t.Run(fmt.Sprintf("%s/maxFDs=%d", api, maxFDs), func(t *testing.T) {
				checkLeaks(t)
				p := newPair(t, api)
				if err := p.send([]byte("ping")); err != nil {
					t.Fatal(err)
				}
				buf := make([]byte, 16)
				n, fds, err := p.recv(buf, maxFDs)
				if err != nil {
					t.Fatal(err)
				}
				if string(buf[:n]) != "ping" || len(fds) != 0 {
					t.Errorf("received %q with %d descriptors, want \"ping\" with none", buf[:n], len(fds))
				}
			})
		}
	}
}

// A message the receiver cannot take whole is refused, every descriptor that
// arrived with it is closed, and the next message is read normally.
func TestRecvRejectsMessageThatDoesNotFit(t *testing.T) {
	tests := []struct {
		name    string
		sent    int // descriptors sent
		maxFDs  int
		payload string
		bufLen  int
		want    error
	}{
		// A control buffer for one descriptor has room for two: the kernel
		// installs both and Recv must count them.
		{"one more than maxFDs, no truncation", 2, 1, "x", 8, fdpass.ErrTooManyFDs},
		{"control data truncated", 3, 1, "x", 8, fdpass.ErrTooManyFDs},
		{"descriptors sent to a plain reader", 1, 0, "x", 8, fdpass.ErrTooManyFDs},
		{"SCM_MAX_FD sent, four accepted", fdpass.MaxFDs, 4, "x", 8, fdpass.ErrTooManyFDs},
		{"payload longer than the buffer", 2, 2, "a longer payload", 8, fdpass.ErrTruncated},
	}
	for _, api := range apis {
		for i, tc := range tests {
			t.Run(api+"/"+tc.name, func(t *testing.T) {
				checkLeaks(t)
				p := newPair(t, api)
				readEnds := make([]*os.File, tc.sent)
				writeEnds := make([]int, tc.sent)
				for j := range readEnds {
					readEnds[j], writeEnds[j] = newPipe(t)
					defer readEnds[j].Close()
				}
				err := p.send([]byte(tc.payload), writeEnds...)
				closeAll(writeEnds)
				if err != nil {
					t.Fatalf("case %d (%s): send: %v", i, tc.name, err)
				}
				n, fds, err := p.recv(make([]byte, tc.bufLen), tc.maxFDs)
				if !errors.Is(err, tc.want) {
					t.Errorf("case %d (%s): receive returned %v, want %v", i, tc.name, err, tc.want)
				}
				if n != 0 || fds != nil {
					closeAll(fds)
					t.Errorf("case %d (%s): receive returned n=%d and %d descriptors with its error, want 0 and none", i, tc.name, n, len(fds))
				}
				// Our write ends are closed: EOF proves that the received
				// copies were closed and the rest freed by the kernel.
				for j, r := range readEnds {
					if err := expectEOF(r); err != nil {
						t.Errorf("case %d (%s): pipe %d: %v", i, tc.name, j, err)
					}
				}
				if err := p.send([]byte("next")); err != nil {
					t.Fatalf("case %d (%s): send the next message: %v", i, tc.name, err)
				}
				buf := make([]byte, 8)
				n, fds, err = p.recv(buf, tc.maxFDs)
				if err != nil || string(buf[:n]) != "next" || len(fds) != 0 {
					t.Errorf("case %d (%s): next receive got %q, %d descriptors, %v; want \"next\"", i, tc.name, buf[:n], len(fds), err)
				}
			})
		}
	}
}

// A refused send sends nothing: the next message is the first to arrive.
func TestSendRejectsInvalidMessage(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		fds     func(fd int) []int
		want    error // nil: any error
	}{
		{"empty payload", nil, func(fd int) []int { return []int{fd} }, fdpass.ErrEmptyPayload},
		{"more than SCM_MAX_FD", []byte("x"), func(fd int) []int {
			fds := make([]int, fdpass.MaxFDs+1)
			for i := range fds {
				fds[i] = fd
			}
			return fds
		}, fdpass.ErrTooManyFDs},
		{"negative descriptor", []byte("x"), func(fd int) []int { return []int{fd, -1} }, nil},
	}
	for _, api := range apis {
		for i, tc := range tests {
			t.Run(api+"/"+tc.name, func(t *testing.T) {
				checkLeaks(t)
				p := newPair(t, api)
				r, w := newPipe(t)
				defer r.Close()
				defer unix.Close(w)
				err := p.send(tc.payload, tc.fds(w)...)
				if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
					t.Errorf("case %d (%s): send returned %v, want %v", i, tc.name, err, tc.want)
				}
				if err := p.send([]byte("probe")); err != nil {
					t.Fatal(err)
				}
				buf := make([]byte, 8)
				n, fds, err := p.recv(buf, fdpass.MaxFDs)
				closeAll(fds)
				if err != nil || string(buf[:n]) != "probe" || len(fds) != 0 {
					t.Errorf("case %d (%s): first message received is %q with %d descriptors (%v), want the probe", i, tc.name, buf[:n], len(fds), err)
				}
			})
		}
	}
}

// Invalid arguments to a receive are refused without consuming a message.
func TestRecvRejectsInvalidArguments(t *testing.T) {
	tests := []struct {
		name   string
		bufLen int
		maxFDs int
	}{
		{"empty buffer", 0, 1},
		{"negative maxFDs", 8, -1},
		{"maxFDs over SCM_MAX_FD", 8, fdpass.MaxFDs + 1},
	}
	for _, api := range apis {
		for i, tc := range tests {
			t.Run(api+"/"+tc.name, func(t *testing.T) {
				checkLeaks(t)
				p := newPair(t, api)
				if err := p.send([]byte("kept")); err != nil {
					t.Fatal(err)
				}
				if n, fds, err := p.recv(make([]byte, tc.bufLen), tc.maxFDs); err == nil {
					closeAll(fds)
					t.Errorf("case %d (%s): receive succeeded with n=%d, want an error", i, tc.name, n)
				}
				buf := make([]byte, 8)
				n, _, err := p.recv(buf, 0)
				if err != nil || string(buf[:n]) != "kept" {
					t.Errorf("case %d (%s): next receive got %q, %v; want the message sent", i, tc.name, buf[:n], err)
				}
			})
		}
	}
}

// SendFd on a full non-blocking socket returns EAGAIN; Send on the same
// socket waits in the netpoller and succeeds once a reader makes room.
func TestSendOnFullSocket(t *testing.T) {
	checkLeaks(t)
	a, b, err := fdpass.Socketpair()
	if err != nil {
		t.Fatal(err)
	}
	ca, cb := fileConn(t, a), fileConn(t, b)
	raw, err := ca.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var queued int
	var fillErr error
	err = raw.Control(func(fd uintptr) {
		// FileConn made the socket non-blocking, so SendFd cannot block.
		for queued = 0; queued < 1<<20; queued++ {
			if fillErr = fdpass.SendFd(int(fd), []byte("x")); fillErr != nil {
				return
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(fillErr, unix.EAGAIN) {
		t.Fatalf("after %d messages SendFd returned %v, want an error matching unix.EAGAIN", queued, fillErr)
	}

	done := make(chan error, 1)
	go func() { done <- fdpass.Send(ca, []byte("after the queue drains")) }()
	buf := make([]byte, 32)
	for i := range queued {
		if n, _, err := fdpass.Recv(cb, buf, 0); err != nil || string(buf[:n]) != "x" {
			t.Fatalf("message %d of %d: got %q, %v", i, queued, buf[:n], err)
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("Send on a full socket returned %v, want it to wait and succeed", err)
	}
	if n, _, err := fdpass.Recv(cb, buf, 0); err != nil || string(buf[:n]) != "after the queue drains" {
		t.Errorf("last message: got %q, %v", buf[:n], err)
	}
}

// TestRecvAtTheDescriptorLimitKeepsWhatArrived: a receiver at its
// descriptor limit gets a message's descriptors truncated by the kernel,
// which is no malformed message: the ones that arrived are returned for
// the receiver to serve, with ErrDescriptorLimit.
func TestRecvAtTheDescriptorLimitKeepsWhatArrived(t *testing.T) {
	mine, theirs, err := fdpass.Socketpair()
	if err != nil {
		t.Fatal(err)
	}
	defer mine.Close()
	c := startChild(t, "limited", theirs)
	theirs.Close()
	c.expect(t, "ready")
	var fds []int
	for range 8 {
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		fds = append(fds, int(f.Fd()))
	}
	if err := fdpass.SendFd(int(mine.Fd()), []byte("N"), fds...); err != nil {
		t.Fatal(err)
	}
	c.expect(t, "4 true")
}
