package fdpass_test

import (
	"fmt"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/freqd/freqd/fdpass"
	"golang.org/x/sys/unix"
)

// pair is one socketpair seen through one of the two APIs.
type pair struct {
	send        func(payload []byte, fds ...int) error
	recv        func(payload []byte, maxFDs int) (int, []int, error)
	closeSender func()
}

// apis are the two ways to use the package: Send and Recv through Go's
// netpoller, or SendFd and RecvFd on blocking raw descriptors.
var apis = []string{"netpoller", "raw"}

// newPair returns a connected SOCK_SEQPACKET pair used through api. Both ends
// are closed when the test ends.
func newPair(t testing.TB, api string) pair {
	t.Helper()
	a, b, err := fdpass.Socketpair()
	if err != nil {
		t.Fatal(err)
	}
	if api == "raw" {
		t.Cleanup(func() { a.Close(); b.Close() })
		sa, sb := int(a.Fd()), int(b.Fd())
		return pair{
			send: func(p []byte, fds ...int) error { return fdpass.SendFd(sa, p, fds...) },
			recv: func(p []byte, maxFDs int) (int, []int, error) { return fdpass.RecvFd(sb, p, maxFDs) },
			// Close the os.File, not the number, so the test's cleanup
			// cannot close a reused descriptor number.
			closeSender: func() { a.Close() },
		}
	}
	ca, cb := fileConn(t, a), fileConn(t, b)
	return pair{
		send:        func(p []byte, fds ...int) error { return fdpass.Send(ca, p, fds...) },
		recv:        func(p []byte, maxFDs int) (int, []int, error) { return fdpass.Recv(cb, p, maxFDs) },
		closeSender: func() { ca.Close() },
	}
}

// fileConn is fdpass.FileConn for tests and benchmarks. The connection is
// closed when the test ends; in a test it gives up after 20 seconds, so a
// broken test fails instead of hanging.
func fileConn(t testing.TB, f *os.File) *net.UnixConn {
	t.Helper()
	c, err := fdpass.FileConn(f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, bench := t.(*testing.B); !bench {
		c.SetDeadline(time.Now().Add(20 * time.Second))
	}
	return c
}

// newPipe returns a pipe's non-blocking read end, which supports deadlines,
// and its write end as a bare descriptor to send. Both are close-on-exec.
func newPipe(t *testing.T) (r *os.File, w int) {
	t.Helper()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	return os.NewFile(uintptr(p[0]), "pipe"), p[1]
}

// expectEOF returns an error unless r reaches end of file: every write end of
// its pipe, including copies received or still in flight, is closed.
func expectEOF(r *os.File) error {
	r.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := r.Read(make([]byte, 1))
	if err != io.EOF {
		return fmt.Errorf("read from the pipe: %d bytes, %v; want EOF, a write end is still open", n, err)
	}
	return nil
}

// closeAll closes received descriptors a test is done with.
func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}
