package classic

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/freqd/freqd/cluster"
	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/internal/pidfile"
	"github.com/freqd/freqd/internal/version"
	"github.com/freqd/freqd/listen"
	"github.com/freqd/freqd/table"

	"github.com/hashicorp/go-hclog"

	"github.com/freqd/freqd/handler"
)

// design is what differs between the four: how connections are taken and
// served.
type design interface {
	// serve takes and serves connections until shutdown has been called
	// and every connection is done, then releases its listeners. Called
	// after shutdown, it releases them and returns at once.
	serve() error
	// shutdown stops taking connections. Graceful lets open connections
	// finish the requests they have sent; otherwise they are closed at
	// once. It may be called from any goroutine, more than once, and an
	// immediate stop may follow a graceful one.
	shutdown(graceful bool)
}

// Server is a classic design, bound to its addresses and ready to run.
type Server struct {
	cfg    Config
	log    hclog.Logger
	served *table.Served
	addrs  []string
	design design
}

// New validates the configuration, loads the table and binds every
// listener; errors here are the operator's to fix, and nothing is left open.
func New(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger}
	if err := listen.CheckProtected(cfg.Listen, cfg.RequirePass != "", cfg.ProtectedMode); err != nil {
		return nil, err
	}
	if s.served, err = table.Load(cfg.Data); err != nil {
		return nil, err
	}
	if err := cluster.CheckStandalone(s.served.Table, s.served.Name); err != nil {
		s.served.Close()
		return nil, err
	}
	socks, err := listen.Bind(cfg.Listen, listen.Options{UnixMode: cfg.UnixMode})
	if err != nil {
		s.served.Close()
		return nil, err
	}
	for _, l := range socks {
		s.addrs = append(s.addrs, l.Address.String())
	}
	// Each design takes the sockets over, and closes them on error.
	if s.design, err = s.newDesign(socks); err != nil {
		s.served.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) newDesign(socks []*listen.Socket) (design, error) {
	if s.cfg.Mode == mode.Fork {
		return newForkServer(s.cfg, socks, s.served.File)
	}
	opts := handler.Options{Version: version.Get().Version, Timeouts: s.cfg.Timeouts, RequirePass: s.cfg.RequirePass,
		MaxRequestMemory: s.cfg.MaxRequestMemory,
		Info: []handler.InfoSection{{Name: "design", Append: func(b []byte) []byte {
			return fmt.Appendf(b, "mode:%s\r\n", s.cfg.Mode)
		}}}}
	switch s.cfg.Mode {
	case mode.Iterative:
		return newIterative(handler.New(s.served.Table, opts), s.log, socks)
	case mode.Goroutine:
		return newPerConn(handler.New(s.served.Table, opts), s.log, socks)
	default:
		return newEpollServer(s.served.Table, opts, s.log, socks)
	}
}

// Addrs reports the bound addresses, with the ports chosen for :0.
func (s *Server) Addrs() []string { return s.addrs }

// Run serves until SIGTERM, SIGINT or SIGQUIT and returns nil after a clean
// stop. It logs "ready" with the same fields as the master's ready line
// (mode, listen, words, table_bytes, pid), so tools find the address of
// every design the same way.
func (s *Server) Run() error {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT)
	defer signal.Stop(sigs)
	defer s.served.Close()

	if s.cfg.Pidfile != "" {
		pf, err := pidfile.Lock(s.cfg.Pidfile)
		if err == nil {
			if err = pf.Write(); err != nil {
				pf.Remove()
			}
		}
		if err != nil {
			s.design.shutdown(false)
			s.design.serve()
			return err
		}
		defer pf.Remove()
	}
	done := make(chan error, 1)
	go func() { done <- s.design.serve() }()
	fields := []any{"mode", s.cfg.Mode, "listen", strings.Join(s.addrs, ","),
		"words", s.served.Table.Len(), "table_bytes", s.served.Table.Size(), "pid", os.Getpid()}
	if s.cfg.Mode == mode.Fork {
		fields = append(fields, "max_children", s.cfg.MaxChildren)
	}
	s.log.Info("ready", fields...)

	var force <-chan time.Time
	for {
		select {
		case err := <-done:
			if err != nil {
				return err
			}
			s.log.Info("stopped")
			return nil
		case sig := <-sigs:
			switch sig {
			case syscall.SIGTERM, syscall.SIGINT:
				if force == nil {
					s.log.Info("graceful shutdown", "signal", sig.String(), "timeout", s.cfg.ShutdownTimeout)
					s.design.shutdown(true)
					force = time.After(s.cfg.ShutdownTimeout)
				}
			case syscall.SIGQUIT:
				s.log.Info("immediate shutdown", "signal", sig.String())
				s.design.shutdown(false)
			}
		case <-force:
			s.log.Warn("connections still open after the shutdown timeout; closing them", "timeout", s.cfg.ShutdownTimeout)
			s.design.shutdown(false)
		}
	}
}

// stopState is how far a design has been asked to stop. It only advances.
type stopState struct{ v atomic.Int32 }

const (
	running int32 = iota
	stopGraceful
	stopNow
)

// request raises the state to graceful or immediate and reports the state
// before.
func (s *stopState) request(graceful bool) int32 {
	want := stopNow
	if graceful {
		want = stopGraceful
	}
	for {
		old := s.v.Load()
		if old >= want || s.v.CompareAndSwap(old, want) {
			return old
		}
	}
}

func (s *stopState) get() int32 { return s.v.Load() }
