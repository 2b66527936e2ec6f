package handler

import (
	"bytes"
	"path"

	"github.com/freqd/freqd/resp"
)

// COMMAND [COUNT|LIST|INFO name...|DOCS ...]: freqd's command table in
// Redis 7's ten-field form, which client libraries read to learn which
// commands are read-only and where their keys are.
func runCommand(_ *Session, args [][]byte, out []byte) []byte {
	if len(args) == 1 {
		out = resp.AppendArrayLen(out, numCommands)
		for i := range commandTable {
			out = appendCommandInfo(out, &commandTable[i])
		}
		return out
	}
	sub := args[1]
	switch {
	case bytes.EqualFold(sub, []byte("COUNT")):
		if len(args) != 2 {
			return appendArityError(out, "command|count")
		}
		return resp.AppendInt(out, numCommands)
	case bytes.EqualFold(sub, []byte("LIST")):
		out = resp.AppendArrayLen(out, numCommands)
		for i := range commandTable {
			out = resp.AppendBulkString(out, commandTable[i].name)
		}
		return out
	case bytes.EqualFold(sub, []byte("INFO")):
		out = resp.AppendArrayLen(out, len(args)-2)
		for _, name := range args[2:] {
			if c, _ := lookup(name); c != nil {
				out = appendCommandInfo(out, c)
			} else {
				out = resp.AppendNullArray(out)
			}
		}
		return out
	case bytes.EqualFold(sub, []byte("DOCS")):
		// redis-cli asks for documentation to offer hints; having none to
		// give is a valid answer.
		return resp.AppendArrayLen(out, 0)
	}
	return appendUnknownSubcommand(out, "COMMAND", sub)
}

// appendCommandInfo appends one COMMAND entry: name, arity, flags, first
// key, last key, key step, ACL categories, tips, key specifications and
// subcommands.
func appendCommandInfo(out []byte, c *command) []byte {
	out = resp.AppendArrayLen(out, 10)
	out = resp.AppendBulkString(out, c.name)
	out = resp.AppendInt(out, int64(c.arity))
	out = resp.AppendArrayLen(out, len(c.flags))
	for _, f := range c.flags {
		out = resp.AppendSimple(out, f)
	}
	out = resp.AppendInt(out, int64(c.firstKey))
	out = resp.AppendInt(out, int64(c.lastKey))
	out = resp.AppendInt(out, int64(c.keyStep))
	for range 4 {
		out = resp.AppendArrayLen(out, 0)
	}
	return out
}

// configParams are the settings CONFIG GET reports. redis-benchmark asks
// for "save" and "appendonly" before it starts; freqd persists nothing.
var configParams = [...]struct{ name, value string }{
	{"appendonly", "no"},
	{"save", ""},
}

// CONFIG GET pattern...: the matching settings as a flat array of name,
// value pairs. freqd's settings are its command line, so nothing else of
// CONFIG is offered.
func runConfig(_ *Session, args [][]byte, out []byte) []byte {
	sub := args[1]
	if !bytes.EqualFold(sub, []byte("GET")) {
		return appendUnknownSubcommand(out, "CONFIG", sub)
	}
	if len(args) < 3 {
		return appendArityError(out, "config|get")
	}
	var matched [len(configParams)]bool
	n := 0
	for _, pat := range args[2:] {
		p := string(bytes.ToLower(pat))
		for i, c := range configParams {
			// path.Match is glob matching; config names hold no '/'. A
			// malformed pattern matches nothing, as in Redis.
			if ok, _ := path.Match(p, c.name); ok && !matched[i] {
				matched[i] = true
				n++
			}
		}
	}
	out = resp.AppendArrayLen(out, 2*n)
	for i, c := range configParams {
		if matched[i] {
			out = resp.AppendBulkString(out, c.name)
			out = resp.AppendBulkString(out, c.value)
		}
	}
	return out
}
