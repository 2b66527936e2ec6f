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

	"github.com/freqd/freqd/ingest"
	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/listen"
	"github.com/freqd/freqd/table"
	"github.com/freqd/freqd/worker/control"

	"github.com/freqd/freqd/classic"
	"github.com/freqd/freqd/master"
	"github.com/freqd/freqd/worker"
)

func init() {
	register("serve", command{summary: "run the server: a master and pre-started workers", run: runServe})
	register("worker", command{summary: "internal: one worker process, started by the master", run: runWorker, hidden: true})
	register("conn", command{summary: "internal: serves one connection, started by serve --mode fork", run: runConn, hidden: true})
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func runServe(args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var cfg master.Config
	var addrs listFlag
	var unixMode string
	fs.Var(&addrs, "listen", "address to listen on: host:port, :port, [::1]:port or unix:/path; datagrams: udp:host:port or unixgram:/path (repeatable; default "+listen.DefaultAddr+")")
	fs.StringVar(&cfg.Data.Path, "data", "", "frequency file built by `freqd build` (default: the embedded SUBTLEX-US table)")
	fs.StringVar(&cfg.Data.Mode, "data-mode", table.Copy, "copy: serve a sealed in-memory copy of --data (safe if the file changes); map: map the file itself (no copy; errors, not crashes, if it is truncated)")
	fs.StringVar(&cfg.Dispatch, "dispatch", master.DispatchShared, "fdpass mode: shared (one queue every free worker reads) or least-loaded (a queue per worker, the least busy chosen)")
	fs.IntVar(&cfg.Workers, "workers", runtime.NumCPU(), "number of worker processes")
	modeName := fs.String("mode", string(mode.Default), "how connections reach workers: "+mode.Join(mode.PreForked, ", ")+"; or a classic design for comparison: "+mode.Join(mode.Classic, ", "))
	maxChildren := fs.Int("max-children", classic.DefaultMaxChildren, "--mode fork: most connection processes at once; further connections wait in the listen backlog")
	fs.StringVar(&unixMode, "unix-mode", "0660", "permissions of unix socket files (octal)")
	fs.StringVar(&cfg.Pidfile, "pidfile", "", "write the master's pid here once the workers are ready")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "on SIGTERM, how long workers may finish open requests")
	fs.DurationVar(&cfg.ShutdownDelay, "shutdown-delay", 0, "on SIGTERM, first keep serving this long while /readyz fails, so load balancers stop sending clients; then drain")
	fs.DurationVar(&cfg.WorkerTimeout, "worker-timeout", 30*time.Second, "a worker silent this long is hung: SIGABRT (goroutine dump), SIGKILL, replaced")
	fs.DurationVar(&cfg.Timeouts.Read, "read-timeout", 30*time.Second, "a request must arrive whole within this (0 = no limit)")
	fs.DurationVar(&cfg.Timeouts.Idle, "idle-timeout", 0, "close connections idle this long (0 = never)")
	fs.DurationVar(&cfg.Timeouts.Write, "write-timeout", 30*time.Second, "close connections whose client stops reading for this long (0 = no limit)")
	fs.IntVar(&cfg.MaxRequests, "max-requests", 0, "recycle a worker after about this many commands, plus up to 10% jitter (0 = never)")
	maxRequestMemory := sizeFlag(256 << 20)
	fs.Var(&maxRequestMemory, "max-request-memory", "per worker: bytes held in requests still arriving; past it, the client holding the most is closed (0 = no budget)")
	fs.IntVar(&cfg.MaxClients, "max-clients", 10000, "connections open at once across all workers; more get -ERR max number of clients reached (0 = no limit)")
	fs.StringVar(&cfg.RequirePass, "requirepass", "", "clients must AUTH with this password (visible in ps: prefer --requirepass-file or FREQD_REQUIREPASS)")
	passFile := fs.String("requirepass-file", "", "read the password from this file (first line)")
	protected := fs.String("protected-mode", "yes", "yes: refuse to listen on non-loopback addresses without a password")
	fs.StringVar(&cfg.User, "user", "", "run the workers as this user (the master binds and reads the data as the user that starts it)")
	fs.StringVar(&cfg.MetricsListen, "metrics-listen", "", "serve Prometheus metrics over HTTP on this address (host:port)")
	fs.StringVar(&cfg.LogLevel, "log-level", "info", "trace, debug, info, warn or error")
	fs.BoolVar(&cfg.LogJSON, "log-json", false, "log JSON lines instead of text")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "freqd serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if !validLevel(cfg.LogLevel) {
		fmt.Fprintf(os.Stderr, "freqd serve: --log-level %q: want trace, debug, info, warn or error\n", cfg.LogLevel)
		return 2
	}
	perm, err := strconv.ParseUint(unixMode, 8, 32)
	if err != nil || perm > 0o777 {
		fmt.Fprintf(os.Stderr, "freqd serve: --unix-mode %q: want an octal mode such as 0660\n", unixMode)
		return 2
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
		fmt.Fprintf(os.Stderr, "freqd serve: --protected-mode %q: want yes or no\n", *protected)
		return 2
	}
	if pass, err := requirePass(cfg.RequirePass, *passFile); err != nil {
		fmt.Fprintln(os.Stderr, "freqd serve:", err)
		return 2
	} else {
		cfg.RequirePass = pass
	}
	if cfg.Mode, err = mode.Parse(*modeName); err != nil {
		fmt.Fprintln(os.Stderr, "freqd serve: --mode:", err)
		return 2
	}
	if err := refuseUnusedFlags(fs, cfg.Mode); err != nil {
		fmt.Fprintln(os.Stderr, "freqd serve:", err)
		return 2
	}
	if cfg.Mode.IsClassic() {
		return runClassic(cfg, *maxChildren)
	}
	cfg.Logger = newLogger("freqd.master", cfg.LogLevel, cfg.LogJSON)

	m, err := master.New(cfg)
	if err != nil {
		cfg.Logger.Error("cannot start", "error", err)
		return 1
	}
	if err := m.Run(); err != nil {
		cfg.Logger.Error("stopped", "error", err)
		return 1
	}
	return 0
}

func runWorker(args []string) int {
	spec, err := control.SpecFromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "freqd worker:", err)
		return 2
	}
	log := newLogger("freqd.worker", spec.LogLevel, spec.LogJSON).With(
		"worker", spec.Slot, "pid", os.Getpid(), "generation", spec.Generation)
	if err := worker.Run(spec, log); err != nil {
		log.Error("worker failed", "error", err)
		if errors.Is(err, worker.ErrTableUnusable) {
			return control.ExitTableUnusable
		}
		return 1
	}
	return 0
}

// runClassic serves one of the baseline designs of package classic, with
// the flags that mean the same there.
func runClassic(cfg master.Config, maxChildren int) int {
	log := newLogger("freqd."+string(cfg.Mode), cfg.LogLevel, cfg.LogJSON)
	s, err := classic.New(classic.Config{
		Mode: cfg.Mode, Listen: cfg.Listen, UnixMode: cfg.UnixMode, Pidfile: cfg.Pidfile,
		Data: cfg.Data, ShutdownTimeout: cfg.ShutdownTimeout, Timeouts: cfg.Timeouts, RequirePass: cfg.RequirePass,
		ProtectedMode: cfg.ProtectedMode, MaxRequestMemory: cfg.MaxRequestMemory,
		MaxChildren: maxChildren, LogLevel: cfg.LogLevel, LogJSON: cfg.LogJSON, Logger: log,
	})
	if err != nil {
		log.Error("cannot start", "error", err)
		return 1
	}
	if err := s.Run(); err != nil {
		log.Error("stopped", "error", err)
		return 1
	}
	return 0
}

func runConn(args []string) int {
	spec, err := classic.ConnSpecFromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "freqd conn:", err)
		return 2
	}
	log := newLogger("freqd.conn", spec.LogLevel, spec.LogJSON).With("pid", os.Getpid())
	if err := classic.RunConn(spec, log); err != nil {
		log.Error("connection process failed", "error", err)
		return 1
	}
	return 0
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
			return "", fmt.Errorf("--requirepass-file: %w", err)
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
var poolFlags = []string{"workers", "dispatch", "data-mode", "max-requests", "max-clients", "worker-timeout", "user", "metrics-listen", "shutdown-delay"}

// refuseUnusedFlags rejects flags given explicitly that mode m would
// silently ignore: the pool's flags in a classic design, which is one
// process, and --max-children outside the fork design.
func refuseUnusedFlags(fs *flag.FlagSet, m mode.Mode) error {
	var unused []string
	fs.Visit(func(f *flag.Flag) {
		switch {
		case m.IsClassic() && slices.Contains(poolFlags, f.Name):
			unused = append(unused, "--"+f.Name)
		case f.Name == "max-children" && m != mode.Fork:
			unused = append(unused, "--"+f.Name)
		}
	})
	switch {
	case len(unused) == 0:
		return nil
	case m.IsClassic():
		return fmt.Errorf("mode %s is one process and does not use %s; drop them, or choose a pre-forked mode (%s)",
			m, strings.Join(unused, ", "), mode.Join(mode.PreForked, ", "))
	}
	return fmt.Errorf("--max-children applies to --mode fork only; drop it")
}
