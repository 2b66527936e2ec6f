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

// runBenchCompare is `freqd bench --compare MODES`: run each server
// design in turn under the same load and compare them (package compare).
func runBenchCompare(args []string) int {
	fs := flag.NewFlagSet("bench --compare", flag.ContinueOnError)
	var cfg compare.Config
	var modes, chaos, out string
	fs.StringVar(&modes, "compare", "", "designs to compare: all, or a comma list of "+mode.Join(mode.All, ","))
	fs.StringVar(&cfg.DataPath, "data", "", "frequency file the servers serve (default: the embedded SUBTLEX-US table)")
	fs.IntVar(&cfg.Workers, "workers", runtime.NumCPU(), "worker processes of the pre-forked designs")
	fs.IntVar(&cfg.Conns, "conns", loadgen.DefaultConns, "concurrent client connections")
	fs.DurationVar(&cfg.Duration, "duration", compare.DefaultDuration, "load per design")
	fs.BoolVar(&cfg.Reconnect, "reconnect", false, "open a new connection for every request")
	fs.StringVar(&chaos, "chaos", "", "kill-worker=EVERY: SIGKILL a random worker of the pre-forked designs every EVERY (e.g. 500ms)")
	fs.DurationVar(&cfg.Timeout, "timeout", loadgen.DefaultTimeout, "bound on a connect and on each round trip")
	fs.Uint64Var(&cfg.Seed, "seed", 0, "seed of the key choice, the same for every design (0: random)")
	fs.StringVar(&out, "out", "bench-out", "directory for the results JSON, the Markdown table and the chart")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "freqd bench --compare: unexpected argument %q; flags only, e.g. freqd bench --compare all\n", fs.Arg(0))
		return 2
	}
	var err error
	if cfg.Modes, err = compare.ParseModes(modes); err != nil {
		fmt.Fprintln(os.Stderr, "freqd bench:", err)
		return 2
	}
	if cfg.KillEvery, err = parseChaos(chaos); err != nil {
		fmt.Fprintln(os.Stderr, "freqd bench:", err)
		return 2
	}
	if cfg.Conns <= 0 || cfg.Duration <= 0 || cfg.Timeout <= 0 || cfg.Workers <= 0 {
		fmt.Fprintln(os.Stderr, "freqd bench: --conns, --duration, --timeout and --workers must be above 0")
		return 2
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
		return 0, fmt.Errorf("--chaos %q: want kill-worker=EVERY, e.g. kill-worker=500ms", s)
	}
	d, err := time.ParseDuration(every)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--chaos %q: EVERY must be a duration above 0, e.g. kill-worker=500ms", s)
	}
	return d, nil
}
