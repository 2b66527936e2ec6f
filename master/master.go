package master

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/freqd/freqd/handler"
	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/internal/pidfile"
	"github.com/freqd/freqd/listen"
	"github.com/freqd/freqd/table"

	"github.com/hashicorp/go-hclog"

	"github.com/freqd/freqd/fdpass"
	"github.com/freqd/freqd/shm/scoreboard"
	"github.com/freqd/freqd/worker"
)

// Config is what `freqd serve` decides.
type Config struct {
	Listen          []string         // --listen addresses; listen.DefaultAddr when empty
	Workers         int              // pool size
	Mode            mode.Mode        // one of mode.PreForked
	UnixMode        os.FileMode      // mode of unix socket files
	Pidfile         string           // written once the workers are ready; "" for none
	Data            table.Source     // the table to serve, and how workers get it
	ShutdownTimeout time.Duration    // graceful stop: how long workers may drain
	WorkerTimeout   time.Duration    // a worker whose heartbeat is older is hung
	MaxRequests     int              // recycle a worker after about this many commands; 0 = never
	MaxClients      int              // connections over this many, across all workers, are refused
	RequirePass     string           // clients must AUTH with it; "" for none
	ProtectedMode   bool             // refuse non-loopback listeners without RequirePass
	User            string           // workers run as this user; "" for the master's
	MetricsListen   string           // serve Prometheus metrics here; "" for none
	Dispatch        string           // fdpass: DispatchShared (default) or DispatchLeastLoaded
	Timeouts        handler.Timeouts // per connection, as every worker applies them

	LogLevel string
	LogJSON  bool
	Logger   hclog.Logger

	// Executable is the binary re-executed as a worker; /proc/self/exe by
	// default, so workers run the very binary the master runs even if the
	// file on disk was replaced.
	Executable string
}

// readyWait bounds how long a new worker (at start-up or reload) may take to
// report that it serves.
const readyWait = 30 * time.Second

// Master is a running supervisor.
type Master struct {
	cfg  Config
	log  hclog.Logger
	exe  string
	spwn *spawner
	// upgradeExe is the binary SIGUSR2 executes: the path this one was
	// started from, which may hold a newer build by now.
	upgradeExe string
	cred       *syscall.Credential // --user: what workers run as; nil for the master's own

	served    *table.Served
	board     *scoreboard.Board
	boardFile *os.File

	listeners []*listen.Socket  // stream sockets, in --listen order
	datagrams []*listen.Socket  // udp: and unixgram: sockets, read by every worker
	inh       *listen.Inherited // sockets from a previous master or systemd, while binding
	pidfile   *pidfile.File
	metricsLn net.Listener   // --metrics-listen, bound in New
	metrics   *metricsServer // running once the pool is ready
	// Descriptors handed to workers.
	portSockets [][]*listen.Socket // reuseport: [slot][tcp address], empty for slot 0
	queues      []*descQueue       // fdpass: one shared queue, or one per slot (least-loaded); Run goroutine only
	queue0      *descQueue         // queues[0], set once in New: all the dispatcher reads of queues
	targets     atomic.Pointer[[]target]

	events     chan event
	pool       []*slotState // the current generation, one entry per worker slot
	retiring   []*proc      // workers of older generations, draining
	boardUse   []bool       // scoreboard entries in use
	gen        uint64
	reload     *reloadState  // a SIGHUP being carried out
	handoffs   []handoff     // handed-back connections waiting for a worker
	upgrade    *upgradeState // a SIGUSR2 being carried out
	dispatch   sync.WaitGroup
	dispatcher *dispatcher // fdpass mode's accept loop, once started
	stopping   bool
	upgraded   bool // a new master took over the listeners (SIGUSR2)
	takesOver  bool // this master was started by SIGUSR2 to replace another

	lastWatch  time.Time // the watchdog's previous run
	watchGrace time.Time // no hang verdicts before this
	stats      counters
}

// slotState is one place in the pool: the worker in it comes and goes, the
// slot (its reuseport sockets, its restart history) stays.
type slotState struct {
	index    int
	proc     *proc
	failures int    // consecutive quick deaths
	restarts uint64 // processes started in this slot after the first
	pending  bool   // a (re)start is scheduled
}

// proc is one worker process, seen from the master.
type proc struct {
	slot    *slotState // nil once retired
	board   int        // scoreboard entry
	gen     uint64
	cmd     *exec.Cmd
	ctl     *net.UnixConn
	started time.Time
	ready   bool
	aborted time.Time  // when the watchdog sent SIGABRT
	drainAt time.Time  // when the master asked it to drain
	home    *slotState // during a reload: the slot an old worker served
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

type event struct {
	kind  eventKind
	proc  *proc
	slot  *slotState
	state *os.ProcessState
	gen   uint64
	conn  handoff // evHandoff
	// upgrade names the SIGUSR2 attempt an upgrade event belongs to, so a
	// late event of a failed attempt cannot act on the next one.
	upgrade *upgradeState
}

type eventKind int

const (
	evReady eventKind = iota
	evExit
	evStart
	evReloadTimeout
	evHandoff // a retiring worker handed a connection back
	evRecycle // a worker served MaxRequests
	evUpgradeReady
	evUpgradeExit
	evUpgradeTimeout
)

// counters are the master's own statistics, for INFO and metrics.
type counters struct {
	restarts      map[string]uint64 // by cause
	reloads       uint64
	failedReloads uint64
}

// New validates the configuration, binds every listener and loads the table;
// errors here are the operator's to fix, and nothing has been started.
func New(cfg Config) (*Master, error) {
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if cfg.Workers < 1 || cfg.Workers > scoreboard.MaxEntries/2 {
		return nil, fmt.Errorf("--workers %d: want 1 to %d", cfg.Workers, scoreboard.MaxEntries/2)
	}
	if !cfg.Mode.IsPreForked() {
		return nil, fmt.Errorf("mode %s is not one of the pre-forked designs (%s)", cfg.Mode, mode.Join(mode.PreForked, ", "))
	}
	if cfg.UnixMode == 0 {
		cfg.UnixMode = 0o660
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 10 * time.Second
	}
	if err := cfg.Data.Check(); err != nil {
		return nil, err
	}
	switch cfg.Dispatch {
	case "":
		cfg.Dispatch = DispatchShared
	case DispatchShared, DispatchLeastLoaded:
	default:
		return nil, fmt.Errorf("--dispatch %q: want shared or least-loaded", cfg.Dispatch)
	}
	if cfg.WorkerTimeout <= 0 {
		cfg.WorkerTimeout = 30 * time.Second
	}
	var err error
	m := &Master{cfg: cfg, log: cfg.Logger, exe: cfg.Executable, events: make(chan event, 64)}
	if m.exe == "" {
		m.exe = "/proc/self/exe"
	}
	if m.upgradeExe, err = os.Executable(); err != nil {
		return nil, fmt.Errorf("find own binary for upgrades: %w", err)
	}
	m.stats.restarts = map[string]uint64{}
	m.boardUse = make([]bool, scoreboard.MaxEntries)
	ok := false
	defer func() {
		if !ok {
			m.closeAll()
		}
	}()
	if cfg.Pidfile != "" {
		if m.pidfile, err = pidfile.Lock(cfg.Pidfile); err != nil {
			return nil, err
		}
	}
	if m.cred, err = workerCredential(cfg.User); err != nil {
		return nil, err
	}
	if m.served, err = table.Load(cfg.Data); err != nil {
		return nil, err
	}
	if err := m.bind(); err != nil {
		return nil, err
	}
	if m.board, m.boardFile, err = scoreboard.New(scoreboard.MaxEntries); err != nil {
		return nil, err
	}
	if cfg.Mode == mode.FDPass {
		if _, err := m.queueFor(0); err != nil {
			return nil, err
		}
	}
	ok = true
	return m, nil
}

// bind binds the listeners, or adopts those inherited from a previous
// master (SIGUSR2) or from systemd. An upgraded master keeps exactly its
// predecessor's addresses (with the ports the kernel chose for :0); under
// systemd the sockets units define are used when no --listen is given.
func (m *Master) bind() error {
	inh, err := listen.Inherit()
	if err != nil {
		return err
	}
	m.inh = inh
	m.takesOver = len(inh.Upgrade) > 0
	defer func() {
		for _, k := range inh.Rest() {
			m.log.Warn("closing an inherited socket no --listen address asks for", "socket", k)
		}
		inh.Close()
		m.inh = nil
	}()
	addrs := m.cfg.Listen
	switch {
	case len(inh.Upgrade) > 0:
		addrs = inh.Upgrade
	case len(addrs) == 0 && len(inh.Systemd) > 0:
		addrs = inh.Systemd
	case len(addrs) == 0:
		addrs = []string{listen.DefaultAddr}
	}
	if err := listen.CheckProtected(addrs, m.cfg.RequirePass != "", m.cfg.ProtectedMode); err != nil {
		return err
	}
	socks, err := listen.Bind(addrs, listen.Options{UnixMode: m.cfg.UnixMode, ReusePort: m.cfg.Mode == mode.ReusePort,
		Datagrams: true, From: inh})
	if err != nil {
		return err
	}
	for _, s := range socks {
		if s.Address.IsDatagram() {
			m.datagrams = append(m.datagrams, s)
		} else {
			m.listeners = append(m.listeners, s)
		}
	}
	if m.metricsLn, err = m.bindMetrics(); err != nil {
		return err
	}
	if m.cfg.Mode == mode.ReusePort {
		for i := 0; i < m.cfg.Workers; i++ {
			if err := m.addPortSockets(); err != nil {
				return err
			}
		}
	}
	return nil
}

// addPortSockets creates the SO_REUSEPORT sockets of one more slot. The first
// slot reuses the sockets bound in bind.
func (m *Master) addPortSockets() error {
	slot := len(m.portSockets)
	var socks []*listen.Socket
	for _, l := range m.listeners {
		if slot == 0 || l.Address.Network != listen.TCP {
			continue // slot 0 serves the sockets bound first
		}
		s, err := listen.BindSlot(l, slot, m.inh)
		if err != nil {
			for _, s := range socks {
				s.Close()
			}
			return err
		}
		socks = append(socks, s)
	}
	m.portSockets = append(m.portSockets, socks)
	return nil
}

// tcpSockets lists the TCP listening sockets whose accept queues the
// metrics report: the listeners, and in reuseport mode every slot's.
func (m *Master) tcpSockets() []*listen.Socket {
	var out []*listen.Socket
	for _, l := range m.listeners {
		if l.Address.Network == listen.TCP {
			out = append(out, l)
		}
	}
	for _, socks := range m.portSockets {
		out = append(out, socks...)
	}
	return out
}

// Addrs reports the bound addresses (with the ports chosen for :0).
func (m *Master) Addrs() []string {
	var out []string
	for _, l := range append(slices.Clone(m.listeners), m.datagrams...) {
		out = append(out, l.Address.String())
	}
	return out
}

// Run starts the workers and supervises them until SIGTERM, SIGINT or
// SIGQUIT. It returns nil after a clean shutdown.
func (m *Master) Run() error {
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGHUP,
		syscall.SIGUSR2, syscall.SIGTTIN, syscall.SIGTTOU)
	defer signal.Stop(sigs)

	m.spwn = newSpawner()
	m.gen = 1
	for i := 0; i < m.cfg.Workers; i++ {
		s := &slotState{index: i}
		m.pool = append(m.pool, s)
		if err := m.startWorker(s); err != nil {
			m.shutdown(false)
			return err
		}
	}
	if err := m.awaitReady(sigs); err != nil {
		m.shutdown(false)
		return err
	}
	m.publishTargets()
	if m.cfg.Mode == mode.FDPass {
		if err := m.startDispatch(); err != nil {
			m.shutdown(false)
			return err
		}
	}
	if m.cfg.Pidfile != "" {
		if err := m.pidfile.Write(); err != nil {
			m.shutdown(false)
			return err
		}
	}
	if m.metricsLn != nil {
		m.startMetrics(m.metricsLn)
	}
	if m.takesOver {
		// This master replaced another (SIGUSR2) and now serves: the socket
		// files are its own to remove on a clean exit. A successor that
		// failed before this point leaves them to the master still serving.
		for _, l := range append(slices.Clone(m.listeners), m.datagrams...) {
			l.Inherited = false
		}
	}
	m.adoptPredecessor()
	m.notify("READY=1", fmt.Sprintf("MAINPID=%d", os.Getpid()))
	ready := []any{"mode", m.cfg.Mode, "listen", strings.Join(m.Addrs(), ","),
		"workers", len(m.pool), "words", m.served.Table.Len(), "table_bytes", m.served.Table.Size(), "pid", os.Getpid()}
	if m.metricsLn != nil {
		ready = append(ready, "metrics", "http://"+m.metricsLn.Addr().String()+"/metrics")
	}
	m.log.Info("ready", ready...)

	watch := time.NewTicker(watchEvery)
	defer watch.Stop()
	for {
		select {
		case ev := <-m.events:
			if ev.kind == evUpgradeReady && m.upgrade != nil && ev.upgrade == m.upgrade {
				m.handOver()
				return nil
			}
			m.handle(ev)
			m.publish()
			m.publishTargets()
		case <-watch.C:
			m.watchdog()
			m.publish()
			m.publishTargets()
		case sig := <-sigs:
			switch sig {
			case syscall.SIGTERM, syscall.SIGINT:
				m.log.Info("graceful shutdown", "signal", sig.String(), "timeout", m.cfg.ShutdownTimeout)
				m.notify("STOPPING=1")
				m.shutdown(true)
				return nil
			case syscall.SIGQUIT:
				m.log.Info("immediate shutdown", "signal", sig.String())
				m.shutdown(false)
				return nil
			case syscall.SIGHUP:
				m.startReload()
			case syscall.SIGUSR2:
				m.startUpgrade()
			case syscall.SIGTTIN:
				m.grow()
			case syscall.SIGTTOU:
				m.shrink()
			}
		}
	}
}

// awaitReady waits until every initial worker reports ready, so the pidfile
// and the "ready" line mean what they say. Workers that die meanwhile are
// restarted as usual.
func (m *Master) awaitReady(sigs chan os.Signal) error {
	deadline := time.After(readyWait)
	for !m.poolReady() {
		select {
		case ev := <-m.events:
			m.handle(ev)
		case sig := <-sigs:
			switch sig {
			case syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT:
				return fmt.Errorf("interrupted by %s while starting workers", sig)
			}
		case <-deadline:
			return fmt.Errorf("workers not ready after %s; see the worker errors above", readyWait)
		}
	}
	return nil
}

func (m *Master) poolReady() bool {
	for _, s := range m.pool {
		if s.proc == nil || !s.proc.ready {
			return false
		}
	}
	return true
}

// shutdown stops the pool. Graceful: stop accepting, ask every worker to
// drain, wait up to ShutdownTimeout, then kill what is left. Otherwise kill
// at once. Either way the listeners are closed (unix socket files removed)
// and the pidfile is removed.
func (m *Master) shutdown(graceful bool) {
	m.stopping = true
	if m.upgrade != nil {
		m.upgradeFailed("the old master is stopping")
	}
	for _, l := range m.listeners {
		l.Close()
	}
	m.stopDispatch()
	procs := m.procs()
	for _, p := range procs {
		if graceful {
			fdpass.Send(p.ctl, []byte{worker.MsgDrain})
		} else {
			p.cmd.Process.Signal(syscall.SIGKILL)
		}
	}
	// A retiring worker may still hand connections back: nobody is left
	// to serve them.
	m.awaitExit(procs, func(h handoff) { h.close() })
	for _, h := range m.handoffs {
		h.close()
	}
	if m.pidfile != nil {
		m.pidfile.Remove()
		m.pidfile = nil
	}
	m.closeAll()
	m.log.Info("stopped")
}

// awaitExit waits until every one of procs, told to go, has exited; those
// still running after ShutdownTimeout are killed. Connections retiring
// workers hand back meanwhile go to handoff.
func (m *Master) awaitExit(procs []*proc, take func(handoff)) {
	live := map[*proc]bool{}
	for _, p := range procs {
		live[p] = true
	}
	deadline := time.After(m.cfg.ShutdownTimeout + time.Second)
	for len(live) > 0 {
		select {
		case ev := <-m.events:
			switch ev.kind {
			case evExit:
				m.reap(ev.proc, ev.state)
				delete(live, ev.proc)
			case evHandoff:
				take(ev.conn)
			}
		case <-deadline:
			m.log.Warn("workers still running after the shutdown timeout; killing them", "workers", len(live))
			for p := range live {
				p.cmd.Process.Signal(syscall.SIGKILL)
			}
			deadline = time.After(5 * time.Second)
		}
	}
}

// procs lists every live worker process: the pool's, those of a generation
// being replaced, and those draining.
func (m *Master) procs() []*proc {
	var out []*proc
	for _, s := range m.pool {
		if s.proc != nil {
			out = append(out, s.proc)
		}
	}
	if m.reload != nil {
		out = append(out, m.reload.old...)
	}
	return append(out, m.retiring...)
}

func (m *Master) closeAll() {
	if m.metrics != nil {
		m.metrics.close()
	} else if m.metricsLn != nil {
		m.metricsLn.Close()
	}
	if m.pidfile != nil {
		m.pidfile.Release()
		m.pidfile = nil
	}
	for _, l := range append(slices.Clone(m.listeners), m.datagrams...) {
		l.Close()
		// A socket file is removed on a clean exit, and kept when a new
		// master has taken it over or systemd's socket unit owns it.
		if !l.Inherited && !m.upgraded {
			l.RemoveFile()
		}
	}
	for _, socks := range m.portSockets {
		for _, s := range socks {
			s.Close()
		}
	}
	for _, q := range m.queues {
		q.close()
	}
	if m.board != nil {
		m.board.Close()
		m.boardFile.Close()
	}
	if m.served != nil {
		m.served.Close()
	}
}
