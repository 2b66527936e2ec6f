// Package testserver runs the real freqd binary for tests, and loads it with
// clients that check every answer. It is test support only: nothing in the
// freqd binary imports it.
//
// The tests of package master and the fault suite (package faults) exercise
// freqd as an operator sees it: a built binary, a master process, worker
// processes, real sockets and real signals. This package holds what they
// share:
//
//   - Build compiles freqd once; BuildTable writes frequency files with it.
//   - Start runs `freqd serve` on a kernel-chosen loopback port and a unix
//     socket, waits for its JSON "ready" line, and kills the master and
//     every worker by pid when the test ends.
//   - Children, Alive, OpenFDs and ListenInodes read /proc, so tests find
//     workers and leaked descriptors without asking the server under test.
//   - RunLoad drives keep-alive and connection-per-request GET clients and
//     counts what they saw: answers right, wrong, failed and refused.
//   - Table is the reference a load checks answers against, computed from
//     the inputs (the embedded SUBTLEX-US list, or a test's own words)
//     independently of the code under test.
package testserver
