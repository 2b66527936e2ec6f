package handler

import (
	"sync/atomic"
	"time"

	"github.com/freqd/freqd/cluster"
	"github.com/freqd/freqd/resp"
	"github.com/freqd/freqd/word"
)

// Handler answers requests against one Table. It is shared by every
// connection of a process and is safe for concurrent use. Create one with
// New; its configuration does not change afterwards.
type Handler struct {
	table   Table
	rules   word.Rules // table.Rules(), read once
	opts    Options
	started time.Time
	// ngramMin and ngramMax are the phrase lengths of a table of n-grams
	// (see phrases.go); 0 for a table of single words.
	ngramMin, ngramMax int

	lastID         atomic.Uint64
	connected      atomic.Int64
	connections    atomic.Uint64
	commands       atomic.Uint64
	errorReplies   atomic.Uint64
	protocolErrors atomic.Uint64
	authFailures   atomic.Uint64
	// datagramRefused counts replies to unauthenticated UDP requests
	// replaced by the amplification refusal.
	datagramRefused atomic.Uint64
	hits            atomic.Uint64
	misses          atomic.Uint64
	calls           []atomic.Uint64 // per command, by command id
	ops             opsMeter

	// node is the cluster this Handler serves a shard of, nil outside one.
	node *cluster.Node
	clusterSlots
}

// Options configure a Handler. The zero value serves with resp's default
// request limits, no timeouts and no password.
type Options struct {
	// Limits bounds each request; zero fields take resp's defaults. A client
	// that breaks them gets a protocol error and is disconnected.
	Limits resp.Limits

	// Timeouts bound how long a connection may take over its requests and
	// replies; the serving loops (ServeConn, the event loop) apply them.
	Timeouts Timeouts

	// Unavailable, when not empty, is why this process cannot serve its
	// table (the data file was damaged while mapped): every command but
	// QUIT is answered with it as an error, so that clients get a reason
	// and health checks fail, rather than connections being reset.
	Unavailable string

	// RequirePass, when not empty, is the password of the default user, as
	// Redis's requirepass: a connection must give it with AUTH, or HELLO's
	// AUTH option, before any command other than AUTH, HELLO and QUIT. It is
	// never logged, and neither INFO nor CONFIG GET shows it.
	RequirePass string

	// Version is freqd's version, reported by INFO; "dev" when empty.
	Version string

	// Info adds sections to INFO, after the handler's own: the master and
	// workers describe the mode, the workers, their pids and restarts.
	Info []InfoSection

	// MaxRequestMemory is the budget, for the whole process, of bytes held
	// in requests that have begun to arrive and are not complete: each
	// connection may hold up to a request's limit, and many connections
	// holding that much at once would otherwise add up to gigabytes. The
	// event loop closes the client holding the most when the budget is
	// passed, as Redis's maxmemory-clients does. Zero means no budget.
	MaxRequestMemory int64

	// MaxClients is the bound on connections open at once the server
	// enforces, 0 for none; CONFIG GET maxclients and INFO report it.
	MaxClients int

	// Server, when set, gives INFO the figures of the whole server, of
	// which this Handler serves a part: a pre-forked worker's pool. Without
	// it INFO reports this Handler's own, the whole server for the designs
	// that run in one process.
	Server func(*ServerStats)

	// ClientIDBase is added to every client id this Handler gives out, so
	// that the processes of one server (which each count from 1) give
	// different ids, and a connection handed from one to another keeps an
	// id nobody else has. A worker uses its pid shifted left by 32.
	ClientIDBase uint64

	// Cluster, when set, makes the server a node of a Redis Cluster that
	// serves Cluster.Self's slots from the table, a shard of a set (see
	// cluster.go): clients are redirected to the shard that serves a key,
	// and words another shard holds are asked of it through Peers.
	Cluster *cluster.Node
	// Peers reaches the other shards of Cluster.
	Peers Peers
}

// Timeouts are the per-connection time bounds.
type Timeouts struct {
	// Read is how long a request may take to arrive once its first bytes
	// have: it frees the connection and buffer of a client that sends half
	// a request and stalls (slowloris). Zero means no limit.
	Read time.Duration `json:"read"`

	// Idle is how long a connection may wait between requests before it
	// is closed, like Redis's "timeout" setting: it reclaims connections
	// that clients forgot. Zero means never, Redis's default, because
	// connection pools keep idle connections on purpose.
	Idle time.Duration `json:"idle"`

	// Write is how long writing one batch of replies may wait for the
	// client: a client that stops reading would otherwise hold its
	// connection, and its buffers, forever once the socket buffer fills.
	// Zero means no limit.
	Write time.Duration `json:"write"`
}

// InfoSection is one section of the INFO reply supplied from outside the
// handler.
type InfoSection struct {
	// Name is the section's name as INFO takes it, in lower case ("workers").
	Name string
	// Append appends the section's "key:value\r\n" lines to b; the handler
	// writes the "# Name" title line before them.
	Append func(b []byte) []byte
}

// New returns a Handler answering from t.
func New(t Table, opts Options) *Handler {
	if opts.Version == "" {
		opts.Version = "dev"
	}
	h := &Handler{table: t, rules: t.Rules(), opts: opts, started: time.Now(), calls: make([]atomic.Uint64, len(commandList)), node: opts.Cluster}
	h.ngramMin, h.ngramMax = ngramSizes(t)
	return h
}

// Limits returns the request limits, defaults filled in.
func (h *Handler) Limits() resp.Limits { return h.opts.Limits.Effective() }

// Timeouts returns the connection time bounds.
func (h *Handler) Timeouts() Timeouts { return h.opts.Timeouts }

// MaxRequestMemory returns the budget of bytes held in unfinished
// requests; 0 means none.
func (h *Handler) MaxRequestMemory() int64 { return h.opts.MaxRequestMemory }

// Stats is a snapshot of a Handler's counters, for a scoreboard or metrics.
type Stats struct {
	ConnectedClients int64  // sessions open now
	Connections      uint64 // sessions ever opened
	Commands         uint64 // commands executed, failed ones included
	ErrorReplies     uint64 // error replies sent, protocol errors included
	ProtocolErrors   uint64 // connections closed for breaking the protocol
	AuthFailures     uint64 // AUTH and HELLO AUTH refused for a wrong user or password
	DatagramRefused  uint64 // UDP replies refused for amplification (ServeDatagram)
	KeyspaceHits     uint64 // words looked up and found, as Redis counts key reads
	KeyspaceMisses   uint64 // words looked up and not found: the out-of-vocabulary count
}

// Stats returns the current counters.
func (h *Handler) Stats() Stats {
	return Stats{
		ConnectedClients: h.connected.Load(),
		Connections:      h.connections.Load(),
		Commands:         h.commands.Load(),
		ErrorReplies:     h.errorReplies.Load(),
		ProtocolErrors:   h.protocolErrors.Load(),
		AuthFailures:     h.authFailures.Load(),
		DatagramRefused:  h.datagramRefused.Load(),
		KeyspaceHits:     h.hits.Load(),
		KeyspaceMisses:   h.misses.Load(),
	}
}
