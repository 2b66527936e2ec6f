package compare

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/loadgen"
)

// SharedCoresNote is printed with every comparison.
const SharedCoresNote = "The load generator runs on the same machine and shares its cores with the server: " +
	"figures compare the designs with each other on this machine, not with other machines."

// Report is the outcome of a comparison. It marshals to JSON with the
// field names below; durations are integer nanoseconds.
type Report struct {
	Machine     Machine       `json:"machine"`
	Scenario    string        `json:"scenario"` // see Config.Scenario
	Workers     int           `json:"workers"`
	Conns       int           `json:"conns"`
	Duration    time.Duration `json:"duration_ns"` // load per design
	Reconnect   bool          `json:"reconnect"`
	KillEvery   time.Duration `json:"kill_every_ns"` // 0: no worker kills
	Seed        uint64        `json:"seed"`
	Note        string        `json:"note"`
	Started     time.Time     `json:"started"`
	Interrupted bool          `json:"interrupted"`
	Results     []Result      `json:"results"`
}

// Result is what one design measured.
type Result struct {
	Mode      mode.Mode       `json:"mode"`
	PreForked bool            `json:"pre_forked"`
	Error     string          `json:"error,omitempty"` // why the design was not (fully) measured
	Load      *loadgen.Result `json:"load,omitempty"`
	// ServerCPU is the CPU seconds the server's processes used during the
	// load; CPUPerRequest is that per successful request, in microseconds.
	ServerCPU     float64 `json:"server_cpu_s"`
	CPUPerRequest float64 `json:"server_cpu_us_per_request"`
	// PSS is the peak proportional set size of the server's processes
	// during the load, in bytes, and Processes how many there were then.
	PSS       uint64  `json:"server_pss_bytes"`
	Processes int     `json:"server_processes"`
	Spread    *Spread `json:"spread,omitempty"` // pre-forked designs only
	Chaos     *Chaos  `json:"chaos,omitempty"`  // pre-forked designs under worker kills only
	// StopKilled counts the server's processes that did not end on
	// SIGTERM within the grace period and were killed.
	StopKilled int `json:"stop_killed"`
}

func newReport(cfg *Config) *Report {
	return &Report{
		Machine: thisMachine(), Scenario: cfg.Scenario(), Workers: cfg.Workers, Conns: cfg.Conns,
		Duration: cfg.Duration, Reconnect: cfg.Reconnect, KillEvery: cfg.KillEvery, Seed: cfg.Seed,
		Note: SharedCoresNote, Started: time.Now().UTC(),
	}
}

// Title describes the load in a few words.
func (rep *Report) Title() string {
	conn := "keep-alive connections"
	if rep.Reconnect {
		conn = "a connection per request"
	}
	t := fmt.Sprintf("%d clients, %s, %d workers, %v per design", rep.Conns, conn, rep.Workers, rep.Duration)
	if rep.KillEvery > 0 {
		t += fmt.Sprintf(", a worker SIGKILLed every %v", rep.KillEvery)
	}
	return t
}

// WriteMarkdown writes the report as a Markdown table with a heading line
// and the notes that qualify it.
func (rep *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	m := rep.Machine
	fmt.Fprintf(&b, "**%s** — %s, %d cores, %s, %s, load average %s at the start.\n\n", rep.Title(), m.CPU, m.Cores, m.Kernel, m.Go, m.Load)
	head := []string{"design", "req/s", "p50", "p90", "p99", "p99.9", "max", "failed", "CPU µs/req", "PSS MiB", "procs", "accepted per worker min/max/σ"}
	if rep.KillEvery > 0 {
		head = append(head, "kills", "in-flight bound", "failed beyond bound")
	}
	row(&b, head)
	sep := make([]string, len(head))
	for i := range sep {
		sep[i] = "---:"
	}
	sep[0], sep[7] = "---", "---"
	row(&b, sep)
	for _, r := range rep.Results {
		row(&b, r.cells(rep.KillEvery > 0, len(head)))
	}
	if rep.Interrupted {
		b.WriteString("\nInterrupted: the figures cover part of the run.\n")
	}
	fmt.Fprintf(&b, "\n%s\n", rep.Note)
	_, err := io.WriteString(w, b.String())
	return err
}

func row(b *strings.Builder, cells []string) {
	b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
}

// cells renders one table row of n cells.
func (r *Result) cells(chaos bool, n int) []string {
	c := []string{string(r.Mode)}
	if r.Load == nil {
		c = append(c, "not measured: "+strings.ReplaceAll(r.Error, "|", "/"))
		for len(c) < n {
			c = append(c, "")
		}
		return c
	}
	l := r.Load.Latency
	c = append(c, fmt.Sprintf("%.0f", r.Load.Throughput),
		dur(l.P50), dur(l.P90), dur(l.P99), dur(l.P999), dur(l.Max),
		failures(r.Load), fmt.Sprintf("%.1f", r.CPUPerRequest),
		fmt.Sprintf("%.1f", float64(r.PSS)/(1<<20)), fmt.Sprint(r.Processes))
	if s := r.Spread; s != nil {
		c = append(c, fmt.Sprintf("%d / %d / %.1f", s.Min, s.Max, s.Stddev))
	} else {
		c = append(c, "N/A")
	}
	if chaos {
		if k := r.Chaos; k != nil {
			c = append(c, fmt.Sprint(k.Kills), fmt.Sprint(k.InFlightBound), fmt.Sprint(k.Beyond))
		} else {
			c = append(c, "N/A", "N/A", "N/A")
		}
	}
	if r.Error != "" {
		c[0] += " (" + strings.ReplaceAll(r.Error, "|", "/") + ")"
	}
	return c
}

// failures renders the failed requests with their kinds.
func failures(res *loadgen.Result) string {
	if res.Failed == 0 {
		return "0"
	}
	e := res.Errors
	var kinds []string
	for _, k := range []struct {
		name string
		n    uint64
	}{{"refused", e.Refused}, {"reset", e.Reset}, {"timeout", e.Timeout}, {"wrong", e.Wrong}, {"other", e.Other}} {
		if k.n > 0 {
			kinds = append(kinds, fmt.Sprintf("%s %d", k.name, k.n))
		}
	}
	return fmt.Sprintf("%d (%s)", res.Failed, strings.Join(kinds, ", "))
}

// dur renders a latency with three significant digits in a unit that suits it.
func dur(d time.Duration) string {
	switch {
	case d == 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%.3gµs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.3gms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.3gs", d.Seconds())
	}
}

// Files are the paths WriteFiles writes.
type Files struct{ JSON, Markdown, Chart string }

// WriteFiles writes the report into dir, creating it if needed: the JSON
// (compare-SCENARIO.json), the Markdown table (.md) and the chart (.svg).
func (rep *Report) WriteFiles(dir string) (Files, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Files{}, fmt.Errorf("create output directory: %w", err)
	}
	base := filepath.Join(dir, "compare-"+rep.Scenario)
	f := Files{JSON: base + ".json", Markdown: base + ".md", Chart: base + ".svg"}
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return Files{}, err
	}
	if err := os.WriteFile(f.JSON, append(js, '\n'), 0o644); err != nil {
		return Files{}, err
	}
	var md strings.Builder
	rep.WriteMarkdown(&md)
	if err := os.WriteFile(f.Markdown, []byte(md.String()), 0o644); err != nil {
		return Files{}, err
	}
	if err := rep.writeChart(f.Chart); err != nil {
		return Files{}, fmt.Errorf("chart %s: %w", f.Chart, err)
	}
	return f, nil
}
