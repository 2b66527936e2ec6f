// Package pool is the supervisor's mind without its hands: a model of the
// worker pool that takes events (a worker started, became ready, exited
// with a status, asked to be recycled; a signal; the time passing, with the
// heartbeats read from the scoreboard) and returns actions (start worker N
// of generation G, retire one, signal one, load a table, start a successor,
// stop accepting, exit). It does no I/O: no processes, no sockets, no
// clock of its own. Package master is the executor that performs the
// actions and feeds back what happened.
//
// Every decision of supervision lives here, so each can be tested in a
// table in microseconds: restart back-off and its exceptions, reloads
// (SIGHUP) and their timeouts and rollbacks, binary upgrades (SIGUSR2),
// growing and shrinking (SIGTTIN, SIGTTOU), recycling after --max-requests,
// the watchdog that aborts hung workers, and the graceful and immediate
// stops.
//
// # Workers, slots, generations
//
// A slot is a place in the pool (worker 0, worker 1, ...): it stays while
// the processes in it come and go, and keeps their restart history. A
// worker is one process, known by the ID the model gives it before it is
// started. A generation is one table: a reload starts a new generation in
// every slot beside the old one, and retires the old one only once every
// new worker serves.
//
// # Time
//
// The model never reads a clock: every event carries the time it
// happened, and Deadline says when the model next wants to be woken with
// a Tick even if nothing else happens (a delayed restart, a reload or
// upgrade that may time out, the next watchdog round). Tests drive it with
// whatever times they like, including a master that was suspended for a
// minute.
package pool
