// Package sys holds the few system calls freqd makes outside the Go
// runtime's poller, for the event loop and for the master's accept loop:
// raw non-blocking reads, writes and accepts, a zero-timeout epoll_wait,
// an eventfd to wake a blocked wait, and the back-off rule for errors that
// do not clear by themselves. Nothing above this package makes these calls
// itself, so each is made one way.
package sys

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The loop's reads and writes are on non-blocking sockets and never block,
// and neither does an epoll_wait with a zero timeout, so they are made as
// raw system calls, without telling the Go scheduler. A blocking call
// (unix.Read, unix.EpollWait) hands the P to the scheduler on entry and
// takes it back on exit; while the loop is busy that costs far more than
// the call itself: the runtime's monitor thread sees a P in a system call,
// retakes it, and then wakes every 20 µs to look again. Only a wait that
// may sleep goes through the scheduler.

// RawRead and RawWrite pass MSG_DONTWAIT, so they never block whatever
// the descriptor's file status flags say: a connection received from
// another process needs no fcntl to be safe in the loop.
func RawRead(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, errno := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), unix.MSG_DONTWAIT, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

func RawWrite(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, errno := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// PollNow is epoll_wait with a zero timeout: what is ready now, never a
// sleep. Made as a raw system call, it costs a busy loop no trip through
// the Go scheduler; a loop calls the blocking unix.EpollWait only when
// PollNow finds nothing.
func PollNow(epfd int, events []unix.EpollEvent) (int, error) {
	n, _, errno := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// Accept4 accepts a connection from a non-blocking listener (it never
// blocks, so it is a raw system call), making it non-blocking and
// close-on-exec. It asks for no peer address: with one,
// unix.Accept4 also makes a getsockopt per connection (to tell an L2TP
// socket from other IPv4 ones), a cost a loop that logs a peer only on
// errors need not pay; getpeername gives it then.
func Accept4(fd int) (int, error) {
	for {
		nfd, _, errno := unix.RawSyscall6(unix.SYS_ACCEPT4, uintptr(fd), 0, 0, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
		switch errno {
		case 0:
			return int(nfd), nil
		case unix.EINTR:
			continue
		}
		return -1, errno
	}
}

// NextBackoff is the pause after an error that will not clear at once by
// itself (EMFILE, ENFILE, ENOBUFS on accept or read), given the previous
// one: 5 ms doubling to 1 s, as net/http does, so that an exhausted
// descriptor table is not met with a busy loop.
func NextBackoff(prev time.Duration) time.Duration {
	return max(5*time.Millisecond, min(2*prev, time.Second))
}
