// Package scale holds the tests of the shapes freqd takes past one
// machine, run against real components: replicas behind HAProxy (Debian's
// package), and the configurations in contrib/ they use. See
// docs/scaling.md.
package scale
