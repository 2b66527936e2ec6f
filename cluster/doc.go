// Package cluster is what freqd needs to serve one table as shards that
// standard Redis Cluster clients route to: the hash slot of a key, the
// cluster configuration every node reads (which shard serves which slots,
// at which announced address), a shard table's place in its set, the
// writer that splits a build into shards, and the client a node uses to
// ask another shard for the words it holds.
//
// There is no gossip and no failover: the configuration is a file, the
// same on every node, and availability comes from replicas behind each
// shard's announced address (a load balancer, a Kubernetes Service).
//
// # Keys and their slots
//
// A key's slot is Redis Cluster's: CRC16 (XMODEM) of the key, or of the
// part between the first { and the next } when that part is not empty,
// modulo 16384. A build puts a word in the shard that serves the slot of
// the word as stored (case-folded, normalized); a client routes a query
// by the slot of the bytes it sends. Where the two differ ("Monday" is in
// slot 13296, "monday" in 1784) and different shards serve them, the node
// the client reached asks the owning shard (a second hop); docs/scaling.md
// says which answers cost one.
package cluster
