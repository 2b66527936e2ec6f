// Package scoreboard is Apache's idea: one small shared-memory region,
// mapped by the master and every worker, with one entry per worker process.
// It is separate from the read-only frequency table because it is written:
// each worker writes only the fields of its own entry, the master writes only
// the fields it owns, and both use atomics, so no lock is shared across
// processes.
//
// An entry is six cache lines: the first is the master's (pid, generation,
// restarts, start time, pool slot), the second the worker's (state,
// heartbeat, counters of connections, commands and datagram replies), so a worker's frequent writes never invalidate the
// line the master writes; the last four hold the worker's calls per command,
// for metrics.
//
// Entries and pool slots differ: a pool slot is a place in the master's pool
// (worker 0, worker 1, ...); an entry is where one worker process writes.
// During a reload an old and a new worker serve the same slot from two
// entries.
package scoreboard

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/freqd/freqd/shm/memfd"
)

const (
	magic      = 0x4452424f43534651 // "QFSCOBRD" little-endian, arbitrary
	version    = 1
	headerSize = 64
	entrySize  = 384

	// MaxEntries bounds the number of worker processes alive at once (a
	// pool and, during a reload, the generation it replaces); the region is
	// 64 + 384*MaxEntries bytes.
	MaxEntries = 512

	// MaxCommands is how many per-command counters an entry holds.
	MaxCommands = 32
)

// State is what a worker is doing, as shown in INFO and `freqd status`.
type State uint32

// Worker states, in the order a worker passes through them.
const (
	StateEmpty    State = iota // no worker in this entry
	StateStarting              // started, not yet serving
	StateIdle                  // serving, no connection open
	StateBusy                  // serving at least one connection
	StateDraining              // finishing its connections before exit
)

func (s State) String() string {
	switch s {
	case StateEmpty:
		return "empty"
	case StateStarting:
		return "starting"
	case StateIdle:
		return "idle"
	case StateBusy:
		return "busy"
	case StateDraining:
		return "draining"
	}
	return fmt.Sprintf("state(%d)", uint32(s))
}

// entry mirrors the memory layout of one scoreboard entry; every field is
// accessed atomically.
type entry struct {
	// Master-owned line.
	pid        atomic.Uint64
	generation atomic.Uint64
	restarts   atomic.Uint64
	startedNs  atomic.Int64
	slot       atomic.Int64
	_          [24]byte
	// Worker-owned line.
	state       atomic.Uint32
	_           uint32
	heartbeatNs atomic.Int64
	accepted    atomic.Uint64
	open        atomic.Int64
	requests    atomic.Uint64
	errors      atomic.Uint64
	dgDropped   atomic.Uint64
	dgRefused   atomic.Uint64
	// Worker-owned: calls per command, in handler.CommandNames order.
	commands [MaxCommands]atomic.Uint64
}

// Compile-time check that entry keeps the documented six-cache-line layout.
var _ [entrySize - unsafe.Sizeof(entry{})]byte
var _ [unsafe.Sizeof(entry{}) - entrySize]byte

// Board is a mapped scoreboard region.
type Board struct {
	mem     []byte
	entries []entry
	high    *atomic.Uint32 // header: one past the highest entry ever assigned
}

// Entry is a snapshot of one entry.
type Entry struct {
	Index      int // the entry's index in the board
	Slot       int // the worker's place in the master's pool
	PID        int
	Generation uint64
	Restarts   uint64
	Started    time.Time
	State      State
	Heartbeat  time.Time
	Accepted   uint64
	Open       int64
	Requests   uint64
	Errors     uint64
	// Datagram replies the worker could not send at once and dropped, and
	// replies to unauthenticated UDP requests it replaced with a refusal
	// for being too large (amplification).
	DatagramDropped uint64
	DatagramRefused uint64
}

// New creates a board of n entries in a new memfd, for the master to map
// and to hand to its workers.
func New(n int) (*Board, *os.File, error) {
	if n < 1 || n > MaxEntries {
		return nil, nil, fmt.Errorf("scoreboard: %d entries requested; between 1 and %d are possible", n, MaxEntries)
	}
	size := headerSize + n*entrySize
	f, err := memfd.Shared("freqd-scoreboard", int64(size))
	if err != nil {
		return nil, nil, fmt.Errorf("scoreboard: %w", err)
	}
	b, err := mapBoard(f, size)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	h := b.mem[:16]
	*(*uint32)(unsafe.Pointer(&h[8])) = version
	*(*uint32)(unsafe.Pointer(&h[12])) = uint32(n)
	atomic.StoreUint64((*uint64)(unsafe.Pointer(&h[0])), magic)
	return b, f, nil
}

// Open maps a board a master created (a worker's inherited descriptor) and
// checks that it is one.
func Open(f *os.File) (*Board, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, fmt.Errorf("scoreboard: fstat: %w", err)
	}
	if st.Size < headerSize {
		return nil, errors.New("scoreboard: region too small; the master passed the wrong descriptor")
	}
	b, err := mapBoard(f, int(st.Size))
	if err != nil {
		return nil, err
	}
	m := atomic.LoadUint64((*uint64)(unsafe.Pointer(&b.mem[0])))
	v := *(*uint32)(unsafe.Pointer(&b.mem[8]))
	n := int(*(*uint32)(unsafe.Pointer(&b.mem[12])))
	if m != magic || v != version || headerSize+n*entrySize != len(b.mem) {
		b.Close()
		return nil, errors.New("scoreboard: not a freqd scoreboard of this version; master and worker binaries differ")
	}
	return b, nil
}

func mapBoard(f *os.File, size int) (*Board, error) {
	mem, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("scoreboard: mmap: %w", err)
	}
	n := (size - headerSize) / entrySize
	entries := unsafe.Slice((*entry)(unsafe.Pointer(&mem[headerSize])), n)
	return &Board{mem: mem, entries: entries, high: (*atomic.Uint32)(unsafe.Pointer(&mem[16]))}, nil
}

// Len is the number of entries.
func (b *Board) Len() int { return len(b.entries) }

// Close unmaps the region.
func (b *Board) Close() error {
	if b.mem == nil {
		return nil
	}
	err := unix.Munmap(b.mem)
	b.mem, b.entries = nil, nil
	return err
}

// Assign records, from the master, that a new worker process, in place slot
// of the pool, now owns entry i. The worker's own fields are reset so the
// new process starts from zero.
func (b *Board) Assign(i, slot, pid int, generation, restarts uint64) {
	e := &b.entries[i]
	e.state.Store(uint32(StateStarting))
	e.heartbeatNs.Store(monoNow())
	e.accepted.Store(0)
	e.open.Store(0)
	e.requests.Store(0)
	e.errors.Store(0)
	e.dgDropped.Store(0)
	e.dgRefused.Store(0)
	for c := range e.commands {
		e.commands[c].Store(0)
	}
	e.generation.Store(generation)
	e.restarts.Store(restarts)
	e.startedNs.Store(time.Now().UnixNano())
	e.slot.Store(int64(slot))
	e.pid.Store(uint64(pid))
	for {
		h := b.high.Load()
		if uint32(i) < h || b.high.CompareAndSwap(h, uint32(i)+1) {
			break
		}
	}
}

// ConnectionsOpen is the number of connections open across all workers,
// and the number of workers: what a worker needs to enforce MaxClients and
// to tell its fair share. It reads only the entries ever used, so a worker
// can afford it per connection.
func (b *Board) ConnectionsOpen() (open int64, workers int) {
	for i := range min(int(b.high.Load()), len(b.entries)) {
		if b.entries[i].pid.Load() != 0 {
			open += b.entries[i].open.Load()
			workers++
		}
	}
	return open, workers
}

// Clear records, from the master, that entry i has no worker.
func (b *Board) Clear(i int) {
	e := &b.entries[i]
	e.pid.Store(0)
	e.state.Store(uint32(StateEmpty))
	e.open.Store(0)
}

// Writer returns the handle a worker uses to update entry i, its own.
func (b *Board) Writer(i int) *Writer {
	return &Writer{e: &b.entries[i]}
}

// Snapshot reads entry i.
func (b *Board) Snapshot(i int) Entry {
	e := &b.entries[i]
	info := Entry{
		Index:      i,
		Slot:       int(e.slot.Load()),
		PID:        int(e.pid.Load()),
		Generation: e.generation.Load(),
		Restarts:   e.restarts.Load(),
		State:      State(e.state.Load()),
		Accepted:   e.accepted.Load(),
		Open:       e.open.Load(),
		Requests:   e.requests.Load(),
		Errors:     e.errors.Load(),

		DatagramDropped: e.dgDropped.Load(),
		DatagramRefused: e.dgRefused.Load(),
	}
	if ns := e.startedNs.Load(); ns != 0 {
		info.Started = time.Unix(0, ns)
	}
	if e.heartbeatNs.Load() != 0 {
		info.Heartbeat = time.Now().Add(-b.HeartbeatAge(i))
	}
	return info
}

// HeartbeatAge is how long ago the worker in entry i last beat.
func (b *Board) HeartbeatAge(i int) time.Duration {
	return time.Duration(monoNow() - b.entries[i].heartbeatNs.Load())
}

// CommandCounts appends entry i's calls per command to dst.
func (b *Board) CommandCounts(i int, dst []uint64) []uint64 {
	for c := range b.entries[i].commands {
		dst = append(dst, b.entries[i].commands[c].Load())
	}
	return dst
}

// monoNow reads CLOCK_MONOTONIC, which every process on the machine shares
// and which wall-clock changes do not move: heartbeats compare across
// processes without false alarms when the date is set.
func monoNow() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

// Writer is a worker's write access to its own entry.
type Writer struct{ e *entry }

// SetState records what the worker is doing.
func (w *Writer) SetState(st State) { w.e.state.Store(uint32(st)) }

// Heartbeat records that the worker is alive now.
func (w *Writer) Heartbeat() { w.e.heartbeatNs.Store(monoNow()) }

// ConnOpened counts a connection the worker took on, and marks it busy.
func (w *Writer) ConnOpened() {
	w.e.accepted.Add(1)
	if w.e.open.Add(1) == 1 && State(w.e.state.Load()) == StateIdle {
		w.e.state.CompareAndSwap(uint32(StateIdle), uint32(StateBusy))
	}
}

// ConnClosed counts a connection the worker closed, and marks it idle when
// it was the last.
func (w *Writer) ConnClosed() {
	if w.e.open.Add(-1) == 0 {
		w.e.state.CompareAndSwap(uint32(StateBusy), uint32(StateIdle))
	}
}

// SetCommandCounts publishes the worker's calls per command.
func (w *Writer) SetCommandCounts(counts []uint64) {
	for i, c := range counts[:min(len(counts), MaxCommands)] {
		w.e.commands[i].Store(c)
	}
}

// SetCounters publishes the worker's request and error totals.
func (w *Writer) SetCounters(requests, errors uint64) {
	w.e.requests.Store(requests)
	w.e.errors.Store(errors)
}

// SetDatagramCounters publishes the worker's dropped and refused datagram
// replies.
func (w *Writer) SetDatagramCounters(dropped, refused uint64) {
	w.e.dgDropped.Store(dropped)
	w.e.dgRefused.Store(refused)
}
