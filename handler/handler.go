package handler

import (
	"sync/atomic"
	"time"

	"github.com/freqd/freqd/resp"
)

// Handler answers requests against one Table. It is shared by every
// connection of a process and is safe for concurrent use. Create one with
// New, set its exported fields before the first connection, and leave them
// alone afterwards.
type Handler struct {
	// Table is the frequency table every command reads.
	Table Table

	// Limits bounds each request; zero fields take resp's defaults. A client
	// that breaks them gets a protocol error and is disconnected.
	Limits resp.Limits

	// ReadTimeout is how long a request may take to arrive once its first
	// bytes have: it frees the connection and buffer of a client that sends
	// half a request and stalls (slowloris). Zero means no limit.
	ReadTimeout time.Duration

	// IdleTimeout is how long a connection may wait between requests before
	// it is closed, like Redis's "timeout" setting: it reclaims connections
	// that clients forgot. Zero means never, Redis's default, because
	// connection pools keep idle connections on purpose.
	IdleTimeout time.Duration

	// WriteTimeout is how long writing one batch of replies may take: a
	// client that stops reading would otherwise hold its connection, and a
	// worker's attention, forever once the socket buffer fills. Zero means
	// no limit.
	WriteTimeout time.Duration

	// RequirePass, when not empty, is the password of the default user, as
	// Redis's requirepass: a connection must give it with AUTH, or HELLO's
	// AUTH option, before any command other than AUTH, HELLO and QUIT. It is
	// never logged, and neither INFO nor CONFIG GET shows it.
	RequirePass string

	// Version is freqd's version, reported by INFO.
	Version string

	// Info adds sections to INFO, after the handler's own: the master and
	// workers describe the mode, the workers, their pids and restarts.
	Info []InfoSection

	started time.Time

	lastID         atomic.Uint64
	connected      atomic.Int64
	connections    atomic.Uint64
	commands       atomic.Uint64
	errorReplies   atomic.Uint64
	protocolErrors atomic.Uint64
	authFailures   atomic.Uint64
	calls          [numCommands]atomic.Uint64
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

// New returns a Handler for t, with default limits and no timeouts.
func New(t Table) *Handler {
	return &Handler{Table: t, Version: "dev", started: time.Now()}
}

// Stats is a snapshot of a Handler's counters, for a scoreboard or metrics.
type Stats struct {
	ConnectedClients int64  // sessions open now
	Connections      uint64 // sessions ever opened
	Commands         uint64 // commands executed, failed ones included
	ErrorReplies     uint64 // error replies sent, protocol errors included
	ProtocolErrors   uint64 // connections closed for breaking the protocol
	AuthFailures     uint64 // AUTH and HELLO AUTH refused for a wrong user or password
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
	}
}
