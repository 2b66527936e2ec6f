package handler

import (
	"bytes"
	"os"
	"strconv"
	"time"

	"github.com/freqd/freqd/resp"
)

// infoSection is one of the handler's own INFO sections.
type infoSection struct {
	name    string
	title   string
	inAll   bool // included when INFO names no section
	appendF func(h *Handler, b []byte) []byte
}

var infoSections = []infoSection{
	{"server", "Server", true, (*Handler).appendServerInfo},
	{"clients", "Clients", true, (*Handler).appendClientsInfo},
	{"limits", "Limits", true, (*Handler).appendLimitsInfo},
	{"stats", "Stats", true, (*Handler).appendStatsInfo},
	{"table", "Table", true, (*Handler).appendTableInfo},
	{"commandstats", "Commandstats", false, (*Handler).appendCommandStats},
	{"keyspace", "Keyspace", true, (*Handler).appendKeyspaceInfo},
}

// INFO [section...]: Redis's text format, "# Title" lines followed by
// "key:value" lines, sections separated by a blank line. No argument (or
// "default") gives the usual sections, "all" or "everything" adds
// commandstats, and an unknown section gives an empty text, all as Redis.
func runInfo(s *Session, args [][]byte, out []byte) []byte {
	h := s.h
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
	for _, sec := range infoSections {
		if (all && sec.inAll) || want(sec.name) {
			section(sec.title, func(b []byte) []byte { return sec.appendF(h, b) })
		}
	}
	for _, sec := range h.opts.Info {
		if all || want(sec.Name) {
			section(title(sec.Name), sec.Append)
		}
	}
	return resp.AppendBulk(out, text)
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

func (h *Handler) appendServerInfo(b []byte) []byte {
	up := time.Since(h.started)
	b = appendField(b, "redis_version", compatVersion)
	b = appendField(b, "freqd_version", h.opts.Version)
	b = appendField(b, "redis_mode", "standalone")
	b = appendUintField(b, "process_id", uint64(os.Getpid()))
	b = appendUintField(b, "uptime_in_seconds", uint64(up/time.Second))
	return appendUintField(b, "uptime_in_days", uint64(up/(24*time.Hour)))
}

func (h *Handler) appendClientsInfo(b []byte) []byte {
	return appendUintField(b, "connected_clients", uint64(max(h.connected.Load(), 0)))
}

func (h *Handler) appendStatsInfo(b []byte) []byte {
	st := h.Stats()
	b = appendUintField(b, "total_connections_received", st.Connections)
	b = appendUintField(b, "total_commands_processed", st.Commands)
	b = appendUintField(b, "total_error_replies", st.ErrorReplies)
	b = appendUintField(b, "total_protocol_errors", st.ProtocolErrors)
	return appendUintField(b, "auth_failures", st.AuthFailures)
}

// appendLimitsInfo lists the bounds every connection is held to, so that an
// operator reads them from the running server rather than from its command
// line. Sizes are in bytes and named after Redis's proto-max-bulk-len;
// "unauth" bounds apply to a password-protected connection before AUTH.
// Timeouts are in milliseconds, 0 for none; idle_timeout is what Redis calls
// timeout.
func (h *Handler) appendLimitsInfo(b []byte) []byte {
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

func (h *Handler) appendTableInfo(b []byte) []byte {
	b = appendUintField(b, "table_entries", h.table.Len())
	return appendUintField(b, "table_total_count", h.table.Total())
}

func (h *Handler) appendCommandStats(b []byte) []byte {
	for i := range commandTable {
		if n := h.calls[i].Load(); n > 0 {
			b = append(b, "cmdstat_"...)
			b = append(b, commandTable[i].name...)
			b = append(b, ":calls="...)
			b = strconv.AppendUint(b, n, 10)
			b = append(b, "\r\n"...)
		}
	}
	return b
}

// appendKeyspaceInfo describes the table as Redis describes database 0, the
// line monitoring tools parse to count keys.
func (h *Handler) appendKeyspaceInfo(b []byte) []byte {
	b = append(b, "db0:keys="...)
	b = strconv.AppendUint(b, h.table.Len(), 10)
	return append(b, ",expires=0,avg_ttl=0\r\n"...)
}
