package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/freqd/freqd/listen"
	"github.com/redis/go-redis/v9"
)

func init() {
	register("get", command{summary: "ask a running server for the counts of words", run: runGet})
	register("tag", command{summary: "ask a running server for the unusual words of a text on stdin", run: runTag})
}

// dial returns a go-redis client for addr (host:port or unix:/path), which
// authenticates with password when it is set. freqd speaks RESP2 only;
// asking for it up front spares the HELLO 3 round trip.
func dial(addr, password string) *redis.Client {
	opts := &redis.Options{Addr: addr, Password: password, Protocol: 2, DisableIdentity: true, MaxRetries: 1,
		DialTimeout: 3 * time.Second, ReadTimeout: 10 * time.Second}
	if p, ok := strings.CutPrefix(addr, "unix:"); ok {
		opts.Network, opts.Addr = "unix", p
	}
	return redis.NewClient(opts)
}

// passwordFlag adds --password, defaulting to FREQD_REQUIREPASS, the
// variable the server takes its own from.
func passwordFlag(fs *flag.FlagSet) *string {
	return fs.String("password", os.Getenv("FREQD_REQUIREPASS"), "password, if the server requires one (default $FREQD_REQUIREPASS)")
}

func runGet(args []string) int {
	fs := flag.NewFlagSet("get", flag.ContinueOnError)
	addr := fs.String("addr", listen.DefaultAddr, "server address: host:port or unix:/path")
	pass := passwordFlag(fs)
	var dq datagramQuery
	fs.StringVar(&dq.addr, "udp", "", "ask over datagrams instead: host:port (UDP) or unixgram:/path")
	fs.DurationVar(&dq.timeout, "timeout", defaultDatagramTimeout, "--udp: how long to wait for each reply")
	fs.IntVar(&dq.retries, "retries", defaultDatagramRetries, "--udp: how many times to resend a request that got no reply")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: freqd get [--addr ADDR | --udp ADDR] WORD...")
		return 2
	}
	var counts []int64
	var err error
	if dq.addr != "" {
		*addr = dq.addr
		dq.password = *pass
		counts, err = dq.freq(fs.Args())
	} else {
		c := dial(*addr, *pass)
		defer c.Close()
		counts, err = c.Do(context.Background(), append([]any{"FREQ"}, toAny(fs.Args())...)...).Int64Slice()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "freqd get: %s: %v\n", *addr, err)
		return 1
	}
	absent := false
	for i, w := range fs.Args() {
		fmt.Printf("%s\t%d\n", w, counts[i])
		absent = absent || counts[i] == 0
	}
	if absent {
		return 1
	}
	return 0
}

func runTag(args []string) int {
	fs := flag.NewFlagSet("tag", flag.ContinueOnError)
	addr := fs.String("addr", listen.DefaultAddr, "server address: host:port or unix:/path")
	pass := passwordFlag(fs)
	limit := fs.Int("limit", 10, "at most this many words")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	text, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "freqd tag: read stdin:", err)
		return 1
	}
	c := dial(*addr, *pass)
	defer c.Close()
	res, err := c.Do(context.Background(), "TAG", "LIMIT", *limit, string(text)).StringSlice()
	if err != nil && !errors.Is(err, redis.Nil) {
		fmt.Fprintf(os.Stderr, "freqd tag: %s: %v\n", *addr, err)
		return 1
	}
	for i := 0; i+1 < len(res); i += 2 {
		fmt.Printf("%s\t%s\n", res[i], res[i+1])
	}
	return 0
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
