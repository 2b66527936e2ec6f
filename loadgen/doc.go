// Package loadgen is freqd's load generator: it sends GET requests to a
// running server over many connections, checks every reply against the
// frequency table the server serves, and reports throughput, latency
// percentiles and failures by kind. `freqd bench` is a thin wrapper around
// Run; other code (a comparison of server designs, say) can call Run itself.
//
// # Keys and answers
//
// Keys are the table's own words, so the generator knows the right answer to
// every request: GET of a word must return its count as a bulk string, and
// GET of an absent word must return nil. With KeysZipf (the default) ranks
// are drawn from a Zipf distribution (exponent 1.07) over rank 1..Len, which
// approximates sampling words by their frequency in the corpus, as real text
// would, without building an alias table of the counts. The approximation is
// rough at the head: on SUBTLEX-US the 10 most frequent words get 33% of the
// requests against 24% of the corpus, the top 1000 get 72% against 86%.
// KeysUniform draws ranks uniformly, so rare words and cache misses dominate. Config.Miss mixes
// in words that are not in the table.
//
// A reply that is not the table's answer is counted as "wrong", never
// dropped: a different count, nil for a present word, a count for an absent
// one, or a reply of another type. Replies are read by a small RESP reader
// written for this job rather than a client library, so that the numbers
// measure the server and not a library's connection pool; it bounds every
// length it is told, and on the hot path it does not allocate.
//
// # Closed and open loops
//
// By default each connection runs a closed loop: send, wait for the reply
// (or the Pipeline replies), send again. A closed loop measures the
// throughput a server sustains, but its latencies lie under overload: when
// the server stalls, the clients stall with it and stop sending, so the
// requests that would have queued up behind the stall are never issued and
// never measured. That is coordinated omission (Gil Tene's term).
//
// With Config.Rate set, the run is an open loop at that total arrival rate,
// as wrk2 does it: request i is due at start + i/Rate, spread over the
// connections in turn, and its latency is measured from that intended send
// time, not from the moment it was actually written. A connection that falls
// behind sends what is due back to back (up to Pipeline at once), and each
// of those requests is charged the time it spent waiting to be sent. So the
// percentiles show what users arriving at that rate would have seen. Requests
// still due when the run ends were never sent; they are reported as Unsent.
//
// Measuring from due times makes the generator's own punctuality part of
// every latency. Go's timers wake up to a millisecond late on Linux, so a
// pacer thread wakes the connections instead (see pacer), and the lateness
// that remains is measured and reported as WakeLag: latencies not well above
// it measure the generator and the host's scheduler, not the server.
//
// With Reconnect every round trip opens a new connection (connection per
// request when Pipeline is 1), and in a closed loop its latency includes the
// connect; with keep-alive connections the connect is not part of any
// request's latency. Each connection the generator closes leaves a TIME_WAIT
// socket on this host: over loopback Linux reuses them, but against another
// host a few thousand connections a second can use up the local ports, and
// the run then fails with "cannot assign requested address" (kind other).
//
// # Datagrams
//
// With Addr udp:host:port or unixgram:/path (`freqd bench --udp`), each
// client is a datagram socket instead of a connection: a round trip is one
// request datagram holding Pipeline GETs and the one reply datagram that
// answers it. A request with no reply within Timeout (DefaultDatagramTimeout
// unless set) is counted lost, not timed out: a datagram service loses
// datagrams by design (a full socket buffer, a worker killed mid-request),
// so loss is a measurement, reported apart from wrong answers. After a loss
// the client replaces its socket, so that a reply arriving late is dropped
// by the kernel instead of being taken for the answer to a later request.
// A unix datagram client binds an abstract name (Linux), since the server
// can only answer a socket that has an address. Reconnect has no meaning
// here and is refused.
//
// # Failures
//
// Every request either succeeds (a right answer) or fails with one Kind:
// refused (nobody listening: ECONNREFUSED, or a missing unix socket), reset
// (the connection was reset or closed before the reply), timeout (no reply
// within Config.Timeout), wrong (see above), other (anything else, including
// error replies such as "-ERR ..." and replies that break RESP), lost
// (datagrams only: no reply within Config.Timeout). When a
// connection fails, the requests written on it that had no reply yet fail
// with it, and the connection is opened again for the next round trip.
// Latency percentiles are over successful requests only.
//
// # Result as JSON
//
// Result marshals to one JSON object with stable field names; durations are
// integer nanoseconds and rates are per second:
//
//	addr, loop ("closed" or "open"), conns, pipeline, reconnect,
//	keys ("zipf" or "uniform"), miss, rate_rps (target, 0 in a closed loop),
//	seed (repeats the key choice),
//	requests (ok + failed), ok, failed, unsent, duration_ns, throughput_rps
//	(ok per second), latency_ns {p50, p90, p99, p99_9, max, mean},
//	wake_lag_ns (same fields; all 0 in a closed loop),
//	errors {refused, reset, timeout, wrong, other, lost}, first_error (the first
//	failure, described; omitted when none), interrupted (the context was
//	cancelled before the run ended).
package loadgen
