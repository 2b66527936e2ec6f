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

	"github.com/freqd/freqd/listen"
)

func init() {
	register("status", command{summary: "show the worker scoreboard of a running server", run: runStatus})
}

// runStatus prints the scoreboard as a table, like Apache's server-status:
// it asks any worker for INFO workers, which every worker reads from the
// shared scoreboard.
func runStatus(args []string) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	addr := fs.String("addr", listen.DefaultAddr, "server address: host:port or unix:/path")
	pass := passwordFlag(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	c := dial(*addr, *pass)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := c.Info(ctx, "workers").Result()
	if err != nil {
		fmt.Fprintf(os.Stderr, "freqd status: %s: %v\n", *addr, err)
		return 1
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
		fmt.Fprintf(os.Stderr, "freqd status: %s reports no workers (mode %q): the scoreboard exists in the pre-forked modes only\n", *addr, fields["mode"])
		return 1
	}
	sort.Slice(workers, func(i, j int) bool {
		if a, b := atoi(workers[i]["slot"]), atoi(workers[j]["slot"]); a != b {
			return a < b
		}
		return atoi(workers[i]["generation"]) < atoi(workers[j]["generation"])
	})
	fmt.Printf("mode %s, master pid %s, %d workers\n\n", fields["mode"], fields["master_pid"], len(workers))
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

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }
