package main

import (
	"bytes"
	"flag"
	"os/exec"
	"strings"
	"testing"
)

// TestManPage renders freqd(1) with groff, warnings on, as man does, and
// checks that the page documents every command and every flag, with the
// same words as --help.
func TestManPage(t *testing.T) {
	r := freqd(t, t.TempDir(), nil, "manpage")
	if r.code != 0 || !strings.HasPrefix(r.stdout, `.\"`) {
		t.Fatalf("freqd manpage: exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := exec.LookPath("groff"); err != nil {
		t.Skip("groff is not installed (.ci/run installs groff-base)")
	}
	cmd := exec.Command("groff", "-man", "-Tutf8", "-ww", "-P-cbou")
	cmd.Stdin = strings.NewReader(r.stdout)
	var out, warnings bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &warnings
	if err := cmd.Run(); err != nil || warnings.Len() > 0 {
		t.Fatalf("groff: %v\n%s", err, warnings.String())
	}
	// Words as a reader sees them, whatever the line breaks.
	page := strings.Join(strings.Fields(out.String()), " ")
	words := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	for _, c := range manCommands() {
		if !strings.Contains(page, "freqd "+c.name+" freqd "+c.synopsis[0]) {
			t.Errorf("the man page has no section for freqd %s", c.name)
		}
		fs, _ := c.flags()
		fs.VisitAll(func(f *flag.Flag) {
			if !strings.Contains(page, words(flagName(f)+" "+placeholder(f)+" "+flagUsage(f))) {
				t.Errorf("the man page does not document freqd %s %s as %q", c.name, flagName(f), flagUsage(f))
			}
		})
	}
	for _, s := range []string{"SIGNALS", "ENVIRONMENT", "FREQD_REQUIREPASS", "EXIT STATUS", "SIGUSR2"} {
		if !strings.Contains(page, s) {
			t.Errorf("the man page lacks %s", s)
		}
	}
}
