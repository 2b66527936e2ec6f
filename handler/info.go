package handler

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/freqd/freqd/internal/procstat"
	"github.com/freqd/freqd/resp"
)

// ServerStats are the figures INFO's server sections (server, clients,
// memory, stats, commandstats) report: the whole server's, whichever of its
// processes answers.
type ServerStats struct {
	PID     int       // the process that stands for the server: the master's, which takes the signals
	Started time.Time // when the server started
	Stats             // counters, summed over the server's processes

	// OpsPerSec is the recent rate of commands, as Redis's
	// instantaneous_ops_per_sec.
	OpsPerSec uint64

	// UsedMemory is what the server's processes hold: each one's resident
	// memory of its own (heap, stacks, buffers: resident pages less those
	// backed by a file or shared), summed, plus the table once, however
	// many processes map it. UsedMemoryRSS sums their resident memory,
	// counting shared pages in every process that maps them.
	UsedMemory    uint64
	UsedMemoryRSS uint64

	// Calls is how many times each command has run, in CommandNames order.
	Calls []uint64
}

// serverStats fills ss from Options.Server, or from this Handler alone.
func (h *Handler) serverStats(ss *ServerStats) {
	if h.opts.Server != nil {
		h.opts.Server(ss)
		return
	}
	ss.PID = os.Getpid()
	ss.Started = h.started
	ss.Stats = h.Stats()
	ss.OpsPerSec = h.OpsPerSec(time.Now())
	if u, err := procstat.ReadMemory(0); err == nil {
		ss.UsedMemory = u.Private + uint64(max(h.table.Size(), 0))
		ss.UsedMemoryRSS = u.RSS
	}
	ss.Calls = h.CommandCounts(nil)
}

// opsMeter turns the growing command count into a recent rate, as Redis's
// instantaneous_ops_per_sec: it keeps samples at least 100 ms apart and
// measures from the oldest one of the last two seconds (or, when readings
// are rarer than that, from the previous one) to now.
type opsMeter struct {
	mu      sync.Mutex
	at      [32]time.Time
	count   [32]uint64
	n, last int
}

const (
	opsSampleEvery = 100 * time.Millisecond
	opsWindow      = 2 * time.Second
)

// OpsPerSec returns the commands per second over the last seconds, taking
// a sample at now. A worker calls it from its heartbeat to publish the rate.
func (h *Handler) OpsPerSec(now time.Time) uint64 {
	return h.ops.rate(now, h.commands.Load())
}

func (m *opsMeter) rate(now time.Time, count uint64) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var rate uint64
	if m.n > 0 {
		// From the newest sample back to the oldest one in the window.
		from := m.last
		for k := 1; k < m.n; k++ {
			i := (m.last - k + len(m.at)) % len(m.at)
			if now.Sub(m.at[i]) > opsWindow {
				break
			}
			from = i
		}
		if dt := now.Sub(m.at[from]); dt > 0 && count >= m.count[from] {
			rate = uint64(float64(count-m.count[from]) / dt.Seconds())
		}
	}
	if m.n == 0 || now.Sub(m.at[m.last]) >= opsSampleEvery {
		if m.n > 0 {
			m.last = (m.last + 1) % len(m.at)
		}
		m.at[m.last], m.count[m.last] = now, count
		m.n = min(m.n+1, len(m.at))
	}
	return rate
}

// infoSection is one of the handler's own INFO sections.
type infoSection struct {
	name    string
	title   string
	inAll   bool // included when INFO names no section
	appendF func(h *Handler, ss *ServerStats, b []byte) []byte
}

// The sections in Redis's order, freqd's own (limits, table) before
// keyspace; commandstats only when asked for, as in Redis. The field a
// tool looks for appears first under its own name: redis-cli --stat finds
// fields by substring, so used_memory comes before used_memory_rss.
var infoSections = []infoSection{
	{"server", "Server", true, (*Handler).appendServerInfo},
	{"clients", "Clients", true, (*Handler).appendClientsInfo},
	{"memory", "Memory", true, (*Handler).appendMemoryInfo},
	{"persistence", "Persistence", true, (*Handler).appendPersistenceInfo},
	{"stats", "Stats", true, (*Handler).appendStatsInfo},
	{"replication", "Replication", true, (*Handler).appendReplicationInfo},
	{"limits", "Limits", true, (*Handler).appendLimitsInfo},
	{"table", "Table", true, (*Handler).appendTableInfo},
	{"commandstats", "Commandstats", false, (*Handler).appendCommandStats},
	{"cluster", "Cluster", true, (*Handler).appendClusterInfo},
	{"keyspace", "Keyspace", true, (*Handler).appendKeyspaceInfo},
}

// INFO [section...]: Redis's text format, "# Title" lines followed by
// "key:value" lines, sections separated by a blank line; a verbatim
// string in RESP3. No argument (or "default") gives the usual sections,
// "all" or "everything" adds commandstats, and an unknown section gives an
// empty text, all as Redis.
func runInfo(s *Session, args [][]byte, out []byte) []byte {
	h := s.h
	s.flush() // the commands pipelined before this one
	all, everything := len(args) == 1, false
	for _, a := range args[1:] {
		switch {
		case bytes.EqualFold(a, []byte("default")):
			all = true
		case bytes.EqualFold(a, []byte("all")), bytes.EqualFold(a, []byte("everything")):
			all, everything = true, true
		}
	}
	want := func(name string) bool {
		if everything {
			return true
		}
		for _, a := range args[1:] {
			if bytes.EqualFold(a, []byte(name)) {
				return true
			}
		}
		return false
	}
	var text []byte
	section := func(title string, body func([]byte) []byte) {
		if len(text) > 0 {
			text = append(text, "\r\n"...)
		}
		text = append(text, "# "...)
		text = append(text, title...)
		text = append(text, "\r\n"...)
		text = body(text)
	}
	var ss ServerStats
	read := false
	for _, sec := range infoSections {
		if (all && sec.inAll) || want(sec.name) {
			if !read {
				h.serverStats(&ss)
				read = true
			}
			section(sec.title, func(b []byte) []byte { return sec.appendF(h, &ss, b) })
		}
	}
	for _, sec := range h.opts.Info {
		if all || want(sec.Name) {
			section(title(sec.Name), sec.Append)
		}
	}
	return resp.AppendVerbatim(out, "txt", text, s.proto)
}

// title capitalises an ASCII section name as Redis titles its sections.
func title(name string) string {
	if name == "" || name[0] < 'a' || name[0] > 'z' {
		return name
	}
	return string(name[0]-'a'+'A') + name[1:]
}

func appendField(b []byte, key, value string) []byte {
	b = append(b, key...)
	b = append(b, ':')
	b = append(b, value...)
	return append(b, "\r\n"...)
}

func appendUintField(b []byte, key string, v uint64) []byte {
	b = append(b, key...)
	b = append(b, ':')
	b = strconv.AppendUint(b, v, 10)
	return append(b, "\r\n"...)
}

func (h *Handler) appendServerInfo(ss *ServerStats, b []byte) []byte {
	now := time.Now()
	up := max(now.Sub(ss.Started), 0)
	b = appendField(b, "redis_version", compatVersion)
	b = appendField(b, "freqd_version", h.opts.Version)
	b = appendField(b, "redis_mode", h.mode())
	b = appendField(b, "arch_bits", strconv.Itoa(strconv.IntSize))
	b = appendUintField(b, "process_id", uint64(ss.PID))
	b = appendUintField(b, "server_time_usec", uint64(now.UnixMicro()))
	b = appendUintField(b, "uptime_in_seconds", uint64(up/time.Second))
	return appendUintField(b, "uptime_in_days", uint64(up/(24*time.Hour)))
}

func (h *Handler) appendClientsInfo(ss *ServerStats, b []byte) []byte {
	b = appendUintField(b, "connected_clients", uint64(max(ss.ConnectedClients, 0)))
	b = appendField(b, "blocked_clients", "0")
	return appendUintField(b, "maxclients", uint64(max(h.opts.MaxClients, 0)))
}

// appendMemoryInfo reports memory as ServerStats.UsedMemory describes it;
// freqd has no memory limit and evicts nothing.
func (h *Handler) appendMemoryInfo(ss *ServerStats, b []byte) []byte {
	b = appendUintField(b, "used_memory", ss.UsedMemory)
	b = appendField(b, "used_memory_human", humanBytes(ss.UsedMemory))
	b = appendUintField(b, "used_memory_rss", ss.UsedMemoryRSS)
	b = appendField(b, "used_memory_rss_human", humanBytes(ss.UsedMemoryRSS))
	b = appendUintField(b, "used_memory_table", uint64(max(h.table.Size(), 0)))
	b = appendField(b, "maxmemory", "0")
	b = appendField(b, "maxmemory_human", "0B")
	b = appendField(b, "maxmemory_policy", "noeviction")
	return appendField(b, "mem_allocator", "go")
}

// humanBytes writes n as Redis's *_human fields do: 1023B, 1.50K, 2.25M.
func humanBytes(n uint64) string {
	const k = 1024
	switch {
	case n < k:
		return strconv.FormatUint(n, 10) + "B"
	case n < k*k:
		return fmt.Sprintf("%.2fK", float64(n)/k)
	case n < k*k*k:
		return fmt.Sprintf("%.2fM", float64(n)/(k*k))
	case n < k*k*k*k:
		return fmt.Sprintf("%.2fG", float64(n)/(k*k*k))
	}
	return fmt.Sprintf("%.2fT", float64(n)/(k*k*k*k))
}

// appendPersistenceInfo says what monitors and redis-cli --stat look for:
// freqd loads its table before it serves and never saves.
func (h *Handler) appendPersistenceInfo(_ *ServerStats, b []byte) []byte {
	b = appendField(b, "loading", "0")
	b = appendField(b, "async_loading", "0")
	b = appendField(b, "rdb_changes_since_last_save", "0")
	b = appendField(b, "rdb_bgsave_in_progress", "0")
	b = appendField(b, "rdb_last_bgsave_status", "ok")
	b = appendField(b, "aof_enabled", "0")
	b = appendField(b, "aof_rewrite_in_progress", "0")
	return appendField(b, "aof_last_bgrewrite_status", "ok")
}

func (h *Handler) appendStatsInfo(ss *ServerStats, b []byte) []byte {
	b = appendUintField(b, "total_connections_received", ss.Connections)
	b = appendUintField(b, "total_commands_processed", ss.Commands)
	b = appendUintField(b, "instantaneous_ops_per_sec", ss.OpsPerSec)
	b = appendField(b, "expired_keys", "0")
	b = appendField(b, "evicted_keys", "0")
	b = appendUintField(b, "keyspace_hits", ss.KeyspaceHits)
	b = appendUintField(b, "keyspace_misses", ss.KeyspaceMisses)
	b = appendUintField(b, "total_error_replies", ss.ErrorReplies)
	b = appendUintField(b, "total_protocol_errors", ss.ProtocolErrors)
	return appendUintField(b, "auth_failures", ss.AuthFailures)
}

// appendReplicationInfo: freqd is always a master with no replicas, which
// health checks ("expect string role:master") look for.
func (h *Handler) appendReplicationInfo(_ *ServerStats, b []byte) []byte {
	b = appendField(b, "role", "master")
	b = appendField(b, "connected_slaves", "0")
	b = appendField(b, "master_failover_state", "no-failover")
	b = appendField(b, "master_repl_offset", "0")
	return appendField(b, "repl_backlog_active", "0")
}

// appendLimitsInfo lists the bounds every connection is held to, so that an
// operator reads them from the running server rather than from its command
// line. Sizes are in bytes and named after Redis's proto-max-bulk-len;
// "unauth" bounds apply to a password-protected connection before AUTH.
// Timeouts are in milliseconds, 0 for none; idle_timeout is what Redis calls
// timeout.
func (h *Handler) appendLimitsInfo(_ *ServerStats, b []byte) []byte {
	lim := h.Limits()
	b = appendUintField(b, "proto_max_inline_len", uint64(lim.MaxInlineLen))
	b = appendUintField(b, "proto_max_bulk_len", uint64(lim.MaxBulkLen))
	b = appendUintField(b, "proto_max_args", uint64(lim.MaxArgs))
	b = appendUintField(b, "proto_max_request_len", uint64(lim.MaxRequestLen))
	b = appendUintField(b, "proto_unauth_max_args", uint64(lim.UnauthMaxArgs))
	b = appendUintField(b, "proto_unauth_max_bulk_len", uint64(lim.UnauthMaxBulkLen))
	b = appendUintField(b, "max_request_memory", uint64(max(h.opts.MaxRequestMemory, 0)))
	b = appendUintField(b, "read_timeout_ms", millis(h.opts.Timeouts.Read))
	b = appendUintField(b, "idle_timeout_ms", millis(h.opts.Timeouts.Idle))
	return appendUintField(b, "write_timeout_ms", millis(h.opts.Timeouts.Write))
}

// millis returns d in whole milliseconds, rounded up so that a timeout set
// below a millisecond does not read as 0, which means none.
func millis(d time.Duration) uint64 {
	if d <= 0 {
		return 0
	}
	return uint64((d-1)/time.Millisecond) + 1
}

// appendTableInfo describes the table this process serves: table_id is
// its id (freqfile's Table.ID) in 8 hex digits, the same for every server
// whose table answers alike, whenever it was built (tools compare it to
// tell whether two servers, or a server before and after a reload, serve
// the same data); table_built is when it was built, when the table
// records it; table_ngram, on a table of phrases, how many words they
// hold.
func (h *Handler) appendTableInfo(_ *ServerStats, b []byte) []byte {
	b = appendField(b, "table_id", fmt.Sprintf("%08x", h.table.ID()))
	b = appendUintField(b, "table_words", h.table.Len())
	b = appendUintField(b, "table_total", h.table.Total())
	if built, ok := h.table.Meta("built"); ok {
		b = appendField(b, "table_built", built)
	}
	if n, ok := h.table.Meta("ngram"); ok {
		b = appendField(b, "table_ngram", n) // words per phrase: "2", or "1-3"
	}
	return appendUintField(b, "table_bytes", uint64(max(h.table.Size(), 0)))
}

func (h *Handler) appendCommandStats(ss *ServerStats, b []byte) []byte {
	for i, c := range commandList {
		if i < len(ss.Calls) && ss.Calls[i] > 0 {
			b = append(b, "cmdstat_"...)
			b = append(b, c.name...)
			b = append(b, ":calls="...)
			b = strconv.AppendUint(b, ss.Calls[i], 10)
			b = append(b, "\r\n"...)
		}
	}
	return b
}

// appendKeyspaceInfo describes the table as Redis describes database 0, the
// line monitoring tools parse to count keys.
func (h *Handler) appendKeyspaceInfo(_ *ServerStats, b []byte) []byte {
	b = append(b, "db0:keys="...)
	b = strconv.AppendUint(b, h.table.Len(), 10)
	return append(b, ",expires=0,avg_ttl=0\r\n"...)
}
