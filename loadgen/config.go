package loadgen

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/freqd/freqd/shm/freqfile"
	"golang.org/x/sys/unix"
)

// Defaults and ceilings of the Config fields. The ceilings keep a typo from
// turning the generator into a resource exhaustion attack on its own host.
const (
	DefaultConns            = 50
	DefaultDuration         = 10 * time.Second
	DefaultTimeout          = 5 * time.Second
	DefaultProgressInterval = 250 * time.Millisecond

	MaxConns    = 10000
	MaxPipeline = 1000
	MaxDuration = 24 * time.Hour
)

// DefaultDatagramTimeout is how long a datagram client waits for a reply
// before it counts the request lost: far above any loopback or LAN round
// trip, short enough that a closed loop stalls little for a lost datagram.
const DefaultDatagramTimeout = time.Second

// KeyDist is how a run picks the ranks of the words it asks for.
type KeyDist string

// The key distributions; see the package documentation.
const (
	KeysZipf    KeyDist = "zipf"
	KeysUniform KeyDist = "uniform"
)

// Config describes one run. Fields left zero take the default noted beside
// them.
type Config struct {
	// Addr is the server: host:port, or unix:/path for an AF_UNIX socket;
	// udp:host:port or unixgram:/path to send datagrams (see the package
	// documentation).
	Addr string
	// Table is the frequency table the server serves. Keys are drawn from
	// it and every reply is checked against it, so it must be the same
	// table, or every answer may be counted wrong. Required.
	Table *freqfile.Table

	Conns     int           // concurrent connections (default DefaultConns)
	Duration  time.Duration // how long to send (default DefaultDuration, or no limit when Requests is set)
	Requests  uint64        // stop after this many requests (0: no limit)
	Pipeline  int           // requests written at once per round trip (default 1)
	Reconnect bool          // open a new connection for every round trip
	Keys      KeyDist       // KeysZipf (default) or KeysUniform
	Miss      float64       // fraction of requests for words absent from the table, 0..1
	Rate      float64       // total arrival rate in requests/s: an open loop; 0 runs a closed loop
	Timeout   time.Duration // bound on a connect and on each round trip (default DefaultTimeout)
	Seed      uint64        // seeds key choice, for repeatable runs; 0 picks one at random

	// Progress, if set, is called about every ProgressInterval (default
	// DefaultProgressInterval) from a goroutine of Run's, never after Run
	// returns.
	Progress         func(Progress)
	ProgressInterval time.Duration
}

// Validate checks the settings a user chooses and reports the first that is
// out of range, naming it as the flag of `freqd bench` that sets it. Run
// calls it too; it does not look at Table.
func (c *Config) Validate() error {
	switch {
	case c.Addr == "" || c.Addr == "unix:" || c.Addr == "udp:" || c.Addr == "unixgram:":
		return errors.New("--addr is empty; give host:port, unix:/path, udp:host:port or unixgram:/path")
	case c.Reconnect && isDatagramAddr(c.Addr):
		return errors.New("--reconnect has no meaning for datagrams, which need no connection; leave it out")
	case c.Conns < 0 || c.Conns > MaxConns:
		return fmt.Errorf("--conns %d is out of range; use 1 to %d", c.Conns, MaxConns)
	case c.Duration < 0 || c.Duration > MaxDuration:
		return fmt.Errorf("--duration %v is out of range; use at most %v", c.Duration, MaxDuration)
	case c.Pipeline < 0 || c.Pipeline > MaxPipeline:
		return fmt.Errorf("--pipeline %d is out of range; use 1 to %d", c.Pipeline, MaxPipeline)
	case c.Keys != "" && c.Keys != KeysZipf && c.Keys != KeysUniform:
		return fmt.Errorf("--keys %q is not a key distribution; use %s or %s", string(c.Keys), KeysZipf, KeysUniform)
	case !(c.Miss >= 0 && c.Miss <= 1): // also rejects NaN
		return fmt.Errorf("--miss %v is not a fraction; use a number from 0 to 1", c.Miss)
	case !(c.Rate >= 0) || math.IsInf(c.Rate, 0):
		return fmt.Errorf("--rate %v is not a rate; use requests per second above 0, or leave it out for a closed loop", c.Rate)
	case c.Timeout < 0:
		return fmt.Errorf("--timeout %v is negative", c.Timeout)
	}
	if c.Rate > 0 && c.Rate < 1e-3 {
		return fmt.Errorf("--rate %v is below one request in 1000 seconds; use a larger rate", c.Rate)
	}
	return checkDescriptors(c.withDefaults().Conns)
}

// withDefaults returns c with the zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.Conns == 0 {
		c.Conns = DefaultConns
	}
	if c.Duration == 0 && c.Requests == 0 {
		c.Duration = DefaultDuration
	}
	if c.Pipeline == 0 {
		c.Pipeline = 1
	}
	if c.Keys == "" {
		c.Keys = KeysZipf
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
		if isDatagramAddr(c.Addr) {
			c.Timeout = DefaultDatagramTimeout
		}
	}
	if c.ProgressInterval <= 0 {
		c.ProgressInterval = DefaultProgressInterval
	}
	return c
}

// network splits Addr into the arguments of net.Dial.
func (c *Config) network() (network, address string) {
	for _, n := range []string{"unix", "udp", "unixgram"} {
		if p, ok := strings.CutPrefix(c.Addr, n+":"); ok {
			return n, p
		}
	}
	return "tcp", c.Addr
}

// isDatagramAddr reports whether addr names a datagram server.
func isDatagramAddr(addr string) bool {
	return strings.HasPrefix(addr, "udp:") || strings.HasPrefix(addr, "unixgram:")
}

// descriptorMargin is what the process needs besides its connections:
// standard streams, the table, the runtime's epoll and a few to spare.
const descriptorMargin = 32

// checkDescriptors fails early, with the fix, when the descriptor limit
// cannot hold conns connections, rather than letting a run fill up with
// "too many open files" failures that would be counted against the server.
func checkDescriptors(conns int) error {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return nil // cannot tell; the run will show it
	}
	if need := uint64(conns) + descriptorMargin; lim.Cur < need {
		return fmt.Errorf("--conns %d needs about %d open files but the limit is %d; raise it (ulimit -n %d) or use fewer connections",
			conns, need, lim.Cur, need)
	}
	return nil
}
