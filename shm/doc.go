// Package shm groups what freqd's processes share through memory, one
// concern per package:
//
//   - freqfile: the frequency table's file format, its writer and its
//     mapped reader; nobody writes a table once it is built.
//   - scoreboard: one entry per worker, written by the workers and the
//     master with atomics, read by everyone for INFO, metrics and the
//     watchdog.
//   - memfd: the in-memory files both are shared through.
package shm
