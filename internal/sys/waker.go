package sys

import (
	"encoding/binary"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
)

// Waker is an eventfd that another goroutine writes to interrupt a loop
// blocked in poll or epoll_wait. It is safe to wake after close: the write
// is then dropped instead of landing on a reused descriptor number.
type Waker struct {
	mu     sync.Mutex
	fd     int
	closed bool
}

// NewWaker makes a non-blocking, close-on-exec eventfd.
func NewWaker() (*Waker, error) {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	return &Waker{fd: fd}, nil
}

// Wake makes the eventfd readable.
func (w *Waker) Wake() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		var one [8]byte
		binary.NativeEndian.PutUint64(one[:], 1)
		unix.Write(w.fd, one[:]) // EAGAIN only if already signalled
	}
}

// Clear resets the counter so a level-triggered wait stops reporting it.
func (w *Waker) Clear() {
	var b [8]byte
	unix.Read(w.fd, b[:])
}

// Close closes the eventfd; later Wakes do nothing.
func (w *Waker) Close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.closed = true
		unix.Close(w.fd)
	}
}

// FD is the descriptor to wait on for readability.
func (w *Waker) FD() int { return w.fd }
