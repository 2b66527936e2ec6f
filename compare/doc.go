// Package compare runs freqd's server designs one after another under the
// same load and reports how each fared: `freqd bench --compare`.
//
// For each design it starts `freqd serve --mode M` (the running binary,
// re-executed) on a free loopback port, waits for its "ready" log line,
// drives it with loadgen.Run in this process, and stops it: SIGTERM, then
// SIGKILL of the master and of every process it started, found by pid and
// checked by start time so that a recycled pid is never hit.
//
// # What is measured
//
//   - Throughput, latency percentiles and failed requests by kind: loadgen's
//     Result, whose every reply is checked against the table.
//   - Server CPU per request: utime+stime of the master and of every live
//     descendant, plus their cutime+cstime (the CPU of children already
//     reaped: fork mode's connection processes, killed workers), read from
//     /proc/PID/stat just before and just after the load, divided by the
//     requests answered. The kernel counts in clock ticks (10 ms), so runs
//     shorter than a second or two give coarse figures.
//   - Server memory: the proportional set size (/proc/PID/smaps_rollup)
//     summed over the server's processes, sampled during the load; the peak
//     is reported. PSS charges each shared page to its processes in equal
//     parts, so the table that every worker maps counts once, not once per
//     worker as RSS would.
//   - Spread of connections over workers (pre-forked designs): the
//     `accepted` counters of INFO's worker lines, read before and after the
//     load; min, max and standard deviation of the difference.
//
// # Worker kills
//
// With Config.KillEvery set, a random worker of a pre-forked design is
// SIGKILLed at that interval during the load. Just before each kill the
// worker's open connections are read from INFO: with one request in flight
// per connection at most, that is the bound on the requests the kill may
// fail. Failures above the bound were lost somewhere else — in the master,
// a queue, or a restart — and are what the design promises not to lose.
// The bound is read a moment before the kill, so a connection accepted in
// between makes it slightly low; it is an estimate, not an accounting.
// The baseline designs have no workers to kill; their kill figures are N/A.
//
// # Shared machine
//
// The load generator runs on the same machine as the server and takes CPU
// from it: on a small machine it is the main limit of every design, and
// throughput figures compare designs only with each other, never with
// another machine. Every report says so.
package compare
