package fdpass_test

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/freqd/freqd/fdpass"
	"golang.org/x/sys/unix"
)

// A signal interrupts a blocking recvmsg with EINTR when the socket has a
// receive timeout, even under SA_RESTART. RecvFd must retry, not fail.
func TestRecvFdRetriesWhenInterrupted(t *testing.T) {
	checkLeaks(t)
	a, b, err := fdpass.Socketpair()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	defer b.Close()
	sock := int(b.Fd())
	tv := unix.Timeval{Sec: 20}
	if err := unix.SetsockoptTimeval(sock, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}

	tids := make(chan int, 1)
	results := make(chan recvResult, 1)
	go func() {
		// Stay on this thread, and let it die with the goroutine, so the
		// signals below reach the thread blocked in RecvFd.
		runtime.LockOSThread()
		tids <- unix.Gettid()
		buf := make([]byte, 8)
		n, fds, err := fdpass.RecvFd(sock, buf, 1)
		closeAll(fds)
		results <- recvResult{string(buf[:n]), err}
	}()
	tid := <-tids

	for i := range 3 {
		if err := waitInRecvmsg(tid, results); err != nil {
			t.Fatalf("before signal %d: %v", i, err)
		}
		// SIGURG is the Go runtime's own preemption signal: harmless to it.
		if err := unix.Tgkill(os.Getpid(), tid, unix.SIGURG); err != nil {
			t.Fatalf("signal the receiving thread: %v", err)
		}
	}
	if err := waitInRecvmsg(tid, results); err != nil {
		t.Fatalf("after the signals: %v", err)
	}
	if err := fdpass.SendFd(int(a.Fd()), []byte("wake")); err != nil {
		t.Fatal(err)
	}
	if r := <-results; r.err != nil || r.payload != "wake" {
		t.Errorf("RecvFd returned %q, %v; want \"wake\"", r.payload, r.err)
	}
}

// recvResult is what a RecvFd call returned.
type recvResult struct {
	payload string
	err     error
}

// waitInRecvmsg waits until thread tid of this process is blocked in the
// recvmsg system call. It fails if the RecvFd call on that thread has
// returned a result instead.
func waitInRecvmsg(tid int, results <-chan recvResult) error {
	path := fmt.Sprintf("/proc/self/task/%d/syscall", tid)
	var last string
	for range 2000 {
		select {
		case r := <-results:
			return fmt.Errorf("RecvFd returned %q, %v; want it to keep waiting", r.payload, r.err)
		default:
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		last = string(b)
		nr, _, _ := strings.Cut(last, " ")
		if nr == strconv.Itoa(unix.SYS_RECVMSG) {
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return fmt.Errorf("thread %d never blocked in recvmsg (syscall %d); %s reads %q", tid, unix.SYS_RECVMSG, path, last)
}
