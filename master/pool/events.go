package pool

import (
	"fmt"
	"syscall"
	"time"
)

// WorkerID names one worker process for its whole life, from before it is
// started to after it has exited. The model gives IDs out in order from 1.
type WorkerID int

// Event is something that happened, for Model.Step.
type Event interface {
	// When is the time it happened (the executor's clock).
	When() time.Time
	event()
}

// at is embedded in every event.
type at struct{ At time.Time }

func (e at) When() time.Time { return e.At }
func (at) event()            {}

// Begin starts the pool: the first generation in every slot.
type Begin struct{ at }

// Started reports that the process of a StartWorker action runs.
type Started struct {
	at
	ID  WorkerID
	PID int
}

// StartFailed reports that a StartWorker action could not start a process.
type StartFailed struct {
	at
	ID  WorkerID
	Err error
}

// Ready reports that a worker serves.
type Ready struct {
	at
	ID WorkerID
}

// Exited reports that a worker has exited and that every message it sent
// the master (connections handed back included) has been read.
type Exited struct {
	at
	ID     WorkerID
	Status Status
}

// Status is how a process ended.
type Status struct {
	Code   int            // exit status, when it exited by itself
	Signal syscall.Signal // the signal that ended it, 0 if none did
	// TableUnusable says the worker exited because it could not map its
	// generation's table (a data file damaged under --data-mode map): the
	// table is broken, not the worker.
	TableUnusable bool
}

// String renders the status as the logs show it.
func (s Status) String() string {
	if s.Signal != 0 {
		return "signal " + s.Signal.String()
	}
	return fmt.Sprintf("exit status %d", s.Code)
}

// external reports whether a signal was sent to the process from outside
// rather than raised by its own fault: a worker killed by an operator or a
// kill storm was not failing at start.
func (s Status) external() bool {
	switch s.Signal {
	case 0, syscall.SIGABRT, syscall.SIGSEGV, syscall.SIGBUS, syscall.SIGILL,
		syscall.SIGFPE, syscall.SIGTRAP, syscall.SIGSYS:
		return false
	}
	return true
}

// RecycleAsked reports that a worker served --max-requests and asks to be
// replaced.
type RecycleAsked struct {
	at
	ID WorkerID
}

// Signal is what an operator asks of the master.
type Signal int

// The operator's requests, with the signal nginx and unicorn use for each.
const (
	Reload  Signal = iota + 1 // SIGHUP: a new generation on a freshly loaded table
	Upgrade                   // SIGUSR2: a new master from the binary at the master's path
	Grow                      // SIGTTIN: one worker more
	Shrink                    // SIGTTOU: one worker fewer
	Stop                      // SIGTERM, SIGINT: finish open requests, then exit
	StopNow                   // SIGQUIT: exit now
)

func (s Signal) String() string {
	switch s {
	case Reload:
		return "SIGHUP"
	case Upgrade:
		return "SIGUSR2"
	case Grow:
		return "SIGTTIN"
	case Shrink:
		return "SIGTTOU"
	case Stop:
		return "SIGTERM"
	case StopNow:
		return "SIGQUIT"
	}
	return fmt.Sprintf("signal(%d)", int(s))
}

// Signaled reports an operator's signal.
type Signaled struct {
	at
	Signal Signal
}

// TableLoaded answers a LoadTable action.
type TableLoaded struct {
	at
	Generation uint64
	Err        error
}

// SlotAdded answers an AddSlot action.
type SlotAdded struct {
	at
	Slot int
	Err  error
}

// SuccessorStarted answers a StartSuccessor action.
type SuccessorStarted struct {
	at
	PID int
	Err error
}

// SuccessorReady reports that the new master of an upgrade serves.
type SuccessorReady struct{ at }

// SuccessorExited reports that the new master of an upgrade exited.
type SuccessorExited struct {
	at
	Status Status
}

// Tick is the time passing: delivered at Model.Deadline, and whenever the
// executor likes. Heartbeats holds, for each live worker, how long ago it
// last beat in the scoreboard.
type Tick struct {
	at
	Heartbeats map[WorkerID]time.Duration
}

// Event constructors, so callers need not know the embedded field.

// NewBegin returns a Begin at t.
func NewBegin(t time.Time) Begin { return Begin{at{t}} }

// NewStarted returns a Started at t.
func NewStarted(t time.Time, id WorkerID, pid int) Started { return Started{at{t}, id, pid} }

// NewStartFailed returns a StartFailed at t.
func NewStartFailed(t time.Time, id WorkerID, err error) StartFailed {
	return StartFailed{at{t}, id, err}
}

// NewReady returns a Ready at t.
func NewReady(t time.Time, id WorkerID) Ready { return Ready{at{t}, id} }

// NewExited returns an Exited at t.
func NewExited(t time.Time, id WorkerID, st Status) Exited { return Exited{at{t}, id, st} }

// NewRecycleAsked returns a RecycleAsked at t.
func NewRecycleAsked(t time.Time, id WorkerID) RecycleAsked { return RecycleAsked{at{t}, id} }

// NewSignaled returns a Signaled at t.
func NewSignaled(t time.Time, s Signal) Signaled { return Signaled{at{t}, s} }

// NewTableLoaded returns a TableLoaded at t.
func NewTableLoaded(t time.Time, gen uint64, err error) TableLoaded {
	return TableLoaded{at{t}, gen, err}
}

// NewSlotAdded returns a SlotAdded at t.
func NewSlotAdded(t time.Time, slot int, err error) SlotAdded { return SlotAdded{at{t}, slot, err} }

// NewSuccessorStarted returns a SuccessorStarted at t.
func NewSuccessorStarted(t time.Time, pid int, err error) SuccessorStarted {
	return SuccessorStarted{at{t}, pid, err}
}

// NewSuccessorReady returns a SuccessorReady at t.
func NewSuccessorReady(t time.Time) SuccessorReady { return SuccessorReady{at{t}} }

// NewSuccessorExited returns a SuccessorExited at t.
func NewSuccessorExited(t time.Time, st Status) SuccessorExited { return SuccessorExited{at{t}, st} }

// NewTick returns a Tick at t.
func NewTick(t time.Time, beats map[WorkerID]time.Duration) Tick { return Tick{at{t}, beats} }
