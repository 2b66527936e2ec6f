// Package faults is freqd's fault suite: named scenarios that break things
// while real clients are being served, run by `make test-faults` as a step of
// its own in CI. It holds tests only.
//
// Each scenario starts the real freqd binary (a master and its workers, as
// processes), puts it under a bounded load of a few seconds from keep-alive
// and connection-per-request clients over loopback TCP and a unix socket,
// injects one kind of fault, and checks every reply against a reference
// table computed independently of the server. Whatever the fault, no
// answer may ever be wrong; each scenario adds its own invariant:
//
//   - worker SIGKILL storms, in every pre-forked mode: a killed worker costs
//     at most the requests in flight on it, and no connection is refused;
//   - a worker stopped with SIGSTOP is judged hung after --worker-timeout and
//     replaced, and service continues meanwhile;
//   - a master killed with SIGKILL takes its workers along within two
//     seconds, and its port is free at once for a new master;
//   - a storm of reloads (SIGHUP) switching between two tables loses no
//     request and ends with one generation;
//   - a data file truncated or overwritten in place while served changes no
//     answer, and is not picked up by a reload until it is valid again;
//   - hostile clients (garbage, endless lines, huge announced lengths,
//     slow-loris, thousands of idle connections, a pipeline never read) are
//     cut off within the protocol's limits and timeouts while well-behaved
//     clients see no failure at all;
//   - the connection over --max-clients gets Redis's error;
//   - unix datagram clients that never read their replies cost the other
//     datagram clients (unix and UDP) nothing: the replies they cannot take
//     are dropped and counted, and no worker waits for them.
//
// Every process a scenario starts is killed by pid when it ends. At the end,
// TestSummary logs a table of requests served, failed and wrong per
// scenario (go test -v shows it).
package faults
