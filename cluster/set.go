package cluster

import (
	"fmt"
	"strconv"

	"github.com/freqd/freqd/shm/freqfile"
)

// Metadata keys a shard records about its set, beside freqfile's
// set.words (docs/format.md, "Shards").
const (
	MetaSetID      = "set.id"      // 16 hex digits: a hash of the set's words and counts in rank order
	MetaSetTotal   = "set.total"   // the sum of the set's counts
	MetaSetShards  = "set.shards"  // N, for a set built as N shards
	MetaShardIndex = "shard.index" // 1..N, for a set built as N shards
	MetaShardSlots = "shard.slots" // the slots whose words the shard holds: FIRST-LAST
)

// ShardInfo is a table's place in a set of shards.
type ShardInfo struct {
	SetID    string // the set's id, the same in every shard of the set
	SetWords uint64 // words in the whole set
	SetTotal uint64 // the sum of the whole set's counts
	Slots    Range  // the slots whose words this table holds
	Index    int    // 1..Count, or 0 for a shard built alone (--slots)
	Count    int    // shards in the set, 0 when unknown
}

// String names the shard for messages: "shard 2 of 3 (slots 5461-10922)".
func (s ShardInfo) String() string {
	if s.Index > 0 {
		return fmt.Sprintf("shard %d of %d (slots %s)", s.Index, s.Count, s.Slots)
	}
	return "the shard of slots " + s.Slots.String()
}

// Whole is the ShardInfo of a table that is not a shard: it holds every
// slot, and its set is itself.
func Whole(t *freqfile.Table) ShardInfo {
	return ShardInfo{SetID: fmt.Sprintf("%016x", t.Checksum()), SetWords: t.Len(), SetTotal: t.Total(), Slots: Range{0, Slots - 1}}
}

// ReadShard reads where a shard belongs from its metadata. ok is false for
// a table that is not a shard; err says what is wrong with a shard whose
// metadata is damaged or incomplete.
func ReadShard(t *freqfile.Table) (info ShardInfo, ok bool, err error) {
	if !t.IsShard() {
		return Whole(t), false, nil
	}
	get := func(key string) string { v, _ := t.Meta(key); return v }
	info = ShardInfo{SetID: get(MetaSetID), SetWords: t.SetWords()}
	bad := func(key string) error {
		return fmt.Errorf("a shard whose metadata %s=%s is not valid; rebuild it with freqd build --shards", key, get(key))
	}
	if len(info.SetID) != 16 {
		return info, true, bad(MetaSetID)
	}
	if info.SetTotal, err = strconv.ParseUint(get(MetaSetTotal), 10, 64); err != nil || info.SetTotal < t.Total() {
		return info, true, bad(MetaSetTotal)
	}
	if info.Slots, err = ParseRange(get(MetaShardSlots)); err != nil {
		return info, true, bad(MetaShardSlots)
	}
	if v := get(MetaShardIndex); v != "" {
		info.Index, err = strconv.Atoi(v)
		info.Count, _ = strconv.Atoi(get(MetaSetShards))
		if err != nil || info.Index < 1 || info.Index > info.Count {
			return info, true, bad(MetaShardIndex)
		}
	}
	return info, true, nil
}
