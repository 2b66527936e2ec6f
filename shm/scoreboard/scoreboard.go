// Package scoreboard is Apache's idea: one small shared-memory region,
// mapped by the master and every worker, with one entry per worker process.
// It is separate from the read-only frequency table because it is written:
// each worker writes only the fields of its own entry, the master writes only
// the fields it owns, and both use atomics, so no lock is shared across
// processes.
//
// An entry is twelve cache lines: the first is the master's (pid,
// generation, restarts, start time, pool slot), the second the worker's
// (state, heartbeat, connections, gauges), so a worker's frequent writes
// never invalidate the line the master writes; the next two hold the
// worker's counters for INFO (datagram replies dropped and refused among
// them), the last eight its calls per command.
//
// # Server-wide totals
//
// INFO describes the whole server, so its counters must keep growing when a
// worker exits and takes its counters with it. The header holds, besides
// the server's start time, the totals of every worker that has gone: when
// the master reaps a worker it calls Retire, which adds the entry's
// counters to the totals and zeroes them in one step that readers never see
// half done (a sequence counter, as in a seqlock), and Totals adds the live
// entries to the retired totals. A total therefore never decreases, whichever
// process reads it and whenever workers come and go. Assign folds whatever
// an entry still holds into the totals too, so a worker's counts are kept
// even if its entry is reused without Retire.
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
	"runtime"
	"strconv"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/freqd/freqd/shm/memfd"
)

const (
	magic      = 0x4452424f43534651 // "QFSCOBRD" little-endian, arbitrary
	version    = 3
	headerSize = 704
	entrySize  = 768

	// MaxEntries bounds the number of worker processes alive at once (a
	// pool and, during a reload, the generation it replaces); the region is
	// 704 + 768*MaxEntries bytes.
	MaxEntries = 512

	// MaxCommands is how many per-command counters an entry holds.
	MaxCommands = 64

	// StartedEnv carries the server's start time (Unix nanoseconds) to a
	// master started for a binary upgrade, so that INFO's uptime counts
	// from the first master, not from the upgrade.
	StartedEnv = "FREQD_SERVER_STARTED"
)

// header mirrors the memory layout of the region's header. The first 16
// bytes (magic, version, entry count) are written once, before the region
// is shared.
type header struct {
	magic     uint64
	version   uint32
	n         uint32
	high      atomic.Uint32 // one past the highest entry ever assigned
	_         uint32
	startedNs atomic.Int64  // the server's start, Unix nanoseconds
	seq       atomic.Uint64 // odd while Retire folds an entry into the totals
	_         [24]byte
	retired   counters // the counters of workers that are gone
}

// counters are the monotonic counters INFO sums over the server: an
// entry's for its worker, the header's for every worker retired.
type counters struct {
	connections    atomic.Uint64
	requests       atomic.Uint64
	errors         atomic.Uint64
	protocolErrors atomic.Uint64
	authFailures   atomic.Uint64
	hits           atomic.Uint64
	misses         atomic.Uint64
	// Datagram replies the worker could not send at once and dropped, and
	// replies it refused for being too large for an unauthenticated UDP
	// request (a spoofed source could aim them at someone).
	dgDropped atomic.Uint64
	dgRefused atomic.Uint64
	_         [7]uint64
	commands  [MaxCommands]atomic.Uint64
}

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
	opsPerSec   atomic.Uint64
	memPrivate  atomic.Uint64
	memRSS      atomic.Uint64
	_           uint64
	// Worker-owned: the counters INFO sums (requests and errors are
	// also shown per worker), then calls per command, in
	// handler.CommandNames order.
	counters
}

// Compile-time checks that header and entry keep their documented layout.
var (
	_ [headerSize - unsafe.Sizeof(header{})]byte
	_ [unsafe.Sizeof(header{}) - headerSize]byte
	_ [entrySize - unsafe.Sizeof(entry{})]byte
	_ [unsafe.Sizeof(entry{}) - entrySize]byte
)

// Board is a mapped scoreboard region.
type Board struct {
	mem     []byte
	hdr     *header
	entries []entry
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
	// Datagram replies this worker dropped and refused.
	DatagramDropped uint64
	DatagramRefused uint64
}

// New creates a board of n entries in a new memfd, for the master to map
// and to hand to its workers. The server's start time is now, or the one
// StartedEnv carries when a previous master started this one for a binary
// upgrade.
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
	b.hdr.startedNs.Store(inheritedStart(time.Now()).UnixNano())
	b.hdr.version = version
	b.hdr.n = uint32(n)
	atomic.StoreUint64(&b.hdr.magic, magic)
	return b, f, nil
}

// inheritedStart returns the start time StartedEnv carries, or now when
// it carries none (or nonsense: a time in the future).
func inheritedStart(now time.Time) time.Time {
	ns, err := strconv.ParseInt(os.Getenv(StartedEnv), 10, 64)
	if err != nil || ns <= 0 || ns > now.UnixNano() {
		return now
	}
	return time.Unix(0, ns)
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
	m := atomic.LoadUint64(&b.hdr.magic)
	if m != magic || b.hdr.version != version || headerSize+int(b.hdr.n)*entrySize != len(b.mem) {
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
	return &Board{mem: mem, hdr: (*header)(unsafe.Pointer(&mem[0])), entries: entries}, nil
}

// Len is the number of entries.
func (b *Board) Len() int { return len(b.entries) }

// Close unmaps the region.
func (b *Board) Close() error {
	if b.mem == nil {
		return nil
	}
	err := unix.Munmap(b.mem)
	b.mem, b.hdr, b.entries = nil, nil, nil
	return err
}

// Started is when the server started: its first master, across binary
// upgrades.
func (b *Board) Started() time.Time { return time.Unix(0, b.hdr.startedNs.Load()) }

// StartedEnvValue is the StartedEnv entry ("NAME=value") a master puts in
// the environment of the master it starts for a binary upgrade.
func (b *Board) StartedEnvValue() string {
	return StartedEnv + "=" + strconv.FormatInt(b.hdr.startedNs.Load(), 10)
}

// Assign records, from the master, that a new worker process, in place slot
// of the pool, now owns entry i. The worker's own fields are reset so the
// new process starts from zero; counters a previous worker left there are
// added to the retired totals first.
func (b *Board) Assign(i, slot, pid int, generation, restarts uint64) {
	e := &b.entries[i]
	b.fold(e)
	e.state.Store(uint32(StateStarting))
	e.heartbeatNs.Store(monoNow())
	e.accepted.Store(0)
	e.open.Store(0)
	e.opsPerSec.Store(0)
	e.memPrivate.Store(0)
	e.memRSS.Store(0)
	e.generation.Store(generation)
	e.restarts.Store(restarts)
	e.startedNs.Store(time.Now().UnixNano())
	e.slot.Store(int64(slot))
	e.pid.Store(uint64(pid))
	for {
		h := b.hdr.high.Load()
		if uint32(i) < h || b.hdr.high.CompareAndSwap(h, uint32(i)+1) {
			break
		}
	}
}

// Retire records, from the master, that the worker of entry i has exited
// and been reaped: its counters join the server's retired totals, and the
// entry has no worker. The master calls it instead of Clear wherever a
// worker is gone for good, so that INFO's totals keep what it served.
func (b *Board) Retire(i int) {
	b.fold(&b.entries[i])
	b.Clear(i)
}

// fold moves entry e's counters into the retired totals, inside the
// sequence counter so that Totals never reads them in both places or in
// neither. Only the master folds, and only entries whose worker has
// stopped writing (reaped, or about to be replaced by Assign).
func (b *Board) fold(e *entry) {
	b.hdr.seq.Add(1)
	r := &b.hdr.retired
	r.connections.Add(e.connections.Swap(0))
	r.requests.Add(e.requests.Swap(0))
	r.errors.Add(e.errors.Swap(0))
	r.protocolErrors.Add(e.protocolErrors.Swap(0))
	r.authFailures.Add(e.authFailures.Swap(0))
	r.hits.Add(e.hits.Swap(0))
	r.misses.Add(e.misses.Swap(0))
	r.dgDropped.Add(e.dgDropped.Swap(0))
	r.dgRefused.Add(e.dgRefused.Swap(0))
	for c := range e.commands {
		r.commands[c].Add(e.commands[c].Swap(0))
	}
	b.hdr.seq.Add(1)
}

// Totals is the whole server's figures, summed over its workers: the
// counters of those gone and of those alive, and the gauges of those
// alive.
type Totals struct {
	Workers        int    // worker processes alive
	Open           int64  // connections open now
	Connections    uint64 // sessions ever opened (handed-over ones count once)
	Requests       uint64 // commands executed
	Errors         uint64 // error replies sent
	ProtocolErrors uint64 // connections closed for breaking the protocol
	AuthFailures   uint64
	Hits, Misses   uint64 // word lookups that found, and did not find, the word
	// Datagram replies dropped (no room at the client) and refused (too
	// large for an unauthenticated UDP request).
	DatagramDropped, DatagramRefused uint64
	OpsPerSec                        uint64 // the workers' recent command rates, summed
	MemPrivate                       uint64 // the workers' resident memory of their own
	MemRSS                           uint64 // the workers' resident memory, shared pages counted in each
	Commands                         []uint64
}

// Totals returns the server-wide figures. Its counters never decrease
// from one call to the next, in any process, provided each worker
// publishes its own as they grow (Writer.SetCounters and SetStats).
func (b *Board) Totals() Totals {
	var t Totals
	for {
		seq := b.hdr.seq.Load()
		if seq&1 != 0 {
			runtime.Gosched()
			continue
		}
		t = Totals{Commands: make([]uint64, MaxCommands)}
		t.add(&b.hdr.retired)
		for i := range min(int(b.hdr.high.Load()), len(b.entries)) {
			e := &b.entries[i]
			// A reaped worker's counters count until they are folded,
			// so that none is ever missing; its gauges do not.
			t.add(&e.counters)
			if e.pid.Load() != 0 {
				t.Workers++
				t.Open += e.open.Load()
				t.OpsPerSec += e.opsPerSec.Load()
				t.MemPrivate += e.memPrivate.Load()
				t.MemRSS += e.memRSS.Load()
			}
		}
		if b.hdr.seq.Load() == seq {
			return t
		}
	}
}

func (t *Totals) add(c *counters) {
	t.Connections += c.connections.Load()
	t.Requests += c.requests.Load()
	t.Errors += c.errors.Load()
	t.ProtocolErrors += c.protocolErrors.Load()
	t.AuthFailures += c.authFailures.Load()
	t.Hits += c.hits.Load()
	t.Misses += c.misses.Load()
	t.DatagramDropped += c.dgDropped.Load()
	t.DatagramRefused += c.dgRefused.Load()
	for i := range c.commands {
		t.Commands[i] += c.commands[i].Load()
	}
}

// ConnectionsOpen is the number of connections open across all workers,
// and the number of workers: what a worker needs to enforce MaxClients and
// to tell its fair share. It reads only the entries ever used, so a worker
// can afford it per connection.
func (b *Board) ConnectionsOpen() (open int64, workers int) {
	for i := range min(int(b.hdr.high.Load()), len(b.entries)) {
		if b.entries[i].pid.Load() != 0 {
			open += b.entries[i].open.Load()
			workers++
		}
	}
	return open, workers
}

// Clear records, from the master, that entry i has no worker. Its
// counters stay in the totals until the entry is assigned again; Retire is
// the call for a worker that has exited.
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
		Index:           i,
		Slot:            int(e.slot.Load()),
		PID:             int(e.pid.Load()),
		Generation:      e.generation.Load(),
		Restarts:        e.restarts.Load(),
		State:           State(e.state.Load()),
		Accepted:        e.accepted.Load(),
		Open:            e.open.Load(),
		Requests:        e.requests.Load(),
		Errors:          e.errors.Load(),
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
		storeMax(&w.e.commands[i], c)
	}
}

// SetCounters publishes the worker's request and error totals.
func (w *Writer) SetCounters(requests, errors uint64) {
	storeMax(&w.e.requests, requests)
	storeMax(&w.e.errors, errors)
}

// Stats are a worker's figures for INFO besides requests and errors.
type Stats struct {
	Connections    uint64 // counters: they only grow
	ProtocolErrors uint64
	AuthFailures   uint64
	Hits, Misses   uint64
	OpsPerSec      uint64 // gauges
	MemPrivate     uint64
	MemRSS         uint64
}

// SetStats publishes the worker's figures for INFO.
func (w *Writer) SetStats(st Stats) {
	storeMax(&w.e.connections, st.Connections)
	storeMax(&w.e.protocolErrors, st.ProtocolErrors)
	storeMax(&w.e.authFailures, st.AuthFailures)
	storeMax(&w.e.hits, st.Hits)
	storeMax(&w.e.misses, st.Misses)
	w.e.opsPerSec.Store(st.OpsPerSec)
	w.e.memPrivate.Store(st.MemPrivate)
	w.e.memRSS.Store(st.MemRSS)
}

// storeMax stores v unless the counter already holds more: a worker
// publishes from its heartbeat and from INFO, and a slower publisher must
// not take a counter back to what it read earlier.
func storeMax(c *atomic.Uint64, v uint64) {
	for {
		old := c.Load()
		if v <= old || c.CompareAndSwap(old, v) {
			return
		}
	}
}

// SetDatagramCounters publishes the worker's dropped and refused datagram
// replies.
func (w *Writer) SetDatagramCounters(dropped, refused uint64) {
	w.e.dgDropped.Store(dropped)
	w.e.dgRefused.Store(refused)
}
