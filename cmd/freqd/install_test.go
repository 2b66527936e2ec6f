package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMakeInstall runs `make install` as a packager would (PREFIX=/usr
// DESTDIR=...) and checks what lands where: the binary, stamped by make
// with the version git describe gives this checkout, the man page, the
// completions and the systemd units pointing at the installed binary.
func TestMakeInstall(t *testing.T) {
	for _, tool := range []string{"make", "git"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	dest := t.TempDir()
	cmd := exec.Command("make", "-s", "-C", "../..", "install", "PREFIX=/usr", "DESTDIR="+dest, "BIN="+filepath.Join(t.TempDir(), "freqd"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	want := map[string]os.FileMode{
		"usr/bin/freqd":                               0o755,
		"usr/share/man/man1/freqd.1":                  0o644,
		"usr/share/bash-completion/completions/freqd": 0o644,
		"usr/share/zsh/site-functions/_freqd":         0o644,
		"usr/lib/systemd/system/freqd.service":        0o644,
		"usr/lib/systemd/system/freqd.socket":         0o644,
		"usr/lib/sysusers.d/freqd.conf":               0o644,
	}
	var got []string
	filepath.WalkDir(dest, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dest, p)
			got = append(got, rel)
			fi, _ := d.Info()
			if mode, ok := want[rel]; !ok {
				t.Errorf("make install installed %s, which it should not", rel)
			} else if fi.Mode().Perm() != mode {
				t.Errorf("%s has mode %v; want %v", rel, fi.Mode().Perm(), mode)
			}
		}
		return nil
	})
	if len(got) != len(want) {
		t.Fatalf("make install installed %q; want %d files", got, len(want))
	}

	describe, err := exec.Command("git", "-C", "../..", "describe", "--tags", "--always", "--dirty").Output()
	if err != nil {
		t.Fatal(err)
	}
	head, _ := exec.Command("git", "-C", "../..", "rev-parse", "HEAD").Output()
	out, err := exec.Command(filepath.Join(dest, "usr/bin/freqd"), "version").Output()
	wantVersion := "freqd " + strings.TrimSpace(string(describe)) + " (commit " + string(head[:12]) + ", built 20"
	if err != nil || !strings.HasPrefix(string(out), wantVersion) {
		t.Errorf("installed freqd version: %q, %v; want it to start %q", out, err, wantVersion)
	}
	unit, _ := os.ReadFile(filepath.Join(dest, "usr/lib/systemd/system/freqd.service"))
	if !strings.Contains(string(unit), "\nExecStart=/usr/bin/freqd serve ") {
		t.Errorf("the installed freqd.service does not start /usr/bin/freqd:\n%s", unit)
	}
	comp := exec.Command("bash", "-c", `source "$1" && complete -p freqd`, "bash", filepath.Join(dest, "usr/share/bash-completion/completions/freqd"))
	if out, err := comp.CombinedOutput(); err != nil || !strings.Contains(string(out), "-F _freqd freqd") {
		t.Errorf("the installed bash completion does not load: %v\n%s", err, out)
	}
}
