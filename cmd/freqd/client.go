package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/freqd/freqd/listen"
)

func init() {
	register(&command{
		name:     "get",
		summary:  "ask a running server for the counts of words",
		synopsis: []string{"get [flags] WORD..."},
		about: `Prints each WORD and its count, separated by a tab, one per line; 0 for a
word the table does not hold. With --zipf, a third column gives the word's
Zipf value. Exits 1 if any WORD is absent or the server
cannot be asked, 2 on a usage error.`,
		args: argsWords,
		examples: []example{
			{line: "freqd get the monday"},
			{"over a unix socket, with a password from the environment", "FREQD_REQUIREPASS=secret freqd get --addr unix:/run/freqd/freqd.sock the"},
			{"with Zipf values, as SUBTLEX publishes them", "freqd get --zipf the monday"},
			{"over UDP, from a server started with --listen udp:127.0.0.1:7379", "freqd get --udp 127.0.0.1:7379 the"},
		},
		setup: getFlags,
	})
	register(&command{
		name:     "tag",
		summary:  "ask a running server for the unusual words of a text",
		synopsis: []string{"tag [flags] TEXT...", "tag [flags] < FILE"},
		about: `Prints the text's keywords, the words it uses significantly more often than
the table predicts, each with its score, highest first, separated by a tab.
A score is log2 of how many times more frequent the word is in the text than
in the table (3: about eight times), smoothed so that a word used once in a
long text does not outrank what the text is about. The text is the
arguments, or standard input when there are none.`,
		args: argsWords,
		examples: []example{
			{line: "freqd tag --limit 3 The ship sailed through the archipelago at dusk"},
			{line: "freqd tag < chapter1.txt"},
			{"with the figures behind each score", "freqd tag --stats < chapter1.txt"},
		},
		setup: tagFlags,
	})
	// The client library logs failed dials itself, on top of the error
	// it returns; the commands report every failure once, in their words.
	redis.SetLogger(silentLogger{})
}

// silentLogger drops go-redis's log lines.
type silentLogger struct{}

func (silentLogger) Printf(context.Context, string, ...any) {}

// Client timeouts: a server on the same machine answers at once, so a
// command that waits longer than this is talking to the wrong address.
const (
	dialTimeout = 3 * time.Second
	readTimeout = 10 * time.Second
)

// dial returns a go-redis client for addr (host:port or unix:/path), which
// authenticates with password when it is set. These commands read
// RESP2's replies (freqd speaks RESP3 too, after HELLO 3); asking for
// RESP2 up front spares the HELLO round trip. A command line
// tool tries once: a failure is reported, not retried behind the
// operator's back.
func dial(addr, password string) *redis.Client {
	opts := &redis.Options{Addr: addr, Password: password, Protocol: 2, DisableIdentity: true,
		MaxRetries: -1, DialerRetries: 1, DialTimeout: dialTimeout, ReadTimeout: readTimeout}
	if p, ok := strings.CutPrefix(addr, "unix:"); ok {
		opts.Network, opts.Addr = "unix", p
	}
	return redis.NewClient(opts)
}

// clientError says why talking to the server at addr failed, and what to
// do about it, in one line.
func clientError(addr string, err error) string {
	var ne net.Error
	msg := err.Error()
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("nothing listens at %s (connection refused); is freqd serve running there? Give its address with --addr", addr)
	case errors.Is(err, syscall.ENOENT) && strings.HasPrefix(addr, "unix:"):
		return fmt.Sprintf("no socket at %s; is freqd serve running there? Give its address with --addr", strings.TrimPrefix(addr, "unix:"))
	case errors.Is(err, syscall.EACCES):
		return fmt.Sprintf("%s: permission denied; the socket's group may use it (SocketGroup= in freqd.socket)", addr)
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Sprintf("%s did not answer in time; is it a freqd server?", addr)
	case strings.HasPrefix(msg, "NOAUTH"):
		return fmt.Sprintf("%s requires a password; give --password or set FREQD_REQUIREPASS", addr)
	case strings.HasPrefix(msg, "WRONGPASS"), strings.Contains(msg, "AUTH") && strings.Contains(msg, "without any password"):
		return fmt.Sprintf("%s refused the password; check --password or FREQD_REQUIREPASS", addr)
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
		return fmt.Sprintf("%s closed the connection; is it a freqd server?", addr)
	}
	return fmt.Sprintf("%s: %v", addr, err)
}

// passwordFlag adds --password. Its default, FREQD_REQUIREPASS (the
// variable the server takes its own from), is read after parsing, so that
// no help text ever shows a password.
func passwordFlag(fs *flag.FlagSet) func() string {
	p := fs.String("password", "", "`PASSWORD` for a server that requires one (default: $FREQD_REQUIREPASS)")
	return func() string {
		if *p == "" {
			return os.Getenv("FREQD_REQUIREPASS")
		}
		return *p
	}
}

// addrFlag adds --addr, the server to ask.
func addrFlag(fs *flag.FlagSet) *string {
	return fs.String("addr", listen.DefaultAddr, "ask the server at `ADDR`: host:port or unix:/path")
}

func getFlags(fs *flag.FlagSet) func([]string) int {
	addr := addrFlag(fs)
	pass := passwordFlag(fs)
	var dq datagramQuery
	fs.StringVar(&dq.addr, "udp", "", "ask over datagrams instead, at `ADDR`: host:port (UDP) or unixgram:/path")
	fs.DurationVar(&dq.timeout, "timeout", defaultDatagramTimeout, "--udp: how long to wait for each reply")
	fs.IntVar(&dq.retries, "retries", defaultDatagramRetries, "--udp: resend a request that got no reply up to `N` times")
	zipf := fs.Bool("zipf", false, "also print each word's Zipf value (log10 of its frequency per billion words, smoothed as SUBTLEX does)")
	c := commands["get"]
	return func(words []string) int {
		if len(words) == 0 {
			return c.usageError("no WORD given, e.g. freqd get the")
		}
		var counts []int64
		var zipfs []float64
		var err error
		where := *addr
		if dq.addr != "" {
			if *zipf {
				return c.usageError("--zipf asks over a stream connection; use --addr, not --udp")
			}
			where = dq.addr
			dq.password = pass()
			counts, err = dq.freq(words)
		} else {
			if flagSet(fs, "timeout") || flagSet(fs, "retries") {
				return c.usageError("--timeout and --retries apply to --udp only; drop them")
			}
			cl := dial(*addr, pass())
			defer cl.Close()
			ctx := context.Background()
			pipe := cl.Pipeline()
			freq := pipe.Do(ctx, append([]any{"FREQ"}, toAny(words)...)...)
			var z *redis.Cmd
			if *zipf {
				z = pipe.Do(ctx, append([]any{"ZIPF"}, toAny(words)...)...)
			}
			if _, err = pipe.Exec(ctx); err == nil {
				counts, err = freq.Int64Slice()
			}
			if err == nil && z != nil {
				zipfs, err = z.Float64Slice()
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "freqd get: %s\n", clientError(where, err))
				return exitFail
			}
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "freqd get: %s: %v\n", where, err)
			return exitFail
		}
		code := exitOK
		for i, w := range words {
			if zipfs != nil {
				fmt.Printf("%s\t%d\t%.2f\n", w, counts[i], zipfs[i])
			} else {
				fmt.Printf("%s\t%d\n", w, counts[i])
			}
			if counts[i] == 0 {
				code = exitFail
			}
		}
		return code
	}
}

func tagFlags(fs *flag.FlagSet) func([]string) int {
	addr := addrFlag(fs)
	pass := passwordFlag(fs)
	limit := fs.Int("limit", 10, "at most `N` words")
	stats := fs.Bool("stats", false, "print the figures behind each score: occurrences in the text, count in the table, occurrences the table predicts, and G²")
	c := commands["tag"]
	return func(args []string) int {
		if *limit <= 0 {
			return c.usageError("--limit %d: want 1 or more", *limit)
		}
		text := strings.Join(args, " ")
		if len(args) == 0 {
			if isTerminal(os.Stdin) {
				fmt.Fprintln(os.Stderr, "freqd tag: reading the text from standard input; end it with Ctrl-D")
			}
			b, err := io.ReadAll(os.Stdin)
			if err != nil {
				fmt.Fprintln(os.Stderr, "freqd tag: read standard input:", fileError(err))
				return exitFail
			}
			text = string(b)
		}
		cl := dial(*addr, pass())
		defer cl.Close()
		ctx := context.Background()
		if *stats {
			return tagStats(ctx, cl, *addr, *limit, text)
		}
		res, err := cl.Do(ctx, "TAG", "LIMIT", *limit, text).StringSlice()
		if err != nil && !errors.Is(err, redis.Nil) {
			fmt.Fprintf(os.Stderr, "freqd tag: %s\n", clientError(*addr, err))
			return exitFail
		}
		for i := 0; i+1 < len(res); i += 2 {
			fmt.Printf("%s\t%s\n", res[i], res[i+1])
		}
		return exitOK
	}
}

// tagStats prints TAG ... WITHSTATS as columns under a header. In RESP2
// the reply is a flat array: each word, then the array of its figures.
func tagStats(ctx context.Context, c *redis.Client, addr string, limit int, text string) int {
	res, err := c.Do(ctx, "TAG", "LIMIT", limit, "WITHSTATS", text).Slice()
	if err != nil && !errors.Is(err, redis.Nil) {
		fmt.Fprintf(os.Stderr, "freqd tag: %s\n", clientError(addr, err))
		return exitFail
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "word\tscore\tin text\tin table\texpected\tG²\t")
	for i := 0; i+1 < len(res); i += 2 {
		f, ok := res[i+1].([]any)
		if !ok || len(f) != 5 {
			fmt.Fprintf(os.Stderr, "freqd tag: %s answered TAG ... WITHSTATS with %v, not five figures; is it a freqd server of this version?\n", addr, res[i+1])
			return exitFail
		}
		expected, _ := strconv.ParseFloat(fmt.Sprint(f[3]), 64)
		g2, _ := strconv.ParseFloat(fmt.Sprint(f[4]), 64)
		fmt.Fprintf(w, "%v\t%v\t%v\t%v\t%.3g\t%.1f\t\n", res[i], f[0], f[1], f[2], expected, g2)
	}
	w.Flush()
	return exitOK
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// infoField finds key's value in an INFO reply.
func infoField(info, key string) (string, bool) {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), key+":"); ok {
			return v, true
		}
	}
	return "", false
}
