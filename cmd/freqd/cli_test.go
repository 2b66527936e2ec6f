package main

import (
	"flag"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/freqd/freqd/internal/mode"
)

// documented lists the commands whose help the tests read: the visible
// ones and bench --compare, by the arguments that ask for their help.
func documented() map[string][]string {
	m := map[string][]string{}
	for _, c := range visibleCommands() {
		if c.setup != nil {
			m[c.name] = []string{c.name, "--help"}
		}
	}
	m["bench --compare"] = []string{"bench", "--compare", "all", "--help"}
	return m
}

// helpFlagLine is a flag line of a help text: two spaces, then the flag.
var helpFlagLine = regexp.MustCompile(`^  (-h, --help|--?[a-z][a-z-]*)`)

// TestHelpOfEveryCommand runs --help as a user would and checks that the
// text is complete: a synopsis, every flag of the command on a line of its
// own (and nothing else), an example, exit 0 and nothing on stderr.
func TestHelpOfEveryCommand(t *testing.T) {
	for name, args := range documented() {
		r := freqd(t, t.TempDir(), nil, args...)
		if r.code != 0 || r.stderr != "" {
			t.Errorf("freqd %s: exit %d, stderr %q; want exit 0 and no stderr", strings.Join(args, " "), r.code, r.stderr)
			continue
		}
		if !strings.HasPrefix(r.stdout, "usage: freqd "+name) || !strings.Contains(r.stdout, "\nexamples:\n") {
			t.Errorf("freqd %s: help lacks a synopsis or examples:\n%s", name, r.stdout)
		}
		var shown []string
		for _, line := range strings.Split(r.stdout, "\n") {
			if m := helpFlagLine.FindStringSubmatch(line); m != nil && !strings.HasPrefix(line, "  freqd") {
				shown = append(shown, m[1])
			}
		}
		fs, _ := commands[name].flags()
		want := []string{"-h, --help", "--version"}
		fs.VisitAll(func(f *flag.Flag) { want = append(want, flagName(f)) })
		sort.Strings(shown)
		sort.Strings(want)
		if !slices.Equal(shown, want) {
			t.Errorf("freqd %s --help lists the flags\n%q\nwant\n%q", name, shown, want)
		}
	}
}

// TestHelpForms pins that -h, --help and 'freqd help CMD' print the same.
func TestHelpForms(t *testing.T) {
	want := freqd(t, t.TempDir(), nil, "get", "--help").stdout
	for _, args := range [][]string{{"get", "-h"}, {"get", "-help"}, {"help", "get"}, {"get", "--addr", "x", "--help"}} {
		if r := freqd(t, t.TempDir(), nil, args...); r.code != 0 || r.stdout != want {
			t.Errorf("freqd %q: exit %d, output differs from freqd get --help:\n%s", args, r.code, r.stdout)
		}
	}
	top := freqd(t, t.TempDir(), nil, "--help")
	for _, c := range visibleCommands() {
		if !strings.Contains(top.stdout, "\n  "+c.name+" ") {
			t.Errorf("freqd --help does not list %s:\n%s", c.name, top.stdout)
		}
	}
	if r := freqd(t, t.TempDir(), nil); r.code != 2 || r.stderr != top.stdout {
		t.Errorf("freqd alone: exit %d, stderr %q; want exit 2 and the command list", r.code, r.stderr)
	}
}

// TestHelpNeedsNoPassword pins that help never shows the password from
// the environment as --password's default.
func TestHelpNeedsNoPassword(t *testing.T) {
	t.Setenv("FREQD_REQUIREPASS", "hunter2-secret")
	for _, c := range []string{"get", "tag", "status", "serve"} {
		if r := freqd(t, t.TempDir(), nil, c, "--help"); strings.Contains(r.stdout, "hunter2") {
			t.Errorf("freqd %s --help shows the password:\n%s", c, r.stdout)
		}
	}
}

// TestUsageErrorsAreOneLine runs mistakes an operator makes: each gets
// exit 2 and one line on stderr that names what was given, says what was
// wanted, and points to the command's help; nothing on stdout, no escaped
// quotes, no flag package wording.
func TestUsageErrorsAreOneLine(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--wrkers", "3"}, "unknown flag --wrkers (did you mean --workers?); see 'freqd serve --help'"},
		{[]string{"serve", "--workers", "abc"}, "--workers abc: want a whole number"},
		{[]string{"serve", "--read-timeout", "5"}, "--read-timeout 5: want a duration such as 500ms, 30s or 2m"},
		{[]string{"serve", "--log-json=maybe"}, "--log-json=maybe: want true or false"},
		{[]string{"serve", "--workers"}, "--workers needs a value: --workers N"},
		{[]string{"serve", "--data", "--workers", "2"}, "--data needs a value: --data FILE"},
		{[]string{"serve", "--mode", "nonsense"}, "unknown mode nonsense; the pre-forked modes are " +
			mode.Join(mode.PreForked, ", ") + ", the classic ones " + mode.Join(mode.Classic, ", ")},
		{[]string{"serve", "--log-level", "loud"}, "--log-level loud: want trace, debug, info, warn, error"},
		{[]string{"serve", "--unix-mode", "999"}, "--unix-mode 999: want an octal mode"},
		{[]string{"serve", "now"}, "unexpected argument now: serve takes flags only"},
		{[]string{"serve", "--max-request-memory", "lots"}, "--max-request-memory lots: not a size; write a number and a unit, such as 256MiB"},
		{[]string{"serve", "--mode", "epoll", "--shutdown-delay", "5s"}, "mode epoll is one process and does not use --shutdown-delay; drop it"},
		{[]string{"serve", "--mode", "fork", "--workers", "2", "--max-clients", "9"}, "does not use --max-clients, --workers; drop them"},
		{[]string{"serve", "--requirepass-file", "/nonexistent/pass"}, "--requirepass-file /nonexistent/pass: no such file or directory"},
		{[]string{"get"}, "no WORD given, e.g. freqd get the; see 'freqd get --help'"},
		{[]string{"get", "--timeout", "1s", "the"}, "--timeout and --retries apply to --udp only"},
		{[]string{"tag", "--limit", "0", "x"}, "--limit 0: want 1 or more"},
		{[]string{"status", "--adr", "x"}, "unknown flag --adr (did you mean --addr?)"},
		{[]string{"inspect"}, "no FILE given"},
		{[]string{"build"}, "no INPUT given; name word-list files or directories, - for standard input, or use --default"},
		{[]string{"build", "--memry-limit", "2GiB", "a.tsv"}, "unknown flag --memry-limit (did you mean --memory-limit?)"},
		{[]string{"build", "--memory-limit", "lots", "a.tsv"}, "--memory-limit lots: not a size; write a number and a unit"},
		{[]string{"build", "--memory-limit", "8MiB", "a.tsv"}, "--memory-limit 8MiB: a build needs at least 64MiB"},
		{[]string{"build", "--min-count", "-3", "a.tsv"}, "--min-count -3: want a whole number, 0 or more"},
		{[]string{"build", "--format", "xml", "a.tsv"}, "--format xml: want auto, tsv, csv, space, ngram, text; Parquet is recognised by its content"},
		{[]string{"build", "--header", "maybe", "a.tsv"}, "--header maybe: want auto, yes or no"},
		{[]string{"build", "--ngram-tags", "drop", "a.tsv"}, "--ngram-tags drop: want skip, strip or keep"},
		{[]string{"build", "--columns", "word", "a.tsv"}, "--columns word: want WORD,COUNT"},
		{[]string{"build", "-o"}, "-o needs a value: -o FILE"},
		{[]string{"build", "a.tsv", "-o", "x.freq"}, "-o after an INPUT; flags go before the INPUTs: freqd build [flags] INPUT... (a file of that name: ./-o)"},
		{[]string{"build", "--default", "a.tsv"}, "--default builds the embedded list and takes no INPUT; drop a.tsv"},
		{[]string{"build", "--default", "--header", "no", "--columns", "1,2"}, "--default builds the embedded list, which needs no --header, --columns; drop them"},
		{[]string{"bench", "--conns", "x"}, "--conns x: want a whole number"},
		{[]string{"bench", "--compare", "all", "--chaos", "x"}, "--chaos x: want kill-worker=EVERY, e.g. kill-worker=500ms; see 'freqd bench --compare --help'"},
		{[]string{"completion", "fish"}, "no completion for fish; bash and zsh have one"},
		{[]string{"sreve"}, "unknown command sreve (did you mean serve?); see 'freqd --help'"},
		{[]string{"version", "now"}, "unexpected argument now"},
	}
	for _, tc := range tests {
		r := freqd(t, t.TempDir(), nil, tc.args...)
		lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
		switch {
		case r.code != 2 || r.stdout != "" || len(lines) != 1:
			t.Errorf("freqd %q: exit %d, stdout %q, stderr %q; want exit 2 and one line on stderr", tc.args, r.code, r.stdout, r.stderr)
		case !strings.Contains(r.stderr, tc.want):
			t.Errorf("freqd %q: stderr %q; want it to say %q", tc.args, r.stderr, tc.want)
		case strings.Contains(r.stderr, `\"`) || strings.Contains(r.stderr, "flag provided") || strings.Contains(r.stderr, "parse error"):
			t.Errorf("freqd %q: stderr %q speaks in escaped quotes or package flag's words", tc.args, r.stderr)
		case !strings.Contains(r.stderr, "see 'freqd "):
			t.Errorf("freqd %q: stderr %q does not say where to read more", tc.args, r.stderr)
		}
	}
}

// TestVersionEverywhere pins that freqd version, freqd --version and
// --version after every command print the same line.
func TestVersionEverywhere(t *testing.T) {
	want := freqd(t, t.TempDir(), nil, "version")
	if want.code != 0 || !strings.HasPrefix(want.stdout, "freqd ") || !strings.Contains(want.stdout, runtime.Version()) ||
		strings.Count(want.stdout, "\n") != 1 {
		t.Fatalf("freqd version: exit %d, %q; want one line naming freqd and %s", want.code, want.stdout, runtime.Version())
	}
	forms := [][]string{{"--version"}, {"-version"}}
	for name := range documented() {
		forms = append(forms, append(strings.Fields(name), "--version"))
	}
	forms = append(forms, []string{"build", "--version"}, []string{"serve", "--workers", "3", "--version"})
	for _, args := range forms {
		if r := freqd(t, t.TempDir(), nil, args...); r.code != 0 || r.stdout != want.stdout {
			t.Errorf("freqd %q: exit %d, %q; want exit 0 and %q", args, r.code, r.stdout, want.stdout)
		}
	}
}
