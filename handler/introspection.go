package handler

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/freqd/freqd/resp"
)

// COMMAND: every command in Redis 7's ten-field form, which client
// libraries read to learn which commands are read-only and where their
// keys are.
func runCommand(s *Session, _ [][]byte, out []byte) []byte {
	out = resp.AppendArrayLen(out, numTopLevel)
	for _, c := range commandList {
		if c.parent == nil {
			out = appendCommandInfo(out, c, s.proto)
		}
	}
	return out
}

// COMMAND COUNT: how many commands, subcommands not counted.
func runCommandCount(_ *Session, _ [][]byte, out []byte) []byte {
	return resp.AppendInt(out, int64(numTopLevel))
}

// COMMAND LIST [FILTERBY MODULE name|ACLCAT category|PATTERN pattern]: the
// names of every command and subcommand, or of those the filter keeps.
// freqd has no modules, so a module filter keeps nothing.
func runCommandList(_ *Session, args [][]byte, out []byte) []byte {
	keep := func(*command) bool { return true }
	switch {
	case len(args) == 2:
	case len(args) == 5 && bytes.EqualFold(args[2], []byte("FILTERBY")):
		arg := args[4]
		switch {
		case bytes.EqualFold(args[3], []byte("MODULE")):
			keep = func(*command) bool { return false }
		case bytes.EqualFold(args[3], []byte("ACLCAT")):
			cat := aclByName(arg)
			keep = func(c *command) bool { return c.acl&cat != 0 }
		case bytes.EqualFold(args[3], []byte("PATTERN")):
			keep = func(c *command) bool { return globMatch(arg, []byte(c.name), true) }
		default:
			return resp.AppendError(out, errSyntax)
		}
	default:
		return resp.AppendError(out, errSyntax)
	}
	n := 0
	for _, c := range commandList {
		if keep(c) {
			n++
		}
	}
	out = resp.AppendArrayLen(out, n)
	for _, c := range commandList {
		if keep(c) {
			out = resp.AppendBulkString(out, c.name)
		}
	}
	return out
}

// aclByName returns the ACL category named name, 0 for none.
func aclByName(name []byte) aclCats {
	for i, n := range aclNames {
		if equalFold(name, n) {
			return 1 << i
		}
	}
	return 0
}

// COMMAND INFO [name...]: the named commands ("client|setname" names a
// subcommand), null for an unknown name; every command without names.
func runCommandInfo(s *Session, args [][]byte, out []byte) []byte {
	if len(args) == 2 {
		return runCommand(s, args, out)
	}
	out = resp.AppendArrayLen(out, len(args)-2)
	for _, name := range args[2:] {
		if c := lookupFullName(name); c != nil {
			out = appendCommandInfo(out, c, s.proto)
		} else {
			out = resp.AppendNull(out, s.proto)
		}
	}
	return out
}

// appendCommandInfo appends one COMMAND entry: name, arity, flags, first
// key, last key, key step, ACL categories, tips, key specifications and
// subcommands.
func appendCommandInfo(out []byte, c *command, p resp.Proto) []byte {
	out = resp.AppendArrayLen(out, 10)
	out = resp.AppendBulkString(out, c.name)
	out = resp.AppendInt(out, int64(c.arity))
	out = appendFlagSet(out, uint32(c.flags), flagNames[:], p)
	first, last, step := c.keys.legacy()
	out = resp.AppendInt(out, int64(first))
	out = resp.AppendInt(out, int64(last))
	out = resp.AppendInt(out, int64(step))
	out = resp.AppendSetLen(out, countBits(uint32(c.acl)), p)
	for i, name := range aclNames {
		if c.acl&(1<<i) != 0 {
			out = resp.AppendSimple(out, "@"+name)
		}
	}
	out = resp.AppendSetLen(out, len(c.tips), p)
	for _, tip := range c.tips {
		out = resp.AppendBulkString(out, tip)
	}
	out = appendKeySpecs(out, c.keys, p)
	if len(c.subs) == 0 {
		return resp.AppendSetLen(out, 0, p)
	}
	out = resp.AppendArrayLen(out, len(c.subs))
	for _, sub := range c.subs {
		out = appendCommandInfo(out, sub, p)
	}
	return out
}

// appendFlagSet appends the names of the bits set in flags as a set of
// simple strings, in the names' order.
func appendFlagSet(out []byte, flags uint32, names []string, p resp.Proto) []byte {
	out = resp.AppendSetLen(out, countBits(flags), p)
	for i, name := range names {
		if flags&(1<<i) != 0 {
			out = resp.AppendSimple(out, name)
		}
	}
	return out
}

func countBits(x uint32) int {
	n := 0
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n
}

// appendKeySpecs appends a command's key specifications: none, or one of
// type index and range, as Redis 7 writes them.
func appendKeySpecs(out []byte, k keySpec, p resp.Proto) []byte {
	if k.begin == 0 {
		return resp.AppendSetLen(out, 0, p)
	}
	out = resp.AppendSetLen(out, 1, p)
	out = resp.AppendMapLen(out, 3, p)
	out = resp.AppendBulkString(out, "flags")
	out = appendFlagSet(out, uint32(k.flags), keyFlagNames[:], p)
	out = resp.AppendBulkString(out, "begin_search")
	out = resp.AppendMapLen(out, 2, p)
	out = resp.AppendBulkString(out, "type")
	out = resp.AppendBulkString(out, "index")
	out = resp.AppendBulkString(out, "spec")
	out = resp.AppendMapLen(out, 1, p)
	out = resp.AppendBulkString(out, "index")
	out = resp.AppendInt(out, int64(k.begin))
	out = resp.AppendBulkString(out, "find_keys")
	out = resp.AppendMapLen(out, 2, p)
	out = resp.AppendBulkString(out, "type")
	out = resp.AppendBulkString(out, "range")
	out = resp.AppendBulkString(out, "spec")
	out = resp.AppendMapLen(out, 3, p)
	out = resp.AppendBulkString(out, "lastkey")
	out = resp.AppendInt(out, int64(k.last))
	out = resp.AppendBulkString(out, "keystep")
	out = resp.AppendInt(out, int64(k.step))
	out = resp.AppendBulkString(out, "limit")
	return resp.AppendInt(out, 0)
}

// COMMAND DOCS [name...]: a map of command name to its documentation
// (summary, since, group, complexity, subcommands), every command without
// names; unknown names are left out, as Redis leaves them.
func runCommandDocs(s *Session, args [][]byte, out []byte) []byte {
	var cmds []*command
	if len(args) == 2 {
		for _, c := range commandList {
			if c.parent == nil {
				cmds = append(cmds, c)
			}
		}
	} else {
		for _, name := range args[2:] {
			if c := lookupFullName(name); c != nil {
				cmds = append(cmds, c)
			}
		}
	}
	out = resp.AppendMapLen(out, len(cmds), s.proto)
	for _, c := range cmds {
		out = resp.AppendBulkString(out, c.name)
		out = appendCommandDocs(out, c, s.proto)
	}
	return out
}

func appendCommandDocs(out []byte, c *command, p resp.Proto) []byte {
	fields := [...]struct{ key, value string }{
		{"summary", c.summary}, {"since", c.since}, {"group", c.group}, {"complexity", c.complexity},
	}
	n := 0
	for _, f := range fields {
		if f.value != "" {
			n++
		}
	}
	if len(c.subs) > 0 {
		n++
	}
	out = resp.AppendMapLen(out, n, p)
	for _, f := range fields {
		if f.value != "" {
			out = resp.AppendBulkString(out, f.key)
			out = resp.AppendBulkString(out, f.value)
		}
	}
	if len(c.subs) > 0 {
		out = resp.AppendBulkString(out, "subcommands")
		out = resp.AppendMapLen(out, len(c.subs), p)
		for _, sub := range c.subs {
			out = resp.AppendBulkString(out, sub.name)
			out = appendCommandDocs(out, sub, p)
		}
	}
	return out
}

// COMMAND GETKEYS command arg...: the keys a command would use, from its
// key specification, with Redis's errors.
func runCommandGetKeys(_ *Session, args [][]byte, out []byte) []byte {
	req := args[2:]
	c, _ := resolve(req)
	switch {
	case c == nil:
		return resp.AppendError(out, "ERR Invalid command specified")
	case c.keys.begin == 0:
		return resp.AppendError(out, "ERR The command has no key arguments")
	case !c.arityOK(len(req)):
		return resp.AppendError(out, "ERR Invalid number of arguments specified for command")
	}
	var buf [16]int
	pos := c.keys.keyPositions(buf[:0], len(req))
	out = resp.AppendArrayLen(out, len(pos))
	for _, i := range pos {
		out = resp.AppendBulk(out, req[i])
	}
	return out
}

// CLIENT|COMMAND|CONFIG|MEMORY|OBJECT HELP: the container's subcommands.
func runHelp(_ *Session, args [][]byte, out []byte) []byte {
	c := lookup(args[0])
	name := strings.ToUpper(c.name)
	lines := []string{name + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"}
	for _, sub := range c.subs {
		lines = append(lines, strings.ToUpper(sub.name[len(c.name)+1:]), "    "+sub.summary)
	}
	out = resp.AppendArrayLen(out, len(lines))
	for _, l := range lines {
		out = resp.AppendSimple(out, l)
	}
	return out
}

// configParams are the settings CONFIG GET reports: those clients and
// tools read when they start (redis-benchmark reads save and appendonly,
// redis-cli databases), with the values that describe freqd. freqd's
// settings are its command line, so CONFIG offers nothing else.
func (h *Handler) configParams() []struct{ name, value string } {
	maxclients := strconv.Itoa(h.opts.MaxClients)
	return []struct{ name, value string }{
		{"appendonly", "no"},
		{"cluster-enabled", "no"},
		{"databases", "1"},
		{"maxclients", maxclients},
		{"maxmemory", "0"},
		{"maxmemory-policy", "noeviction"},
		{"notify-keyspace-events", ""},
		{"proto-max-bulk-len", strconv.Itoa(h.Limits().MaxBulkLen)},
		{"save", ""},
		{"timeout", strconv.FormatUint(uint64(h.opts.Timeouts.Idle.Seconds()), 10)},
	}
}

// CONFIG GET pattern...: the matching settings, as a map (a flat array of
// name, value pairs in RESP2). Patterns are globs, matched regardless of
// case, as in Redis.
func runConfigGet(s *Session, args [][]byte, out []byte) []byte {
	params := s.h.configParams()
	matched := make([]bool, len(params))
	n := 0
	for _, pat := range args[2:] {
		for i, c := range params {
			if !matched[i] && globMatch(pat, []byte(c.name), true) {
				matched[i] = true
				n++
			}
		}
	}
	out = resp.AppendMapLen(out, n, s.proto)
	for i, c := range params {
		if matched[i] {
			out = resp.AppendBulkString(out, c.name)
			out = resp.AppendBulkString(out, c.value)
		}
	}
	return out
}
