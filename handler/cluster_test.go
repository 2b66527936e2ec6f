package handler

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/freqd/freqd/cluster"
	"github.com/freqd/freqd/data"
	"github.com/freqd/freqd/shm/freqfile"
	"github.com/freqd/freqd/word"
)

// testCluster is the folded SUBTLEX-US list served whole by one Handler,
// and as shards by Handlers that each serve real connections on loopback,
// a goroutine per connection, and reach each other through cluster.Peers.
type testCluster struct {
	whole *Handler
	nodes []*Handler
	addrs []string
	lns   []net.Listener
	cfg   *cluster.Config
	words []string // the whole table's words, in rank order
}

var (
	foldedOnce    sync.Once
	foldedEntries []freqfile.Entry
)

// folded returns the SUBTLEX-US list case-folded, the counts of words that
// fold alike summed, as freqd build makes it.
func folded() []freqfile.Entry {
	foldedOnce.Do(func() {
		sum := map[string]uint64{}
		sc := bufio.NewScanner(bytes.NewReader(data.SubtlexUS))
		for sc.Scan() {
			w, n, _ := strings.Cut(sc.Text(), "\t")
			var c uint64
			fmt.Sscan(n, &c)
			sum[string(freqfile.Fold(nil, []byte(w)))] += c
		}
		for w, c := range sum {
			foldedEntries = append(foldedEntries, freqfile.Entry{Word: w, Count: c})
		}
	})
	return foldedEntries
}

// startCluster serves the folded list whole, and as n shards on loopback.
func startCluster(t *testing.T, n int) *testCluster {
	return startClusterOf(t, n, append([]freqfile.Entry(nil), folded()...), freqfile.BuildOptions{FoldCase: true})
}

// startClusterOf serves entries, written with opts, whole and as n shards
// on loopback.
func startClusterOf(t *testing.T, n int, entries []freqfile.Entry, opts freqfile.BuildOptions) *testCluster {
	t.Helper()
	var buf bytes.Buffer
	if err := freqfile.WriteTable(&buf, entries, opts); err != nil {
		t.Fatal(err)
	}
	whole, err := freqfile.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	tc := &testCluster{whole: New(whole, Options{})}
	for r := uint64(1); r <= whole.Len(); r++ {
		w, _, _ := whole.Entry(r)
		tc.words = append(tc.words, string(w))
	}
	var conf strings.Builder
	for _, r := range cluster.Split(n) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		tc.lns = append(tc.lns, ln)
		tc.addrs = append(tc.addrs, ln.Addr().String())
		fmt.Fprintf(&conf, "%s %s\n", r, ln.Addr())
	}
	if tc.cfg, err = cluster.ParseConfig([]byte(conf.String())); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var files []cluster.ShardFile
	for i, r := range cluster.Split(n) {
		files = append(files, cluster.ShardFile{Slots: r, Path: filepath.Join(dir, fmt.Sprint(i)), Index: i + 1, Count: n})
	}
	sw, err := cluster.NewSetWriter(files, opts, freqfile.StreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for r := uint64(1); r <= whole.Len(); r++ {
		w, c, _ := whole.Entry(r)
		if err := sw.Add(w, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Commit(); err != nil {
		t.Fatal(err)
	}
	for i, f := range files {
		tb, err := freqfile.Open(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tb.Close() })
		node, err := cluster.NewNode(tc.cfg, tb, f.Path)
		if err != nil {
			t.Fatal(err)
		}
		h := New(tb, Options{Cluster: node, Peers: cluster.NewPeers(node, "", 2*time.Second)})
		tc.nodes = append(tc.nodes, h)
		ln := tc.lns[i]
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go h.ServeConn(c)
			}
		}()
	}
	return tc
}

// ask runs req, whole requests, on a session of h as a server would: it
// sends the lookups a request waits for, and runs it again when they are
// answered.
func ask(h *Handler, req string) string {
	s := h.NewSession()
	defer s.Close()
	in := []byte(req)
	var out []byte
	for len(in) > 0 || s.Executing() {
		n, o, closeAfter := s.Process(in, out)
		out, in = o, in[n:]
		if s.Waiting() {
			s.fetchNow()
			continue
		}
		if closeAfter || n == 0 && !s.Executing() {
			break
		}
	}
	return string(out)
}

// nodeFor is the node a cluster client sends a key to: the one serving
// the slot of its bytes.
func (tc *testCluster) nodeFor(key string) *Handler {
	return tc.nodes[tc.cfg.Owner(cluster.Slot([]byte(key)))]
}

// TestClusterAnswersAsTheWholeTable sends every word, as stored and
// capitalised, to the node a cluster client would choose, pipelined
// with the other words that node gets: GET, RANK, TYPE, STRLEN and
// MEMORY USAGE answer byte for byte as the whole table does, whether the
// node holds the word or asks the shard that does.
func TestClusterAnswersAsTheWholeTable(t *testing.T) {
	tc := startCluster(t, 3)
	reqs := make([]strings.Builder, len(tc.nodes))
	requests, hops := 0, 0
	for i, w := range tc.words {
		if i%4 != 0 {
			continue // a quarter of them: scale/ tests them all through real clients
		}
		forms := []string{w, string(appendCapitalized(nil, []byte(w)))}
		if i%28 == 0 {
			forms = append(forms, strings.ToUpper(w), w+"zq") // and some absent words
		}
		for _, f := range forms {
			node := tc.cfg.Owner(cluster.Slot([]byte(f)))
			if node != tc.cfg.Owner(cluster.Slot(freqfile.Fold(nil, []byte(f)))) {
				hops++
			}
			for _, cmd := range [][]string{{"GET", f}, {"RANK", f}, {"TYPE", f}, {"STRLEN", f}, {"MEMORY", "USAGE", f}} {
				if cmd[0] != "GET" && i%20 != 0 {
					continue
				}
				reqs[node].WriteString(multibulk(cmd...))
				requests++
			}
		}
	}
	if hops < len(tc.words)/8 {
		t.Fatalf("only %d words need a second hop: the test would not test it", hops)
	}
	replies := make([]string, len(tc.nodes))
	var wg sync.WaitGroup
	for i, h := range tc.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i] = ask(h, reqs[i].String())
		}()
	}
	wg.Wait()
	// Each node's replies, in its requests' order, against the whole
	// table's replies to the same requests.
	for i := range tc.nodes {
		want := ask(tc.whole, reqs[i].String())
		if replies[i] != want {
			g, w := firstDiff(replies[i], want)
			t.Errorf("node %d answers %q where the whole table answers %q", i, g, w)
		}
	}
	t.Logf("%d requests, %d of whose words need a second hop", requests, hops)
}

// firstDiff returns the neighbourhood of the first difference of a and b.
func firstDiff(a, b string) (string, string) {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(i-40, 0)
	return a[from:min(i+40, len(a))], b[from:min(i+40, len(b))]
}

// TestClusterRedirectsAsRedis: a key of another shard's slot is MOVED
// there, keys of several slots are CROSSSLOT, in a transaction too, with
// Redis's replies; multi-key commands within a slot answer from every
// shard.
func TestClusterRedirectsAsRedis(t *testing.T) {
	tc := startCluster(t, 3)
	a := tc.nodes[0] // slots 0-5460: "monday" is slot 1784, "Monday" 13296
	for _, c := range []struct {
		req, want string
	}{
		{multibulk("GET", "Monday"), errorReply("MOVED 13296 " + tc.addrs[2])},
		{multibulk("RANK", "Monday"), errorReply("MOVED 13296 " + tc.addrs[2])},
		{multibulk("MEMORY", "USAGE", "Monday"), errorReply("MOVED 13296 " + tc.addrs[2])},
		{multibulk("MGET", "monday", "the"), errorReply(errCrossSlot)},
		{multibulk("EXISTS", "monday", "Monday"), errorReply(errCrossSlot)},
		{multibulk("WATCH", "Monday"), errorReply("MOVED 13296 " + tc.addrs[2])},
		{multibulk("MULTI") + multibulk("GET", "monday") + multibulk("GET", "{user1000}x") + multibulk("EXEC"),
			simple("OK") + simple("QUEUED") + simple("QUEUED") + errorReply(errCrossSlot)},
		{multibulk("MULTI") + multibulk("GET", "monday") + multibulk("GET", "Monday") + multibulk("EXEC"),
			simple("OK") + simple("QUEUED") + errorReply("MOVED 13296 "+tc.addrs[2]) + errorReply(errExecAbort)},
		{multibulk("READONLY") + multibulk("READWRITE") + multibulk("ASKING"), simple("OK") + simple("OK") + simple("OK")},
		{multibulk("CLUSTER", "KEYSLOT", "{user1000}.following"), ":3443\r\n"},
		{multibulk("CLUSTER", "COUNTKEYSINSLOT", "16384"), errorReply("ERR Invalid slot")},
		{multibulk("CLUSTER", "MYID"), bulk(tc.cfg.Shards[0].ID)},
		{multibulk("DBSIZE"), integer(a.table.Len())},
	} {
		if got := ask(a, c.req); got != c.want {
			t.Errorf("%q: got %q, want %q", c.req, got, c.want)
		}
	}
	// A transaction whose words other shards hold: each waits in turn.
	c := tc.nodes[2]
	req := multibulk("MULTI") + multibulk("GET", "Monday") + multibulk("RANK", "Monday") + multibulk("FREQ", "Monday", "Monday") + multibulk("EXEC")
	want := ask(tc.whole, req)
	if got := ask(c, req); got != want || !strings.Contains(want, "1698") {
		t.Errorf("EXEC with second hops: got %q, want %q", got, want)
	}
	// The slot counts add up to the node's words.
	var sum int64
	for slot := range cluster.Slots {
		var n int64
		fmt.Sscanf(ask(a, multibulk("CLUSTER", "COUNTKEYSINSLOT", fmt.Sprint(slot))), ":%d", &n)
		sum += n
		if n != 0 && !tc.cfg.Shards[0].Slots.Contains(slot) {
			t.Fatalf("node 1 counts %d words in slot %d, which it does not serve", n, slot)
		}
	}
	if sum != int64(a.table.Len()) {
		t.Errorf("COUNTKEYSINSLOT over every slot sums to %d, the node holds %d", sum, a.table.Len())
	}
}

// TestClusterTagFromAnyNode: TAG looks the text's words up on the shards
// that hold them and scores against the whole set: every node answers
// what the whole table does.
func TestClusterTagFromAnyNode(t *testing.T) {
	tc := startCluster(t, 3)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		var text []string
		for range 5 + rng.IntN(60) {
			w := tc.words[rng.IntN(len(tc.words))]
			if rng.IntN(3) == 0 {
				w = string(appendCapitalized(nil, []byte(w)))
			}
			text = append(text, w)
		}
		text = append(text, "Zyzzogeton") // one the corpus lacks
		req := multibulk("TAG", "LIMIT", "0", strings.Join(text, " ")) + multibulk("HELLO", "3") + multibulk("TAG", strings.Join(text, ", "))
		want := ask(tc.whole, req)
		for i, h := range tc.nodes {
			if got := ask(h, req); stripHello(got) != stripHello(want) {
				g, w := firstDiff(stripHello(got), stripHello(want))
				t.Fatalf("node %d: TAG %q: got %q, want %q", i, text, g, w)
			}
		}
	}
}

// TestClusterAnswersByTheTablesRules: on a table with the word package's
// rules, split into shards, a contraction is answered from parts that other
// shards may hold, a query is routed by its normal form (curly
// apostrophes, NFD, full case folding), an unspaced run is segmented by
// words of every shard, and ZIPF and FPM scale by the whole set: every node
// answers byte for byte as the whole table does. TAG costs a node at most
// one request per other shard, segmentation included.
func TestClusterAnswersByTheTablesRules(t *testing.T) {
	rules := word.Default()
	rules.SplitContractions = true
	rules.LongestUnspaced = 4
	sums := map[string]uint64{}
	for _, e := range folded() {
		sums[string(rules.AppendNormal(nil, []byte(e.Word)))] += e.Count
	}
	// Pieces of unspaced text whose longest matches span the shards. On
	// the second node (slots 5461-10922), 山水 and 火海風 are its own,
	// 山水火海 and 風雲 other shards': until it knows 山水火海, it splits
	// 山水火海風雲 as 山水 火海風 雲, and never tries 風雲.
	for w, n := range map[string]uint64{"北京": 900, "大学": 800, "北京大学": 300, "学生": 700, "中国": 1200, "文学": 400, "我": 5000, "在": 4000,
		"山水火海": 500, "山水": 600, "火海風": 400, "風雲": 450} {
		sums[w] += n
	}
	var entries []freqfile.Entry
	for w, n := range sums {
		entries = append(entries, freqfile.Entry{Word: w, Count: n})
	}
	tc := startClusterOf(t, 3, entries, freqfile.BuildOptions{FoldCase: true, Meta: rules.Meta()})
	if got := tc.nodes[0].table.Rules(); got != rules {
		t.Fatalf("a shard records the rules %+v, want %+v", got, rules)
	}

	forms := []string{"don\u2019t", "Don\u2019t", "DON'T", "don\u02bct", "can\u2019t", "I\u2019m", "You\u2019re",
		"won\u2019t", "rock\u2019n\u2019roll", "zyzz\u2019t", "cafe\u0301", "\u212aing", "CLA\u00df", "\u017fo",
		"\u03a3\u039f\u03a6\u039f\u03a3", "\u5317\u4eac\u5927\u5b66"}
	holders := 0
	for _, f := range forms {
		key := tc.whole.table.AppendKey(nil, []byte(f))
		var shards []int
		word.Parts(key, func(p []byte) { shards = append(shards, tc.cfg.Owner(cluster.Slot(p))) })
		if len(shards) > 1 && slices.ContainsFunc(shards, func(s int) bool { return s != shards[0] }) {
			holders++ // a contraction whose parts live on different shards
		}
		var req strings.Builder
		for _, cmd := range [][]string{{"GET", f}, {"FREQ", f}, {"RANK", f}, {"EXISTS", f}, {"ZIPF", f}, {"FPM", f}} {
			req.WriteString(multibulk(cmd...))
		}
		want := ask(tc.whole, req.String())
		if got := ask(tc.nodeFor(f), req.String()); got != want {
			t.Errorf("%s: the node of its slot answers %q, the whole table %q", f, got, want)
		}
	}
	if holders == 0 {
		t.Fatal("no contraction has parts on different shards: the test would not test it")
	}
	if got := ask(tc.whole, multibulk("GET", "don\u2019t")); got == "$-1\r\n" {
		t.Fatal("the whole table does not answer don\u2019t from its parts")
	}

	text := "I\u2019m sure we DON\u2019T know; you\u2019re at \u5317\u4eac\u5927\u5b66, and \u6211\u5728\u5317\u4eac\u5927\u5b66\u5b66\u4e60\u4e2d\u56fd\u6587\u5b66 " +
		"\u5317\u4eac\u5927\u5b66\u5b66\u751f \u5317\u4eac\u5927\u5b66 zyzzogeton's caf\u00e9 ca\u0301fe CLA\u00dfY \u5c71\u6c34\u706b\u6d77\u98a8\u96f2"
	req := multibulk("TAG", "LIMIT", "0", "WITHSTATS", text)
	want := ask(tc.whole, req)
	if !strings.Contains(want, "\u5317\u4eac\u5927\u5b66") || !strings.Contains(want, "\u98a8\u96f2") {
		t.Fatalf("the whole table's TAG does not segment the text: %q", want)
	}
	for i, h := range tc.nodes {
		before := h.lookups.Load()
		if got := ask(h, req); got != want {
			g, w := firstDiff(got, want)
			t.Errorf("node %d: TAG got %q, want %q", i, g, w)
		}
		if sent := h.lookups.Load() - before; sent > uint64(len(tc.nodes)-1) {
			t.Errorf("node %d sent %d requests to other shards for one TAG; one per other shard is enough", i, sent)
		}
	}
}

// stripHello drops the HELLO reply (whose client id differs) from replies.
func stripHello(s string) string {
	i := strings.Index(s, "%7\r\n")
	if i < 0 {
		return s
	}
	j := strings.Index(s[i:], "modules\r\n*0\r\n")
	return s[:i] + s[i+j+len("modules\r\n*0\r\n"):]
}

// TestClusterShardDown: with one shard's listener closed, words it holds
// get an error that names it, from any node, and every other word answers.
func TestClusterShardDown(t *testing.T) {
	tc := startCluster(t, 3)
	tc.lns[1].Close() // slots 5461-10922
	down := tc.cfg.Shards[1]
	var failed, answered int
	for i, w := range tc.words[:3000] {
		f := string(appendCapitalized(nil, []byte(w)))
		raw := tc.cfg.Owner(cluster.Slot([]byte(f)))
		stored := tc.cfg.Owner(cluster.Slot([]byte(w)))
		if raw == 1 {
			continue // the client could not reach that node at all
		}
		got := ask(tc.nodes[raw], multibulk("GET", f))
		if stored == 1 {
			failed++
			if !strings.HasPrefix(got, "-ERR another shard holds some of these words and did not answer (shard "+down.Slots.String()+" at "+down.Addr) {
				t.Fatalf("word %d, %s, held by the shard that is down: %q", i, f, got)
			}
			continue
		}
		answered++
		if want := ask(tc.whole, multibulk("GET", f)); got != want {
			t.Fatalf("%s, held by a shard that is up: %q, want %q", f, got, want)
		}
	}
	if failed == 0 || answered == 0 {
		t.Fatalf("%d words failed, %d answered: the test tests nothing", failed, answered)
	}
	// TAG needs every shard its words are on.
	if got := ask(tc.nodes[0], multibulk("TAG", "the cat on Monday and Friday")); !strings.HasPrefix(got, "-ERR another shard") {
		t.Errorf("TAG with a shard down: %q", got)
	}
}

// TestClusterCommands: the cluster's map as Redis 7 writes it, in RESP2
// and RESP3, and refusals outside a cluster.
func TestClusterCommands(t *testing.T) {
	tc := startCluster(t, 3)
	h := tc.nodes[1]
	id := func(i int) string { return bulk(tc.cfg.Shards[i].ID) }
	port := func(i int) string { return integer(uint64(tc.cfg.Shards[i].Port())) }
	wantSlots := func(m string) string {
		var b strings.Builder
		b.WriteString("*3\r\n")
		for i, s := range tc.cfg.Shards {
			fmt.Fprintf(&b, "*3\r\n:%d\r\n:%d\r\n*4\r\n%s%s%s%s", s.Slots.First, s.Slots.Last, bulk("127.0.0.1"), port(i), id(i), m)
		}
		return b.String()
	}
	if got := ask(h, multibulk("CLUSTER", "SLOTS")); got != wantSlots("*0\r\n") {
		t.Errorf("CLUSTER SLOTS: %q", got)
	}
	hello := ask(h, multibulk("HELLO", "3"))
	if !strings.Contains(hello, bulk("mode")+bulk("cluster")) {
		t.Errorf("HELLO 3 on a node: %q", hello)
	}
	if got := ask(h, multibulk("HELLO", "3")+multibulk("CLUSTER", "SLOTS")); !strings.HasSuffix(got, wantSlots("%0\r\n")) {
		t.Errorf("CLUSTER SLOTS in RESP3: %q", got)
	}
	shards := ask(h, multibulk("CLUSTER", "SHARDS"))
	want0 := "*4\r\n" + bulk("slots") + fmt.Sprintf("*2\r\n:0\r\n:%d\r\n", tc.cfg.Shards[0].Slots.Last) + bulk("nodes") + "*1\r\n*14\r\n" +
		bulk("id") + id(0) + bulk("port") + port(0) + bulk("ip") + bulk("127.0.0.1") + bulk("endpoint") + bulk("127.0.0.1") +
		bulk("role") + bulk("master") + bulk("replication-offset") + ":0\r\n" + bulk("health") + bulk("online")
	if !strings.HasPrefix(shards, "*3\r\n"+want0) {
		t.Errorf("CLUSTER SHARDS: %q, want it to begin %q", shards, want0)
	}
	nodes := ask(h, multibulk("CLUSTER", "NODES"))
	for i, s := range tc.cfg.Shards {
		flags := "master"
		if i == 1 {
			flags = "myself,master"
		}
		line := fmt.Sprintf("%s %s@0 %s - 0 0 %d connected %s\n", s.ID, s.Addr, flags, i+1, s.Slots)
		if !strings.Contains(nodes, line) {
			t.Errorf("CLUSTER NODES %q lacks %q", nodes, line)
		}
	}
	if info := ask(h, multibulk("CLUSTER", "INFO")); !strings.Contains(info, "cluster_state:ok\r\n") || !strings.Contains(info, "cluster_size:3\r\n") {
		t.Errorf("CLUSTER INFO: %q", info)
	}
	if info := ask(h, multibulk("INFO")); !strings.Contains(info, "redis_mode:cluster\r\n") || !strings.Contains(info, "# Cluster\r\ncluster_enabled:1\r\n") {
		t.Errorf("INFO on a node: %q", info)
	}
	if got := ask(h, multibulk("CLUSTER", "LOOKUP", "0123456789abcdef", "the")); !strings.HasPrefix(got, "-ERR this node serves set ") {
		t.Errorf("a lookup for another set: %q", got)
	}
	if got := ask(tc.whole, multibulk("CLUSTER", "SLOTS")+multibulk("READONLY")); got != errorReply(errClusterDisabled)+errorReply(errClusterDisabled) {
		t.Errorf("CLUSTER outside a cluster: %q", got)
	}
	if info := ask(tc.whole, multibulk("INFO", "cluster")); !strings.Contains(info, "cluster_enabled:0\r\n") {
		t.Errorf("INFO cluster outside a cluster: %q", info)
	}
}

// TestClusterCountsEachReadOnce: a command suspended for another shard's
// words is counted once, with its key reads.
func TestClusterCountsEachReadOnce(t *testing.T) {
	tc := startCluster(t, 3)
	h := tc.nodes[2] // serves "Monday"'s slot; "monday" is elsewhere
	before := h.Stats()
	ask(h, multibulk("MGET", "Monday", "Monday")+multibulk("GET", "Monday"))
	after := h.Stats()
	if d := after.KeyspaceHits - before.KeyspaceHits; d != 3 {
		t.Errorf("%d keyspace hits counted for three reads", d)
	}
	if d := after.Commands - before.Commands; d != 2 {
		t.Errorf("%d commands counted for two", d)
	}
	if n := h.calls[lookup([]byte("mget")).id].Load(); n != 1 {
		t.Errorf("MGET counted %d times", n)
	}
}

// TestClusterPipelineSharesLookups: requests pipelined behind one that
// waits for another shard are asked for with it, one lookup per shard,
// and up to a command that could change what they answer.
func TestClusterPipelineSharesLookups(t *testing.T) {
	tc := startCluster(t, 3)
	h := tc.nodes[0]
	var far []string // words node 0 gets by their bytes and others hold
	for _, w := range tc.words {
		c := string(appendCapitalized(nil, []byte(w)))
		if tc.nodeFor(c) == h && tc.nodeFor(w) != h && len(far) < 300 {
			far = append(far, c)
		}
	}
	var req strings.Builder
	for _, w := range far[:200] {
		req.WriteString(multibulk("GET", w))
	}
	req.WriteString(multibulk("TAG", strings.Join(far[200:250], " ")))
	req.WriteString(multibulk("HELLO", "3"))
	for _, w := range far[250:] {
		req.WriteString(multibulk("RANK", w))
	}
	before := h.lookups.Load()
	got := ask(h, req.String())
	if want := ask(tc.whole, req.String()); stripHello(got) != stripHello(want) {
		g, w := firstDiff(stripHello(got), stripHello(want))
		t.Fatalf("got %q, want %q", g, w)
	}
	// Two shards hold them; HELLO stops the look-ahead once.
	if n := h.lookups.Load() - before; n > 4 {
		t.Errorf("%d lookups for 300 words of two shards in one pipeline; want at most 4", n)
	}
}

// TestClusterDatagram: a datagram's commands whose words other shards
// hold are answered as over a stream, the datagram's reader waiting.
func TestClusterDatagram(t *testing.T) {
	tc := startCluster(t, 3)
	h := tc.nodes[2] // serves "Monday"'s slot; "monday" is elsewhere
	req := []byte(multibulk("GET", "Monday") + multibulk("RANK", "Monday") + multibulk("GET", "Monday") + "GET tuesday\r\n")
	got := string(h.ServeDatagram(req, nil, DatagramLimits{MaxReply: MaxUDP4Reply}))
	if want := ask(tc.whole, string(req)); got != want {
		t.Errorf("datagram: %q, want %q", got, want)
	}
}
