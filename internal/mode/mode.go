// Package mode names the server designs `freqd serve --mode` runs, in one
// place: the pre-forked ones of the master and its workers, and the classic
// baselines they are measured against.
package mode

import (
	"fmt"
	"slices"
	"strings"
)

// Mode is one server design.
type Mode string

// The pre-forked designs: how connections reach a pool of workers.
const (
	// FDPass: the master accepts and passes descriptors to workers over
	// a queue (SCM_RIGHTS).
	FDPass Mode = "fdpass"
	// Accept: every worker accepts on the shared listener.
	Accept Mode = "accept"
	// ReusePort: one SO_REUSEPORT socket per worker slot, kept by the
	// master.
	ReusePort Mode = "reuseport"
)

// The classic designs, one process each.
const (
	Iterative Mode = "iterative" // one connection at a time
	Fork      Mode = "fork"      // a process per connection
	Goroutine Mode = "goroutine" // a goroutine (thread) per connection
	Epoll     Mode = "epoll"     // one event loop
)

// Default is the design `freqd serve` runs when --mode is not given:
// accept, because a worker that accepts for itself pays for a connection
// once, where descriptor passing adds the master's accept, send and close
// and a second process woken; with keep-alive and pipelined clients the
// modes cost the same. On kernels before 6.19, passing unix-socket
// descriptors also makes every unix socket close kick the kernel's
// garbage collector for descriptors in flight.
const Default = Accept

var (
	// PreForked lists the master's designs, in the order the docs give.
	PreForked = []Mode{FDPass, Accept, ReusePort}
	// Classic lists the baselines, in the order the docs give.
	Classic = []Mode{Iterative, Fork, Goroutine, Epoll}
	// All is every design: the pre-forked ones, then the baselines.
	All = append(slices.Clone(PreForked), Classic...)
)

// IsPreForked reports whether m is run by a master and its workers.
func (m Mode) IsPreForked() bool { return slices.Contains(PreForked, m) }

// IsClassic reports whether m is one of the single-process baselines.
func (m Mode) IsClassic() bool { return slices.Contains(Classic, m) }

// Parse reads a design's name, as --mode takes it.
func Parse(s string) (Mode, error) {
	m := Mode(strings.ToLower(strings.TrimSpace(s)))
	if !slices.Contains(All, m) {
		return "", fmt.Errorf("unknown mode %s; the pre-forked modes are %s, the classic ones %s",
			strings.TrimSpace(s), Join(PreForked, ", "), Join(Classic, ", "))
	}
	return m, nil
}

// Join renders modes with sep between them.
func Join(modes []Mode, sep string) string {
	s := make([]string, len(modes))
	for i, m := range modes {
		s[i] = string(m)
	}
	return strings.Join(s, sep)
}
