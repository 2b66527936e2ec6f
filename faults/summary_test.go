package faults

import (
	"fmt"
	"strings"
	"testing"
	"text/tabwriter"
)

// TestSummary logs the table of every scenario that ran. go test runs a
// package's tests in source order, files sorted by name, and this file's
// name sorts after every scenario's: keep it so.
func TestSummary(t *testing.T) {
	summary.mu.Lock()
	defer summary.mu.Unlock()
	if len(summary.rows) == 0 {
		t.Skip("no scenario ran")
	}
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "scenario\tserved\tfailed\twrong\tnotes")
	var served, failed, wrong int64
	for _, r := range summary.rows {
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%s\n", r.scenario, r.served, r.failed, r.wrong, r.notes)
		served, failed, wrong = served+r.served, failed+r.failed, wrong+r.wrong
	}
	fmt.Fprintf(w, "total\t%d\t%d\t%d\t%d scenarios\n", served, failed, wrong, len(summary.rows))
	w.Flush()
	t.Log("fault suite summary:\n" + b.String())
}
