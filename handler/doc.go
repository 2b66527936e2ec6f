// Package handler is freqd's protocol core: it turns request bytes into reply
// bytes against a frequency Table, and knows nothing of processes, listeners
// or event loops. Every server design freqd runs (pre-forked workers,
// goroutine per connection, epoll) feeds it the same way, so they answer
// identically and can be compared on the same work.
//
// A Handler is shared by all connections of a process and holds the table,
// the limits and the server-wide counters. Each connection gets a Session,
// whose Process consumes every complete request in a buffer and appends the
// replies; Handler.ServeConn is the blocking read-process-write loop built on
// it for designs that give each connection its own thread of control.
//
// # Commands
//
// The word commands: GET word (the count as a bulk string, nil when absent),
// MGET, EXISTS, FREQ (counts as integers, 0 when absent), RANK (1 is the most
// frequent word), DBSIZE and TAG. The table also reads as a Redis keyspace
// of string keys that never expire: SCAN, KEYS, RANDOMKEY, TYPE, STRLEN,
// TTL, PTTL, MEMORY USAGE, OBJECT ENCODING. The rest is what Redis clients,
// tools and load balancers send on their own: PING, ECHO, QUIT, INFO,
// SELECT 0, COMMAND, CLIENT, HELLO, AUTH, CONFIG GET and transactions
// (MULTI, EXEC, DISCARD, WATCH, UNWATCH), answered as Redis 7 would, in
// RESP2 or, after HELLO 3, RESP3, so that redis-cli, redis-benchmark,
// redis-py, phpredis, node-redis, ioredis, go-redis and HAProxy connect
// without special settings. Error texts are Redis's.
//
// On a table of phrases (built from n-grams; its metadata says "ngram"),
// the word commands take phrases, GET "new york", and a query's words are
// joined by single spaces before the lookup, as the build joined them, so
// "New  York" finds "new york" too.
//
// # Cluster
//
// With Options.Cluster the handler is a node of a Redis Cluster serving
// one shard of a table split by hash slot (freqd build --shards): keys of
// other shards' slots are MOVED there, keys of several slots CROSSSLOT,
// and CLUSTER SLOTS, SHARDS, NODES, INFO, MYID, KEYSLOT and
// COUNTKEYSINSLOT describe the configured map as Redis 7 does. A word sent
// to this node whose stored form another shard holds ("Monday", stored
// "monday") is asked of that shard, the request suspended meanwhile
// (cluster.go); TAG scores against the whole set from any node.
//
// # Authentication
//
// With Handler.RequirePass set, freqd behaves as a Redis whose requirepass
// is set: a connection must AUTH (or HELLO 2 AUTH default password) before
// any command but AUTH, HELLO and QUIT, which otherwise answers NOAUTH, and
// until then its requests are held to Redis's bounds for unauthenticated
// clients (10 arguments of 16 KiB). Passwords are compared in constant time;
// wrong ones are counted in INFO's auth_failures and cost nothing but the
// error reply. "default" is the only user.
//
// # Datagrams
//
// Handler.ServeDatagram answers a request datagram (UDP or unix) with one
// reply datagram. Over UDP, whose source addresses can be forged, the reply
// to a datagram that did not authenticate with the password is held to 3
// times the request's size on the wire (AmplificationBound), QUIC's rule
// against reflection attacks; ServeDatagram's documentation says what
// authenticates a datagram, and why without a password nothing does.
//
// # TAG scoring
//
// TAG [LIMIT n] text... returns the words of a text that are unusual for the
// corpus, highest score first, as a flat array [word, score, word, score,
// ...], 10 words unless LIMIT says otherwise (LIMIT 0: all of them). A word
// scores
//
//	occurrences in the text × log2((Total + 1) / (count + 1))
//
// where count is the word's frequency in the table and Total the table's sum
// of counts. The logarithm is the word's surprisal in bits under the
// corpus's unigram model, so the score is how much information the word
// carries in this text: frequent function words score near zero, a rare word
// used twice outranks one used once, and a word the corpus has never seen
// scores highest (log2 of Total+1, about 25.6 bits for SUBTLEX-US). Ties are
// broken by the word, so replies are deterministic.
//
// Words are runs of Unicode letters, digits and combining marks, with an
// apostrophe (' or ’) kept inside a word ("don't"); tokens without a letter
// (numbers) are not words. Occurrences are counted case-insensitively. A
// word's count is the largest the table gives for the word as first
// written, lower-cased or capitalised, so "The" at the start of a sentence
// counts as "the" and "london" as "London" even in a table built without
// case folding. A word is reported as first written in the text.
//
// TAG stays on single words unless the client asks for phrases with
// TAG [LIMIT n] PHRASES text..., on a table of phrases: then the terms are
// the runs of n consecutive words within a sentence (not across . ! ? ; :
// or a line break) for each n the table holds, lower-cased and joined by
// single spaces, scored the same way. PHRASES on a table of single words
// is an error.
package handler
