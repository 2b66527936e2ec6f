package freqd_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportRules pins the layering the code is organised by: each rule
// names a package and what it must not depend on, directly or through
// another package. A supervisor that leaned on the build pipeline, or a
// baseline that leaned on the supervisor it is measured against, would
// quietly make the architecture a lie.
func TestImportRules(t *testing.T) {
	rules := []struct {
		pkg       string
		forbidden []string
		why       string
	}{
		{"classic", []string{"master", "worker", "master/pool"}, "a baseline must not depend on the supervisor it is measured against"},
		{"master", []string{"ingest", "evloop", "worker", "classic", "loadgen", "compare"}, "the supervisor depends on neither the build pipeline nor what its workers run; it speaks to them through worker/control"},
		{"master/pool", []string{"master", "worker", "listen", "fdpass", "shm/scoreboard", "table", "handler"}, "the pool model is pure: no processes, sockets or tables"},
		{"handler", []string{"master", "worker", "evloop", "listen", "table"}, "the handler knows nothing of processes or sockets"},
		{"shm/freqfile", []string{"shm/scoreboard", "handler", "ingest"}, "the file format stands alone"},
		{"shm/scoreboard", []string{"shm/freqfile", "handler"}, "the scoreboard is not the table"},
		{"loadgen", []string{"master", "worker", "classic"}, "a client does not need the server"},
		{"compare", []string{"master", "worker"}, "the benchmark runs servers as processes"},
		{"evloop", []string{"master", "worker"}, "the loop serves; it does not supervise"},
		{"internal/sys", []string{"evloop", "master"}, "syscall helpers sit below their users"},
		{"table", []string{"ingest", "master"}, "serving a table does not depend on building one"},
		{"listen", []string{"master", "worker", "handler"}, "sockets do not depend on what serves them"},
		{"word", []string{"shm/freqfile", "ingest", "handler"}, "what a word is depends on no table, build or server: they all depend on it"},
	}
	const mod = "github.com/freqd/freqd/"
	for _, r := range rules {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "./"+r.pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", r.pkg, err)
		}
		deps := map[string]bool{}
		for _, d := range strings.Fields(string(out)) {
			deps[strings.TrimPrefix(d, mod)] = true
		}
		for _, f := range r.forbidden {
			if deps[f] {
				t.Errorf("%s depends on %s: %s", r.pkg, f, r.why)
			}
		}
	}
	// The clients of cmd/freqd and the load tests do not need master.
	for _, f := range []string{"cmd/freqd/client.go", "cmd/freqd/bench.go", "cmd/freqd/status.go"} {
		out, _ := exec.Command("grep", "-l", `"github.com/freqd/freqd/master"`, f).Output()
		if len(out) > 0 {
			t.Errorf("%s imports master: a client does not need the server", f)
		}
	}
}
