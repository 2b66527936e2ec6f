package compare

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/freqd/freqd/internal/mode"

	"github.com/freqd/freqd/loadgen"
	"github.com/freqd/freqd/shm/freqfile"
	"github.com/hashicorp/go-hclog"
)

// DefaultDuration is how long each design is loaded when Config.Duration
// is zero.
const DefaultDuration = 5 * time.Second

// Config describes one comparison. Fields left zero take the default noted
// beside them.
type Config struct {
	Modes    []mode.Mode     // designs to run, in this order (see ParseModes); required
	Table    *freqfile.Table // the table the servers serve, to check every reply; required
	DataPath string          // passed to serve as --data; "" serves the embedded table, which Table must then be
	Binary   string          // the freqd binary (default: this process's executable)

	Workers   int           // serve --workers (default runtime.NumCPU()); the baselines ignore it
	Conns     int           // concurrent client connections (default loadgen.DefaultConns)
	Duration  time.Duration // load per design (default DefaultDuration)
	Reconnect bool          // a new connection for every request
	KillEvery time.Duration // SIGKILL a random worker this often (0: never)
	Timeout   time.Duration // loadgen's bound on each round trip (default loadgen.DefaultTimeout)
	Seed      uint64        // loadgen's key seed, the same for every design (0: one drawn at random)

	// Logger reports progress, one line per design (default: silent).
	Logger hclog.Logger
}

// ParseModes parses a comma-separated list of designs, or "all".
func ParseModes(s string) ([]mode.Mode, error) {
	if strings.TrimSpace(s) == "all" {
		return slices.Clone(mode.All), nil
	}
	var modes []mode.Mode
	for _, name := range strings.Split(s, ",") {
		if strings.TrimSpace(name) == "" {
			continue
		}
		m, err := mode.Parse(name)
		if err != nil {
			return nil, fmt.Errorf("--compare: %w", err)
		}
		if slices.Contains(modes, m) {
			return nil, fmt.Errorf("--compare: design %s is listed twice", m)
		}
		modes = append(modes, m)
	}
	if len(modes) == 0 {
		return nil, fmt.Errorf("--compare: no design given; use all or a comma list of %s", mode.Join(mode.All, ","))
	}
	return modes, nil
}

// withDefaults returns c with its zero fields set, or the first setting
// that cannot work.
func (c Config) withDefaults() (Config, error) {
	if len(c.Modes) == 0 {
		return c, errors.New("no design to compare; use --compare all or a comma list of " + mode.Join(mode.All, ","))
	}
	for _, m := range c.Modes {
		if _, err := mode.Parse(string(m)); err != nil {
			return c, err
		}
	}
	if c.Table == nil {
		return c, errors.New("compare: Config.Table is nil; it must be the table the servers serve")
	}
	if c.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return c, fmt.Errorf("cannot find the freqd binary to run servers: %w", err)
		}
		c.Binary = exe
	}
	if c.Workers == 0 {
		c.Workers = runtime.NumCPU()
	}
	if c.Conns == 0 {
		c.Conns = loadgen.DefaultConns
	}
	if c.Duration == 0 {
		c.Duration = DefaultDuration
	}
	if c.Timeout == 0 {
		c.Timeout = loadgen.DefaultTimeout
	}
	switch {
	case c.Workers < 1:
		return c, fmt.Errorf("--workers %d: want at least 1", c.Workers)
	case c.Duration < 0:
		return c, fmt.Errorf("--duration %v is negative", c.Duration)
	case c.KillEvery < 0:
		return c, fmt.Errorf("--chaos kill-worker=%v is negative", c.KillEvery)
	case c.KillEvery > 0 && c.KillEvery < 10*time.Millisecond:
		return c, fmt.Errorf("--chaos kill-worker=%v kills faster than a worker can start; use 10ms or more", c.KillEvery)
	}
	if c.Logger == nil {
		c.Logger = hclog.NewNullLogger()
	}
	return c, nil
}

// load is the loadgen configuration every design gets.
func (c *Config) load(addr string) loadgen.Config {
	return loadgen.Config{
		Addr: addr, Table: c.Table, Conns: c.Conns, Duration: c.Duration,
		Reconnect: c.Reconnect, Timeout: c.Timeout, Seed: c.Seed,
	}
}

// Scenario names the kind of load: "keepalive" or "reconnect", with
// "-kill" when workers are killed. It names the output files.
func (c *Config) Scenario() string {
	s := "keepalive"
	if c.Reconnect {
		s = "reconnect"
	}
	if c.KillEvery > 0 {
		s += "-kill"
	}
	return s
}
