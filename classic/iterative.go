package classic

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sys/unix"

	"github.com/freqd/freqd/handler"
	"github.com/freqd/freqd/internal/sys"
	"github.com/freqd/freqd/listen"
)

// iterative serves one connection at a time: poll(2) on every listener,
// accept one connection from a ready listener, serve it to the end with
// handler.ServeConn, repeat. Connections that arrive meanwhile wait in the
// kernel's listen backlog. It is the baseline every other design must beat:
// no concurrency at all, so its throughput is one client's.
type iterative struct {
	h    *handler.Handler
	log  hclog.Logger
	ls   []rawSocket
	wake *sys.Waker
	stop stopState

	mu  sync.Mutex
	cur *drainConn // the connection being served, for shutdown
}

func newIterative(h *handler.Handler, log hclog.Logger, socks []*listen.Socket) (*iterative, error) {
	raw, err := takeRaw(socks)
	if err != nil {
		return nil, err
	}
	w, err := sys.NewWaker()
	if err != nil {
		closeRaw(raw)
		return nil, err
	}
	return &iterative{h: h, log: log, ls: raw, wake: w}, nil
}

func (s *iterative) serve() error {
	defer s.wake.Close()
	defer closeRaw(s.ls)
	fds := make([]unix.PollFd, len(s.ls)+1)
	for i, l := range s.ls {
		fds[i] = unix.PollFd{Fd: int32(l.fd), Events: unix.POLLIN}
	}
	fds[len(s.ls)] = unix.PollFd{Fd: int32(s.wake.FD()), Events: unix.POLLIN}
	next := 0 // the listener tried first, rotated so no listener starves another
	var delay time.Duration
	for s.stop.get() == running {
		if _, err := unix.Poll(fds, -1); err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return fmt.Errorf("poll listeners: %w", err)
		}
		for k := range s.ls {
			i := (next + k) % len(s.ls)
			if fds[i].Revents == 0 {
				continue
			}
			next = i + 1
			nfd, _, err := unix.Accept4(s.ls[i].fd, unix.SOCK_CLOEXEC)
			switch {
			case err == nil:
				delay = 0
				s.serveOne(nfd, s.ls[i].addr)
			case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EINTR), errors.Is(err, unix.ECONNABORTED):
				// The client gave up before we got to it: nothing to do.
			default:
				delay = sys.NextBackoff(delay)
				s.log.Warn("accept failed; backing off", "listen", s.ls[i].addr.String(), "error", err, "delay", delay)
				time.Sleep(delay)
			}
			break
		}
	}
	return nil
}

// serveOne serves the accepted descriptor fd until the client is done.
func (s *iterative) serveOne(fd int, addr listen.Address) {
	nc, err := fileConn(fd, addr.String())
	if err != nil {
		s.log.Error("accepted descriptor is not a connection", "listen", addr.String(), "error", err)
		return
	}
	c := &drainConn{Conn: nc}
	s.mu.Lock()
	if s.stop.get() != running {
		s.mu.Unlock()
		c.Close()
		return
	}
	s.cur = c
	s.mu.Unlock()

	if err := s.h.ServeConn(c); err != nil {
		s.log.Debug("connection ended", "remote", fmt.Sprint(c.RemoteAddr()), "error", err)
	}
	s.mu.Lock()
	s.cur = nil
	s.mu.Unlock()
}

func (s *iterative) shutdown(graceful bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stop.request(graceful)
	s.wake.Wake()
	if s.cur == nil {
		return
	}
	if graceful {
		s.cur.drain()
	} else {
		s.cur.Close()
	}
}
