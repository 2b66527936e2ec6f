package master

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/freqd/freqd/cluster"
	"github.com/freqd/freqd/handler"
	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/internal/pidfile"
	"github.com/freqd/freqd/listen"
	"github.com/freqd/freqd/master/pool"
	"github.com/freqd/freqd/shm/scoreboard"
	"github.com/freqd/freqd/table"
)

// Config is what `freqd serve` decides.
type Config struct {
	Listen           []string         // --listen addresses; listen.DefaultAddr when empty
	Workers          int              // pool size
	Mode             mode.Mode        // one of mode.PreForked
	UnixMode         os.FileMode      // mode of unix socket files
	Pidfile          string           // written once the workers are ready; "" for none
	Data             table.Source     // the table to serve, and how workers get it
	ShutdownTimeout  time.Duration    // graceful stop: how long workers may drain
	ShutdownDelay    time.Duration    // graceful stop: how long to serve, not ready, before draining
	WorkerTimeout    time.Duration    // a worker whose heartbeat is older is hung
	MaxRequests      int              // recycle a worker after about this many commands; 0 = never
	MaxClients       int              // connections over this many, across all workers, are refused
	MaxRequestMemory int64            // per worker: bytes held in unfinished requests; 0 = no budget
	RequirePass      string           // clients must AUTH with it; "" for none
	ProtectedMode    bool             // refuse non-loopback listeners without RequirePass
	User             string           // workers run as this user; "" for the master's
	MetricsListen    string           // serve Prometheus metrics here; "" for none
	Dispatch         string           // fdpass: DispatchShared (default) or DispatchLeastLoaded
	Timeouts         handler.Timeouts // per connection, as every worker applies them
	Cluster          *cluster.Config  // --cluster-config: the table is a shard of this cluster; nil for none
	ClusterTimeout   time.Duration    // how long a worker waits for another shard's answer

	LogLevel string
	LogJSON  bool
	Logger   hclog.Logger

	// Executable is the binary re-executed as a worker; /proc/self/exe by
	// default, so workers run the very binary the master runs even if the
	// file on disk was replaced.
	Executable string
}

// readyWait bounds how long a new worker (at start-up or reload), and a
// new master (upgrade), may take to report that it serves.
const readyWait = 30 * time.Second

// Master is the executor of the supervisor: it binds the sockets, owns the
// processes, descriptors and goroutines, and carries out what the pool
// model (package pool) decides, feeding back what happens. Run's goroutine
// is the only one that steps the model or touches the master's state;
// every other goroutine the master starts talks to it through inputs and
// is waited for before Run returns.
type Master struct {
	cfg Config
	log hclog.Logger
	exe string
	// upgradeExe is the binary SIGUSR2 executes: the path this one was
	// started from, which may hold a newer build by now.
	upgradeExe string
	cred       *syscall.Credential // --user: what workers run as; nil for the master's own
	spawn      *spawner

	model  *pool.Model
	tables map[uint64]*table.Served // by generation: the current one, and the previous during a reload
	// clusterSelf is this node's line of the cluster configuration, from
	// the first table: a reload must bring the same shard.
	clusterSelf *cluster.Shard

	board     *scoreboard.Board
	boardFile *os.File

	listeners   []*listen.Socket   // stream sockets, in --listen order
	datagrams   []*listen.Socket   // udp: and unixgram: sockets, read by every worker
	portSockets [][]*listen.Socket // reuseport: [slot][tcp address]; slot 0 uses listeners
	inh         *listen.Inherited  // sockets from a previous master or systemd, while binding
	takesOver   bool               // this master was started by SIGUSR2 to replace another
	upgraded    bool               // a new master took over the sockets
	pidfile     *pidfile.File
	metricsLn   net.Listener
	metrics     *metricsServer

	queues  []*descQueue                  // fdpass: one shared queue, or one per slot (least-loaded)
	queue0  *descQueue                    // queues[0], set once in New: what the accept loop reads of queues
	targets atomic.Pointer[[]queueTarget] // least-loaded: the ready workers' queues
	accept  *acceptLoop                   // fdpass mode's accept loop, while it runs
	feeder  *feeder                       // puts handed-back connections on the shared queue

	procs       map[pool.WorkerID]*proc // live worker processes
	handoffs    []handoff               // handed-back connections the model says to hold
	succ        *successor              // the new master of an upgrade under way
	predecessor *net.UnixConn           // the old master's handoff socket, after an upgrade

	inputs  chan input     // from the master's goroutines to Run
	pending []pool.Event   // answers to actions, stepped after the actions in hand
	wg      sync.WaitGroup // every goroutine the master starts, but the spawner's thread
	done    bool
	exitErr error
}

// input is what a goroutine reports to Run: an event for the model, or a
// connection a worker (or the previous master) handed back.
type input struct {
	ev      pool.Event
	handoff *handoff
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
		return nil, fmt.Errorf("--dispatch %s: want %s or %s", cfg.Dispatch, DispatchShared, DispatchLeastLoaded)
	}
	if cfg.WorkerTimeout <= 0 {
		cfg.WorkerTimeout = 30 * time.Second
	}
	m := &Master{cfg: cfg, log: cfg.Logger, exe: cfg.Executable, tables: map[uint64]*table.Served{},
		procs: map[pool.WorkerID]*proc{}, inputs: make(chan input, 64)}
	if m.exe == "" {
		m.exe = "/proc/self/exe"
	}
	var err error
	if m.upgradeExe, err = os.Executable(); err != nil {
		return nil, fmt.Errorf("find own binary for upgrades: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			m.release()
		}
	}()
	// The upgrade pipe must not leak into the workers: a new master's
	// failure to start is seen as end of file on it.
	takeUpgradePipe()
	m.raiseDescriptorLimit()
	if cfg.Pidfile != "" {
		if m.pidfile, err = pidfile.Lock(cfg.Pidfile); err != nil {
			return nil, err
		}
	}
	if m.cred, err = workerCredential(cfg.User); err != nil {
		return nil, err
	}
	t, err := m.loadTable()
	if err != nil {
		return nil, err
	}
	m.tables[1] = t // the first generation's
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
	m.model = pool.New(pool.Config{
		Workers: cfg.Workers, MaxWorkers: scoreboard.MaxEntries / 2, Entries: scoreboard.MaxEntries,
		ReadyWait: readyWait, ShutdownTimeout: cfg.ShutdownTimeout, ShutdownDelay: cfg.ShutdownDelay,
		WorkerTimeout: cfg.WorkerTimeout,
		Log:           m.log,
	})
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
			if err := m.addPortSockets(i); err != nil {
				return err
			}
		}
	}
	return nil
}

// addPortSockets creates the SO_REUSEPORT sockets of slot i; slot 0 uses
// the sockets bound first.
func (m *Master) addPortSockets(i int) error {
	for len(m.portSockets) <= i {
		m.portSockets = append(m.portSockets, nil)
	}
	if i == 0 || m.portSockets[i] != nil {
		return nil
	}
	var socks []*listen.Socket
	for _, l := range m.listeners {
		if l.Address.Network != listen.TCP {
			continue
		}
		s, err := listen.BindSlot(l, i, m.inh)
		if err != nil {
			for _, s := range socks {
				s.Close()
			}
			return err
		}
		socks = append(socks, s)
	}
	m.portSockets[i] = socks
	return nil
}

// removePortSockets closes slot i's SO_REUSEPORT sockets, so that the
// kernel stops routing connections to a queue nobody will accept from.
// Connections still in that queue when its worker exits are reset unless
// net.ipv4.tcp_migrate_req=1: closing a SO_REUSEPORT socket resets its
// queue.
func (m *Master) removePortSockets(i int) {
	if i == 0 || i >= len(m.portSockets) {
		return
	}
	for _, s := range m.portSockets[i] {
		s.Close()
	}
	m.portSockets[i] = nil
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
// SIGQUIT, or until a new master has taken over (SIGUSR2). It returns nil
// after a clean stop.
func (m *Master) Run() error {
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGHUP,
		syscall.SIGUSR2, syscall.SIGTTIN, syscall.SIGTTOU)
	defer signal.Stop(sigs)
	m.spawn = newSpawner()
	if m.metricsLn != nil {
		// From the start: /livez answers while the workers start, and
		// /readyz says they are not ready yet.
		m.startMetrics(m.metricsLn)
	}

	m.step(pool.NewBegin(time.Now()))
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for !m.done {
		timer.Reset(max(time.Until(m.model.Deadline()), 0))
		select {
		case in := <-m.inputs:
			m.take(in)
		case sig := <-sigs:
			m.step(pool.NewSignaled(time.Now(), operatorSignal(sig)))
		case <-timer.C:
			m.step(pool.NewTick(time.Now(), m.heartbeats()))
		}
	}
	m.release()
	return m.exitErr
}

// operatorSignal maps a signal to what the operator asks of the pool.
func operatorSignal(sig os.Signal) pool.Signal {
	switch sig {
	case syscall.SIGHUP:
		return pool.Reload
	case syscall.SIGUSR2:
		return pool.Upgrade
	case syscall.SIGTTIN:
		return pool.Grow
	case syscall.SIGTTOU:
		return pool.Shrink
	case syscall.SIGQUIT:
		return pool.StopNow
	}
	return pool.Stop
}

// take handles one input.
func (m *Master) take(in input) {
	if in.handoff != nil {
		m.handoffs = append(m.handoffs, *in.handoff)
		m.routeHandoffs()
		return
	}
	if ev, ok := in.ev.(pool.Exited); ok {
		delete(m.procs, ev.ID)
	}
	m.step(in.ev)
}

// step applies an event to the model and performs the actions it returns,
// then the answers those actions produced, in order.
func (m *Master) step(ev pool.Event) {
	m.pending = append(m.pending, ev)
	for len(m.pending) > 0 {
		ev := m.pending[0]
		m.pending = m.pending[1:]
		for _, a := range m.model.Step(ev) {
			m.perform(a)
		}
	}
	m.routeHandoffs()
	m.publishTargets()
	m.publish()
}

// answer queues the event an action produced, for step.
func (m *Master) answer(ev pool.Event) { m.pending = append(m.pending, ev) }

// fatal ends the master with err after an action that cannot fail without
// making it useless (the accept loop or the pidfile at start).
func (m *Master) fatal(err error) {
	m.log.Error("cannot serve; stopping", "error", err)
	if m.exitErr == nil {
		m.exitErr = err
	}
	m.answer(pool.NewSignaled(time.Now(), pool.StopNow))
}

// heartbeats reads the heartbeat age of every live worker.
func (m *Master) heartbeats() map[pool.WorkerID]time.Duration {
	beats := map[pool.WorkerID]time.Duration{}
	for _, w := range m.model.Live() {
		beats[w.ID] = m.board.HeartbeatAge(w.Entry)
	}
	return beats
}

// release stops every goroutine the master started and closes everything
// it holds. Reports still on their way from its goroutines are taken and
// dropped (their connections closed) so that none blocks.
func (m *Master) release() {
	m.stopAccepting()
	if m.feeder != nil {
		for _, h := range m.feeder.stop() {
			h.close()
		}
	}
	if m.predecessor != nil {
		m.predecessor.Close()
	}
	if m.metrics != nil {
		m.metrics.close()
	} else if m.metricsLn != nil {
		m.metricsLn.Close()
	}
	idle := make(chan struct{})
	go func() { m.wg.Wait(); close(idle) }()
	for waiting := true; waiting; {
		select {
		case in := <-m.inputs:
			if in.handoff != nil {
				in.handoff.close()
			}
		case <-idle:
			waiting = false
		}
	}
	for _, h := range m.handoffs {
		h.close()
	}
	m.handoffs = nil
	if m.pidfile != nil {
		// A new master that took over writes its own pid in the file;
		// otherwise the file goes with this master.
		if m.upgraded {
			m.pidfile.Release()
		} else {
			m.pidfile.Remove()
		}
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
	for g, t := range m.tables {
		t.Close()
		delete(m.tables, g)
	}
}

// serving does what waited for the first generation to be ready: accept
// connections, write the pidfile, serve metrics, and, for a master that
// replaces another, take its sockets' files over and tell it so.
func (m *Master) serving() {
	if m.cfg.Mode == mode.FDPass {
		if err := m.startAccepting(); err != nil {
			m.fatal(err)
			return
		}
	}
	if m.pidfile != nil {
		if err := m.pidfile.Write(); err != nil {
			m.fatal(err)
			return
		}
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
	t := m.current()
	ready := []any{"mode", m.cfg.Mode, "listen", strings.Join(m.Addrs(), ","),
		"workers", m.model.Slots(), "words", t.Table.Len(), "table_bytes", t.Table.Size(), "pid", os.Getpid()}
	if m.metricsLn != nil {
		ready = append(ready, "metrics", "http://"+m.metricsLn.Addr().String()+"/metrics")
	}
	m.log.Info("ready", ready...)
}

// raiseDescriptorLimit raises the soft RLIMIT_NOFILE to the hard one, as
// nginx (worker_rlimit_nofile) and Redis do, for the master and, through
// inheritance, its workers: the soft limit is often 1024 where the hard
// one is far higher, and every connection a worker holds is a descriptor.
// The Go runtime raises its own soft limit too, but gives children the
// original one back unless the program sets the limit itself. It logs the
// limit in effect, and says when --max-clients is more than a worker can
// hold under it.
func (m *Master) raiseDescriptorLimit() {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		m.log.Warn("cannot read the descriptor limit", "error", err)
		return
	}
	rl.Cur = rl.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		m.log.Warn("cannot raise the descriptor limit to the hard limit", "hard", rl.Max, "error", err)
		syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
	m.log.Info("descriptor limit", "limit", rl.Cur)
	// A worker may be given every client: --max-clients is what one worker
	// must be able to hold, beside what it keeps open itself.
	const overhead = 64
	if c := m.cfg.MaxClients; c > 0 && uint64(c)+overhead > rl.Cur {
		m.log.Warn("--max-clients is more than one worker can hold under the descriptor limit; clients over it wait in the queue or the listen backlog until connections close. Raise the limit (ulimit -n, LimitNOFILE=) or lower --max-clients",
			"max_clients", c, "limit", rl.Cur)
	}
}

// current is the table of the current generation.
func (m *Master) current() *table.Served { return m.tables[m.model.Stats().Generation] }
