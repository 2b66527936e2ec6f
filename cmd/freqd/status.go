package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/listen"
)

func init() {
	register(&command{
		name:     "status",
		summary:  "show a running server's table and worker scoreboard",
		synopsis: []string{"status [flags]"},
		about: `Prints the master's pid, the table the server serves and one line per
worker: slot, pid, generation, state, uptime, connections accepted and open,
requests, error replies and restarts, as the workers record them in the
shared scoreboard (INFO workers). The pre-forked modes only: the classic
designs have no scoreboard.

The table line gives the table's id, its words (or phrases), total count and
build time (INFO table). The id leaves the build time out: replicas that
print the same id serve the same table, even built apart from the same
input, so comparing it across servers checks a deployment.`,
		examples: []example{
			{line: "freqd status"},
			{line: "freqd status --addr unix:/run/freqd/freqd.sock"},
			{"do two replicas serve the same table?", "for r in replica1:7379 replica2:7379; do freqd status --addr $r | grep ^table; done"},
		},
		setup: statusFlags,
	})
}

// statusFlags prints the scoreboard as a table, like Apache's
// server-status: it asks any worker for INFO workers, which every worker
// reads from the shared scoreboard.
func statusFlags(fs *flag.FlagSet) func([]string) int {
	addr := addrFlag(fs)
	pass := passwordFlag(fs)
	c := commands["status"]
	return func(args []string) int {
		if code := c.noArgs(args, "status --addr "+listen.DefaultAddr); code != exitOK {
			return code
		}
		return runStatus(*addr, pass())
	}
}

func runStatus(addr, password string) int {
	c := dial(addr, password)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := c.Info(ctx, "workers", "table").Result()
	if err != nil {
		fmt.Fprintf(os.Stderr, "freqd status: %s\n", clientError(addr, err))
		return exitFail
	}
	fields := map[string]string{}
	var workers []map[string]string
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		if strings.HasPrefix(k, "worker") && strings.Contains(v, "pid=") {
			w := map[string]string{"entry": strings.TrimPrefix(k, "worker")}
			for _, kv := range strings.Split(v, ",") {
				if a, b, ok := strings.Cut(kv, "="); ok {
					w[a] = b
				}
			}
			workers = append(workers, w)
			continue
		}
		fields[k] = v
	}
	if len(workers) == 0 {
		fmt.Fprintf(os.Stderr, "freqd status: %s runs --mode %s, which has no workers: the scoreboard exists in the pre-forked modes only (%s)\n",
			addr, fields["mode"], mode.Join(mode.PreForked, ", "))
		return exitFail
	}
	sort.Slice(workers, func(i, j int) bool {
		if a, b := atoi(workers[i]["slot"]), atoi(workers[j]["slot"]); a != b {
			return a < b
		}
		return atoi(workers[i]["generation"]) < atoi(workers[j]["generation"])
	})
	fmt.Printf("mode %s, master pid %s, %d workers\n", fields["mode"], fields["master_pid"], len(workers))
	if line := tableLine(fields); line != "" {
		fmt.Println(line)
	}
	fmt.Println()
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "slot\tpid\tgen\tstate\tuptime\taccepted\topen\trequests\terrors\trestarts\t")
	for _, w := range workers {
		up := time.Duration(atoi(w["uptime"])) * time.Second
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", w["slot"], w["pid"], w["generation"], w["state"],
			up, w["accepted"], w["open"], w["requests"], w["errors"], w["restarts"])
	}
	tw.Flush()
	return 0
}

// tableLine says which table the server serves, from INFO's table
// section: "table 01af29be: 74,286 words, total count 49,719,560, built
// 2026-12-03T10:00:00Z". A table of n-grams counts phrases. A server too
// old to report the table gets no line.
func tableLine(fields map[string]string) string {
	id, ok := fields["table_id"]
	if !ok {
		return ""
	}
	built := "no build time recorded"
	if b := fields["table_built"]; b != "" {
		built = "built " + b
	}
	noun := "words"
	if fields["table_ngram"] != "" {
		noun = "phrases"
	}
	return fmt.Sprintf("table %s: %s %s, total count %s, %s", id,
		groupDigits(atou(fields["table_words"])), noun, groupDigits(atou(fields["table_total"])), built)
}

func atou(s string) uint64 { n, _ := strconv.ParseUint(s, 10, 64); return n }

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }
