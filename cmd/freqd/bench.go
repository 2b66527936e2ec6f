package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/freqd/freqd/ingest"
	"github.com/freqd/freqd/listen"
	"github.com/freqd/freqd/loadgen"
	"github.com/freqd/freqd/shm/freqfile"
)

func init() {
	register("bench", command{summary: "load a running server, check every reply, report latency and errors", run: runBench})
}

func runBench(args []string) int {
	if compareRequested(args) {
		return runBenchCompare(args)
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var cfg loadgen.Config
	var keys, dataPath string
	var asJSON bool
	fs.StringVar(&cfg.Addr, "addr", listen.DefaultAddr, "server address: host:port, unix:/path, udp:host:port or unixgram:/path")
	udp := fs.Bool("udp", false, fmt.Sprintf("send datagrams: --addr host:port is a UDP address (--pipeline GETs per datagram; --timeout defaults to %v, after which a request counts as lost)", loadgen.DefaultDatagramTimeout))
	fs.IntVar(&cfg.Conns, "conns", loadgen.DefaultConns, fmt.Sprintf("concurrent connections (at most %d)", loadgen.MaxConns))
	fs.DurationVar(&cfg.Duration, "duration", 0, fmt.Sprintf("how long to run (default %v, or until --requests are sent)", loadgen.DefaultDuration))
	fs.Uint64Var(&cfg.Requests, "requests", 0, "stop after this many requests")
	fs.IntVar(&cfg.Pipeline, "pipeline", 1, fmt.Sprintf("requests written at once per round trip (at most %d)", loadgen.MaxPipeline))
	fs.BoolVar(&cfg.Reconnect, "reconnect", false, "open a new connection for every round trip")
	fs.StringVar(&keys, "keys", string(loadgen.KeysZipf), "how words are picked: zipf (by rank, like real text) or uniform")
	fs.Float64Var(&cfg.Miss, "miss", 0, "fraction of requests for words the table does not hold (0 to 1)")
	fs.Float64Var(&cfg.Rate, "rate", 0, "open loop: total requests per second, latency counted from intended send times (default: closed loop)")
	fs.DurationVar(&cfg.Timeout, "timeout", loadgen.DefaultTimeout, "bound on a connect and on each round trip")
	fs.Uint64Var(&cfg.Seed, "seed", 0, "seed of the key choice, for repeatable runs (0: random)")
	fs.StringVar(&dataPath, "data", "", "frequency file the server serves (default: the embedded SUBTLEX-US table)")
	fs.BoolVar(&asJSON, "json", false, "print the result as one JSON object")
	fs.String("compare", "", "run each server design in turn and compare them: all or a list such as fdpass,epoll (see freqd bench --compare all -h)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "freqd bench: unexpected argument %q; flags only, e.g. freqd bench --addr %s\n", fs.Arg(0), listen.DefaultAddr)
		return 2
	}
	cfg.Keys = loadgen.KeyDist(keys)
	if *udp && !strings.HasPrefix(cfg.Addr, "udp:") {
		if strings.Contains(cfg.Addr, "unix:") {
			fmt.Fprintln(os.Stderr, "freqd bench: --udp wants a host:port --addr; for a unix datagram socket give --addr unixgram:/path")
			return 2
		}
		cfg.Addr = "udp:" + cfg.Addr
	}
	if !flagSet(fs, "timeout") && (strings.HasPrefix(cfg.Addr, "udp:") || strings.HasPrefix(cfg.Addr, "unixgram:")) {
		cfg.Timeout = loadgen.DefaultDatagramTimeout
	}
	// Zero means "default" to loadgen.Config; on the command line it is a
	// mistake.
	if cfg.Conns == 0 || cfg.Pipeline == 0 || cfg.Timeout == 0 {
		fmt.Fprintln(os.Stderr, "freqd bench: --conns, --pipeline and --timeout must be above 0")
		return 2
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, "freqd bench:", err)
		return 2
	}

	table, err := benchTable(dataPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "freqd bench:", err)
		return 1
	}
	defer table.Close()
	cfg.Table = table

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var line *progressLine
	if isTerminal(os.Stderr) {
		line = &progressLine{}
		cfg.Progress = line.draw
	}
	res, err := loadgen.Run(ctx, cfg)
	line.clear()
	if err != nil {
		fmt.Fprintln(os.Stderr, "freqd bench:", err)
		return 1
	}
	if asJSON {
		err = json.NewEncoder(os.Stdout).Encode(res)
	} else {
		err = res.WriteText(os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "freqd bench: write result:", err)
		return 1
	}
	if res.Failed > 0 {
		return 1
	}
	return 0
}

// benchTable opens the table the server serves, so that every reply can be
// checked: the file given with --data, or the embedded default.
func benchTable(path string) (*freqfile.Table, error) {
	if path != "" {
		return freqfile.Open(path)
	}
	b, err := ingest.DefaultTable()
	if err != nil {
		return nil, err
	}
	return freqfile.Parse(b)
}

// progressLine redraws one status line on the terminal while a run goes.
type progressLine struct{ drawn bool }

func (p *progressLine) draw(pr loadgen.Progress) {
	fmt.Fprintf(os.Stderr, "\r\033[K%5.1fs  %d requests  %.0f req/s  %d failed",
		pr.Elapsed.Seconds(), pr.Requests, pr.Rate, pr.Failed)
	p.drawn = true
}

// clear removes the line so that the result starts on a clean one. It is
// safe on a nil line, which stands for "no terminal".
func (p *progressLine) clear() {
	if p != nil && p.drawn {
		fmt.Fprint(os.Stderr, "\r\033[K")
	}
}

// flagSet reports whether the command line set the named flag.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
