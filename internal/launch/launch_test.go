package launch

import (
	"strings"
	"testing"
	"time"
)

type lines struct{ strings.Builder }

func TestStartWaitsForTheReadyLine(t *testing.T) {
	var log lines
	p, err := Start("/bin/sh", Options{
		Args: []string{"-c", `echo starting >&2; echo '{"@message":"ready","listen":"127.0.0.1:1,unix:/x"}' >&2; exec sleep 30`},
		Log:  &log, Wait: 5 * time.Second, Pdeathsig: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { p.Cmd.Process.Kill(); <-p.Exited(); p.CloseLog() }()
	if got := strings.Join(p.Listen(), " "); got != "127.0.0.1:1 unix:/x" {
		t.Errorf("Listen() = %q", got)
	}
	if !strings.Contains(log.String(), "starting") {
		t.Errorf("log %q lacks the line before ready", log.String())
	}
}

func TestStartReportsAServerThatExitsOrHangs(t *testing.T) {
	if _, err := Start("/bin/sh", Options{Args: []string{"-c", "echo no table >&2; exit 1"}, Wait: 5 * time.Second}); err == nil ||
		!strings.Contains(err.Error(), "exited before it was ready") {
		t.Errorf("a server that exits: %v", err)
	}
	if _, err := Start("/bin/sh", Options{Args: []string{"-c", "exec sleep 30"}, Wait: 200 * time.Millisecond}); err == nil ||
		!strings.Contains(err.Error(), "not ready after") {
		t.Errorf("a server that never gets ready: %v", err)
	}
}
