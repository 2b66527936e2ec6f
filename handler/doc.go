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
// frequent word), ZIPF and FPM (the scales below), DBSIZE and TAG. The
// table also reads as a Redis keyspace
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
// # Words
//
// Every command that takes a word normalizes it by the rules the table
// was built with (Table.Rules, package word), as the build normalized the
// table's words: on the embedded table "The", "ΣΟΦΟΣ" and a decomposed
// "café" find "the", "σοφοσ" and "café", and "don’t" finds "don't". A
// table that counts contractions by their parts, as SUBTLEX-US counts
// "don't" as "don" and "t", answers a contraction with its rarest part:
// GET, FREQ, EXISTS, ZIPF, FPM and TAG count "don't" as "don" (321,085,
// fewer than "t"), RANK gives "don"'s rank. The rarest part bounds the
// contraction's count from above, and is close to it when that part
// occurs almost only in the contraction, as "don", "didn" and "ll" do.
//
// # Scales
//
// ZIPF word... answers each word's Zipf value, the scale of van Heuven,
// Mandera, Keuleers and Brysbaert (2014) on which SUBTLEX publishes its
// frequencies: log10 of the word's frequency per billion words, with their
// add-one smoothing, log10((count+1) / (Total+Len) × 10⁹), so that a word
// never seen has a value (1.30 on SUBTLEX-US) and 4 to 7 is common. FPM
// word... answers frequencies per million words, count / Total × 10⁶.
// Both are arrays of doubles: RESP3 doubles, or bulk strings in RESP2.
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
// (cluster.go). The parts of a contraction and the pieces of an unspaced
// run are looked up the same way, each in the shard that holds it, and
// ZIPF, FPM and TAG use the whole set's words and total: every node
// answers as the whole table does.
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
// TAG [LIMIT n] [WITHSTATS] [PHRASES] text... returns the words of a text
// that it uses significantly more often than the corpus does, the keywords
// of corpus linguistics, most over-represented first: a map of word to
// score in RESP3, a flat array [word, score, word, score, ...] in RESP2, 10
// words unless LIMIT says otherwise (LIMIT 0: all of them). A text of
// common words has none.
//
// A word is kept when the text uses it more often than the corpus and
// Dunning's log-likelihood G² (Dunning 1993) says the difference is
// significant: for a word seen a times in a text of n words and b times in
// a corpus of N, as Rayson and Garside (2000) compare two corpora,
//
//	G² = 2 (a ln(a/E₁) + b ln(b/E₂)),  E₁ = n(a+b)/(n+N),  E₂ = N(a+b)/(n+N)
//
// must exceed the chi-squared critical value for p = 0.01 divided among
// the text's distinct words (Bonferroni): the same bar for a sentence and a
// manual, 10.8 for 10 distinct words, 23.9 for 10,000. A word the corpus
// has never seen clears it in a sentence (G² = 2a ln((n+N)/n)); used once in
// a manual, it does not.
//
// Kept words are ranked by an effect size, the score:
//
//	score = log2((f + 10) / (e + 10))
//
// where f is the word's frequency per million words in the text, 10⁶ a/n,
// and e its expected frequency per million from the corpus,
// 10⁶ (b+1)/(N+V), smoothed as ZIPF is (V is the table's number of words),
// so that a word the corpus lacks is expected at a rate that depends on
// the corpus's size and not at zero. For words well above 10 per million
// the score is Hardie's Log Ratio (2014): 1 is twice as frequent as the
// corpus, 3 eight times. The 10 added to both is Kilgarriff's "simple
// maths" (2009): it keeps a word used once or twice in a long text, and
// rare in the corpus, from outranking the words the text is about. Of his
// suggested values (1, 10, 100, 1000), 10 scored best on the evaluation
// of docs/tag.md, where Log Ratio alone and G² as the ranking both did
// worse. Ties are broken by G², then by the word, so replies are
// deterministic.
//
// With WITHSTATS, each word's score is replaced by an array of five: the
// score, the word's occurrences in the text (a), its count in the table
// (b), the occurrences the corpus predicts for a text of this length
// (n (b+1)/(N+V)), and G².
//
// Words are found as package word's Scan finds them (numbers are not
// words here), and normalized by the table's rules, so occurrences that
// differ only in case, apostrophe or Unicode form are one word, and a
// contraction on a table that splits them counts as its rarest part. A run
// of Chinese, Japanese or Thai is segmented by longest match against the
// table's words (word.Rules.Segment). On a table that keeps case a word's
// count is the largest the table gives for it as written, lower-cased or
// capitalised, so "The" at the start of a sentence counts as "the" and
// "london" as "London". A word is reported as the text writes it most
// often: a heading's "LICENSE" is the body's "license".
//
// TAG stays on single words unless the client asks for phrases with
// PHRASES, on a table of phrases: then the terms are the runs of n
// consecutive words within a sentence (not across . ! ? ; : or a line
// break) for each n the table holds, normalized as words are and joined by
// single spaces, scored the same way, n being the number of such runs.
// PHRASES on a table of single words is an error.
package handler
