// Package listen owns the sockets a freqd server listens on: it parses
// --listen addresses, binds them (TCP, unix stream, UDP and unix datagram
// sockets, with a clear error for a port in use, a path too long for
// sun_path, a socket file a live server still uses, a missing permission),
// adopts the ones a previous master or systemd passed down, and refuses, as
// Redis's protected mode does, to listen where other machines reach without
// a password.
//
// Every socket is held as a Socket: a bare descriptor, outside Go's
// runtime poller. A server that accepts on a socket with its own epoll set
// (the master's accept loop, the event-loop designs) or only passes it to
// other processes would otherwise leave it registered with the poller,
// which then wakes a thread for every connection or datagram that arrives,
// only to find nobody waiting on it. A design that does accept through Go's
// net package asks for a net.Listener on a duplicate (Socket.Listener).
package listen
