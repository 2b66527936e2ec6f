package handler

import "slices"

// command describes one command: how to run it, and what COMMAND reports
// about it so that client libraries can route and classify it.
type command struct {
	name     string // lower case, as Redis reports it
	arity    int    // Redis's convention: n means exactly n, -n at least n, name included
	flags    []string
	firstKey int
	lastKey  int
	keyStep  int
	run      func(s *Session, args [][]byte, out []byte) []byte
}

func (c *command) arityOK(n int) bool {
	if c.arity < 0 {
		return n >= -c.arity
	}
	return n == c.arity
}

// noAuth reports whether the command may run before the connection has
// authenticated: the "no_auth" flag COMMAND reports, so the rule and what
// clients are told about it cannot disagree. It is only asked of
// connections that have not authenticated, so scanning the flags costs the
// others nothing.
func (c *command) noAuth() bool { return slices.Contains(c.flags, "no_auth") }

// Command identifiers, which index the command table and the Handler's
// per-command call counters.
const (
	cmdGet = iota
	cmdMGet
	cmdExists
	cmdFreq
	cmdRank
	cmdDBSize
	cmdTag
	cmdPing
	cmdEcho
	cmdQuit
	cmdInfo
	cmdSelect
	cmdHello
	cmdClient
	cmdCommand
	cmdConfig
	cmdAuth
	numCommands
)

var (
	commandTable [numCommands]command
	commandIndex = make(map[string]int, numCommands)
)

// maxCommandName is the longest command name; lookup need not fold longer
// input to know it is unknown.
const maxCommandName = 16

func init() {
	// Filled here rather than in the declaration because COMMAND's run
	// function reads the table, which would be an initialisation cycle.
	commandTable = [numCommands]command{
		cmdGet:     {"get", 2, []string{"readonly", "fast"}, 1, 1, 1, runGet},
		cmdMGet:    {"mget", -2, []string{"readonly", "fast"}, 1, -1, 1, runMGet},
		cmdExists:  {"exists", -2, []string{"readonly", "fast"}, 1, -1, 1, runExists},
		cmdFreq:    {"freq", -2, []string{"readonly", "fast"}, 1, -1, 1, runFreq},
		cmdRank:    {"rank", 2, []string{"readonly", "fast"}, 1, 1, 1, runRank},
		cmdDBSize:  {"dbsize", 1, []string{"readonly", "fast"}, 0, 0, 0, runDBSize},
		cmdTag:     {"tag", -2, []string{"readonly"}, 0, 0, 0, runTag},
		cmdPing:    {"ping", -1, []string{"fast", "stale"}, 0, 0, 0, runPing},
		cmdEcho:    {"echo", 2, []string{"fast"}, 0, 0, 0, runEcho},
		cmdQuit:    {"quit", -1, []string{"fast", "no_auth"}, 0, 0, 0, runQuit},
		cmdInfo:    {"info", -1, []string{"loading", "stale"}, 0, 0, 0, runInfo},
		cmdSelect:  {"select", 2, []string{"fast", "loading", "stale"}, 0, 0, 0, runSelect},
		cmdHello:   {"hello", -1, []string{"fast", "no_auth"}, 0, 0, 0, runHello},
		cmdClient:  {"client", -2, []string{"loading", "stale"}, 0, 0, 0, runClient},
		cmdCommand: {"command", -1, []string{"loading", "stale"}, 0, 0, 0, runCommand},
		cmdConfig:  {"config", -2, []string{"admin", "loading", "stale"}, 0, 0, 0, runConfig},
		cmdAuth:    {"auth", -2, []string{"fast", "no_auth", "loading", "stale"}, 0, 0, 0, runAuth},
	}
	for i := range commandTable {
		c := &commandTable[i]
		if c.name == "" || len(c.name) > maxCommandName {
			panic("handler: command table entry " + c.name + " is missing or too long")
		}
		commandIndex[c.name] = i
	}
}

// lookup finds the command named by name in any letter case, without
// allocating: the folded name lives on the stack and the map lookup with
// string(bytes) does not copy.
func lookup(name []byte) (*command, int) {
	if len(name) > maxCommandName {
		return nil, -1
	}
	var buf [maxCommandName]byte
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	i, ok := commandIndex[string(buf[:len(name)])]
	if !ok {
		return nil, -1
	}
	return &commandTable[i], i
}
