package cluster

import (
	"fmt"
	"strings"

	"github.com/freqd/freqd/shm/freqfile"
)

// Node is one server of a cluster: the configuration, which of its shards
// this server's table is, and that table's place in its set.
type Node struct {
	Config *Config
	Self   int       // index in Config.Shards of this server's shard
	Info   ShardInfo // what the table says about its set
	owner  []uint16  // per slot, index in Config.Shards
}

// NewNode checks that the table t (named name in errors) is one of the
// shards cfg describes, and returns the node that serves it. A table that
// is not a shard holds every slot: it serves a cluster of one shard.
func NewNode(cfg *Config, t *freqfile.Table, name string) (*Node, error) {
	info, _, err := ReadShard(t)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	n := &Node{Config: cfg, Self: -1, Info: info, owner: make([]uint16, Slots)}
	var ranges []string
	for i, s := range cfg.Shards {
		for slot := s.Slots.First; slot <= s.Slots.Last; slot++ {
			n.owner[slot] = uint16(i)
		}
		if s.Slots == info.Slots {
			n.Self = i
		}
		ranges = append(ranges, s.Slots.String())
	}
	if n.Self >= 0 {
		return n, nil
	}
	if !t.IsShard() {
		return nil, fmt.Errorf("%s is a whole table, not a shard, and the cluster configuration has %d shards (%s): serve on each node its shard, built with freqd build --shards %d",
			name, len(cfg.Shards), strings.Join(ranges, ", "), len(cfg.Shards))
	}
	return nil, fmt.Errorf("%s is %s, and no shard of the cluster configuration serves slots %s (it has %s): give every node the same configuration and the shard of its own line",
		name, info, info.Slots, strings.Join(ranges, ", "))
}

// Owner returns the index in Config.Shards of the shard serving slot.
func (n *Node) Owner(slot int) int { return int(n.owner[slot]) }

// Mine reports whether this node's shard serves slot.
func (n *Node) Mine(slot int) bool { return n.Config.Shards[n.Self].Slots.Contains(slot) }

// Myself is this node's line of the configuration.
func (n *Node) Myself() Shard { return n.Config.Shards[n.Self] }

// CheckStandalone refuses to serve a shard without its cluster: it holds
// only some words, and would answer nil for the others.
func CheckStandalone(t *freqfile.Table, name string) error {
	if !t.IsShard() {
		return nil
	}
	info, _, _ := ReadShard(t)
	return fmt.Errorf("%s is %s of a set; serve it as a node of its cluster, with --cluster-config naming every shard's address", name, info)
}
