package shm

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The scoreboard is Apache's idea: one small shared-memory region, mapped by
// the master and every worker, with one slot per worker. It is separate from
// the read-only table because it is written: each worker writes only the
// fields of its own slot, the master writes only the fields it owns, and both
// use atomics, so no lock is shared across processes.
//
// A slot is six cache lines: the first is the master's (pid, generation,
// restarts, start time), the second the worker's (state, heartbeat, counters),
// so a worker's frequent writes never invalidate the line the master writes;
// the last four hold the worker's calls per command, for metrics.

const (
	scoreboardMagic   = 0x4452424f43534651 // "QFSCOBRD" little-endian, arbitrary
	scoreboardVersion = 1
	scoreboardHeader  = 64
	slotSize          = 384

	// MaxSlots bounds the number of worker slots (and so the pool size that
	// SIGTTIN can reach); the region is 64 + 384*MaxSlots bytes.
	MaxSlots = 512

	// MaxCommands is how many per-command counters a slot holds.
	MaxCommands = 32
)

// WorkerState is what a worker is doing, as shown in INFO and `freqd status`.
type WorkerState uint32

// Worker states, in the order a worker passes through them.
const (
	StateEmpty    WorkerState = iota // no worker in this slot
	StateStarting                    // started, not yet serving
	StateIdle                        // serving, no connection open
	StateBusy                        // serving at least one connection
	StateDraining                    // finishing its connections before exit
)

func (s WorkerState) String() string {
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

// slot mirrors the memory layout of one scoreboard slot; every field is
// accessed atomically.
type slot struct {
	// Master-owned line.
	pid        atomic.Uint64
	generation atomic.Uint64
	restarts   atomic.Uint64
	startedNs  atomic.Int64
	poolSlot   atomic.Int64
	_          [24]byte
	// Worker-owned line.
	state       atomic.Uint32
	_           uint32
	heartbeatNs atomic.Int64
	accepted    atomic.Uint64
	open        atomic.Int64
	requests    atomic.Uint64
	errors      atomic.Uint64
	_           [16]byte
	// Worker-owned: calls per command, in handler.CommandNames order.
	commands [MaxCommands]atomic.Uint64
}

// Compile-time check that slot keeps the documented six-cache-line layout.
var _ [slotSize - unsafe.Sizeof(slot{})]byte
var _ [unsafe.Sizeof(slot{}) - slotSize]byte

// Scoreboard is a mapped scoreboard region.
type Scoreboard struct {
	mem   []byte
	slots []slot
	high  *atomic.Uint32 // header: one past the highest slot ever assigned
}

// SlotInfo is a snapshot of one slot.
type SlotInfo struct {
	Slot       int // scoreboard entry
	PoolSlot   int // place in the master's pool (an old and a new worker share one during a reload)
	PID        int
	Generation uint64
	Restarts   uint64
	Started    time.Time
	State      WorkerState
	Heartbeat  time.Time
	Accepted   uint64
	Open       int64
	Requests   uint64
	Errors     uint64
}

// NewScoreboard creates a scoreboard with n slots in a new memfd, for the
// master to map and to hand to its workers.
func NewScoreboard(n int) (*Scoreboard, *os.File, error) {
	if n < 1 || n > MaxSlots {
		return nil, nil, fmt.Errorf("scoreboard: %d slots requested; between 1 and %d are possible", n, MaxSlots)
	}
	fd, err := unix.MemfdCreate("freqd-scoreboard", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, nil, fmt.Errorf("scoreboard: memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "freqd-scoreboard")
	size := scoreboardHeader + n*slotSize
	if err := f.Truncate(int64(size)); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("scoreboard: size memfd: %w", err)
	}
	sb, err := mapScoreboard(f, size)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	le := sb.mem[:16]
	*(*uint32)(unsafe.Pointer(&le[8])) = scoreboardVersion
	*(*uint32)(unsafe.Pointer(&le[12])) = uint32(n)
	atomic.StoreUint64((*uint64)(unsafe.Pointer(&le[0])), scoreboardMagic)
	return sb, f, nil
}

// OpenScoreboard maps a scoreboard a master created (a worker's inherited
// descriptor) and checks that it is one.
func OpenScoreboard(f *os.File) (*Scoreboard, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, fmt.Errorf("scoreboard: fstat: %w", err)
	}
	if st.Size < scoreboardHeader {
		return nil, errors.New("scoreboard: region too small; the master passed the wrong descriptor")
	}
	sb, err := mapScoreboard(f, int(st.Size))
	if err != nil {
		return nil, err
	}
	magic := atomic.LoadUint64((*uint64)(unsafe.Pointer(&sb.mem[0])))
	version := *(*uint32)(unsafe.Pointer(&sb.mem[8]))
	n := int(*(*uint32)(unsafe.Pointer(&sb.mem[12])))
	if magic != scoreboardMagic || version != scoreboardVersion || scoreboardHeader+n*slotSize != len(sb.mem) {
		sb.Close()
		return nil, errors.New("scoreboard: not a freqd scoreboard of this version; master and worker binaries differ")
	}
	return sb, nil
}

func mapScoreboard(f *os.File, size int) (*Scoreboard, error) {
	mem, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("scoreboard: mmap: %w", err)
	}
	n := (size - scoreboardHeader) / slotSize
	slots := unsafe.Slice((*slot)(unsafe.Pointer(&mem[scoreboardHeader])), n)
	return &Scoreboard{mem: mem, slots: slots, high: (*atomic.Uint32)(unsafe.Pointer(&mem[16]))}, nil
}

// Len is the number of slots.
func (sb *Scoreboard) Len() int { return len(sb.slots) }

// Close unmaps the region.
func (sb *Scoreboard) Close() error {
	if sb.mem == nil {
		return nil
	}
	err := unix.Munmap(sb.mem)
	sb.mem, sb.slots = nil, nil
	return err
}

// Assign records, from the master, that a new worker process, in place
// poolSlot of the pool, now owns entry i. The worker's own fields are reset
// so the new process starts from zero.
func (sb *Scoreboard) Assign(i, poolSlot, pid int, generation, restarts uint64) {
	s := &sb.slots[i]
	s.state.Store(uint32(StateStarting))
	s.heartbeatNs.Store(monoNow())
	s.accepted.Store(0)
	s.open.Store(0)
	s.requests.Store(0)
	s.errors.Store(0)
	for c := range s.commands {
		s.commands[c].Store(0)
	}
	s.generation.Store(generation)
	s.restarts.Store(restarts)
	s.startedNs.Store(time.Now().UnixNano())
	s.poolSlot.Store(int64(poolSlot))
	s.pid.Store(uint64(pid))
	for {
		h := sb.high.Load()
		if uint32(i) < h || sb.high.CompareAndSwap(h, uint32(i)+1) {
			break
		}
	}
}

// Load is the number of connections open across all workers, and the
// number of workers: what a worker needs to enforce MaxClients and to tell
// its fair share. It reads only the slots ever used, so a worker can afford
// it per connection.
func (sb *Scoreboard) Load() (open int64, workers int) {
	for i := range min(int(sb.high.Load()), len(sb.slots)) {
		if sb.slots[i].pid.Load() != 0 {
			open += sb.slots[i].open.Load()
			workers++
		}
	}
	return open, workers
}

// Clear records, from the master, that slot i has no worker.
func (sb *Scoreboard) Clear(i int) {
	s := &sb.slots[i]
	s.pid.Store(0)
	s.state.Store(uint32(StateEmpty))
	s.open.Store(0)
}

// Worker returns the handle a worker uses to update slot i, its own.
func (sb *Scoreboard) Worker(i int) *WorkerSlot {
	return &WorkerSlot{s: &sb.slots[i]}
}

// Snapshot reads slot i.
func (sb *Scoreboard) Snapshot(i int) SlotInfo {
	s := &sb.slots[i]
	info := SlotInfo{
		Slot:       i,
		PoolSlot:   int(s.poolSlot.Load()),
		PID:        int(s.pid.Load()),
		Generation: s.generation.Load(),
		Restarts:   s.restarts.Load(),
		State:      WorkerState(s.state.Load()),
		Accepted:   s.accepted.Load(),
		Open:       s.open.Load(),
		Requests:   s.requests.Load(),
		Errors:     s.errors.Load(),
	}
	if ns := s.startedNs.Load(); ns != 0 {
		info.Started = time.Unix(0, ns)
	}
	if s.heartbeatNs.Load() != 0 {
		info.Heartbeat = time.Now().Add(-sb.HeartbeatAge(i))
	}
	return info
}

// WorkerSlot is a worker's write access to its own slot.
type WorkerSlot struct{ s *slot }

// SetState records what the worker is doing.
func (w *WorkerSlot) SetState(st WorkerState) { w.s.state.Store(uint32(st)) }

// Heartbeat records that the worker is alive now.
func (w *WorkerSlot) Heartbeat() { w.s.heartbeatNs.Store(monoNow()) }

// monoNow reads CLOCK_MONOTONIC, which every process on the machine shares
// and which wall-clock changes do not move: heartbeats compare across
// processes without false alarms when the date is set.
func monoNow() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

// HeartbeatAge is how long ago the worker in slot i last beat.
func (sb *Scoreboard) HeartbeatAge(i int) time.Duration {
	return time.Duration(monoNow() - sb.slots[i].heartbeatNs.Load())
}

// ConnOpened counts a connection the worker took on, and marks it busy.
func (w *WorkerSlot) ConnOpened() {
	w.s.accepted.Add(1)
	if w.s.open.Add(1) == 1 && WorkerState(w.s.state.Load()) == StateIdle {
		w.s.state.CompareAndSwap(uint32(StateIdle), uint32(StateBusy))
	}
}

// ConnClosed counts a connection the worker closed, and marks it idle when
// it was the last.
func (w *WorkerSlot) ConnClosed() {
	if w.s.open.Add(-1) == 0 {
		w.s.state.CompareAndSwap(uint32(StateBusy), uint32(StateIdle))
	}
}

// SetCommandCounts publishes the worker's calls per command.
func (w *WorkerSlot) SetCommandCounts(counts []uint64) {
	for i, c := range counts[:min(len(counts), MaxCommands)] {
		w.s.commands[i].Store(c)
	}
}

// CommandCounts appends slot i's calls per command to dst.
func (sb *Scoreboard) CommandCounts(i int, dst []uint64) []uint64 {
	for c := range sb.slots[i].commands {
		dst = append(dst, sb.slots[i].commands[c].Load())
	}
	return dst
}

// SetCounters publishes the worker's request and error totals.
func (w *WorkerSlot) SetCounters(requests, errors uint64) {
	w.s.requests.Store(requests)
	w.s.errors.Store(errors)
}
