package classic

import (
	"fmt"
	"net"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/freqd/freqd/handler"
	"github.com/freqd/freqd/listen"
)

// perConn is the goroutine design: one process, an accept loop per
// listener, a goroutine per connection running handler.ServeConn. It is the
// thread-per-connection server with Go's cheap threads and netpoller under
// it, which is why it is hard to beat in Go: blocking code, all cores, a few
// kilobytes per idle client. Its cost is shared fate: one process, one heap,
// one crash for every client.
type perConn struct {
	h   *handler.Handler
	log hclog.Logger
	ls  []netListener

	mu       sync.Mutex
	conns    map[*drainConn]struct{}
	stopping bool
	loops    sync.WaitGroup // accept loops
	active   sync.WaitGroup // connections being served
}

func newPerConn(h *handler.Handler, log hclog.Logger, socks []*listen.Socket) (*perConn, error) {
	ls, err := takeNet(socks)
	if err != nil {
		return nil, err
	}
	return &perConn{h: h, log: log, ls: ls, conns: map[*drainConn]struct{}{}}, nil
}

func (s *perConn) serve() error {
	for _, ln := range s.ls {
		s.loops.Add(1)
		go func() {
			defer s.loops.Done()
			acceptEach(ln, s.log, s.start)
		}()
	}
	s.loops.Wait()
	s.active.Wait()
	return nil
}

// start serves c on a goroutine of its own.
func (s *perConn) start(nc net.Conn) {
	c := &drainConn{Conn: nc}
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		c.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.active.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.active.Done()
		if err := s.h.ServeConn(c); err != nil {
			s.log.Debug("connection ended", "remote", fmt.Sprint(c.RemoteAddr()), "error", err)
		}
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
}

func (s *perConn) shutdown(graceful bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.stopping {
		s.stopping = true
		closeListeners(s.ls)
	}
	for c := range s.conns {
		if graceful {
			c.drain()
		} else {
			c.Close()
		}
	}
}
