// Package master is freqd's supervisor: the process that binds every
// listening socket, validates the frequency table once, and keeps a pool of
// pre-started worker processes running on it.
//
// # Model and executor
//
// What the supervisor decides (when to start, restart, retire or kill a
// worker; how a reload, an upgrade, a resize or a stop proceeds; what the
// watchdog concludes) is package pool: a model that takes events and the
// time and returns actions, with no I/O, tested in a table. This package
// is its executor: it owns the sockets, processes, descriptors and
// goroutines, performs each action, and reports back what happened (a
// worker started or exited, reported ready, handed a connection back; a
// signal arrived; time passed). Run's goroutine is the only one that
// steps the model; every other goroutine reports to it and is waited for.
//
// # Processes
//
// Go cannot fork a running runtime, so a worker is the master's own binary
// re-executed (/proc/self/exe, hidden role "worker") with its descriptors in
// exec.Cmd.ExtraFiles and a control.Spec in its environment naming them: a
// control socket, the table (a sealed memfd), the scoreboard, and either the
// descriptor queue or listening sockets. Workers are started from one locked
// OS thread so that Pdeathsig is meaningful, in their own process group so a
// terminal's Ctrl-C reaches only the master, and they also exit on EOF of
// their control socket: both lifelines end a worker within a second of its
// master's death.
//
// # Modes
//
//   - fdpass: the master accepts and passes each connection's
//     descriptor over one SOCK_SEQPACKET socket pair. Every worker reads the
//     receiving end, so the socket is a queue that whichever worker is free
//     empties, and nobody has to choose a worker; a worker holding more than
//     its share of the connections leaves the queue to the others for a
//     moment. The master accepts on a thread of its own, outside Go's
//     netpoller, and passes up to 8 waiting connections per message. It
//     keeps its own copy of the receiving end: descriptors queued while
//     workers are dead or restarting wait in the socket instead of being
//     freed. When the queue is full (no worker reads), sending blocks, the
//     master stops accepting, and the kernel's listen backlog holds the rest.
//   - accept (default): every worker accepts on the inherited listener
//     itself, woken one at a time (EPOLLEXCLUSIVE); a worker holding more
//     than its share of the connections leaves the listener to the others
//     for a moment. A connection costs one process one accept, where fdpass
//     adds the master's accept, send and close.
//   - reuseport: the master creates one SO_REUSEPORT socket per TCP address
//     and worker slot and keeps them all, so that a replacement worker
//     inherits the same accept queue and no waiting connection is reset.
//     Unix sockets have no SO_REUSEPORT; in this mode they are shared as in
//     accept mode.
//
// # Crash survival
//
// A worker that exits for any reason is reaped and replaced in its slot. A
// worker that dies soon after it started is restarted after an exponentially
// growing delay (a bad data file or a crash at start must not become a fork
// loop); one that had been serving, or was killed from outside, is replaced
// at once, and while every slot waits out a delay one restarts without,
// unless every start fails on its own. The master never closes a listener
// because of a worker.
package master
