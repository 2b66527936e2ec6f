// Package scale holds the tests of the shapes freqd takes past one
// machine, run against real components: replicas behind HAProxy (Debian's
// package) with the configurations in contrib/ they use (make test-scale),
// and shards of one table served as a Redis Cluster to real cluster
// clients (make test-cluster). See docs/scaling.md.
package scale
