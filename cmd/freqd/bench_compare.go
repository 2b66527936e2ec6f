package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/freqd/freqd/compare"
	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/loadgen"
)

// compareRequested reports whether the bench arguments ask for
// --compare, which has flags of its own.
func compareRequested(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && name == "compare" {
			return true
		}
	}
	return false
}

func init() {
	register(&command{
		name:     "bench --compare",
		summary:  "run each server design in turn under the same load and compare them",
		synopsis: []string{"bench --compare MODES [flags]"},
		about: `Starts freqd serve in each design of MODES in turn (all, or a comma list such
as fdpass,epoll), loads it with the same checked GET load, and prints a
Markdown table of throughput, latency, errors and memory; the table, the raw
results (JSON) and a chart (SVG) are written to --out. Client and servers
share this machine's cores: compare the designs with each other, not with
figures from another machine.`,
		values: map[string][]string{"compare": append([]string{"all"}, modeNames(mode.All)...)},
		examples: []example{
			{line: "freqd bench --compare all --duration 5s"},
			{"a connection per request, and a worker killed every half second", "freqd bench --compare fdpass,accept,reuseport --reconnect --chaos kill-worker=500ms"},
		},
		setup:  benchCompareFlags,
		hidden: true, // listed under bench
	})
}

// benchCompareFlags is `freqd bench --compare MODES`: run each server
// design in turn under the same load and compare them (package compare).
func benchCompareFlags(fs *flag.FlagSet) func([]string) int {
	var cfg compare.Config
	var modes, chaos, out string
	fs.StringVar(&modes, "compare", "", "designs to compare: all, or a comma list of "+mode.Join(mode.All, ",")+" (`MODES`)")
	fs.StringVar(&cfg.DataPath, "data", "", "the frequency `FILE` the servers serve (default: the embedded SUBTLEX-US table)")
	fs.IntVar(&cfg.Workers, "workers", runtime.NumCPU(), "`N` worker processes in the pre-forked designs (default: the number of CPUs)")
	fs.IntVar(&cfg.Conns, "conns", loadgen.DefaultConns, "`N` concurrent client connections")
	fs.DurationVar(&cfg.Duration, "duration", compare.DefaultDuration, "load each design this long")
	fs.BoolVar(&cfg.Reconnect, "reconnect", false, "open a new connection for every request")
	fs.StringVar(&chaos, "chaos", "", "kill-worker=EVERY: SIGKILL a random worker every EVERY, e.g. 500ms (`FAULT`)")
	fs.DurationVar(&cfg.Timeout, "timeout", loadgen.DefaultTimeout, "bound on a connect and on each round trip")
	fs.Uint64Var(&cfg.Seed, "seed", 0, "seed of the word choice, the same for every design (default 0: random)")
	fs.StringVar(&out, "out", "bench-out", "write the table, the results (JSON) and the chart into `DIR`")
	c := commands["bench --compare"]
	return func(args []string) int {
		if len(args) > 0 {
			return c.usageError("unexpected argument %s: flags only, e.g. freqd bench --compare all", args[0])
		}
		return runBenchCompare(c, cfg, modes, chaos, out)
	}
}

func runBenchCompare(c *command, cfg compare.Config, modes, chaos, out string) int {
	var err error
	if cfg.Modes, err = compare.ParseModes(modes); err != nil {
		return c.usageError("%v", err)
	}
	if cfg.KillEvery, err = parseChaos(chaos); err != nil {
		return c.usageError("%v", err)
	}
	if cfg.Conns <= 0 || cfg.Duration <= 0 || cfg.Timeout <= 0 || cfg.Workers <= 0 {
		return c.usageError("--conns, --duration, --timeout and --workers must be above 0")
	}
	table, err := benchTable(cfg.DataPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "freqd bench:", err)
		return 1
	}
	defer table.Close()
	cfg.Table = table
	cfg.Logger = newLogger("freqd.bench", "info", false)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := compare.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "freqd bench:", err)
		return 1
	}
	if err := rep.WriteMarkdown(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "freqd bench: write table:", err)
		return 1
	}
	files, err := rep.WriteFiles(out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "freqd bench:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "wrote %s, %s and %s\n", files.Markdown, files.JSON, files.Chart)
	for _, r := range rep.Results {
		if r.Error != "" {
			return 1
		}
	}
	if rep.Interrupted {
		return 1
	}
	return 0
}

// parseChaos parses --chaos: "" or kill-worker=EVERY.
func parseChaos(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	what, every, ok := strings.Cut(s, "=")
	if !ok || what != "kill-worker" {
		return 0, fmt.Errorf("--chaos %s: want kill-worker=EVERY, e.g. kill-worker=500ms", s)
	}
	d, err := time.ParseDuration(every)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--chaos %s: EVERY must be a duration above 0, e.g. kill-worker=500ms", s)
	}
	return d, nil
}
