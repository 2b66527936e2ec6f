package master

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/freqd/freqd/internal/mode"

	"github.com/hashicorp/go-hclog"

	"github.com/freqd/freqd/fdpass"
	"github.com/freqd/freqd/shm/freqfile"
	"github.com/freqd/freqd/shm/scoreboard"
	"github.com/freqd/freqd/worker"
)

// Config is what `freqd serve` decides.
type Config struct {
	Listen          []string      // --listen addresses; DefaultAddr when empty
	Workers         int           // pool size
	Mode            mode.Mode     // one of mode.PreForked
	UnixMode        os.FileMode   // mode of unix socket files
	Pidfile         string        // written once the workers are ready; "" for none
	DataPath        string        // frequency file; "" for the embedded default
	ShutdownTimeout time.Duration // graceful stop: how long workers may drain
	WorkerTimeout   time.Duration // a worker whose heartbeat is older is hung
	MaxRequests     int           // recycle a worker after about this many commands; 0 = never
	MaxClients      int           // connections over this many, across all workers, are refused
	RequirePass     string        // clients must AUTH with it; "" for none
	ProtectedMode   bool          // refuse non-loopback listeners without RequirePass
	User            string        // workers run as this user; "" for the master's
	MetricsListen   string        // serve Prometheus metrics here; "" for none
	DataMode        string        // DataCopy (default) or DataMap
	Dispatch        string        // fdpass: DispatchShared (default) or DispatchLeastLoaded
	Limits          worker.Limits

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

	table     *freqfile.Table
	tableFile *os.File
	board     *scoreboard.Board
	boardFile *os.File

	listeners []*listener
	datagrams []*datagramSocket // udp: and unixgram: sockets, read by every worker
	inh       *inherited        // sockets from a previous master or systemd, while binding
	pidfile   *Pidfile
	metricsLn net.Listener   // --metrics-listen, bound in New
	metrics   *metricsServer // running once the pool is ready
	// queueSockets are the TCP listening sockets whose accept queues the
	// metrics report: the listeners, and in reuseport mode every slot's.
	queueSockets []queueSocket
	// Descriptors handed to workers, duplicated once at start-up.
	portSockets [][]net.Listener // reuseport: [slot][tcp address], empty for slot 0
	queues      []*descQueue     // fdpass: one shared queue, or one per slot (least-loaded); Run goroutine only
	queue0      *descQueue       // queues[0], set once in New: all the dispatcher reads of queues
	targets     atomic.Pointer[[]target]

	events     chan event
	pool       []*slotState // the current generation, one entry per worker slot
	retiring   []*proc      // workers of older generations, draining
	boardUse   []bool       // scoreboard entries in use
	gen        uint64
	reload     *reloadState  // a SIGHUP being carried out
	handoffs   []int         // handed-back connections waiting for a worker
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
	fd    int
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
	switch cfg.DataMode {
	case "":
		cfg.DataMode = DataCopy
	case DataCopy, DataMap:
	default:
		return nil, fmt.Errorf("--data-mode %q: want copy or map", cfg.DataMode)
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
		if m.pidfile, err = LockPidfile(cfg.Pidfile); err != nil {
			return nil, err
		}
	}
	if m.cred, err = workerCredential(cfg.User); err != nil {
		return nil, err
	}
	if m.table, m.tableFile, err = m.loadTable(); err != nil {
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

// loadTable loads the table as DataMode says.
func (m *Master) loadTable() (*freqfile.Table, *os.File, error) {
	if m.cfg.DataMode == DataMap {
		return MapTable(m.cfg.DataPath)
	}
	return LoadTable(m.cfg.DataPath)
}

// bind binds the listeners, or adopts those inherited from a previous
// master (SIGUSR2) or from systemd. An upgraded master keeps exactly its
// predecessor's addresses (with the ports the kernel chose for :0); under
// systemd the sockets units define are used when no --listen is given.
func (m *Master) bind() error {
	inh, err := inheritListeners()
	if err != nil {
		return err
	}
	m.inh = inh
	m.takesOver = len(inh.upgrade) > 0
	defer func() {
		for _, k := range inh.rest() {
			m.log.Warn("closing an inherited socket no --listen address asks for", "socket", k)
		}
		inh.close()
		m.inh = nil
	}()
	addrs := m.cfg.Listen
	switch {
	case len(inh.upgrade) > 0:
		addrs = inh.upgrade
	case len(addrs) == 0 && len(inh.systemd) > 0:
		addrs = inh.systemd
	case len(addrs) == 0:
		addrs = []string{DefaultAddr}
	}
	if err := CheckProtected(addrs, m.cfg.RequirePass, m.cfg.ProtectedMode); err != nil {
		return err
	}
	addrs, dgrams := splitDatagram(addrs)
	if err := m.bindDatagrams(dgrams); err != nil {
		return err
	}
	bound, err := bindAll(addrs, m.cfg.UnixMode, m.cfg.Mode == mode.ReusePort, inh)
	if err != nil {
		return err
	}
	// No mode accepts through the runtime's poller: fdpass's dispatcher
	// has its own epoll set, and the workers accept in the other modes.
	// A listener left registered there would wake a poller thread for
	// every connection.
	for i, b := range bound {
		ln, err := detach(b.Listener)
		if err != nil {
			for _, b := range bound {
				b.Listener.Close()
			}
			return fmt.Errorf("listen %s: %w", b.Address, err)
		}
		bound[i].Listener = ln
	}
	for _, b := range bound {
		if b.Address.Network == "tcp" {
			m.queueSockets = append(m.queueSockets, queueSocket{listen: b.Address.String(), name: "0", sock: b.Listener.(syscall.Conn)})
		}
	}
	if m.metricsLn, err = m.bindMetrics(); err != nil {
		for _, b := range bound {
			b.Listener.Close()
		}
		return err
	}
	for _, b := range bound {
		m.listeners = append(m.listeners, &listener{addr: b.Address, ln: b.Listener, owned: !b.Inherited})
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
	var socks []net.Listener
	for _, l := range m.listeners {
		if slot == 0 || l.addr.Network != "tcp" {
			continue // slot 0 serves the sockets bound first
		}
		ln := m.inh.take(fmt.Sprintf("%s#%d", addressKey(l.addr), slot))
		if ln == nil {
			var err error
			if ln, err = bindTCP(l.addr, true); err != nil {
				return err
			}
		}
		ln, err := detach(ln)
		if err != nil {
			return fmt.Errorf("listen %s: %w", l.addr, err)
		}
		socks = append(socks, ln)
		m.queueSockets = append(m.queueSockets, queueSocket{listen: l.addr.String(), name: strconv.Itoa(slot), sock: ln.(syscall.Conn)})
	}
	m.portSockets = append(m.portSockets, socks)
	return nil
}

// Addrs reports the bound addresses (with the ports chosen for :0).
func (m *Master) Addrs() []string {
	out := make([]string, len(m.listeners))
	for i, l := range m.listeners {
		out[i] = l.addr.String()
	}
	return append(out, m.datagramAddrs()...)
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
		for _, l := range m.listeners {
			l.owned = true
		}
		for _, d := range m.datagrams {
			d.owned = true
		}
	}
	m.adoptPredecessor()
	m.notify("READY=1", fmt.Sprintf("MAINPID=%d", os.Getpid()))
	ready := []any{"mode", m.cfg.Mode, "listen", strings.Join(m.Addrs(), ","),
		"workers", len(m.pool), "words", m.table.Len(), "table_bytes", m.table.Size(), "pid", os.Getpid()}
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
		l.ln.Close()
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
	m.awaitExit(procs, func(fd int) { syscall.Close(fd) })
	for _, fd := range m.handoffs {
		syscall.Close(fd)
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
func (m *Master) awaitExit(procs []*proc, handoff func(fd int)) {
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
				handoff(ev.fd)
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
	m.closeDatagrams()
	if m.pidfile != nil {
		m.pidfile.release()
		m.pidfile = nil
	}
	for _, l := range m.listeners {
		l.ln.Close()
		// A socket file is removed on a clean exit, and kept when a new
		// master has taken it over.
		if l.addr.Network == "unix" && l.owned && !m.upgraded {
			os.Remove(l.addr.Addr)
		}
	}
	for _, socks := range m.portSockets {
		for _, ln := range socks {
			ln.Close()
		}
	}
	for _, q := range m.queues {
		q.close()
	}
	if m.board != nil {
		m.board.Close()
		m.boardFile.Close()
	}
	if m.table != nil {
		m.table.Close()
	}
	if m.tableFile != nil {
		m.tableFile.Close()
	}
}
