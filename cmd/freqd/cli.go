package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/freqd/freqd/internal/version"
)

// The command line is described once, in the commands below, and every
// view of it is rendered from that description: --help, the top-level
// list, the shell completion scripts and the man page. Each subcommand
// defines its flags on a flag.FlagSet in setup, so that a help text or a
// completion script is the real flag set, defaults included, not a copy
// that could drift from it.

// command is one subcommand.
type command struct {
	name    string
	summary string // one line for 'freqd --help' and the man page
	// synopsis lists the forms of the command line, without "freqd ".
	synopsis []string
	// about says what the command does: paragraphs separated by blank
	// lines; a line indented by two spaces is shown as is.
	about string
	// groups lists flags under headings, in order; flags named in no group
	// are listed first, under "flags:", in alphabetical order.
	groups []flagGroup
	// values are the words a flag takes, for shell completion.
	values map[string][]string
	// args is what the command's arguments are, for shell completion.
	args argKind
	// examples end the help text.
	examples []example
	// setup defines the flags on fs and returns the action, which gets the
	// arguments left after the flags and returns the exit code.
	setup func(fs *flag.FlagSet) func(args []string) int
	// raw, when set, runs instead of parsing with setup's flags: a command
	// that parses its own command line.
	raw    func(args []string) int
	hidden bool
	// alt names the command that runs instead when altWhen says so: bench
	// --compare, which has flags of its own.
	alt     string
	altWhen func(args []string) bool
}

// flagGroup is a heading and the flags under it.
type flagGroup struct {
	title string
	flags []string
}

// example is a command line, with an optional note said before it.
type example struct{ note, line string }

// argKind says what shell completion offers for a command's arguments.
type argKind int

const (
	argsNone  argKind = iota // no arguments
	argsFiles                // file names
	argsWords                // free text: nothing to offer
)

// Exit codes: 2 is a usage error, as for most Unix tools; 1 is everything
// else that went wrong.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

var commands = map[string]*command{}

func register(c *command) {
	if len(c.synopsis) == 0 {
		c.synopsis = []string{c.name + " [flags]"}
	}
	commands[c.name] = c
}

// visibleCommands lists the commands an operator sees, by name.
func visibleCommands() []*command {
	var cs []*command
	for _, c := range commands {
		if !c.hidden {
			cs = append(cs, c)
		}
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	return cs
}

// flags returns c's flag set, freshly defined, and the action bound to it.
func (c *command) flags() (*flag.FlagSet, func([]string) int) {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	if c.setup == nil {
		return fs, c.raw
	}
	return fs, c.setup(fs)
}

// run parses args and runs the command's action.
func (c *command) run(args []string) int {
	if c.raw != nil {
		for _, a := range args {
			if a == "--" {
				break
			}
			if a == "--version" || a == "-version" {
				fmt.Println(version.Get())
				return exitOK
			}
		}
		return c.raw(args)
	}
	fs, action := c.flags()
	rest, err := parseFlags(fs, args)
	switch {
	case errors.Is(err, errHelp):
		c.writeHelp(os.Stdout, fs)
		return exitOK
	case errors.Is(err, errVersion):
		fmt.Println(version.Get())
		return exitOK
	case err != nil:
		return c.usageError("%v", err)
	}
	return action(rest)
}

// usageError prints one line about a mistake on the command line, with
// where to read more, and returns the usage exit code.
func (c *command) usageError(format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "freqd %s: %s; see 'freqd %s --help'\n", c.name, fmt.Sprintf(format, args...), c.name)
	return exitUsage
}

// noArgs is the check of a command that takes flags only.
func (c *command) noArgs(args []string, eg string) int {
	if len(args) == 0 {
		return exitOK
	}
	return c.usageError("unexpected argument %s: %s takes flags only, e.g. freqd %s", args[0], c.name, eg)
}

var (
	errHelp    = errors.New("help requested")
	errVersion = errors.New("version requested")
)

// parseFlags parses args as package flag does (-f, --f, -f=v, --f=v and
// -f v; a boolean flag takes a value only after "="), stopping at the
// first argument that is not a flag or after "--", and returns the
// arguments left. -h, --help and --version, which every command takes,
// return errHelp and errVersion. Errors name the flag and the value given
// and say what was wanted, in one line.
//
// package flag's own messages ("invalid value \"x\" for flag -workers:
// parse error") name neither the flag as the operator typed it nor what
// would have been right; this is why the parsing is done here.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	for len(args) > 0 {
		a := args[0]
		if a == "--" {
			return args[1:], nil
		}
		if len(a) < 2 || a[0] != '-' {
			return args, nil
		}
		args = args[1:]
		name, value, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		switch name {
		case "h", "help":
			return nil, errHelp
		case "version":
			return nil, errVersion
		}
		f := fs.Lookup(name)
		if f == nil {
			return nil, unknownFlag(fs, name)
		}
		if isBool(f) {
			if !hasValue {
				value = "true"
			}
		} else if !hasValue {
			// The next argument is the value, even one that starts with
			// "-" (--rate -3), unless it is another flag: then the value
			// was forgotten.
			if len(args) > 0 && strings.HasPrefix(args[0], "-") {
				next, _, _ := strings.Cut(strings.TrimLeft(args[0], "-"), "=")
				switch {
				case next == "h" || next == "help":
					return nil, errHelp
				case next == "version":
					return nil, errVersion
				case fs.Lookup(next) != nil:
					args = nil
				}
			}
			if len(args) == 0 {
				return nil, fmt.Errorf("%s needs a value: %s %s", flagName(f), flagName(f), placeholder(f))
			}
			value, args = args[0], args[1:]
		}
		if err := fs.Set(name, value); err != nil {
			return nil, badValue(f, value, err)
		}
	}
	return nil, nil
}

// unknownFlag says so, and suggests the flag the operator probably meant.
func unknownFlag(fs *flag.FlagSet, name string) error {
	best, bestDist := "", 3 // farther than 2 edits is a guess, not a typo
	fs.VisitAll(func(f *flag.Flag) {
		if d := editDistance(name, f.Name); d < bestDist {
			best, bestDist = flagName(f), d
		}
	})
	dash := "--"
	if len(name) == 1 {
		dash = "-"
	}
	if best != "" {
		return fmt.Errorf("unknown flag %s%s (did you mean %s?)", dash, name, best)
	}
	return fmt.Errorf("unknown flag %s%s", dash, name)
}

// badValue phrases a value that a flag refused.
func badValue(f *flag.Flag, value string, err error) error {
	given := flagName(f) + " " + value
	if isBool(f) {
		given = flagName(f) + "=" + value
	}
	if value == "" {
		given = flagName(f) + " (empty)"
	}
	var want string
	var v any // a flag.Value of our own need not be a flag.Getter
	if g, ok := f.Value.(flag.Getter); ok {
		v = g.Get()
	}
	switch v.(type) {
	case bool:
		want = "want true or false"
	case int, int64:
		want = "want a whole number, e.g. " + flagName(f) + " 4"
	case uint, uint64:
		want = "want a whole number, 0 or more"
	case float64:
		want = "want a number, e.g. 0.5"
	case time.Duration:
		want = "want a duration such as 500ms, 30s or 2m"
	default:
		want = err.Error() // the flag's own Set, which speaks for itself
	}
	if err.Error() == "value out of range" {
		want = "out of range"
	}
	return fmt.Errorf("%s: %s", given, want)
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// flagName is the flag as help shows it: -o for one letter, --name else.
func flagName(f *flag.Flag) string {
	if len(f.Name) == 1 {
		return "-" + f.Name
	}
	return "--" + f.Name
}

// placeholder is the name help gives a flag's value: the word in
// backquotes in its usage, else one from its type.
func placeholder(f *flag.Flag) string {
	if isBool(f) {
		return ""
	}
	name, _ := flag.UnquoteUsage(f)
	switch name {
	case "int", "uint", "uint64", "int64":
		return "N"
	case "duration":
		return "DURATION"
	case "float":
		return "X"
	case "value", "string":
		return "VALUE"
	}
	return name
}

// flagUsage is the flag's one-line description with its default. A
// placeholder named only to name the value, as " (`N`)" at the end of the
// usage, is not repeated.
func flagUsage(f *flag.Flag) string {
	name, usage := flag.UnquoteUsage(f)
	usage = strings.TrimSuffix(usage, " ("+name+")")
	if strings.Contains(usage, "(default") || isZeroDefault(f) {
		return usage
	}
	return fmt.Sprintf("%s (default %s)", usage, f.DefValue)
}

func isZeroDefault(f *flag.Flag) bool {
	switch f.DefValue {
	case "", "0", "false", "0s":
		return true
	}
	return false
}

// orderedGroups returns the flag groups of c over fs, each flag once:
// flags named in no group first, under "flags:", then c's groups.
func (c *command) orderedGroups(fs *flag.FlagSet) []flagGroup {
	placed := map[string]bool{}
	for _, g := range c.groups {
		for _, n := range g.flags {
			placed[n] = true
		}
	}
	var rest []string
	fs.VisitAll(func(f *flag.Flag) {
		if !placed[f.Name] {
			rest = append(rest, f.Name)
		}
	})
	var gs []flagGroup
	if len(rest) > 0 {
		gs = append(gs, flagGroup{"flags:", rest})
	}
	for _, g := range c.groups {
		var fl []string
		for _, n := range g.flags {
			if fs.Lookup(n) != nil {
				fl = append(fl, n)
			}
		}
		if len(fl) > 0 {
			gs = append(gs, flagGroup{g.title, fl})
		}
	}
	return gs
}

// helpColumn bounds the width of the flag column; a longer flag pushes its
// own description right rather than every other one.
const helpColumn = 28

// writeHelp writes c's help: synopsis, what it does, one line per flag
// with its default, and examples.
func (c *command) writeHelp(w io.Writer, fs *flag.FlagSet) {
	for i, s := range c.synopsis {
		if i == 0 {
			fmt.Fprintf(w, "usage: freqd %s\n", s)
		} else {
			fmt.Fprintf(w, "       freqd %s\n", s)
		}
	}
	if c.about != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.about))
	}
	groups := c.orderedGroups(fs)
	width := 0
	fs.VisitAll(func(f *flag.Flag) {
		if n := len(flagName(f)) + 1 + len(placeholder(f)); n > width && n <= helpColumn {
			width = n
		}
	})
	width = max(width, len("-h, --help"))
	line := func(left, right string) {
		fmt.Fprintf(w, "  %-*s  %s\n", width, left, right)
	}
	for _, g := range groups {
		fmt.Fprintf(w, "\n%s\n", g.title)
		for _, n := range g.flags {
			f := fs.Lookup(n)
			line(strings.TrimSpace(flagName(f)+" "+placeholder(f)), flagUsage(f))
		}
	}
	fmt.Fprintln(w)
	line("-h, --help", "show this help")
	line("--version", "show freqd's version")
	if len(c.examples) > 0 {
		fmt.Fprintf(w, "\nexamples:\n")
		for _, e := range c.examples {
			if e.note != "" {
				fmt.Fprintf(w, "  # %s\n", e.note)
			}
			fmt.Fprintf(w, "  %s\n", e.line)
		}
	}
}

// topUsage is what 'freqd --help' prints.
func topUsage(w io.Writer) {
	fmt.Fprint(w, `usage: freqd COMMAND [flags] [arguments]

freqd answers word-frequency queries over the Redis protocol from a shared,
read-only table, with a pre-forked pool of worker processes.

commands:
`)
	cs := visibleCommands()
	width := 0
	for _, c := range cs {
		width = max(width, len(c.name))
	}
	for _, c := range cs {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.summary)
	}
	fmt.Fprint(w, `
Run 'freqd COMMAND --help' for a command's flags, 'freqd --version' for the
version, and 'man freqd' for everything, signals and files included.
`)
}

// dispatch runs the command line args (os.Args without the program name)
// and returns the exit code.
func dispatch(args []string) int {
	if len(args) == 0 {
		topUsage(os.Stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "--help", "-help":
		topUsage(os.Stdout)
		return exitOK
	case "help":
		if len(args) > 1 {
			if c, ok := commands[strings.Join(args[1:], " ")]; ok {
				return c.run([]string{"--help"})
			}
			return unknownCommand(args[1])
		}
		topUsage(os.Stdout)
		return exitOK
	case "--version", "-version":
		fmt.Println(version.Get())
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok || args[0] != c.name || strings.Contains(c.name, " ") {
		return unknownCommand(args[0])
	}
	if c.alt != "" && c.altWhen(args[1:]) {
		c = commands[c.alt]
	}
	return c.run(args[1:])
}

func unknownCommand(name string) int {
	best, bestDist := "", 3
	for _, c := range visibleCommands() {
		if d := editDistance(name, c.name); d < bestDist {
			best, bestDist = c.name, d
		}
	}
	hint := ""
	if best != "" {
		hint = " (did you mean " + best + "?)"
	}
	if strings.HasPrefix(name, "-") {
		fmt.Fprintf(os.Stderr, "freqd: %s before a command; flags follow the command, e.g. freqd serve %s; see 'freqd --help'\n", name, name)
		return exitUsage
	}
	fmt.Fprintf(os.Stderr, "freqd: unknown command %s%s; see 'freqd --help'\n", name, hint)
	return exitUsage
}

// editDistance is the Levenshtein distance between a and b, for
// suggesting the name a typo was meant to be.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// flagSet reports whether the command line set the named flag.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// fileError is the reason in an error about a file, without the path and
// the system call package os puts before it ("open /x: no such file or
// directory"): the caller names the file as the operator gave it.
func fileError(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// tableFileError names a frequency file that freqfile.Open refused by the
// path the operator gave, once: the reason without the path and verb the
// packages below put in front of it.
func tableFileError(path string, err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return path + ": " + pe.Err.Error()
	}
	if inner := errors.Unwrap(err); inner != nil {
		err = inner // freqfile's "open PATH: reason"
	}
	return path + ": " + err.Error()
}
