package classic

import (
	"runtime"

	"github.com/hashicorp/go-hclog"

	"github.com/freqd/freqd/evloop"
	"github.com/freqd/freqd/handler"
	"github.com/freqd/freqd/listen"
)

// epollServer is the epoll design: one thread running an evloop.Loop on the
// listeners. It is the select() server of the classics: no locks, no stack
// per client and the least memory per connection, and everything it does is
// serial, so it uses one core and a slow request delays every client.
//
// GOMAXPROCS is 1, so all I/O and protocol work happens on the loop's OS
// thread; the Go runtime keeps its own helper threads (sysmon, signal
// delivery), which do none of it.
type epollServer struct {
	loop *evloop.Loop
	ls   []rawSocket // for their unix socket files, removed after the loop
	stop stopState
}

func newEpollServer(t handler.Table, opts handler.Options, log hclog.Logger, socks []*listen.Socket) (*epollServer, error) {
	raw, err := takeRaw(socks)
	if err != nil {
		return nil, err
	}
	var loop *evloop.Loop
	opts.Info = append(opts.Info, handler.InfoSection{Name: "eventloop", Append: func(b []byte) []byte { return loop.AppendInfo(b) }})
	cfg := evloop.Config{Handler: handler.New(t, opts), Log: log, Queue: -1}
	for _, l := range raw {
		cfg.Listeners = append(cfg.Listeners, evloop.Listener{FD: l.fd, Name: l.addr.String()})
	}
	if loop, err = evloop.New(cfg); err != nil {
		closeRaw(raw)
		return nil, err
	}
	return &epollServer{loop: loop, ls: raw}, nil
}

func (s *epollServer) serve() error {
	runtime.GOMAXPROCS(1)
	defer removeSocketFiles(s.ls)
	return s.loop.Serve()
}

func (s *epollServer) shutdown(graceful bool) {
	if s.stop.request(graceful) >= stopNow {
		return
	}
	if graceful {
		s.loop.Drain(nil)
	} else {
		s.loop.Stop()
	}
}
