package pool

import "fmt"

// Action is something the executor must do. Each renders as one short line
// (String), which is how the table tests read what the model decided.
type Action interface {
	fmt.Stringer
	action()
}

type act struct{}

func (act) action() {}

// StartWorker starts a worker process of Generation in Slot, writing to
// scoreboard Entry; the executor answers with Started or StartFailed.
type StartWorker struct {
	act
	ID         WorkerID
	Slot       int
	Generation uint64
	Entry      int
	Restarts   uint64 // processes started in the slot before this one
	// Unavailable starts a worker that maps no table and answers every
	// command with an error saying why: the generation's table is broken.
	Unavailable bool
}

func (a StartWorker) String() string {
	s := fmt.Sprintf("start worker %d in slot %d (generation %d)", a.ID, a.Slot, a.Generation)
	if a.Unavailable {
		s += ", unavailable"
	}
	return s
}

// Retire asks a worker to hand its connections back between requests and
// exit: it has been replaced.
type Retire struct {
	act
	ID WorkerID
}

func (a Retire) String() string { return fmt.Sprintf("retire worker %d", a.ID) }

// Drain asks a worker to finish its open requests, close its connections
// between requests, and exit: the server is stopping.
type Drain struct {
	act
	ID WorkerID
}

func (a Drain) String() string { return fmt.Sprintf("drain worker %d", a.ID) }

// Abort ends a hung worker with SIGABRT, so that the Go runtime prints every
// goroutine before it dies (SIGKILL if the process is stopped and cannot
// act on SIGABRT).
type Abort struct {
	act
	ID WorkerID
}

func (a Abort) String() string { return fmt.Sprintf("abort worker %d", a.ID) }

// Kill ends a worker with SIGKILL.
type Kill struct {
	act
	ID WorkerID
}

func (a Kill) String() string { return fmt.Sprintf("kill worker %d", a.ID) }

// ClearEntry empties the scoreboard entry of a worker that has exited.
type ClearEntry struct {
	act
	Entry int
}

func (a ClearEntry) String() string { return fmt.Sprintf("clear entry %d", a.Entry) }

// LoadTable loads and validates the table for Generation; the executor
// answers with TableLoaded.
type LoadTable struct {
	act
	Generation uint64
}

func (a LoadTable) String() string { return fmt.Sprintf("load table for generation %d", a.Generation) }

// ReleaseTable releases the table of a generation no worker serves any more.
type ReleaseTable struct {
	act
	Generation uint64
}

func (a ReleaseTable) String() string {
	return fmt.Sprintf("release table of generation %d", a.Generation)
}

// AddSlot makes what a new slot needs (reuseport sockets, a queue); the
// executor answers with SlotAdded.
type AddSlot struct {
	act
	Slot int
}

func (a AddSlot) String() string { return fmt.Sprintf("add slot %d", a.Slot) }

// RemoveSlot releases what a slot had for new connections (its reuseport
// sockets), so that no connection is routed to a slot about to go.
type RemoveSlot struct {
	act
	Slot int
}

func (a RemoveSlot) String() string { return fmt.Sprintf("remove slot %d", a.Slot) }

// SlotVacated says the last worker of a removed slot has exited: what it
// left queued can go to the others.
type SlotVacated struct {
	act
	Slot int
}

func (a SlotVacated) String() string { return fmt.Sprintf("slot %d vacated", a.Slot) }

// Serving says the pool is ready for the first time: write the pidfile,
// start accepting, report readiness.
type Serving struct{ act }

func (Serving) String() string { return "serving" }

// StopAccepting closes this master's listening sockets and stops its
// accept loop; connections already accepted are still served.
type StopAccepting struct{ act }

func (StopAccepting) String() string { return "stop accepting" }

// Notify reports a state to the service manager (sd_notify).
type Notify struct {
	act
	State string
}

func (a Notify) String() string { return "notify " + a.State }

// StartSuccessor executes the binary at the master's path as a new master
// that inherits every socket; the executor answers with SuccessorStarted,
// then SuccessorReady or SuccessorExited.
type StartSuccessor struct{ act }

func (StartSuccessor) String() string { return "start successor" }

// KillSuccessor ends a new master that failed to take over.
type KillSuccessor struct{ act }

func (KillSuccessor) String() string { return "kill successor" }

// HandOver passes whatever connections are still queued to the successor:
// every worker has exited, and this master is about to.
type HandOver struct{ act }

func (HandOver) String() string { return "hand over" }

// Exit ends the master; Err is nil after a clean stop or hand-over.
type Exit struct {
	act
	Err error
}

func (a Exit) String() string {
	if a.Err != nil {
		return "exit: " + a.Err.Error()
	}
	return "exit"
}
