package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/freqd/freqd/cluster"
	"github.com/freqd/freqd/ingest"
	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/internal/procname"
	"github.com/freqd/freqd/internal/version"
	"github.com/freqd/freqd/listen"
	"github.com/freqd/freqd/table"
	"github.com/freqd/freqd/worker/control"

	"github.com/freqd/freqd/classic"
	"github.com/freqd/freqd/master"
	"github.com/freqd/freqd/worker"
)

func init() {
	register(&command{
		name:     "serve",
		summary:  "run the server: a master and a pool of worker processes",
		synopsis: []string{"serve [flags]"},
		about: `Serves the frequency table over the Redis protocol (GET, MGET, FREQ, RANK,
TAG, INFO ...) on every --listen address. A master process binds the
listeners, validates the table and keeps --workers worker processes that map
it; a worker that dies is replaced. SIGHUP reloads the table, SIGUSR2
replaces the binary, SIGTERM stops gracefully: see 'man freqd'.

--mode picks how connections reach the workers: accept (the default) lets
every worker accept on the shared listener, fdpass has the master accept and
pass each connection to a free worker, reuseport gives each worker its own
SO_REUSEPORT socket. The classic designs iterative,
fork, goroutine and epoll are one process each, for comparison; they refuse
the flags of the pool.`,
		groups: []flagGroup{
			{"flags (every mode):", []string{"listen", "data", "mode", "requirepass", "requirepass-file",
				"protected-mode", "unix-mode", "pidfile", "read-timeout", "idle-timeout", "write-timeout",
				"shutdown-timeout", "max-request-memory", "log-level", "log-json"}},
			{"pre-forked modes only (" + mode.Join(mode.PreForked, ", ") + "):", poolFlags},
			{"--mode fork only:", []string{"max-children"}},
		},
		values: map[string][]string{
			"mode":           modeNames(mode.All),
			"data-mode":      {table.Copy, table.Map},
			"dispatch":       {master.DispatchShared, master.DispatchLeastLoaded},
			"protected-mode": {"yes", "no"},
			"log-level":      logLevels,
		},
		examples: []example{
			{"the embedded SUBTLEX-US table on 127.0.0.1:7379", "freqd serve"},
			{"your own table, on every interface, with a password", "freqd serve --data words.freq --listen :7379 --requirepass-file /etc/freqd/password"},
			{"four workers, and Prometheus metrics", "freqd serve --workers 4 --metrics-listen 127.0.0.1:9379"},
			{"one of the classic designs", "freqd serve --mode epoll"},
			{"shard 1 of 3, a node of the cluster cluster.conf describes", "freqd serve --data words.1-of-3.freq --listen :7379 --cluster-config cluster.conf"},
		},
		setup: serveFlags,
	})
	register(&command{name: "worker", summary: "one worker process, started by the master", hidden: true,
		setup: func(*flag.FlagSet) func([]string) int { return runWorker }})
	register(&command{name: "conn", summary: "serves one connection, started by serve --mode fork", hidden: true,
		setup: func(*flag.FlagSet) func([]string) int { return runConn }})
}

// logLevels are the names --log-level takes.
var logLevels = []string{"trace", "debug", "info", "warn", "error"}

func modeNames(ms []mode.Mode) []string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = string(m)
	}
	return s
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func serveFlags(fs *flag.FlagSet) func([]string) int {
	cfg := &master.Config{}
	var addrs listFlag
	fs.Var(&addrs, "listen", "host:port, unix:/path, udp:host:port, unixgram:/path; repeatable (default "+listen.DefaultAddr+") (`ADDR`)")
	fs.StringVar(&cfg.Data.Path, "data", "", "frequency file made by freqd build (default: the embedded SUBTLEX-US table) (`FILE`)")
	modeName := fs.String("mode", string(mode.Default), mode.Join(mode.PreForked, ", ")+"; classic: "+mode.Join(mode.Classic, ", ")+" (`MODE`)")
	fs.StringVar(&cfg.RequirePass, "requirepass", "", "clients must AUTH with it; ps shows it: prefer --requirepass-file (`PASSWORD`)")
	passFile := fs.String("requirepass-file", "", "read the password from the first line of FILE (`FILE`)")
	protected := fs.String("protected-mode", "yes", "yes: refuse non-loopback addresses without a password (`yes|no`)")
	unixMode := fs.String("unix-mode", "0660", "permissions of unix socket files, in octal (`MODE`)")
	fs.StringVar(&cfg.Pidfile, "pidfile", "", "write the master's pid to FILE once it serves (`FILE`)")
	fs.DurationVar(&cfg.Timeouts.Read, "read-timeout", 30*time.Second, "a request must arrive whole within this; 0: no limit")
	fs.DurationVar(&cfg.Timeouts.Idle, "idle-timeout", 0, "close connections idle this long (default 0: never)")
	fs.DurationVar(&cfg.Timeouts.Write, "write-timeout", 30*time.Second, "close connections whose client reads nothing this long; 0: no limit")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "on SIGTERM, how long open requests may take to finish")
	maxRequestMemory := sizeFlag(256 << 20)
	fs.Var(&maxRequestMemory, "max-request-memory", "bytes a worker holds in requests still arriving; past it, the client holding most is closed; 0: no budget (`SIZE`)")
	fs.StringVar(&cfg.LogLevel, "log-level", "info", strings.Join(logLevels[:len(logLevels)-1], ", ")+" or "+logLevels[len(logLevels)-1]+" (`LEVEL`)")
	fs.BoolVar(&cfg.LogJSON, "log-json", false, "log JSON lines instead of text")

	fs.IntVar(&cfg.Workers, "workers", runtime.NumCPU(), "worker processes (default: the number of CPUs) (`N`)")
	fs.StringVar(&cfg.Dispatch, "dispatch", master.DispatchShared, "fdpass only: shared (one queue) or least-loaded (one per worker) (`HOW`)")
	fs.StringVar(&cfg.Data.Mode, "data-mode", table.Copy, "copy: serve a sealed copy of --data; map: map the file itself (`HOW`)")
	fs.IntVar(&cfg.MaxRequests, "max-requests", 0, "recycle a worker after about N commands, plus up to 10% (default 0: never) (`N`)")
	fs.IntVar(&cfg.MaxClients, "max-clients", 10000, "connections open at once, all workers together; 0: no limit (`N`)")
	fs.DurationVar(&cfg.WorkerTimeout, "worker-timeout", 30*time.Second, "a worker silent this long is hung: dumped, killed, replaced")
	fs.DurationVar(&cfg.ShutdownDelay, "shutdown-delay", 0, "on SIGTERM, keep serving this long while /readyz fails, so load balancers stop sending clients; then drain")
	fs.StringVar(&cfg.User, "user", "", "run the workers as USER; the master binds and reads --data first (`USER`)")
	fs.StringVar(&cfg.MetricsListen, "metrics-listen", "", "serve Prometheus metrics at http://ADDR/metrics, and health checks at /livez and /readyz (`ADDR`)")
	clusterConfig := fs.String("cluster-config", "", "serve the --data shard as a node of the Redis Cluster FILE describes, the same file on every node (`FILE`)")
	fs.DurationVar(&cfg.ClusterTimeout, "cluster-timeout", cluster.DefaultTimeout, "how long a node waits for another shard to answer for the words it holds")

	maxChildren := fs.Int("max-children", classic.DefaultMaxChildren, "most connection processes at once; more wait in the backlog (`N`)")

	c := commands["serve"]
	return func(args []string) int {
		if code := c.noArgs(args, "serve --listen :7379"); code != exitOK {
			return code
		}
		if !validLevel(cfg.LogLevel) {
			return c.usageError("--log-level %s: want %s", cfg.LogLevel, strings.Join(logLevels, ", "))
		}
		perm, err := strconv.ParseUint(*unixMode, 8, 32)
		if err != nil || perm > 0o777 {
			return c.usageError("--unix-mode %s: want an octal mode such as 0660", *unixMode)
		}
		cfg.UnixMode = os.FileMode(perm)
		cfg.Listen = addrs
		cfg.MaxRequestMemory = int64(maxRequestMemory)
		cfg.Data.Default = ingest.DefaultTable
		switch strings.ToLower(*protected) {
		case "yes", "true", "1":
			cfg.ProtectedMode = true
		case "no", "false", "0":
		default:
			return c.usageError("--protected-mode %s: want yes or no", *protected)
		}
		pass, err := requirePass(cfg.RequirePass, *passFile)
		if err != nil {
			return c.usageError("%v", err)
		}
		cfg.RequirePass = pass
		if cfg.Mode, err = mode.Parse(*modeName); err != nil {
			return c.usageError("--mode: %v", err)
		}
		if err := refuseUnusedFlags(fs, cfg.Mode); err != nil {
			return c.usageError("%v", err)
		}
		if cfg.Dispatch != master.DispatchShared && cfg.Dispatch != master.DispatchLeastLoaded {
			return c.usageError("--dispatch %s: want %s or %s", cfg.Dispatch, master.DispatchShared, master.DispatchLeastLoaded)
		}
		if cfg.Data.Mode != table.Copy && cfg.Data.Mode != table.Map {
			return c.usageError("--data-mode %s: want %s or %s", cfg.Data.Mode, table.Copy, table.Map)
		}
		if cfg.ClusterTimeout <= 0 {
			return c.usageError("--cluster-timeout %v: want a positive duration", cfg.ClusterTimeout)
		}
		if cfg.Mode.IsClassic() {
			return runClassic(*cfg, *maxChildren)
		}
		if *clusterConfig != "" {
			if cfg.Cluster, err = cluster.ReadConfig(*clusterConfig); err != nil {
				return c.usageError("%v", err)
			}
		}
		cfg.Logger = newLogger("freqd.master", cfg.LogLevel, cfg.LogJSON)
		nameProcess(cfg.Logger, "freqd: master")
		logStart(cfg.Logger, cfg.Mode)

		m, err := master.New(*cfg)
		if err != nil {
			cfg.Logger.Error("cannot start", "error", err)
			return exitFail
		}
		if err := m.Run(); err != nil {
			cfg.Logger.Error("stopped", "error", err)
			return exitFail
		}
		return exitOK
	}
}

func runWorker(args []string) int {
	spec, err := control.SpecFromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "freqd worker:", err)
		return exitUsage
	}
	log := newLogger("freqd.worker", spec.LogLevel, spec.LogJSON).With(
		"worker", spec.Slot, "pid", os.Getpid(), "generation", spec.Generation)
	// The master passes the worker's title as argv[0]; the title then
	// stands alone, without the "worker" argument after it.
	title := fmt.Sprintf("freqd: worker %d (generation %d)", spec.Slot, spec.Generation)
	nameProcess(log, title)
	if err := worker.Run(spec, log); err != nil {
		log.Error("worker failed", "error", err)
		if errors.Is(err, worker.ErrTableUnusable) {
			return control.ExitTableUnusable
		}
		return exitFail
	}
	return exitOK
}

// runClassic serves one of the baseline designs of package classic, with
// the flags that mean the same there.
func runClassic(cfg master.Config, maxChildren int) int {
	log := newLogger("freqd."+string(cfg.Mode), cfg.LogLevel, cfg.LogJSON)
	nameProcess(log, fmt.Sprintf("freqd: %s server", cfg.Mode))
	logStart(log, cfg.Mode)
	s, err := classic.New(classic.Config{
		Mode: cfg.Mode, Listen: cfg.Listen, UnixMode: cfg.UnixMode, Pidfile: cfg.Pidfile,
		Data: cfg.Data, ShutdownTimeout: cfg.ShutdownTimeout, Timeouts: cfg.Timeouts, RequirePass: cfg.RequirePass,
		ProtectedMode: cfg.ProtectedMode, MaxRequestMemory: cfg.MaxRequestMemory,
		MaxChildren: maxChildren, LogLevel: cfg.LogLevel, LogJSON: cfg.LogJSON, Logger: log,
	})
	if err != nil {
		log.Error("cannot start", "error", err)
		return exitFail
	}
	if err := s.Run(); err != nil {
		log.Error("stopped", "error", err)
		return exitFail
	}
	return exitOK
}

func runConn(args []string) int {
	spec, err := classic.ConnSpecFromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "freqd conn:", err)
		return exitUsage
	}
	log := newLogger("freqd.conn", spec.LogLevel, spec.LogJSON).With("pid", os.Getpid())
	nameProcess(log, "freqd: connection")
	if err := classic.RunConn(spec, log); err != nil {
		log.Error("connection process failed", "error", err)
		return exitFail
	}
	return exitOK
}

// nameProcess makes ps, top and pgrep -x freqd show what the process is:
// its command name becomes freqd and its command line title. A title that
// does not fit where the original command line was (freqd serve, typed
// through PATH, is shorter than "freqd: master") leaves the command line
// as it is, which still says what the process is.
func nameProcess(log hclog.Logger, title string) {
	if err := procname.SetComm("freqd"); err != nil {
		log.Debug("command name unchanged", "error", err)
	}
	if err := procname.SetTitle(title); err != nil {
		log.Debug("command line unchanged", "title", title, "error", err)
	}
}

// logStart is the server's first log line: which freqd this is.
func logStart(log hclog.Logger, m mode.Mode) {
	v := version.Get()
	kv := []any{"version", v.Version}
	if v.Commit != "" {
		kv = append(kv, "commit", v.Commit)
	}
	if v.Date != "" {
		kv = append(kv, "built", v.Date)
	}
	log.Info("starting", append(kv, "go", v.Go, "mode", m, "pid", os.Getpid())...)
}

// requirePass picks the password from the flag, the file or the
// environment, in that order of precedence, and refuses ambiguity.
func requirePass(flagValue, file string) (string, error) {
	env := os.Getenv("FREQD_REQUIREPASS")
	os.Unsetenv("FREQD_REQUIREPASS") // not for the workers' environment
	if flagValue != "" && file != "" {
		return "", fmt.Errorf("--requirepass and --requirepass-file both given; keep one")
	}
	switch {
	case flagValue != "":
		return flagValue, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--requirepass-file %s: %s", file, fileError(err))
		}
		pass, _, _ := strings.Cut(string(b), "\n")
		pass = strings.TrimRight(pass, "\r")
		if pass == "" {
			return "", fmt.Errorf("--requirepass-file %s: the first line is empty", file)
		}
		return pass, nil
	}
	return env, nil
}

// poolFlags are the flags only a master and its workers act on.
var poolFlags = []string{"workers", "dispatch", "data-mode", "max-requests", "max-clients", "worker-timeout", "user", "metrics-listen", "shutdown-delay",
	"cluster-config", "cluster-timeout"}

// refuseUnusedFlags rejects flags given explicitly that mode m would
// silently ignore: the pool's flags in a classic design, which is one
// process, --dispatch outside fdpass and --max-children outside fork.
func refuseUnusedFlags(fs *flag.FlagSet, m mode.Mode) error {
	var unused []string
	fs.Visit(func(f *flag.Flag) {
		if m.IsClassic() && slices.Contains(poolFlags, f.Name) {
			unused = append(unused, "--"+f.Name)
		}
	})
	switch {
	case len(unused) > 0:
		them := "them"
		if len(unused) == 1 {
			them = "it"
		}
		return fmt.Errorf("mode %s is one process and does not use %s; drop %s, or choose a pre-forked mode (%s)",
			m, strings.Join(unused, ", "), them, mode.Join(mode.PreForked, ", "))
	case flagSet(fs, "max-children") && m != mode.Fork:
		return fmt.Errorf("--max-children applies to --mode fork only; drop it")
	case flagSet(fs, "dispatch") && m != mode.FDPass:
		return fmt.Errorf("--dispatch applies to --mode fdpass only; drop it")
	}
	return nil
}
