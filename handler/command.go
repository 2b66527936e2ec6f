package handler

// command describes one command or subcommand: how to run it, and what
// COMMAND and COMMAND DOCS report about it, in Redis 7's terms, so that
// client libraries learn which commands are read-only and where their keys
// are (cluster clients route by it), and redis-cli can show help.
type command struct {
	name  string // lower case; a subcommand's is "container|sub", as Redis names it
	arity int    // Redis's convention: n means exactly n, -n at least n, name included
	flags cmdFlags
	acl   aclCats // the categories of its kind; those its flags imply are added at init
	keys  keySpec // where its keys are; the zero keySpec means it takes none
	// tips are Redis 7's command tips: how a cluster client splits the
	// command over shards and merges the replies (request_policy,
	// response_policy), and which replies vary from call to call.
	tips []string

	group, since, summary, complexity string // COMMAND DOCS

	// immediate commands run at once inside MULTI instead of being queued,
	// as Redis runs EXEC, DISCARD, MULTI, WATCH and QUIT.
	immediate bool

	run  func(s *Session, args [][]byte, out []byte) []byte // nil for a container without a run of its own
	subs []*command                                         // a container's subcommands

	id     int      // index in commandList and in the Handler's call counters
	parent *command // the container of a subcommand
}

func (c *command) arityOK(n int) bool {
	if c.arity < 0 {
		return n >= -c.arity
	}
	return n == c.arity
}

// cmdFlags are the command flags COMMAND reports.
type cmdFlags uint32

// The flags, in the order Redis lists them.
const (
	flagWrite cmdFlags = 1 << iota
	flagReadonly
	flagAdmin
	flagNoScript
	flagLoading
	flagStale
	flagSkipSlowlog
	flagFast
	flagNoAuth
	flagAllowBusy
	numFlags = iota
)

var flagNames = [numFlags]string{"write", "readonly", "admin", "noscript", "loading", "stale", "skip_slowlog", "fast", "no_auth", "allow_busy"}

// aclCats are ACL categories, which COMMAND reports as "@name".
type aclCats uint32

// The categories, in the order Redis lists them.
const (
	aclKeyspace aclCats = 1 << iota
	aclRead
	aclWrite
	aclString
	aclAdmin
	aclFast
	aclSlow
	aclDangerous
	aclConnection
	aclTransaction
	numACL = iota
)

var aclNames = [numACL]string{"keyspace", "read", "write", "string", "admin", "fast", "slow", "dangerous", "connection", "transaction"}

// keySpec is a Redis 7 key specification of the one kind freqd's commands
// need: keys from argument begin, to argument begin+last (a negative last
// counts from the end: -1 is the last argument), every step arguments.
type keySpec struct {
	begin, last, step int
	flags             keyFlags
}

// keyFlags are the flags of a key specification.
type keyFlags uint8

// The key flags, in the order Redis lists them.
const (
	keyRO keyFlags = 1 << iota
	keyAccess
	numKeyFlags = iota
)

var keyFlagNames = [numKeyFlags]string{"RO", "access"}

// Key specifications of freqd's commands: one key (GET word), every
// argument a key (MGET word...), or one key after a subcommand name
// (MEMORY USAGE word).
var (
	oneKey       = keySpec{begin: 1, last: 0, step: 1, flags: keyRO | keyAccess}
	allKeys      = keySpec{begin: 1, last: -1, step: 1, flags: keyRO | keyAccess}
	oneKeyNoUse  = keySpec{begin: 1, last: 0, step: 1, flags: keyRO}
	allKeysNoUse = keySpec{begin: 1, last: -1, step: 1, flags: keyRO}
	subKey       = keySpec{begin: 2, last: 0, step: 1, flags: keyRO}
)

// legacy returns the first key, last key and step COMMAND reports before
// the key specifications, as Redis derives them from the first one.
func (k keySpec) legacy() (first, last, step int) {
	if k.begin == 0 {
		return 0, 0, 0
	}
	last = k.last
	if last >= 0 {
		last += k.begin
	}
	return k.begin, last, k.step
}

// keyPositions appends the positions of the keys in args to dst.
func (k keySpec) keyPositions(dst []int, n int) []int {
	if k.begin == 0 || k.begin >= n {
		return dst
	}
	last := k.begin + k.last
	if k.last < 0 {
		last = n + k.last
	}
	for i := k.begin; i <= last && i < n; i += k.step {
		dst = append(dst, i)
	}
	return dst
}

var (
	// commandList is every command and subcommand, in the order COMMAND
	// lists them; a command's id is its index. The order is fixed for a
	// given binary, so that processes of one server can add up their call
	// counts position by position.
	commandList []*command
	// topLevel holds the commands a request can name, by the length of
	// their name and its first letter; byFullName also holds subcommands,
	// by the "container|sub" names COMMAND INFO takes.
	topLevel   [maxCommandName + 1][26][]*command
	byFullName = map[string]*command{}
	// numTopLevel is what COMMAND COUNT reports: subcommands not included.
	numTopLevel int
)

// maxCommandName is the longest name a request can name; lookup need not
// fold longer input to know it is unknown.
const maxCommandName = 16

func init() {
	// Built here rather than in a declaration because COMMAND's run
	// function reads the table, which would be an initialisation cycle.
	for _, c := range commandTable() {
		register(c, nil)
	}
}

func register(c *command, parent *command) {
	c.parent = parent
	c.id = len(commandList)
	c.acl = impliedACL(c.acl, c.flags)
	commandList = append(commandList, c)
	byFullName[c.name] = c
	if parent == nil {
		if len(c.name) > maxCommandName {
			panic("handler: command name " + c.name + " is too long")
		}
		first := c.name[0] - 'a'
		if first >= 26 {
			panic("handler: command name " + c.name + " does not start with a lower-case letter")
		}
		topLevel[len(c.name)][first] = append(topLevel[len(c.name)][first], c)
		numTopLevel++
	}
	for _, sub := range c.subs {
		if len(sub.name) <= len(c.name)+1 || sub.name[:len(c.name)+1] != c.name+"|" {
			panic("handler: subcommand " + sub.name + " is not named after " + c.name)
		}
		register(sub, c)
	}
}

// impliedACL adds the categories Redis derives from a command's flags.
func impliedACL(acl aclCats, f cmdFlags) aclCats {
	if f&flagWrite != 0 {
		acl |= aclWrite
	}
	if f&flagReadonly != 0 {
		acl |= aclRead
	}
	if f&flagAdmin != 0 {
		acl |= aclAdmin | aclDangerous
	}
	if f&flagFast != 0 {
		acl |= aclFast
	} else {
		acl |= aclSlow
	}
	return acl
}

// lookup finds the command a request names in any letter case. The name's
// length and first letter leave at most a few candidates, compared folding
// case as they go: every request pays for this, and hashing the folded name
// into a map cost a fifth of a pipelined GET's time.
func lookup(name []byte) *command {
	if len(name) == 0 || len(name) > maxCommandName {
		return nil
	}
	first := name[0] | 0x20 // lower case, for letters
	if first < 'a' || first > 'z' {
		return nil
	}
	for _, c := range topLevel[len(name)][first-'a'] {
		if equalFold(name, c.name) {
			return c
		}
	}
	return nil
}

// sub finds a container's subcommand named by name in any letter case.
func (c *command) sub(name []byte) *command {
	for _, s := range c.subs {
		if len(name) == len(s.name)-len(c.name)-1 && equalFold(name, s.name[len(c.name)+1:]) {
			return s
		}
	}
	return nil
}

// resolve finds the command a request runs: the command its first argument
// names or, for a container given a second argument, its subcommand. It
// returns the container and nil when the subcommand is unknown.
func resolve(args [][]byte) (cmd *command, container *command) {
	c := lookup(args[0])
	if c == nil || len(c.subs) == 0 || len(args) < 2 {
		return c, nil
	}
	if s := c.sub(args[1]); s != nil {
		return s, nil
	}
	return nil, c
}

// lookupFullName finds a command or subcommand by the name COMMAND INFO
// and COMMAND DOCS take ("get", "client|setname"), in any letter case.
func lookupFullName(name []byte) *command {
	if len(name) > 2*maxCommandName {
		return nil
	}
	var buf [2 * maxCommandName]byte
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return byFullName[string(buf[:len(name)])]
}

// equalFold reports whether a equals the lower-case ASCII b in any case.
func equalFold(a []byte, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		c := a[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != b[i] {
			return false
		}
	}
	return true
}
