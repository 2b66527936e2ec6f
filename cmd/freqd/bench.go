package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/freqd/freqd/ingest"
	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/listen"
	"github.com/freqd/freqd/loadgen"
	"github.com/freqd/freqd/shm/freqfile"
)

func init() {
	register(&command{
		name:     "bench",
		summary:  "load a running server, check every reply, report latency and errors",
		synopsis: []string{"bench [flags]", "bench --compare MODES [flags]"},
		about: `Sends GET requests for words picked from the table the server serves, checks
every reply against that table, and reports throughput, latency percentiles
(from an HDR histogram) and errors. Give --data the file the server serves
(freqd serve --data): bench says so if the server's table differs. Exits 1
if any request failed.

bench --compare starts each server design in turn on this machine, loads it
the same way and writes a comparison table and chart; 'freqd bench --compare
all --help' lists its flags.`,
		values: map[string][]string{"keys": {string(loadgen.KeysZipf), string(loadgen.KeysUniform)},
			"compare": append([]string{"all"}, modeNames(mode.All)...)},
		examples: []example{
			{"keep-alive connections, 10 seconds", "freqd bench --addr 127.0.0.1:7379 --conns 50 --duration 10s"},
			{"a connection per request", "freqd bench --reconnect"},
			{"open loop: 20000 requests a second, latency from the intended send times", "freqd bench --rate 20000"},
			{"a server that serves words.freq", "freqd bench --data words.freq"},
			{"every design, one after the other", "freqd bench --compare all --duration 5s"},
		},
		setup:   benchFlags,
		alt:     "bench --compare",
		altWhen: compareRequested,
	})
}

func benchFlags(fs *flag.FlagSet) func([]string) int {
	var cfg loadgen.Config
	var keys, dataPath string
	var asJSON bool
	fs.StringVar(&cfg.Addr, "addr", listen.DefaultAddr, "load the server at `ADDR`: host:port, unix:/path, udp:host:port or unixgram:/path")
	udp := fs.Bool("udp", false, "send datagrams: --addr host:port is a UDP address")
	fs.IntVar(&cfg.Conns, "conns", loadgen.DefaultConns, fmt.Sprintf("`N` concurrent connections, at most %d", loadgen.MaxConns))
	fs.DurationVar(&cfg.Duration, "duration", 0, fmt.Sprintf("how long to run (default %v, or until --requests are sent)", loadgen.DefaultDuration))
	fs.Uint64Var(&cfg.Requests, "requests", 0, "stop after `N` requests")
	fs.IntVar(&cfg.Pipeline, "pipeline", 1, fmt.Sprintf("`N` requests written at once per round trip, at most %d", loadgen.MaxPipeline))
	fs.BoolVar(&cfg.Reconnect, "reconnect", false, "open a new connection for every round trip")
	fs.StringVar(&keys, "keys", string(loadgen.KeysZipf), "how words are picked: zipf (by rank, like real text) or uniform (`HOW`)")
	fs.Float64Var(&cfg.Miss, "miss", 0, "fraction of requests for words the table does not hold, 0 to 1 (`X`)")
	fs.Float64Var(&cfg.Rate, "rate", 0, "open loop: `N` requests a second in all (default: closed loop)")
	fs.DurationVar(&cfg.Timeout, "timeout", loadgen.DefaultTimeout, fmt.Sprintf("bound on a connect and on each round trip (%v for datagrams, then a request is lost)", loadgen.DefaultDatagramTimeout))
	fs.Uint64Var(&cfg.Seed, "seed", 0, "seed of the word choice, for repeatable runs (default 0: random)")
	fs.StringVar(&dataPath, "data", "", "the frequency `FILE` the server serves (default: the embedded SUBTLEX-US table)")
	fs.BoolVar(&asJSON, "json", false, "print the result as one JSON object")
	fs.String("compare", "", "run each server design in turn and compare them: all, or a list such as fdpass,epoll (`MODES`)")
	c := commands["bench"]
	return func(args []string) int {
		if len(args) > 0 {
			return c.usageError("unexpected argument %s: bench takes flags only, e.g. freqd bench --addr %s", args[0], listen.DefaultAddr)
		}
		return runBench(c, fs, cfg, keys, dataPath, *udp, asJSON)
	}
}

func runBench(c *command, fs *flag.FlagSet, cfg loadgen.Config, keys, dataPath string, udp, asJSON bool) int {
	cfg.Keys = loadgen.KeyDist(keys)
	if udp && !strings.HasPrefix(cfg.Addr, "udp:") {
		if strings.Contains(cfg.Addr, "unix:") {
			return c.usageError("--udp wants a host:port --addr; for a unix datagram socket give --addr unixgram:/path")
		}
		cfg.Addr = "udp:" + cfg.Addr
	}
	if !flagSet(fs, "timeout") && (strings.HasPrefix(cfg.Addr, "udp:") || strings.HasPrefix(cfg.Addr, "unixgram:")) {
		cfg.Timeout = loadgen.DefaultDatagramTimeout
	}
	// Zero means "default" to loadgen.Config; on the command line it is a
	// mistake.
	if cfg.Conns == 0 || cfg.Pipeline == 0 || cfg.Timeout == 0 {
		return c.usageError("--conns, --pipeline and --timeout must be above 0")
	}
	if err := cfg.Validate(); err != nil {
		return c.usageError("%v", err)
	}

	table, err := benchTable(dataPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "freqd bench:", err)
		return exitFail
	}
	defer table.Close()
	cfg.Table = table
	localName := "the embedded SUBTLEX-US table"
	if dataPath != "" {
		localName = dataPath
	}
	if msg := serverTableDiffers(cfg.Addr, table, localName); msg != "" {
		fmt.Fprintf(os.Stderr, "freqd bench: %s; give bench the file the server serves with --data FILE\n", msg)
		return exitFail
	}

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
		t, err := freqfile.Open(path)
		if err != nil {
			return nil, errors.New("--data " + tableFileError(path, err))
		}
		return t, nil
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
