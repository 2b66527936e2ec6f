package master

import (
	"fmt"

	"github.com/freqd/freqd/cluster"
	"github.com/freqd/freqd/table"
)

// loadTable loads the table to serve, at start-up and on a reload, and
// checks that it is what the cluster configuration expects: the shard of
// this node's line, or, without a configuration, not a shard at all. A
// reload that brings the wrong shard, or another shard of the set than
// the node started with (clients were told its slots), fails as a reload
// of a damaged file does, and the old table goes on being served.
func (m *Master) loadTable() (*table.Served, error) {
	t, err := table.Load(m.cfg.Data)
	if err != nil {
		return nil, err
	}
	if m.cfg.Cluster == nil {
		err = cluster.CheckStandalone(t.Table, t.Name)
	} else {
		var n *cluster.Node
		n, err = cluster.NewNode(m.cfg.Cluster, t.Table, t.Name)
		switch {
		case err != nil:
		case m.clusterSelf == nil:
			me := n.Myself()
			m.clusterSelf = &me
			m.log.Info("cluster node", "slots", me.Slots.String(), "announced", me.Addr, "id", me.ID,
				"shards", len(m.cfg.Cluster.Shards), "set", n.Info.SetID)
		case n.Myself() != *m.clusterSelf:
			// Clients were told this node's slots; they do not follow it.
			err = fmt.Errorf("%s is %s, and this node serves slots %s: a reload cannot change a node's shard; restart the node to serve another",
				t.Name, n.Info, m.clusterSelf.Slots)
		}
	}
	if err != nil {
		t.Close()
		return nil, err
	}
	if huge, hint := t.Pages(); hint != "" {
		m.log.Info("table pages", "table_bytes", t.Table.Size(), "huge_page_bytes", huge, "hint", hint)
	} else if huge > 0 {
		m.log.Info("table pages", "table_bytes", t.Table.Size(), "huge_page_bytes", huge)
	}
	return t, nil
}
