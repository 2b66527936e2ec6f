// Package control is the contract between the master and a worker
// process: the Spec a worker is started with, and the one-byte messages of
// the control socket between them. Both sides import it; neither imports
// the other.
package control

import (
	"time"

	"github.com/freqd/freqd/cluster"
	"github.com/freqd/freqd/handler"
	"github.com/freqd/freqd/internal/childproc"
	"github.com/freqd/freqd/internal/mode"
)

// SpecEnv is the environment variable through which the master hands a
// worker its Spec. The descriptors it names are the worker's inherited
// ExtraFiles, so the worker learns nothing from global state.
const SpecEnv = "FREQD_WORKER_SPEC"

// Spec is everything a worker process needs, decided by the master.
type Spec struct {
	Slot       int       `json:"slot"`  // place in the pool, as the master's logs and INFO name it
	Entry      int       `json:"entry"` // scoreboard entry this worker writes
	Generation uint64    `json:"generation"`
	Mode       mode.Mode `json:"mode"`

	LogLevel string `json:"log_level"`
	LogJSON  bool   `json:"log_json"`

	// Descriptor numbers in the worker process.
	ControlFD    int         `json:"control_fd"`    // SOCK_SEQPACKET to the master: lifeline and commands
	TableFD      int         `json:"table_fd"`      // sealed memfd (or file) holding the frequency table
	TableMapped  bool        `json:"table_mapped"`  // TableFD is the data file itself (--data-mode map), not a sealed copy
	ScoreboardFD int         `json:"scoreboard_fd"` // the shared scoreboard
	QueueFD      int         `json:"queue_fd"`      // fdpass: the descriptor queue; -1 otherwise
	QueueShared  bool        `json:"queue_shared"`  // fdpass: every worker reads the queue (not least-loaded)
	Listeners    []Inherited `json:"listeners"`     // accept and reuseport: sockets to accept on
	Datagrams    []Inherited `json:"datagrams"`     // udp: and unixgram: sockets, every mode: read requests from them

	ShutdownTimeout time.Duration    `json:"shutdown_timeout"`
	Timeouts        handler.Timeouts `json:"timeouts"`

	// MaxRequests recycles the worker after about this many commands (the
	// worker adds up to 10% jitter so a pool started together does not
	// recycle together); 0 means never.
	MaxRequests int `json:"max_requests"`
	// MaxClients bounds the connections open across all workers, as read
	// from the scoreboard; 0 means no bound.
	MaxClients int `json:"max_clients"`
	// MaxRequestMemory is this worker's budget of bytes held in
	// unfinished requests (handler.Options.MaxRequestMemory).
	MaxRequestMemory int64 `json:"max_request_memory"`
	// Unavailable, when set, is why no table can be served: the worker maps
	// none and answers every command with this error, so that clients get
	// a reason rather than a reset while the operator replaces the file.
	Unavailable string `json:"unavailable,omitempty"`
	// RequirePass is the password clients must AUTH with; "" for none.
	// The environment of a process is readable only by its own user and
	// root, the same people who can read the master's memory.
	RequirePass string `json:"requirepass,omitempty"`
	// Cluster, when set, is the cluster configuration (--cluster-config)
	// of which the table is a shard, and ClusterTimeout how long the worker
	// waits for another shard's answer.
	Cluster        *cluster.Config `json:"cluster,omitempty"`
	ClusterTimeout time.Duration   `json:"cluster_timeout,omitempty"`
}

// ExitTableUnusable is the exit status of a worker that cannot map the
// table it was given: the data file was truncated or rewritten under
// --data-mode map. The table is broken, not the worker; the master then
// starts workers with Spec.Unavailable until a reload brings a good table.
const ExitTableUnusable = 3

// Inherited is a socket a worker inherits: a listener to accept on, or a
// datagram socket to read.
type Inherited struct {
	FD   int    `json:"fd"`
	Addr string `json:"addr"` // as the operator wrote it, for logs and INFO
	// Shared tells that every worker accepts on this socket (accept mode,
	// and a unix socket in reuseport mode), not this worker alone.
	Shared bool `json:"shared,omitempty"`
}

// SpecFromEnv reads the spec the master set, with a clear error when this
// process was not started by a master.
func SpecFromEnv() (*Spec, error) {
	var s Spec
	if err := childproc.ReadSpec(SpecEnv, "`freqd serve`", &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Control messages on the control socket (SOCK_SEQPACKET), one byte each,
// some with a descriptor attached.
const (
	MsgReady   byte = 'R' // worker → master: serving
	MsgDrain   byte = 'D' // master → worker: shutting down; close connections between requests, exit
	MsgRetire  byte = 'T' // master → worker: replaced; hand connections back between requests, exit
	MsgConn    byte = 'C' // either way, with a descriptor and its session's state (handler.Session.AppendState) after this byte: a connection to serve
	MsgRecycle byte = 'X' // worker → master: served MaxRequests; replace me
)
