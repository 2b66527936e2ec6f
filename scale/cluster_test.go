package scale

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/freqd/freqd/cluster"
	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/internal/testserver"
	"github.com/freqd/freqd/shm/freqfile"
	"github.com/freqd/freqd/word"
)

// shardCluster is three freqd servers serving the shards of the embedded
// table, built with --shards 3, on loopback ports named by one cluster
// configuration, and one server of the whole table to compare them with.
type shardCluster struct {
	cfg   *cluster.Config
	nodes []*testserver.Server
	addrs []string // as announced
	whole *testserver.Server
	forms []form // every word, as stored and capitalised, with its answers
	// table is one shard's file, opened for its rules: the key a lookup
	// searches for (AppendKey) is the same in every shard.
	table *freqfile.Table
}

// normalForms are queries whose key, the word a lookup searches for, is
// not their bytes, nor their bytes folded: the table's rules (NFC, full
// case folding, one apostrophe) make it, and a contraction is answered
// from its parts, which other shards may hold. The embedded table is
// ASCII, so the decomposed café and ΣΟΦΟΣ are absent; the others are not
// (wholeFound).
var normalForms = []string{
	"don\u2019t", "Don\u2019t", "DON\u2019T", "DON'T", "don\u02bct", "don\uff07t",
	"can\u2019t", "I\u2019m", "You\u2019re", "won\u2019t", "Alice\u2019s", "rock\u2019n\u2019roll",
	"cafe\u0301", "Cafe\u0301", "CAF\u00c9", "\u03a3\u039f\u03a6\u039f\u03a3",
	"\u212aing", "CLA\u00df", "\u017fo",
}

// wholeFound are normalForms the whole table must hold, or the test would
// prove nothing about them.
var wholeFound = []string{"don\u2019t", "DON\u2019T", "don\uff07t", "I\u2019m", "\u212aing", "CLA\u00df", "\u017fo"}

// form is a query and what the whole table answers to it: GET's count and
// RANK's rank, "" for nil.
type form struct {
	Word string `json:"word"`
	Get  string `json:"get"`
	Rank string `json:"rank"`
}

func startShards(t *testing.T) *shardCluster {
	t.Helper()
	dir := t.TempDir()
	build := exec.Command(freqdBin, "build", "-o", filepath.Join(dir, "sub.freq"), "--shards", "3", "--default")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("freqd build --shards 3: %v\n%s", err, out)
	}
	sc := &shardCluster{}
	var conf strings.Builder
	conf.WriteString("# the embedded table in three shards\n")
	for _, r := range cluster.Split(3) {
		addr := freePort(t)
		sc.addrs = append(sc.addrs, addr)
		fmt.Fprintf(&conf, "%s %s\n", r, addr)
	}
	confPath := filepath.Join(dir, "cluster.conf")
	if err := os.WriteFile(confPath, []byte(conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var err error
	if sc.cfg, err = cluster.ReadConfig(confPath); err != nil {
		t.Fatal(err)
	}
	for i, addr := range sc.addrs {
		data := filepath.Join(dir, fmt.Sprintf("sub.%d-of-3.freq", i+1))
		sc.nodes = append(sc.nodes, testserver.Start(t, freqdBin, mode.FDPass, 2,
			"--listen", addr, "--data", data, "--cluster-config", confPath))
	}
	sc.whole = testserver.Start(t, freqdBin, mode.FDPass, 1)
	var err2 error
	if sc.table, err2 = freqfile.Open(filepath.Join(dir, "sub.1-of-3.freq")); err2 != nil {
		t.Fatal(err2)
	}
	t.Cleanup(func() { sc.table.Close() })

	// Every word, as stored and capitalised, and a few the table lacks,
	// with what the whole table answers.
	seen := map[string]bool{}
	var words []string
	for w := range testserver.Subtlex() {
		for _, f := range []string{w, capitalize(w)} {
			if !seen[f] {
				seen[f] = true
				words = append(words, f)
			}
		}
	}
	words = append(words, "Zyzzogeton", "qqqxyzzy")
	words = append(words, normalForms...)
	slices.Sort(words)
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: sc.whole.TCP})
	defer rdb.Close()
	for chunk := range slices.Chunk(words, 5000) {
		cmds, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, w := range chunk {
				p.Get(ctx, w)
				p.Do(ctx, "RANK", w)
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			t.Fatal(err)
		}
		for i, w := range chunk {
			f := form{Word: w}
			f.Get, _ = cmds[2*i].(*redis.StringCmd).Result()
			if r, err := cmds[2*i+1].(*redis.Cmd).Int64(); err == nil {
				f.Rank = strconv.FormatInt(r, 10)
			}
			sc.forms = append(sc.forms, f)
		}
	}
	for _, w := range wholeFound {
		if i := slices.IndexFunc(sc.forms, func(f form) bool { return f.Word == w }); i < 0 || sc.forms[i].Get == "" {
			t.Fatalf("the whole table does not hold %q: the test of its normal forms proves nothing", w)
		}
	}
	return sc
}

// capitalize upper-cases the first letter, as a sentence begins.
func capitalize(w string) string {
	for i, r := range w {
		return strings.ToUpper(string(r)) + w[i+len(string(r)):]
	}
	return w
}

// hops counts the forms whose node (the slot of their bytes) does not
// hold all they need (holders).
func (sc *shardCluster) hops() int {
	n := 0
	for _, f := range sc.forms {
		node := sc.cfg.Owner(cluster.Slot([]byte(f.Word)))
		for _, h := range sc.holders(f.Word) {
			if h != node {
				n++
				break
			}
		}
	}
	return n
}

// holders returns the shards a lookup of w reads: the one holding its key
// (the word as the table's rules normalize it), and for a contraction
// those holding its parts, which answer it on the embedded table.
func (sc *shardCluster) holders(w string) []int {
	key := sc.table.AppendKey(nil, []byte(w))
	shards := []int{sc.cfg.Owner(cluster.Slot(key))}
	if sc.table.Rules().SplitContractions {
		word.Parts(key, func(part []byte) {
			shards = append(shards, sc.cfg.Owner(cluster.Slot(part)))
		})
	}
	return shards
}

// need returns the path of a client program, skipping the test when it is
// missing unless FREQD_TEST_CLUSTER=require (make test-cluster, which
// installs it) says that is a failure.
func need(t *testing.T, name string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("FREQD_TEST_CLUSTER") == "require" {
			t.Fatalf("%s is not installed: %v", name, err)
		}
		t.Skipf("%s is not installed; make test-cluster installs it and runs this test", name)
	}
	return bin
}

// TestClusterOfShards serves the embedded table as three shards and asks
// every word of it, as stored and capitalised, and forms the table's rules
// normalize (normalForms: curly apostrophes, contractions answered from
// parts other shards may hold, NFD, full case folding), through each
// cluster client: each answers exactly what one server with the whole
// table answers, second hops included; so does TAG, on every node. Then one shard is killed with SIGKILL:
// only the words whose slots it served fail.
func TestClusterOfShards(t *testing.T) {
	sc := startShards(t)
	t.Logf("%d forms, %d of which a node must ask another shard for", len(sc.forms), sc.hops())
	tagText := "On Monday the quick brown fox, said Alice in London, jumped over the zyzzogeton's lazy dog; Friday was quieter. " +
		"DON\u2019T say the cafe\u0301 won\u2019t open, Alice\u2019s \u212aing said; I\u2019m sure it\u2019s CLA\u00dfY"
	ctx := context.Background()
	wholeTag, err := redis.NewClient(&redis.Options{Addr: sc.whole.TCP, Protocol: 2}).Do(ctx, "TAG", "LIMIT", "0", tagText).StringSlice()
	if err != nil || len(wholeTag) < 10 { // five keywords at least
		t.Fatalf("TAG on the whole table: %v %v", wholeTag, err)
	}
	spec := filepath.Join(t.TempDir(), "expect.json")
	b, _ := json.Marshal(map[string]any{"nodes": sc.addrs, "forms": sc.forms, "tag": map[string]any{"text": tagText, "reply": wholeTag},
		"dbsize": len(testserver.Subtlex())})
	if err := os.WriteFile(spec, b, 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("go-redis", func(t *testing.T) { checkGoRedis(t, sc, goRedisRoute{}, tagText, wholeTag) })
	t.Run("go-redis with command tips", func(t *testing.T) { checkGoRedis(t, sc, goRedisRoute{tips: true}, tagText, wholeTag) })
	// The route-by options send READONLY on every connection and pick a
	// node per slot by latency or at random among the shard's nodes: with
	// one announced address a shard, that is the shard itself.
	t.Run("go-redis RouteByLatency", func(t *testing.T) {
		checkGoRedis(t, sc, goRedisRoute{tips: true, byLatency: true}, tagText, wholeTag)
	})
	t.Run("go-redis RouteRandomly", func(t *testing.T) {
		checkGoRedis(t, sc, goRedisRoute{tips: true, randomly: true}, tagText, wholeTag)
	})
	t.Run("redis-cli -c", func(t *testing.T) { checkRedisCli(t, sc, tagText, wholeTag) })
	t.Run("redis-py RedisCluster", func(t *testing.T) {
		python := "/usr/bin/python3" // Debian's, with Debian's python3-redis
		if _, err := exec.Command(python, "-c", "import redis").CombinedOutput(); err != nil {
			if os.Getenv("FREQD_TEST_CLUSTER") == "require" {
				t.Fatalf("Debian's python3-redis is not installed: %v", err)
			}
			t.Skip("Debian's python3-redis is not installed; make test-cluster installs it")
		}
		runClient(t, python, "../interop/cluster/redis_py.py", spec)
	})
	t.Run("node-redis createCluster", func(t *testing.T) {
		need(t, "node")
		if _, err := os.Stat("../interop/node/node_modules/redis"); err != nil {
			if os.Getenv("FREQD_TEST_CLUSTER") == "require" {
				t.Fatal("node-redis is not installed in interop/node")
			}
			t.Skip("node-redis is not installed; make test-cluster installs it")
		}
		runClient(t, "node", "../interop/node/node-redis-cluster.mjs", spec)
	})
	t.Run("one shard killed", func(t *testing.T) { checkShardKilled(t, sc) })
}

// runClient runs a client program on the expectations file.
func runClient(t *testing.T, bin, script, spec string) {
	t.Helper()
	cmd := exec.Command(bin, script, spec)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	t.Logf("%s (%v):\n%s", script, time.Since(start).Round(time.Millisecond), out.String())
	if err != nil {
		t.Fatalf("%s: %v", script, err)
	}
}

// checkGoRedis asks every form with go-redis's ClusterClient, pipelined
// (the client sends each node its keys), and multi-key commands: without
// the command tips MGET across slots is refused with CROSSSLOT, as Redis
// refuses it; with them the client splits it by slot and merges.
func checkGoRedis(t *testing.T, sc *shardCluster, route goRedisRoute, tagText string, wholeTag []string) {
	ctx := context.Background()
	tips := route.tips
	for _, proto := range []int{3, 2} {
		c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: sc.addrs[:1], Protocol: proto, MaxRedirects: 3,
			RouteByLatency: route.byLatency, RouteRandomly: route.randomly})
		defer c.Close()
		if tips {
			c.SetCommandInfoResolver(c.NewDynamicResolver())
		}
		// Every form once, with the default client in its default
		// protocol; a sample otherwise.
		forms := sc.forms
		if route != (goRedisRoute{}) || proto != 3 {
			forms = sample(sc.forms, 10)
		}
		start := time.Now()
		for chunk := range slices.Chunk(forms, 5000) {
			cmds, _ := c.Pipelined(ctx, func(p redis.Pipeliner) error {
				for _, f := range chunk {
					p.Get(ctx, f.Word)
					p.Do(ctx, "RANK", f.Word)
				}
				return nil
			})
			for i, f := range chunk {
				get, err := cmds[2*i].(*redis.StringCmd).Result()
				if err != nil && err != redis.Nil {
					t.Fatalf("RESP%d GET %s: %v", proto, f.Word, err)
				}
				rank := ""
				if r, err := cmds[2*i+1].(*redis.Cmd).Int64(); err == nil {
					rank = strconv.FormatInt(r, 10)
				} else if err != redis.Nil {
					t.Fatalf("RESP%d RANK %s: %v", proto, f.Word, err)
				}
				if get != f.Get || rank != f.Rank {
					t.Fatalf("RESP%d %s: GET %q RANK %q; the whole table answers %q and %q", proto, f.Word, get, rank, f.Get, f.Rank)
				}
			}
		}
		t.Logf("RESP%d: %d forms, GET and RANK, in %v", proto, len(forms), time.Since(start).Round(time.Millisecond))

		// TAG has no key: the client sends it anywhere. Every node
		// answers what the whole table does.
		for _, addr := range append([]string{""}, sc.addrs...) {
			var got []string
			var err error
			if addr == "" {
				got, err = redis.NewClusterClient(&redis.ClusterOptions{Addrs: sc.addrs, Protocol: 2}).Do(ctx, "TAG", "LIMIT", "0", tagText).StringSlice()
			} else {
				got, err = redis.NewClient(&redis.Options{Addr: addr, Protocol: 2}).Do(ctx, "TAG", "LIMIT", "0", tagText).StringSlice()
			}
			if err != nil || !slices.Equal(got, wholeTag) {
				t.Fatalf("TAG at %q: %v %v; the whole table answers %v", addr, got, err, wholeTag)
			}
		}

		// A few words of every shard, some stored elsewhere than their
		// bytes hash.
		var keys []string
		var want []any
		var found int64
		for i := 0; i < len(sc.forms); i += len(sc.forms) / 40 {
			f := sc.forms[i]
			keys = append(keys, f.Word)
			if f.Get == "" {
				want = append(want, nil)
			} else {
				want = append(want, f.Get)
				found++
			}
		}
		got, err := c.MGet(ctx, keys...).Result()
		switch {
		case !tips && (err == nil || !strings.HasPrefix(err.Error(), "CROSSSLOT")):
			t.Errorf("RESP%d MGET across slots without tips: %v, %v; want CROSSSLOT, as from Redis", proto, got, err)
		case tips && (err != nil || !slices.Equal(got, want)):
			t.Errorf("RESP%d MGET across slots with tips: %v, %v; want %v", proto, got, err, want)
		}
		if tips {
			if n, err := c.Exists(ctx, keys...).Result(); err != nil || n != found {
				t.Errorf("RESP%d EXISTS across slots: %d, %v; want %d", proto, n, err, found)
			}
			if n, err := c.DBSize(ctx).Result(); err != nil || n != int64(len(testserver.Subtlex())) {
				t.Errorf("RESP%d DBSIZE over the shards: %d, %v; want %d", proto, n, err, len(testserver.Subtlex()))
			}
			freq, err := c.Do(ctx, append([]any{"FREQ"}, anys(keys)...)...).Int64Slice()
			for i, f := range want {
				n := int64(0)
				if f != nil {
					n, _ = strconv.ParseInt(f.(string), 10, 64)
				}
				if err != nil || i >= len(freq) || freq[i] != n {
					t.Fatalf("RESP%d FREQ across slots: %v, %v; want %v", proto, freq, err, want)
				}
			}
		}
	}
}

// goRedisRoute is how a go-redis ClusterClient routes: by the command tips
// COMMAND gives (its dynamic resolver), and with the options that route
// read-only commands by latency or at random (which imply READONLY).
type goRedisRoute struct{ tips, byLatency, randomly bool }

// sample returns every nth form.
func sample(forms []form, n int) []form {
	var s []form
	for i := 0; i < len(forms); i += n {
		s = append(s, forms[i])
	}
	return s
}

func anys(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// checkRedisCli types every form into redis-cli -c, GET (and RANK for a
// tenth: one command at a time, it is the slowest client), with the
// forms sorted by the node their bytes hash to, so that it follows few
// redirections; then TAG through each node and an MGET across slots.
func checkRedisCli(t *testing.T, sc *shardCluster, tagText string, wholeTag []string) {
	cli := need(t, "redis-cli")
	forms := slices.Clone(sc.forms)
	owner := func(f form) int { return sc.cfg.Owner(cluster.Slot([]byte(f.Word))) }
	slices.SortStableFunc(forms, func(a, b form) int { return owner(a) - owner(b) })
	var in, want strings.Builder
	n := 0
	for i, f := range forms {
		if strings.ContainsAny(f.Word, " \"'\\") {
			continue // redis-cli's own quoting would be tested, not freqd
		}
		n++
		fmt.Fprintf(&in, "GET %s\n", f.Word)
		fmt.Fprintf(&want, "%s\n", f.Get)
		if i%10 == 0 { // and the rank of a tenth of them
			fmt.Fprintf(&in, "RANK %s\n", f.Word)
			fmt.Fprintf(&want, "%s\n", f.Rank)
		}
	}
	host, port, _ := strings.Cut(sc.addrs[0], ":")
	cmd := exec.Command(cli, "-c", "-h", host, "-p", port)
	cmd.Stdin = strings.NewReader(in.String())
	start := time.Now()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("redis-cli -c: %v", err)
	}
	// It says where it follows a redirection (-> Redirected to slot...).
	var lines []string
	redirects := 0
	for _, l := range strings.SplitAfter(string(out), "\n") {
		if strings.HasPrefix(l, "-> Redirected") {
			redirects++
			continue
		}
		lines = append(lines, l)
	}
	t.Logf("redis-cli followed %d redirections", redirects)
	if got := strings.Join(lines, ""); got != want.String() {
		gl, wl := strings.Split(got, "\n"), strings.Split(want.String(), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("redis-cli -c, line %d of %d: %q, want %q", i+1, len(wl), gl[i], wl[i])
			}
		}
		t.Fatalf("redis-cli -c printed %d lines, want %d", len(gl), len(wl))
	}
	t.Logf("%d forms (GET, and RANK of a tenth), in %v", n, time.Since(start).Round(time.Millisecond))
	for _, addr := range sc.addrs {
		host, port, _ := strings.Cut(addr, ":")
		out, err := exec.Command(cli, "-c", "-h", host, "-p", port, "TAG", "LIMIT", "0", tagText).Output()
		if err != nil || strings.TrimSuffix(string(out), "\n") != strings.Join(wholeTag, "\n") {
			t.Errorf("redis-cli -c -p %s TAG: %q, %v", port, out, err)
		}
	}
	out, _ = exec.Command(cli, "-c", "-h", host, "-p", port, "MGET", "monday", "Monday").Output()
	if !strings.HasPrefix(string(out), "CROSSSLOT") {
		t.Errorf("redis-cli -c MGET across slots: %q, want CROSSSLOT as from Redis", out)
	}
}

// checkShardKilled kills one shard with SIGKILL and asks every form again:
// a form fails when the killed shard served its slot or held it, and only
// then; the others answer as before.
func checkShardKilled(t *testing.T, sc *shardCluster) {
	const dead = 1
	sc.nodes[dead].Kill()
	ctx := context.Background()
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{sc.addrs[0], sc.addrs[2]}, MaxRedirects: 1,
		DialTimeout: time.Second, ReadTimeout: 5 * time.Second})
	defer c.Close()
	var failed, answered int
	for chunk := range slices.Chunk(sample(sc.forms, 10), 5000) {
		cmds, _ := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, f := range chunk {
				p.Get(ctx, f.Word)
			}
			return nil
		})
		for i, f := range chunk {
			get, err := cmds[i].(*redis.StringCmd).Result()
			node := sc.cfg.Owner(cluster.Slot([]byte(f.Word)))
			if node == dead || slices.Contains(sc.holders(f.Word), dead) {
				if err == nil || err == redis.Nil {
					t.Fatalf("GET %s, whose slot the killed shard served, answered %q", f.Word, get)
				}
				failed++
				continue
			}
			if err == redis.Nil {
				err = nil
			}
			if err != nil || get != f.Get {
				t.Fatalf("GET %s, which a live shard serves, after the kill: %q, %v; want %q", f.Word, get, err, f.Get)
			}
			answered++
		}
	}
	if failed == 0 || answered == 0 {
		t.Fatalf("%d failed, %d answered: the test proves nothing", failed, answered)
	}
	t.Logf("after the kill: %d forms answered, %d failed (their slot or their stored form's on the killed shard)", answered, failed)
}

// TestClusterRefusals: a node is given the shard its line of the
// configuration names, or it does not start; a reload that brings another
// shard fails and the node goes on serving its own; a shard is not served
// without its cluster.
func TestClusterRefusals(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command(freqdBin, "build", "-o", filepath.Join(dir, "s.freq"), "--shards", "2", "--default").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	shard := func(i int) string { return filepath.Join(dir, fmt.Sprintf("s.%d-of-2.freq", i)) }
	a, b := freePort(t), freePort(t)
	conf := filepath.Join(dir, "cluster.conf")
	os.WriteFile(conf, fmt.Appendf(nil, "0-8191 %s\n8192-16383 %s\n", a, b), 0o644)
	serve := func(args ...string) (string, error) {
		cmd := exec.Command(freqdBin, append([]string{"serve", "--listen", "127.0.0.1:0", "--workers", "1"}, args...)...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--data", shard(1)}, "is shard 1 of 2 (slots 0-8191) of a set; serve it as a node of its cluster, with --cluster-config"},
		{[]string{"--cluster-config", conf}, "is a whole table, not a shard, and the cluster configuration has 2 shards (0-8191, 8192-16383)"},
		{[]string{"--cluster-config", filepath.Join(dir, "nope")}, "cluster configuration: open"},
		{[]string{"--mode", "goroutine", "--data", shard(1), "--cluster-config", conf}, "does not use --cluster-config"},
	} {
		out, err := serve(c.args...)
		if err == nil || !strings.Contains(out, c.want) {
			t.Errorf("serve %v: %v\n%s\nwant an error with %q", c.args, err, out, c.want)
		}
	}
	other := filepath.Join(dir, "other.conf")
	os.WriteFile(other, fmt.Appendf(nil, "0-100 %s\n101-16383 %s\n", a, b), 0o644)
	if out, err := serve("--data", shard(1), "--cluster-config", other); err == nil || !strings.Contains(out, "no shard of the cluster configuration serves slots 0-8191 (it has 0-100, 101-16383)") {
		t.Errorf("a shard the configuration does not name: %v\n%s", err, out)
	}

	// A node serving shard 1 is sent shard 2 on a reload.
	data := filepath.Join(dir, "data.freq")
	copyFile(t, shard(1), data)
	n := testserver.Start(t, freqdBin, mode.FDPass, 1, "--listen", a, "--data", data, "--cluster-config", conf)
	copyFile(t, shard(2), data)
	syscall.Kill(n.Pid, syscall.SIGHUP)
	testserver.Eventually(t, 10*time.Second, func() bool { return n.Log.Contains("reload failed; still serving the old table") },
		func() string { return "no failed reload in the log:\n" + n.Log.String() })
	if !n.Log.Contains("is shard 2 of 2 (slots 8192-16383), and this node serves slots 0-8191: a reload cannot change a node's shard") {
		t.Errorf("the failed reload does not say why:\n%s", n.Log)
	}
	c := redis.NewClient(&redis.Options{Addr: a})
	defer c.Close()
	if got, err := c.Get(context.Background(), "monday").Result(); err != nil || got != strconv.FormatUint(testserver.Subtlex()["monday"], 10) {
		t.Errorf("after the failed reload, GET monday: %q, %v", got, err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	tmp := to + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, to); err != nil {
		t.Fatal(err)
	}
}
