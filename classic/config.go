package classic

import (
	"fmt"
	"os"
	"time"

	"github.com/freqd/freqd/handler"
	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/listen"
	"github.com/freqd/freqd/table"

	"github.com/hashicorp/go-hclog"
)

// DefaultMaxChildren bounds the fork design's connection processes when
// Config.MaxChildren is zero: enough for a benchmark's clients, few enough
// that a connection flood cannot exhaust the process table.
const DefaultMaxChildren = 1024

// Config is what `freqd serve` decides for a classic design. Its fields mean
// what master.Config's fields of the same names mean.
type Config struct {
	Mode            mode.Mode        // one of mode.Classic
	Listen          []string         // --listen addresses; listen.DefaultAddr when empty
	UnixMode        os.FileMode      // mode of unix socket files; 0660 when zero
	Pidfile         string           // written once serving; "" for none
	Data            table.Source     // the table to serve (Data.Mode is ignored: one process maps it)
	ShutdownTimeout time.Duration    // graceful stop: how long connections may finish
	Timeouts        handler.Timeouts // per connection, as the workers apply them
	RequirePass     string           // clients must AUTH with it; "" for none
	ProtectedMode   bool             // refuse non-loopback listeners without RequirePass
	// MaxRequestMemory is the epoll design's budget of bytes held in
	// unfinished requests (handler.Options.MaxRequestMemory); the others
	// hold one request per connection and are bounded by the resp limits.
	MaxRequestMemory int64

	// MaxChildren bounds the fork design's concurrent connection processes;
	// DefaultMaxChildren when zero.
	MaxChildren int

	LogLevel string // handed to fork's connection processes
	LogJSON  bool
	Logger   hclog.Logger

	// Executable is the binary the fork design re-executes per connection;
	// /proc/self/exe by default, so children run the very binary this
	// process runs even if the file on disk was replaced.
	Executable string
}

// withDefaults checks c and fills in its defaults.
func (c Config) withDefaults() (Config, error) {
	if !c.Mode.IsClassic() {
		return c, fmt.Errorf("mode %s is not one of the classic designs (%s)", c.Mode, mode.Join(mode.Classic, ", "))
	}
	if c.MaxChildren < 0 {
		return c, fmt.Errorf("--max-children %d: want a positive bound, or 0 for the default %d", c.MaxChildren, DefaultMaxChildren)
	}
	if c.MaxChildren == 0 {
		c.MaxChildren = DefaultMaxChildren
	}
	if len(c.Listen) == 0 {
		c.Listen = []string{listen.DefaultAddr}
	}
	if c.UnixMode == 0 {
		c.UnixMode = 0o660
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = hclog.NewNullLogger()
	}
	if c.Executable == "" {
		c.Executable = "/proc/self/exe"
	}
	return c, nil
}
