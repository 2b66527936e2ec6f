// Package worker is one freqd worker process: it maps the shared frequency
// table, takes connections (from the master's descriptor queue or by
// accepting on inherited listeners), and serves them all on one event loop
// (package evloop) with the same handler every server design uses.
//
// A worker knows only what its Spec and inherited descriptors tell it. It
// writes only its own scoreboard slot. It leaves when its master does: EOF on
// the control socket ends it within a second, and Pdeathsig is the backstop.
package worker
