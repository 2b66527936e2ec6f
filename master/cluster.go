package master

import (
	"github.com/freqd/freqd/cluster"
	"github.com/freqd/freqd/table"
)

// loadTable loads the table to serve, at start-up and on a reload, and
// checks that it is what the cluster configuration expects: the shard of
// this node's line, or, without a configuration, not a shard at all. A
// reload that brings the wrong shard fails as a reload of a damaged file
// does, and the old table goes on being served.
func (m *Master) loadTable() (*table.Served, error) {
	t, err := table.Load(m.cfg.Data)
	if err != nil {
		return nil, err
	}
	if m.cfg.Cluster == nil {
		err = cluster.CheckStandalone(t.Table, t.Name)
	} else {
		var n *cluster.Node
		if n, err = cluster.NewNode(m.cfg.Cluster, t.Table, t.Name); err == nil {
			me := n.Myself()
			m.log.Info("cluster node", "slots", me.Slots.String(), "announced", me.Addr, "id", me.ID,
				"shards", len(m.cfg.Cluster.Shards), "set", n.Info.SetID)
		}
	}
	if err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}
