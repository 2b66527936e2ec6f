package main

import (
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"
)

var updateREADME = flag.Bool("update", false, "rewrite the help blocks of README.md from the real help")

// readmeHelp is a help block of README.md: the command line in a comment,
// then what it prints, in a text block.
var readmeHelp = regexp.MustCompile("(?s)<!-- help: (freqd[^>]*?) -->\n```text\n(.*?)```\n")

// TestREADMEHelp pins the README's usage sections to the real help text:
// each block marked <!-- help: freqd ... --> must be what that command
// prints, so the two cannot drift. -update rewrites the blocks.
func TestREADMEHelp(t *testing.T) {
	const path = "../../README.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	blocks := readmeHelp.FindAllStringSubmatchIndex(readme, -1)
	if len(blocks) < 2 {
		t.Fatalf("README.md has %d help blocks; want at least freqd --help and freqd serve --help", len(blocks))
	}
	var out strings.Builder
	last := 0
	for _, m := range blocks {
		line := readme[m[2]:m[3]]
		shown := readme[m[4]:m[5]]
		r := freqd(t, t.TempDir(), nil, strings.Fields(line)[1:]...)
		if r.code != 0 {
			t.Fatalf("%s: exit %d, %s", line, r.code, r.stderr)
		}
		if shown != r.stdout && !*updateREADME {
			t.Errorf("README.md shows %s as it was, not as it is; run go test ./cmd/freqd -run TestREADMEHelp -update\nREADME:\n%s\nreal:\n%s",
				line, shown, r.stdout)
		}
		out.WriteString(readme[last:m[4]])
		out.WriteString(r.stdout)
		last = m[5]
	}
	out.WriteString(readme[last:])
	if *updateREADME && out.String() != readme {
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("rewrote the help blocks of README.md")
	}
}
