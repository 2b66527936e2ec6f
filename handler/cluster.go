package handler

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/freqd/freqd/cluster"
	"github.com/freqd/freqd/resp"
	"github.com/freqd/freqd/word"
)

// A node of a cluster (Options.Cluster) answers as a Redis Cluster node
// whose slots are those of its shard:
//
//   - A command on keys is refused with -CROSSSLOT when its keys hash to
//     different slots, and sent away with -MOVED slot host:port when
//     another shard serves their slot, as Redis does, so that cluster
//     clients learn the map and split multi-key commands.
//   - A word the client sent to the right node by its bytes may be stored
//     in another form that another shard holds: the client hashes
//     "Monday" (slot 13296), the table holds "monday" (slot 1784). The
//     node then asks that shard (a second hop, through Options.Peers)
//     and answers as if it held the word. TAG looks its words up the same
//     way, one request per shard, and scores against the whole set's
//     total, so it answers alike on every node.
//   - DBSIZE, KEYS, SCAN, RANDOMKEY and INFO's keyspace describe this
//     node's words, as each Redis node describes its own keys; the tips
//     of DBSIZE and KEYS tell clients to ask every shard.
//
// A command whose words another shard holds is suspended rather than
// blocking: the first run collects the words it needs from other shards
// and its reply is dropped; the session waits (Waiting) while the caller
// sends the lookups (Stream.Fetch) and delivers the answers; then the
// same request runs again, its words answered from what came back. Every
// command is a pure function of the table, so the second run is the only
// one that counts. Requests pipelined behind it wait, in order.

// Peers reaches the other shards of a cluster for the words they hold.
// *cluster.Peers is the implementation; Lookup must not block, and must
// call done exactly once, within a bounded time.
type Peers interface {
	Lookup(shard int, words [][]byte, done func([]cluster.Entry, error))
}

// Replies of a cluster node, in Redis's words.
const (
	errClusterDisabled = "ERR This instance has cluster support disabled"
	errCrossSlot       = "CROSSSLOT Keys in request don't hash to the same slot"
)

// The phases of a command that needs other shards' words.
const (
	remoteIdle     = iota // running, or nothing pending
	remoteWaiting         // suspended: its lookups are to be sent
	remoteSent            // suspended: its lookups are out
	remoteAnswered        // every lookup answered: it runs again
)

// remoteState is what a Session keeps of the words other shards hold: the
// words its requests need, and the answers, kept while the requests
// pipelined behind a suspended one run (they were asked for together), and
// dropped once the client's input is drained.
type remoteState struct {
	phase   uint8
	missing bool           // this run met words not yet fetched
	index   map[string]int // a word's key → its position in words
	words   [][]byte       // the keys, in the order they were met
	shard   []int          // the shard holding each
	entries []cluster.Entry
	failed  []error     // why a word's shard did not answer, nil when it did
	fetched int         // words[:fetched] have been asked for
	fetches []Fetch     // the batches out, one per shard
	pending int         // batches not yet answered
	failure error       // the failure the running command met, if any
	ahead   resp.Parser // parses the requests behind a suspended one
}

// Fetch is one batch of words a suspended request needs from one shard.
type Fetch struct {
	Shard int
	Words [][]byte
	pos   []int // positions in remoteState.words
}

// lookAheadMax bounds how many pipelined requests a suspended one collects
// the words of, and keepRemoteWords how many words a session keeps
// answers for.
const (
	lookAheadMax    = 512
	keepRemoteWords = 8192
)

// Waiting reports whether the session is suspended until other shards
// answer: its request runs again once every Fetch is delivered.
func (s *Session) Waiting() bool {
	return s.remote.phase == remoteWaiting || s.remote.phase == remoteSent
}

// clusterView is a Session seen as the whole set's table: a word another
// shard holds is answered from what that shard said, or recorded as
// needed; the set's total stands for the table's.
type clusterView Session

// corpus is the table a command reads words from: the whole set, on a
// node of a cluster.
func (s *Session) corpus() Table {
	if s.h.node == nil {
		return s.h.table
	}
	return (*clusterView)(s)
}

// Lookup normalizes the word to its key, the form a shard holds it in,
// and looks that up as LookupNormal does.
func (v *clusterView) Lookup(word []byte) (uint64, bool) {
	s := (*Session)(v)
	s.key = s.h.table.AppendKey(s.key[:0], word)
	return v.LookupNormal(s.key)
}

func (v *clusterView) Rank(word []byte) (uint64, bool) {
	s := (*Session)(v)
	s.key = s.h.table.AppendKey(s.key[:0], word)
	if slot := cluster.Slot(s.key); !s.h.node.Mine(slot) {
		e := s.remoteEntry(slot, s.key)
		return e.Rank, e.Found
	}
	return s.h.table.Rank(s.key)
}

// LookupNormal looks up a word already in the table's normal form, its
// own key: the parts of a contraction, the pieces of a segmented run,
// TAG's words. Each goes to the shard that holds it, as Lookup's do.
func (v *clusterView) LookupNormal(word []byte) (uint64, bool) {
	s := (*Session)(v)
	if slot := cluster.Slot(word); !s.h.node.Mine(slot) {
		e := s.remoteEntry(slot, word)
		return e.Count, e.Found
	}
	return s.h.table.LookupNormal(word)
}

func (v *clusterView) Len() uint64                              { return v.h.table.Len() }
func (v *clusterView) Total() uint64                            { return v.h.node.Info.SetTotal }
func (v *clusterView) Entry(rank uint64) ([]byte, uint64, bool) { return v.h.table.Entry(rank) }
func (v *clusterView) Checksum() uint64                         { return v.h.table.Checksum() }
func (v *clusterView) ID() uint32                               { return v.h.table.ID() }
func (v *clusterView) Meta(key string) (string, bool)           { return v.h.table.Meta(key) }
func (v *clusterView) Size() int64                              { return v.h.table.Size() }
func (v *clusterView) AppendKey(dst, query []byte) []byte       { return v.h.table.AppendKey(dst, query) }
func (v *clusterView) Rules() word.Rules                        { return v.h.table.Rules() }

// setSize returns the words and the total of the table a command scores
// against (ZIPF's smoothing, TAG's expectations): the whole set's on a
// node of a cluster, so that a shard answers as the whole table does.
func (s *Session) setSize() (words, total uint64) {
	if n := s.h.node; n != nil {
		return n.Info.SetWords, n.Info.SetTotal
	}
	return s.h.table.Len(), s.h.table.Total()
}

// remoteEntry answers a word another shard holds: from that shard's
// answer once it has come, or not found for now, the word recorded for
// the lookups the command will wait for.
func (s *Session) remoteEntry(slot int, key []byte) cluster.Entry {
	r := &s.remote
	if i, ok := r.index[string(key)]; ok && i < r.fetched {
		if err := r.failed[i]; err != nil && r.failure == nil {
			r.failure = err
		}
		return r.entries[i]
	} else if ok {
		r.missing = true
		return cluster.Entry{}
	}
	if r.index == nil {
		r.index = map[string]int{}
	}
	r.index[string(key)] = len(r.words)
	r.words = append(r.words, bytes.Clone(key))
	r.shard = append(r.shard, s.h.node.Owner(slot))
	r.entries = append(r.entries, cluster.Entry{})
	r.failed = append(r.failed, nil)
	r.missing = true
	return cluster.Entry{}
}

// reset forgets the words and answers kept.
func (r *remoteState) reset() {
	if len(r.words) == 0 && r.phase == remoteIdle {
		return
	}
	clear(r.index)
	if len(r.words) > keepRemoteWords {
		r.index = nil
	}
	*r = remoteState{index: r.index, words: r.words[:0], shard: r.shard[:0], entries: r.entries[:0],
		failed: r.failed[:0], fetches: r.fetches[:0], ahead: r.ahead}
}

// suspend drops the reply of a run that met words other shards hold: the
// session waits for their answers, and the request runs again.
func (s *Session) suspend(out []byte) []byte {
	r := &s.remote
	r.missing, r.failure = false, nil
	r.phase = remoteWaiting
	s.hits, s.misses = 0, 0
	return out
}

// lookAhead collects the words other shards hold of the requests pipelined
// behind a suspended one, in the complete requests at the start of in, so
// that one lookup per shard answers them all rather than one round trip
// each. It runs only commands that read the table (with keys this node
// serves, or TAG) and drops their replies; it stops at the first other
// command, which may change what the next ones answer (HELLO, CLIENT,
// MULTI...), and after lookAheadMax requests.
func (s *Session) lookAhead(in []byte) {
	if s.multi != nil || s.exec != nil || !s.authenticated() {
		return
	}
	r := &s.remote
	r.ahead.Reset()
	r.ahead.Limits = s.parser.Limits
	var scratch []byte
	hits, misses, slot := s.hits, s.misses, s.slot
	defer func() { s.hits, s.misses, s.slot, r.missing, r.failure = hits, misses, slot, false, nil }()
	for off, n := 0, 0; n < lookAheadMax && len(r.words) < keepRemoteWords; n++ {
		args, used, err := r.ahead.Next(in[off:])
		if err != nil {
			return
		}
		off += used
		if len(args) == 0 {
			continue
		}
		cmd, _ := resolve(args)
		if cmd == nil || cmd.flags&flagReadonly == 0 || cmd.keys.begin == 0 && cmd.name != "tag" || !cmd.arityOK(len(args)) {
			return
		}
		if cmd.keys.begin != 0 && s.redirect(cmd, args) != "" {
			continue // refused when its turn comes
		}
		scratch = cmd.run(s, args, scratch[:0])
	}
}

// Fetches returns the lookups a waiting session needs, one batch per
// shard, and marks them sent: the caller must deliver an answer to each,
// by index.
func (s *Session) Fetches() []Fetch {
	r := &s.remote
	if r.phase != remoteWaiting {
		return nil
	}
	byShard := map[int]int{}
	r.fetches = r.fetches[:0]
	for i := r.fetched; i < len(r.words); i++ {
		k, ok := byShard[r.shard[i]]
		if !ok {
			k = len(r.fetches)
			byShard[r.shard[i]] = k
			r.fetches = append(r.fetches, Fetch{Shard: r.shard[i]})
		}
		f := &r.fetches[k]
		f.Words = append(f.Words, r.words[i])
		f.pos = append(f.pos, i)
	}
	r.fetched = len(r.words)
	r.pending = len(r.fetches)
	r.phase = remoteSent
	return r.fetches
}

// Deliver records the answer to fetch i (entries for its words in order,
// or the error that kept its shard from answering). It reports whether
// every fetch is answered: the request can run again. It must be called
// on the goroutine that runs the session.
func (s *Session) Deliver(i int, entries []cluster.Entry, err error) bool {
	r := &s.remote
	if r.phase != remoteSent || i < 0 || i >= len(r.fetches) || r.pending == 0 {
		return false
	}
	f := &r.fetches[i]
	if err == nil && len(entries) != len(f.pos) {
		err = fmt.Errorf("shard %s answered %d words for %d", s.h.node.Config.Shards[f.Shard].Addr, len(entries), len(f.pos))
	}
	for k, p := range f.pos {
		if err != nil {
			r.failed[p] = err
		} else {
			r.entries[p] = entries[k]
		}
	}
	r.pending--
	if r.pending > 0 {
		return false
	}
	r.phase = remoteAnswered
	return true
}

// finishRemote ends a command that ran to the end: its reply stands, or
// is replaced by an error when a shard it needed did not answer. The
// answers stay for the requests behind it.
func (s *Session) finishRemote(out []byte, start int) []byte {
	r := &s.remote
	if r.failure != nil {
		out = resp.AppendError(out[:start], "ERR another shard holds some of these words and did not answer ("+r.failure.Error()+"); retry once it is back")
		r.failure = nil
	}
	if len(r.words) > keepRemoteWords {
		r.reset()
	}
	return out
}

// fetchNow sends a waiting session's lookups and waits for their answers:
// for the callers that may block (a datagram's reader, a goroutine per
// connection).
func (s *Session) fetchNow() {
	fetches := s.Fetches()
	answers := make(chan func() bool, len(fetches))
	startFetches(s, fetches, s.h.opts.Peers, func(apply func() bool) { answers <- apply })
	for range fetches {
		if (<-answers)() {
			return
		}
	}
}

// startFetches sends fetches through peers; each answer reaches deliver
// as a function to run on the session's goroutine, which reports whether
// the request can run again.
func startFetches(s *Session, fetches []Fetch, peers Peers, deliver func(apply func() bool)) {
	for i, f := range fetches {
		s.h.lookups.Add(1)
		s.h.lookupWords.Add(uint64(len(f.Words)))
		apply := func(entries []cluster.Entry, err error) {
			deliver(func() bool { return s.Deliver(i, entries, err) })
		}
		if peers == nil {
			apply(nil, fmt.Errorf("this node has no connection to the other shards"))
			continue
		}
		peers.Lookup(f.Shard, f.Words, apply)
	}
}

// redirect returns the error that refuses a command on keys here: Redis's
// -CROSSSLOT when they hash to different slots, -MOVED to the shard that
// serves their slot when it is not this one; "" to run it. It notes the
// slot for a transaction.
func (s *Session) redirect(cmd *command, args [][]byte) string {
	var buf [8]int
	slot := -1
	for _, i := range cmd.keys.keyPositions(buf[:0], len(args)) {
		sl := cluster.Slot(args[i])
		if slot >= 0 && sl != slot {
			return errCrossSlot
		}
		slot = sl
	}
	s.slot = slot
	n := s.h.node
	if slot < 0 || n.Mine(slot) {
		return ""
	}
	return "MOVED " + strconv.Itoa(slot) + " " + n.Config.Shards[n.Owner(slot)].Addr
}

// READONLY, READWRITE, ASKING: accepted on a cluster node, where every
// node serves reads and nothing migrates.
func runClusterOK(s *Session, _ [][]byte, out []byte) []byte {
	if s.h.node == nil {
		return resp.AppendError(out, errClusterDisabled)
	}
	return resp.AppendOK(out)
}

// clusterCommand wraps a CLUSTER subcommand with the refusal of a server
// that is not a node of a cluster.
func clusterCommand(run func(*Session, *cluster.Node, [][]byte, []byte) []byte) func(*Session, [][]byte, []byte) []byte {
	return func(s *Session, args [][]byte, out []byte) []byte {
		if s.h.node == nil {
			return resp.AppendError(out, errClusterDisabled)
		}
		return run(s, s.h.node, args, out)
	}
}

// CLUSTER SLOTS: each shard's slots and its address and id, as Redis 7
// writes them (an empty map of extra networking metadata after the id).
func runClusterSlots(s *Session, n *cluster.Node, _ [][]byte, out []byte) []byte {
	out = resp.AppendArrayLen(out, len(n.Config.Shards))
	for _, sh := range n.Config.Shards {
		out = resp.AppendArrayLen(out, 3)
		out = resp.AppendInt(out, int64(sh.Slots.First))
		out = resp.AppendInt(out, int64(sh.Slots.Last))
		out = resp.AppendArrayLen(out, 4)
		out = resp.AppendBulkString(out, sh.Host())
		out = resp.AppendInt(out, int64(sh.Port()))
		out = resp.AppendBulkString(out, sh.ID)
		out = resp.AppendMapLen(out, 0, s.proto)
	}
	return out
}

// CLUSTER SHARDS: each shard with its slots and its one node, as Redis 7.
func runClusterShards(s *Session, n *cluster.Node, _ [][]byte, out []byte) []byte {
	out = resp.AppendArrayLen(out, len(n.Config.Shards))
	for _, sh := range n.Config.Shards {
		out = resp.AppendMapLen(out, 2, s.proto)
		out = resp.AppendBulkString(out, "slots")
		out = resp.AppendArrayLen(out, 2)
		out = resp.AppendInt(out, int64(sh.Slots.First))
		out = resp.AppendInt(out, int64(sh.Slots.Last))
		out = resp.AppendBulkString(out, "nodes")
		out = resp.AppendArrayLen(out, 1)
		host := sh.Host()
		_, err := netip.ParseAddr(host)
		named := err != nil // a host name, which Redis reports apart
		fields := 7
		if named {
			fields++
		}
		out = resp.AppendMapLen(out, fields, s.proto)
		out = resp.AppendBulkString(out, "id")
		out = resp.AppendBulkString(out, sh.ID)
		out = resp.AppendBulkString(out, "port")
		out = resp.AppendInt(out, int64(sh.Port()))
		out = resp.AppendBulkString(out, "ip")
		out = resp.AppendBulkString(out, host)
		out = resp.AppendBulkString(out, "endpoint")
		out = resp.AppendBulkString(out, host)
		if named {
			out = resp.AppendBulkString(out, "hostname")
			out = resp.AppendBulkString(out, host)
		}
		out = resp.AppendBulkString(out, "role")
		out = resp.AppendBulkString(out, "master")
		out = resp.AppendBulkString(out, "replication-offset")
		out = resp.AppendInt(out, 0)
		out = resp.AppendBulkString(out, "health")
		out = resp.AppendBulkString(out, "online")
	}
	return out
}

// CLUSTER NODES: Redis's line per node: id, address@bus-port, flags,
// master, ping sent, pong received, epoch, link state, slots. There is no
// cluster bus, so its port is 0; each shard's epoch is its place in the
// configuration.
func runClusterNodes(s *Session, n *cluster.Node, _ [][]byte, out []byte) []byte {
	var text []byte
	for i, sh := range n.Config.Shards {
		flags := "master"
		if i == n.Self {
			flags = "myself,master"
		}
		text = fmt.Appendf(text, "%s %s@0 %s - 0 0 %d connected %s\n", sh.ID, sh.Addr, flags, i+1, sh.Slots)
	}
	return resp.AppendVerbatim(out, "txt", text, s.proto)
}

// CLUSTER INFO: the state Redis reports; the slot map never changes and
// every slot is served, so the state is ok.
func runClusterInfo(s *Session, n *cluster.Node, _ [][]byte, out []byte) []byte {
	shards := len(n.Config.Shards)
	text := fmt.Appendf(nil, "cluster_state:ok\r\ncluster_slots_assigned:%d\r\ncluster_slots_ok:%d\r\ncluster_slots_pfail:0\r\ncluster_slots_fail:0\r\n"+
		"cluster_known_nodes:%d\r\ncluster_size:%d\r\ncluster_current_epoch:%d\r\ncluster_my_epoch:%d\r\n"+
		"cluster_stats_messages_sent:0\r\ncluster_stats_messages_received:0\r\ntotal_cluster_links_buffer_limit_exceeded:0\r\n",
		cluster.Slots, cluster.Slots, shards, shards, shards, n.Self+1)
	return resp.AppendVerbatim(out, "txt", text, s.proto)
}

// CLUSTER MYID: this node's id.
func runClusterMyID(_ *Session, n *cluster.Node, _ [][]byte, out []byte) []byte {
	return resp.AppendBulkString(out, n.Myself().ID)
}

// CLUSTER KEYSLOT key: the slot clients route the key by.
func runClusterKeySlot(_ *Session, _ *cluster.Node, args [][]byte, out []byte) []byte {
	return resp.AppendInt(out, int64(cluster.Slot(args[2])))
}

// CLUSTER COUNTKEYSINSLOT slot: how many of this node's words are in the
// slot. The first call in a process counts them all, once.
func runClusterCountKeys(s *Session, _ *cluster.Node, args [][]byte, out []byte) []byte {
	slot, ok := parseInt(args[2])
	switch {
	case !ok:
		return resp.AppendError(out, errNotInteger)
	case slot < 0 || slot >= cluster.Slots:
		return resp.AppendError(out, "ERR Invalid slot")
	}
	return resp.AppendInt(out, int64(s.h.slotCounts()[slot]))
}

// slotCounts counts this node's words per slot, once.
func (h *Handler) slotCounts() []uint32 {
	h.slotsOnce.Do(func() {
		h.perSlot = make([]uint32, cluster.Slots)
		for r := uint64(1); r <= h.table.Len(); r++ {
			if w, _, ok := h.table.Entry(r); ok {
				h.perSlot[cluster.Slot(w)]++
			}
		}
	})
	return h.perSlot
}

// CLUSTER LOOKUP set-id word...: what a node asks the shard that holds
// words, for a client that sent them to it in another form: count then
// rank for each, rank 0 for a word this shard lacks. The words are keys
// as the table stores them, each in a slot this node serves; the set id
// keeps a node from mixing answers of another set's shards.
func runClusterLookup(s *Session, n *cluster.Node, args [][]byte, out []byte) []byte {
	if string(args[2]) != n.Info.SetID {
		return resp.AppendError(out, "ERR this node serves set "+n.Info.SetID+", not "+string(clip(args[2], 32))+": every node of a cluster must serve a shard of one set")
	}
	words := args[3:]
	for _, w := range words {
		if slot := cluster.Slot(w); !n.Mine(slot) {
			return resp.AppendError(out, "ERR slot "+strconv.Itoa(slot)+" is not served by this node: every node of a cluster must read the same --cluster-config")
		}
	}
	out = resp.AppendArrayLen(out, 2*len(words))
	for _, w := range words {
		count, _ := s.h.table.Lookup(w)
		rank, _ := s.h.table.Rank(w)
		out = resp.AppendUint(out, count)
		out = resp.AppendUint(out, rank)
	}
	return out
}

// appendClusterInfo is INFO's cluster section: cluster_enabled as Redis
// has it, and on a node what it serves.
func (h *Handler) appendClusterInfo(_ *ServerStats, b []byte) []byte {
	n := h.node
	if n == nil {
		return appendField(b, "cluster_enabled", "0")
	}
	b = appendField(b, "cluster_enabled", "1")
	b = appendField(b, "cluster_node_id", n.Myself().ID)
	b = appendField(b, "cluster_slots", n.Myself().Slots.String())
	b = appendUintField(b, "cluster_shards", uint64(len(n.Config.Shards)))
	b = appendField(b, "cluster_set_id", n.Info.SetID)
	b = appendUintField(b, "cluster_set_words", n.Info.SetWords)
	b = appendUintField(b, "cluster_set_total", n.Info.SetTotal)
	// The second hops of the process that answers (a worker of the pool).
	b = appendUintField(b, "cluster_lookups_sent", h.lookups.Load())
	return appendUintField(b, "cluster_lookup_words", h.lookupWords.Load())
}

// clusterSlots holds the per-slot counts of a Handler's words, and counts
// the lookups it sent other shards.
type clusterSlots struct {
	slotsOnce   sync.Once
	perSlot     []uint32
	lookups     atomic.Uint64 // batches of words asked of another shard
	lookupWords atomic.Uint64 // words in them
}

// Cluster returns the cluster node the Handler serves, nil outside one.
func (h *Handler) Cluster() *cluster.Node { return h.node }

// Peers returns what reaches the other shards for the sessions that wait
// without an event loop (Options.Peers).
func (h *Handler) Peers() Peers { return h.opts.Peers }

// mode is what HELLO and INFO call the server: "cluster" on a node.
func (h *Handler) mode() string {
	if h.node != nil {
		return "cluster"
	}
	return "standalone"
}
