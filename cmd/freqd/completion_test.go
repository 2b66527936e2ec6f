package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The completion tests type into a real interactive bash and zsh on a
// pseudo-terminal, press TAB and read what the shell shows: the scripts
// are exercised by the shells' own completion machinery, word splitting
// and all, not by a model of it.

// openPTY returns the two ends of a new pseudo-terminal.
func openPTY(t *testing.T) (ptm, pts *os.File) {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	fd := int(ptm.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	pts, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	ws := &unix.Winsize{Row: 50, Col: 200}
	unix.IoctlSetWinsize(int(pts.Fd()), unix.TIOCSWINSZ, ws)
	return ptm, pts
}

// shell is an interactive shell on a pseudo-terminal.
type shell struct {
	t   *testing.T
	ptm *os.File
	cmd *exec.Cmd
	n   int // markers used
}

// startShell runs argv interactively with freqd on its PATH, then setup.
func startShell(t *testing.T, argv []string, setup string) *shell {
	t.Helper()
	if _, err := exec.LookPath(argv[0]); err != nil {
		t.Skipf("%s is not installed (.ci/run installs it)", argv[0])
	}
	ptm, pts := openPTY(t)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(freqdBin)+":"+os.Getenv("PATH"), "TERM=dumb", "HOME="+t.TempDir())
	cmd.Dir = t.TempDir()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = pts, pts, pts
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pts.Close()
	sh := &shell{t: t, ptm: ptm, cmd: cmd}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		ptm.Close()
	})
	sh.run(setup)
	return sh
}

// run types line and Enter, and waits until the shell has run it.
func (sh *shell) run(line string) string {
	sh.n++
	// The marker is computed, so the echo of the typed line does not
	// match it.
	marker := fmt.Sprintf("DONE%d", 7000+sh.n)
	sh.write(line + "\n" + fmt.Sprintf("echo DONE$((7000+%d))\n", sh.n))
	return sh.readUntil(marker)
}

// complete types text (which holds TABs), then clears the line and waits
// for the shell; it returns everything the shell showed meanwhile.
func (sh *shell) complete(text string) string {
	sh.n++
	marker := fmt.Sprintf("DONE%d", 7000+sh.n)
	sh.write(text)
	time.Sleep(completionPause) // let the shell draw the completion before the line is cleared
	sh.write("\x15" + fmt.Sprintf("echo DONE$((7000+%d))\n", sh.n))
	return sh.readUntil(marker)
}

func (sh *shell) write(s string) {
	if _, err := sh.ptm.WriteString(s); err != nil {
		sh.t.Fatal(err)
	}
}

func (sh *shell) readUntil(marker string) string {
	var out bytes.Buffer
	buf := make([]byte, 4096)
	deadline := time.Now().Add(10 * time.Second)
	for !bytes.Contains(out.Bytes(), []byte(marker)) {
		if time.Now().After(deadline) {
			sh.t.Fatalf("the shell did not print %s within 10s; it showed:\n%s", marker, out.String())
		}
		sh.ptm.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, _ := sh.ptm.Read(buf)
		out.Write(buf[:n])
	}
	return ansi.ReplaceAllString(out.String(), "")
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[a-zA-Z]|\r|\x07`)

// completionCases are what a user types and what the shell must then
// show; each holds for bash and zsh alike.
func completionCases(dir string) []struct{ typed, want string } {
	return []struct{ typed, want string }{
		{"freqd se\t", "freqd serve "},
		{"freqd serve --mode=ep\t", "--mode=epoll "},
		{"freqd serve --mode \t", "reuseport"},
		{"freqd serve --data-m\t", "--data-mode"},
		{"freqd serve --dispatch least\t", "--dispatch least-loaded "},
		{"freqd serve --log-level de\t", "--log-level debug "},
		{"freqd serve --data " + dir + "/wor\t", "--data " + dir + "/words.freq "},
		{"freqd inspect " + dir + "/wor\t", "inspect " + dir + "/words.freq "},
		{"freqd bench --compare all --ch\t", "--chaos"},
		{"freqd bench --compare fd\t", "--compare fdpass "},
		{"freqd bench --keys un\t", "--keys uniform "},
		{"freqd completion z\t", "completion zsh "},
		{"freqd status --pass\t", "--password"},
		{"freqd build --ngram-tags st\t", "--ngram-tags strip "},
		{"freqd build --format ng\t", "--format ngram "},
		{"freqd build --memory-\t", "--memory-limit"},
		{"freqd build -o " + dir + "/wor\t", "-o " + dir + "/words.freq "},
		{"freqd build --tmp-dir " + dir + "/sp\t", "--tmp-dir " + dir + "/spill/"},
		{"freqd build --keep-case " + dir + "/wor\t", "--keep-case " + dir + "/words.freq "},
	}
}

// checkCompletion types every case, and then a lone -- after every
// command, whose listing must hold every flag of the command.
func checkCompletion(t *testing.T, sh *shell) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "words.freq"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "spill"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range completionCases(dir) {
		if got := sh.complete(tc.typed); !strings.Contains(got, tc.want) {
			t.Errorf("%q completed to\n%s\nwant %q in it", tc.typed, got, tc.want)
		}
	}
	for _, c := range completionCommands() {
		line := c.name
		if c.name == "bench --compare" {
			line += " all" // --compare takes a value
		}
		got := sh.complete("freqd " + line + " --\t\t")
		for _, f := range c.flags {
			if strings.HasPrefix(f.name, "--") && !strings.Contains(got, f.name) {
				t.Errorf("freqd %s --TAB offers no %s:\n%s", c.name, f.name, got)
			}
		}
	}
}

func TestBashCompletion(t *testing.T) {
	sh := startShell(t, []string{"bash", "--norc", "--noprofile", "-i"},
		`PS1='$ '; bind 'set show-all-if-ambiguous on'; bind 'set completion-query-items 0'; `+
			`bind 'set page-completions off'; source <(freqd completion bash)`)
	checkCompletion(t, sh)
}

func TestZshCompletion(t *testing.T) {
	fpath := t.TempDir()
	r := freqd(t, fpath, nil, "completion", "zsh")
	if r.code != 0 {
		t.Fatalf("freqd completion zsh: exit %d, %s", r.code, r.stderr)
	}
	if err := os.WriteFile(filepath.Join(fpath, "_freqd"), []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	sh := startShell(t, []string{"zsh", "-f", "-i"},
		`PS1='%% '; fpath=(`+fpath+` $fpath); autoload -Uz compinit; compinit -u -D; `+
			`zstyle ':completion:*' list-prompt ''; setopt nobeep`)
	checkCompletion(t, sh)
}

// completionPause lets the shell draw a completion before the line is
// cleared: zsh skips drawing a listing while more input is waiting.
var completionPause = 50 * time.Millisecond
