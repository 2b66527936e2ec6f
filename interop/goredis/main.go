// Command goredis is the go-redis leg of the interop matrix (make
// interop): commands, Pipelined, TxPipelined and a SCAN iteration, in
// RESP3 (go-redis's default) and RESP2, over TCP and a unix socket, against
// the server the FREQD_* environment variables name. It exits non-zero
// with a message on the first wrong answer.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"runtime/debug"
	"strconv"

	"github.com/redis/go-redis/v9"
)

func main() {
	the, you := os.Getenv("EXPECT_THE"), os.Getenv("EXPECT_YOU")
	dbsize, err := strconv.ParseInt(os.Getenv("EXPECT_DBSIZE"), 10, 64)
	if err != nil {
		fail("EXPECT_DBSIZE: %v", err)
	}
	endpoints := []struct{ name, network, addr string }{
		{"tcp", "tcp", os.Getenv("FREQD_HOST") + ":" + os.Getenv("FREQD_PORT")},
		{"unix", "unix", os.Getenv("FREQD_SOCKET")},
	}
	for _, ep := range endpoints {
		for _, proto := range []int{3, 2} {
			run(ep.name, proto, redis.NewClient(&redis.Options{Network: ep.network, Addr: ep.addr, Protocol: proto}), the, you, dbsize)
		}
	}
}

func run(name string, proto int, c *redis.Client, the, you string, dbsize int64) {
	defer c.Close()
	ctx := context.Background()
	where := fmt.Sprintf("%s RESP%d", name, proto)
	check := func(what string, got, want any) {
		if !reflect.DeepEqual(got, want) {
			fail("%s: %s: got %#v, want %#v", where, what, got, want)
		}
	}
	must := func(what string, err error) {
		if err != nil {
			fail("%s: %s: %v", where, what, err)
		}
	}
	get, err := c.Get(ctx, "the").Result()
	must("GET the", err)
	check("GET the", get, the)
	_, err = c.Get(ctx, "nosuchwordzz").Result()
	check("GET absent", err, redis.Nil)
	mget, err := c.MGet(ctx, "you", "nosuchwordzz").Result()
	must("MGET", err)
	check("MGET", mget, []any{you, nil})
	n, err := c.DBSize(ctx).Result()
	must("DBSIZE", err)
	check("DBSIZE", n, dbsize)
	freq, err := c.Do(ctx, "FREQ", "the", "nosuchwordzz").Int64Slice()
	must("FREQ", err)
	wantThe, _ := strconv.ParseInt(the, 10, 64)
	check("FREQ", freq, []int64{wantThe, 0})
	// A UTF-8 argument, and the contraction answered from its part.
	don, err := c.Do(ctx, "FREQ", "don’t", "DON'T").Int64Slice()
	must("FREQ don’t DON'T", err)
	wantDon, _ := strconv.ParseInt(os.Getenv("EXPECT_DON"), 10, 64)
	check("FREQ don’t DON'T", don, []int64{wantDon, wantDon})
	// ZIPF: RESP3 doubles, RESP2 bulk strings.
	zipf, err := c.Do(ctx, "ZIPF", "the", "nosuchwordzz").Slice()
	must("ZIPF", err)
	var zs []float64
	for _, z := range zipf {
		switch z := z.(type) {
		case float64:
			if proto == 3 {
				zs = append(zs, z)
			}
		case string:
			if f, err := strconv.ParseFloat(z, 64); err == nil && proto == 2 {
				zs = append(zs, f)
			}
		}
	}
	if len(zs) != 2 || zs[0] < 7 || fmt.Sprintf("%.2f", zs[1]) != "1.30" {
		fail("%s: ZIPF the nosuchwordzz: %#v, want two doubles (strings in RESP2), above 7 and 1.30", where, zipf)
	}
	tag, err := c.Do(ctx, "TAG", "LIMIT", "2", "the xylophone and the zymurgy").Result()
	must("TAG", err)
	if proto == 3 {
		m, ok := tag.(map[any]any)
		if !ok || len(m) != 2 || m["xylophone"] == nil || m["zymurgy"] == nil {
			fail("%s: TAG: %#v, want a map of xylophone and zymurgy to their scores", where, tag)
		}
	} else if a, ok := tag.([]any); !ok || len(a) != 4 {
		fail("%s: TAG: %#v, want 2 word/score pairs", where, tag)
	}
	cfg, err := c.ConfigGet(ctx, "databases").Result()
	must("CONFIG GET", err)
	check("CONFIG GET databases", cfg, map[string]string{"databases": "1"})
	cmds, err := c.Command(ctx).Result()
	must("COMMAND", err)
	if f := cmds["freq"]; f == nil || !f.ReadOnly || f.FirstKeyPos != 1 || f.LastKeyPos != -1 || f.StepCount != 1 {
		fail("%s: COMMAND: freq is %+v, want read-only with keys from 1 to the last", where, f)
	}

	var pg, pt *redis.StringCmd
	_, err = c.Pipelined(ctx, func(p redis.Pipeliner) error {
		pg = p.Get(ctx, "the")
		pt = p.Get(ctx, "you")
		return nil
	})
	must("Pipelined", err)
	check("Pipelined", []string{pg.Val(), pt.Val()}, []string{the, you})
	var tg *redis.StringCmd
	var tm *redis.SliceCmd
	var tf *redis.Cmd
	_, err = c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		tg = p.Get(ctx, "the")
		tm = p.MGet(ctx, "you", "nosuchwordzz")
		tf = p.Do(ctx, "FREQ", "you")
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		fail("%s: TxPipelined: %v", where, err)
	}
	wantYou, _ := strconv.ParseInt(you, 10, 64)
	check("TxPipelined GET", tg.Val(), the)
	check("TxPipelined MGET", tm.Val(), []any{you, nil})
	check("TxPipelined FREQ", tf.Val(), []any{wantYou})

	var scanned int64
	iter := c.Scan(ctx, 0, "", 5000).Iterator()
	for iter.Next(ctx) {
		scanned++
	}
	must("SCAN", iter.Err())
	check("SCAN iteration", scanned, dbsize)
	fmt.Printf("go-redis %s %s: commands, COMMAND, Pipelined, TxPipelined, SCAN iterator: ok\n", version(), where)
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/redis/go-redis/v9" {
				return d.Version
			}
		}
	}
	return "(unknown version)"
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "go-redis: "+format+"\n", args...)
	os.Exit(1)
}
