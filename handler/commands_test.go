package handler

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/freqd/freqd/data"
)

func TestCommandsAnswerLikeRedis(t *testing.T) {
	st := realTable(t)
	h := New(st.table, Options{})
	absent := "zzxqvjk"
	if _, ok := st.count[absent]; ok {
		t.Fatalf("%q is in the corpus; pick another absent word", absent)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"get", []string{"GET", "the"}, bulkUint(st.count["the"])},
		{"get lower-case name", []string{"get", "you"}, bulkUint(st.count["you"])},
		{"get is case-sensitive on an unfolded table", []string{"GeT", "I"}, bulkUint(st.count["I"])},
		{"get absent", []string{"GET", absent}, nilBulk},
		{"get arity", []string{"GET"}, arityError("get")},
		{"get too many", []string{"GET", "a", "b"}, arityError("get")},
		{"mget", []string{"MGET", "the", absent, "John"}, array(bulkUint(st.count["the"]), nilBulk, bulkUint(st.count["John"]))},
		{"mget arity", []string{"MGET"}, arityError("mget")},
		{"exists counts repeats", []string{"EXISTS", "the", absent, "the"}, integer(2)},
		{"freq", []string{"FREQ", "the", absent}, array(integer(st.count["the"]), integer(0))},
		{"rank", []string{"RANK", "the"}, integer(st.rank["the"])},
		{"rank of the most frequent", []string{"RANK", "you"}, integer(1)},
		{"rank absent", []string{"RANK", absent}, nilBulk},
		{"dbsize", []string{"DBSIZE"}, integer(data.SubtlexUSWords)},
		{"dbsize arity", []string{"DBSIZE", "x"}, arityError("dbsize")},
		{"zipf", []string{"ZIPF", "the", absent}, array(double(math.Log10(float64(st.count["the"]+1)/float64(st.total+data.SubtlexUSWords)*1e9)),
			double(math.Log10(1/float64(st.total+data.SubtlexUSWords)*1e9)))},
		{"zipf arity", []string{"ZIPF"}, arityError("zipf")},
		{"fpm", []string{"FPM", "the", absent}, array(double(float64(st.count["the"])/float64(st.total)*1e6), double(0))},
		{"fpm arity", []string{"FPM"}, arityError("fpm")},
		{"ping", []string{"PING"}, simple("PONG")},
		{"ping message", []string{"PING", "hi"}, bulk("hi")},
		{"ping arity", []string{"PING", "a", "b"}, arityError("ping")},
		{"echo", []string{"ECHO", "hello"}, bulk("hello")},
		{"echo arity", []string{"ECHO"}, arityError("echo")},
		{"unknown command", []string{"FOO", "a", "b"}, errorReply("ERR unknown command 'FOO', with args beginning with: 'a' 'b' ")},
		{"unknown command no args", []string{"FOO"}, errorReply("ERR unknown command 'FOO', with args beginning with: ")},
		{"select 0", []string{"SELECT", "0"}, simple("OK")},
		{"select 1", []string{"SELECT", "1"}, errorReply("ERR DB index is out of range")},
		{"select junk", []string{"SELECT", "x"}, errorReply("ERR value is not an integer or out of range")},
		{"select leading zero", []string{"SELECT", "00"}, errorReply("ERR value is not an integer or out of range")},
		{"select negative", []string{"SELECT", "-1"}, errorReply("ERR DB index is out of range")},
		{"hello 4", []string{"HELLO", "4"}, errorReply("NOPROTO unsupported protocol version")},
		{"hello leading zero", []string{"HELLO", "02"}, errorReply("ERR Protocol version is not an integer or out of range")},
		{"hello junk", []string{"HELLO", "x"}, errorReply("ERR Protocol version is not an integer or out of range")},
		{"hello bad option", []string{"HELLO", "2", "FOO"}, errorReply("ERR Syntax error in HELLO option 'FOO'")},
		{"client getname unset", []string{"CLIENT", "GETNAME"}, nilBulk},
		{"client setname", []string{"CLIENT", "SETNAME", "worker-1"}, simple("OK")},
		{"client setname space", []string{"CLIENT", "SETNAME", "a b"}, errorReply("ERR Client names cannot contain spaces, newlines or special characters.")},
		{"client setname arity", []string{"CLIENT", "SETNAME"}, arityError("client|setname")},
		{"client setinfo", []string{"CLIENT", "SETINFO", "LIB-NAME", "go-redis(,go1.26)"}, simple("OK")},
		{"client setinfo unknown", []string{"CLIENT", "SETINFO", "color", "red"}, errorReply("ERR Unrecognized option 'color'")},
		{"client unknown", []string{"CLIENT", "KILL"}, errorReply("ERR unknown subcommand 'KILL'. Try CLIENT HELP.")},
		{"command count", []string{"COMMAND", "COUNT"}, integer(uint64(numTopLevel))},
		{"command docs", []string{"COMMAND", "DOCS", "dbsize", "nope"}, array(bulk("dbsize"), array(
			bulk("summary"), bulk("Returns the number of words in the table."), bulk("since"), bulk("1.0.0"),
			bulk("group"), bulk("server"), bulk("complexity"), bulk("O(1)")))},
		{"command info", []string{"COMMAND", "INFO", "get", "nope"}, array(
			array(bulk("get"), ":2\r\n", array(simple("readonly"), simple("fast")), ":1\r\n", ":1\r\n", ":1\r\n",
				array(simple("@read"), simple("@string"), simple("@fast")), array(),
				array(array(bulk("flags"), array(simple("RO"), simple("access")),
					bulk("begin_search"), array(bulk("type"), bulk("index"), bulk("spec"), array(bulk("index"), ":1\r\n")),
					bulk("find_keys"), array(bulk("type"), bulk("range"), bulk("spec"),
						array(bulk("lastkey"), ":0\r\n", bulk("keystep"), ":1\r\n", bulk("limit"), ":0\r\n")))),
				array()),
			nilBulk)},
		{"command info of a subcommand", []string{"COMMAND", "INFO", "MEMORY|USAGE"}, array(
			array(bulk("memory|usage"), ":-3\r\n", array(simple("readonly")), ":2\r\n", ":2\r\n", ":1\r\n",
				array(simple("@read"), simple("@slow")), array(),
				array(array(bulk("flags"), array(simple("RO")),
					bulk("begin_search"), array(bulk("type"), bulk("index"), bulk("spec"), array(bulk("index"), ":2\r\n")),
					bulk("find_keys"), array(bulk("type"), bulk("range"), bulk("spec"),
						array(bulk("lastkey"), ":0\r\n", bulk("keystep"), ":1\r\n", bulk("limit"), ":0\r\n")))),
				array()))},
		// As Redis 7.0 answers, tips included: cluster clients split MGET
		// by slot.
		{"command info of mget", []string{"COMMAND", "INFO", "mget"}, array(
			array(bulk("mget"), ":-2\r\n", array(simple("readonly"), simple("fast")), ":1\r\n", ":-1\r\n", ":1\r\n",
				array(simple("@read"), simple("@string"), simple("@fast")), array(bulk("request_policy:multi_shard")),
				array(array(bulk("flags"), array(simple("RO"), simple("access")),
					bulk("begin_search"), array(bulk("type"), bulk("index"), bulk("spec"), array(bulk("index"), ":1\r\n")),
					bulk("find_keys"), array(bulk("type"), bulk("range"), bulk("spec"),
						array(bulk("lastkey"), ":-1\r\n", bulk("keystep"), ":1\r\n", bulk("limit"), ":0\r\n")))),
				array()))},
		{"command info of dbsize", []string{"COMMAND", "INFO", "dbsize"}, array(
			array(bulk("dbsize"), ":1\r\n", array(simple("readonly"), simple("fast")), ":0\r\n", ":0\r\n", ":0\r\n",
				array(simple("@keyspace"), simple("@read"), simple("@fast")),
				array(bulk("request_policy:all_shards"), bulk("response_policy:agg_sum")), array(), array()))},
		{"command info of tag", []string{"COMMAND", "INFO", "tag"}, array(
			array(bulk("tag"), ":-2\r\n", array(simple("readonly")), ":0\r\n", ":0\r\n", ":0\r\n",
				array(simple("@read"), simple("@string"), simple("@slow")), array(), array(), array()))},
		{"command list filter by pattern", []string{"COMMAND", "LIST", "FILTERBY", "PATTERN", "client|*name"}, array(bulk("client|setname"), bulk("client|getname"))},
		{"command list filter by category", []string{"COMMAND", "LIST", "FILTERBY", "ACLCAT", "transaction"},
			array(bulk("multi"), bulk("exec"), bulk("discard"), bulk("watch"), bulk("unwatch"))},
		{"command list filter by module", []string{"COMMAND", "LIST", "FILTERBY", "MODULE", "json"}, array()},
		{"command list filter unknown", []string{"COMMAND", "LIST", "FILTERBY", "COLOR", "red"}, errorReply("ERR syntax error")},
		{"command getkeys mget", []string{"COMMAND", "GETKEYS", "MGET", "a", "b"}, array(bulk("a"), bulk("b"))},
		{"command getkeys freq", []string{"COMMAND", "GETKEYS", "FREQ", "the", "cat"}, array(bulk("the"), bulk("cat"))},
		{"command getkeys memory usage", []string{"COMMAND", "GETKEYS", "MEMORY", "USAGE", "w"}, array(bulk("w"))},
		{"command getkeys no keys", []string{"COMMAND", "GETKEYS", "TAG", "text"}, errorReply("ERR The command has no key arguments")},
		{"command getkeys unknown", []string{"COMMAND", "GETKEYS", "NOPE", "x"}, errorReply("ERR Invalid command specified")},
		{"command getkeys arity", []string{"COMMAND", "GETKEYS", "GET", "a", "b"}, errorReply("ERR Invalid number of arguments specified for command")},
		{"command arity of a subcommand", []string{"COMMAND", "COUNT", "x"}, arityError("command|count")},
		{"command unknown", []string{"COMMAND", "FOO"}, errorReply("ERR unknown subcommand 'FOO'. Try COMMAND HELP.")},
		{"config get save", []string{"CONFIG", "GET", "save"}, array(bulk("save"), bulk(""))},
		{"config get appendonly", []string{"CONFIG", "GET", "appendonly"}, array(bulk("appendonly"), bulk("no"))},
		{"config get glob", []string{"CONFIG", "GET", "*only", "d?tab[a-c]ses", "sav[^x]"}, array(bulk("appendonly"), bulk("no"), bulk("databases"), bulk("1"), bulk("save"), bulk(""))},
		{"config get databases", []string{"CONFIG", "GET", "databases"}, array(bulk("databases"), bulk("1"))},
		{"config get at start", []string{"CONFIG", "GET", "MAXCLIENTS", "timeout"}, array(bulk("maxclients"), bulk("0"), bulk("timeout"), bulk("0"))},
		{"config get twice", []string{"CONFIG", "GET", "save", "s*"}, array(bulk("save"), bulk(""))},
		{"config get unknown", []string{"CONFIG", "GET", "nosuch"}, array()},
		{"config set", []string{"CONFIG", "SET", "save", ""}, errorReply("ERR unknown subcommand 'SET'. Try CONFIG HELP.")},
		{"config get arity", []string{"CONFIG", "GET"}, arityError("config|get")},
		{"tag arity", []string{"TAG"}, arityError("tag")},
		{"tag limit without text", []string{"TAG", "LIMIT", "3"}, errorReply("ERR syntax error")},
		{"tag the lone word limit", []string{"TAG", "limit"}, array(bulk("limit"), scoreBulk(math.Log2((1e6+10)/(1e6*float64(st.count["limit"]+1)/float64(st.total+uint64(len(st.count)))+10))))},
		{"tag the lone word withstats", []string{"TAG", "LIMIT", "5", "withstats"}, array(bulk("withstats"), scoreBulk(math.Log2((1e6+10)/(1e6/float64(st.total+uint64(len(st.count)))+10))))},
		{"tag limit junk", []string{"TAG", "LIMIT", "x", "text"}, errorReply("ERR value is not an integer or out of range")},
		{"tag limit negative", []string{"TAG", "LIMIT", "-1", "text"}, errorReply("ERR value is out of range, must be positive")},
		{"quit", []string{"QUIT"}, simple("OK")},
	}
	for i, tc := range tests {
		forms := []struct{ form, in string }{{"multibulk", multibulk(tc.args...)}}
		if !strings.ContainsAny(strings.Join(tc.args, ""), " \"'") && !strings.Contains(strings.Join(tc.args, "|"), "||") {
			forms = append(forms, struct{ form, in string }{"inline", inline(tc.args...)})
		}
		for _, f := range forms {
			got, n, closeAfter := process(h, f.in)
			if got != tc.want {
				t.Errorf("case %d (%s, %s): got %q, want %q", i, tc.name, f.form, got, tc.want)
			}
			if n != len(f.in) {
				t.Errorf("case %d (%s, %s): consumed %d of %d bytes", i, tc.name, f.form, n, len(f.in))
			}
			if wantClose := tc.args[0] == "QUIT"; closeAfter != wantClose {
				t.Errorf("case %d (%s, %s): closeAfter %v, want %v", i, tc.name, f.form, closeAfter, wantClose)
			}
		}
	}
}

func TestSessionStateCarriesAcrossRequests(t *testing.T) {
	h := New(realTable(t).table, Options{})
	s := h.NewSession()
	defer s.Close()
	in := multibulk("CLIENT", "SETNAME", "tagger") + multibulk("CLIENT", "GETNAME") +
		multibulk("CLIENT", "ID") + multibulk("HELLO", "2", "SETNAME", "renamed") + inline("CLIENT", "GETNAME")
	got, closed := processChunks(s, []byte(in))
	want := simple("OK") + bulk("tagger") + integer(s.ID()) +
		array(bulk("server"), bulk("redis"), bulk("version"), bulk(compatVersion), bulk("proto"), ":2\r\n",
			bulk("id"), integer(s.ID()), bulk("mode"), bulk("standalone"), bulk("role"), bulk("master"),
			bulk("modules"), array()) +
		bulk("renamed")
	if got != want || closed {
		t.Errorf("got %q (closed %v), want %q", got, closed, want)
	}
	other := h.NewSession()
	defer other.Close()
	if other.ID() == s.ID() {
		t.Errorf("two sessions share id %d", s.ID())
	}
}

func TestQuitStopsProcessingTheBatch(t *testing.T) {
	h := New(realTable(t).table, Options{})
	in := inline("PING") + inline("QUIT") + inline("GET", "the")
	got, n, closeAfter := process(h, in)
	if want := simple("PONG") + simple("OK"); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if want := len(inline("PING") + inline("QUIT")); n != want || !closeAfter {
		t.Errorf("consumed %d (closeAfter %v), want %d bytes and close", n, closeAfter, want)
	}
}

func TestProtocolErrorRepliesAndCloses(t *testing.T) {
	h := New(realTable(t).table, Options{})
	tests := []struct {
		name, in, want string
	}{
		{"negative bulk", "*1\r\n$-1\r\n", "Protocol error: invalid bulk length"},
		{"bulk -2", "*2\r\n$3\r\nGET\r\n$-2\r\n", "Protocol error: invalid bulk length"},
		{"huge bulk", "*2\r\n$3\r\nGET\r\n$9223372036854775807\r\n", "Protocol error: invalid bulk length"},
		{"huge count", "*1000000000\r\n", "Protocol error: invalid multibulk length"},
		{"missing CRLF", "*1\r\n$4\r\nPINGxx", "Protocol error: bulk argument not followed by CRLF"},
		{"unbalanced quotes", "ECHO \"abc\r\n", "Protocol error: unbalanced quotes in request"},
	}
	for i, tc := range tests {
		before := h.Stats().ProtocolErrors
		// A valid request before the bad one is still answered.
		in := inline("PING") + tc.in
		got, n, closeAfter := process(h, in)
		if want := simple("PONG") + errorReply("ERR "+tc.want); got != want {
			t.Errorf("case %d (%s): got %q, want %q", i, tc.name, got, want)
		}
		if !closeAfter || n != len(in) {
			t.Errorf("case %d (%s): closeAfter %v consumed %d of %d, want close and all consumed", i, tc.name, closeAfter, n, len(in))
		}
		if after := h.Stats().ProtocolErrors; after != before+1 {
			t.Errorf("case %d (%s): protocol error counter went from %d to %d", i, tc.name, before, after)
		}
	}
}

func TestUnknownCommandQuotesAtMost128Bytes(t *testing.T) {
	h := New(realTable(t).table, Options{})
	long := strings.Repeat("x", 300)
	got, _, _ := process(h, multibulk(long, long, "b"))
	want := errorReply("ERR unknown command '" + long[:128] + "', with args beginning with: '" + long[:128] + "' ")
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	// Client bytes quoted in an error must not break the reply in two.
	got, _, _ = process(h, multibulk("FOO\r\n+OK", "a\nb"))
	if want := errorReply("ERR unknown command 'FOO  +OK', with args beginning with: 'a b' "); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestInfoReportsSectionsAndHook(t *testing.T) {
	st := realTable(t)
	h := New(st.table, Options{Version: "1.2.3", Info: []InfoSection{{Name: "workers", Append: func(b []byte) []byte {
		return append(b, "workers:4\r\nworker0:pid=100,restarts=0\r\n"...)
	}}}})
	s := h.NewSession()
	defer s.Close()
	processChunks(s, []byte(inline("GET", "the")+inline("GET", "a")+inline("FOO")))

	tests := []struct {
		name    string
		args    []string
		has     []string
		hasNot  []string
		isEmpty bool
	}{
		{"default", []string{"INFO"},
			[]string{"# Server\r\n", "redis_version:" + compatVersion + "\r\n", "freqd_version:1.2.3\r\n",
				"# Clients\r\nconnected_clients:1\r\n", "total_commands_processed:3\r\n", "total_error_replies:1\r\n",
				fmt.Sprintf("# Table\r\ntable_id:%08x\r\ntable_words:%d\r\ntable_total:%d\r\n", h.table.ID(), data.SubtlexUSWords, data.SubtlexUSTotal),
				"# Replication\r\nrole:master\r\n", "# Memory\r\nused_memory:", "keyspace_hits:2\r\n", "keyspace_misses:0\r\n",
				"# Persistence\r\nloading:0\r\n", "blocked_clients:0\r\n",
				fmt.Sprintf("# Keyspace\r\ndb0:keys=%d,expires=0,avg_ttl=0\r\n", data.SubtlexUSWords),
				"# Workers\r\nworkers:4\r\n"},
			[]string{"cmdstat_"}, false},
		{"one section", []string{"INFO", "TABLE"}, []string{"# Table\r\n"}, []string{"# Server", "# Workers"}, false},
		{"hook section", []string{"INFO", "workers"}, []string{"# Workers\r\nworkers:4\r\nworker0:pid=100,restarts=0\r\n"}, []string{"# Server"}, false},
		{"all", []string{"INFO", "all"}, []string{"# Server\r\n", "# Commandstats\r\ncmdstat_get:calls=2\r\n", "# Workers\r\n"}, []string{"cmdstat_ping"}, false},
		{"unknown section", []string{"INFO", "nope"}, nil, nil, true},
	}
	for i, tc := range tests {
		got, _ := processChunks(s, []byte(multibulk(tc.args...)))
		text, ok := strings.CutPrefix(got, "$")
		if !ok {
			t.Errorf("case %d (%s): reply %q is not a bulk string", i, tc.name, got)
			continue
		}
		_, body, _ := strings.Cut(text, "\r\n")
		body = strings.TrimSuffix(body, "\r\n")
		if tc.isEmpty != (body == "") {
			t.Errorf("case %d (%s): body %q, want empty %v", i, tc.name, body, tc.isEmpty)
		}
		if want := bulk(body); got != want {
			t.Errorf("case %d (%s): length header does not match the body: %q", i, tc.name, got)
		}
		for _, sub := range tc.has {
			if !strings.Contains(body, sub) {
				t.Errorf("case %d (%s): missing %q in\n%s", i, tc.name, sub, body)
			}
		}
		for _, sub := range tc.hasNot {
			if strings.Contains(body, sub) {
				t.Errorf("case %d (%s): unexpected %q in\n%s", i, tc.name, sub, body)
			}
		}
	}
}

// pipelineBatch mixes every deterministic command in both request forms.
func pipelineBatch() string {
	return multibulk("GET", "the") + inline("MGET", "you", "zzxqvjk") + "\r\n" +
		multibulk("FREQ", "the", "I") + inline("EXISTS", "a", "b") + multibulk("RANK", "John") +
		multibulk("TAG", "LIMIT", "3", "The xylophonist played a xylophone at the zoo.") +
		inline("DBSIZE") + "*0\r\n" + multibulk("ECHO", "a\r\nb") + inline("PING") + multibulk("NOPE", "x") +
		multibulk("CONFIG", "GET", "save") + inline("COMMAND", "COUNT") + multibulk("GET") + inline("QUIT") +
		inline("GET", "never")
}

func TestPipelineSplitAtEveryByteMatchesWhole(t *testing.T) {
	h := New(realTable(t).table, Options{})
	in := []byte(pipelineBatch())
	s := h.NewSession()
	want, closed := processChunks(s, in)
	s.Close()
	if !closed || strings.Count(want, "\r\n") < 20 {
		t.Fatalf("whole batch: closed %v, reply %q", closed, want)
	}
	for cut := 0; cut <= len(in); cut++ {
		s := h.NewSession()
		got, closed := processChunks(s, in[:cut], in[cut:])
		s.Close()
		if got != want || !closed {
			t.Errorf("cut at %d: got %q (closed %v), want %q", cut, got, closed, want)
		}
	}
	chunks := make([][]byte, len(in))
	for i := range in {
		chunks[i] = in[i : i+1]
	}
	s = h.NewSession()
	defer s.Close()
	if got, _ := processChunks(s, chunks...); got != want {
		t.Errorf("byte by byte: got %q, want %q", got, want)
	}
}

func TestProcessBoundsRepliesPerCall(t *testing.T) {
	h := New(realTable(t).table, Options{})
	s := h.NewSession()
	defer s.Close()
	one := inline("COMMAND")
	in := []byte(strings.Repeat(one, 200))
	n, out, _ := s.Process(in, nil)
	if n >= len(in) || n%len(one) != 0 {
		t.Fatalf("consumed %d of %d bytes; want a whole number of requests, not all", n, len(in))
	}
	if len(out) > replyFlushSize+len(out)/(n/len(one)) {
		t.Errorf("one call produced %d reply bytes, want about %d at most", len(out), replyFlushSize)
	}
}

func TestHostileLengthsAllocateNothing(t *testing.T) {
	h := New(realTable(t).table, Options{})
	tests := []struct{ name, in string }{
		{"many args announced", "*65536\r\n$3\r\nGET\r\n"},
		{"big bulk announced", "*2\r\n$3\r\nGET\r\n$1048576\r\nab"},
	}
	for i, tc := range tests {
		// A Session resumes a partial request, so each case needs its own.
		s := h.NewSession()
		defer s.Close()
		in := []byte(tc.in)
		allocs := testing.AllocsPerRun(100, func() {
			if n, out, closeAfter := s.Process(in, nil); n != 0 || len(out) != 0 || closeAfter {
				t.Fatalf("case %d (%s): partial request answered: %d %q %v", i, tc.name, n, out, closeAfter)
			}
		})
		if allocs != 0 {
			t.Errorf("case %d (%s): %.1f allocations per call, want 0", i, tc.name, allocs)
		}
	}
}

func TestGetAllocatesNothing(t *testing.T) {
	h := New(realTable(t).table, Options{})
	s := h.NewSession()
	defer s.Close()
	in := []byte(multibulk("GET", "the") + inline("GET", "zzxqvjk") + multibulk("FREQ", "the", "a"))
	out := make([]byte, 0, 4096)
	allocs := testing.AllocsPerRun(100, func() {
		s.Process(in, out[:0])
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per batch, want 0", allocs)
	}
}

// tagOracle is TAG's documented scoring written out plainly, over counts
// read from the data: for each distinct word (case-insensitively) of
// words, seen a times in n1, count b in the corpus of total words and
// types distinct ones, the score log2((f + 10) / (e + 10)) of its
// frequencies per million in the text, f = 10⁶ a/n1, and in the corpus,
// e = 10⁶ (b+1)/(total+types), and Dunning's G² = 2 (a ln(a/E1) + b
// ln(b/E2)); kept if over-represented and G² passes the chi-squared test
// at 0.01 shared among the words (found by bisection on the chi-squared
// tail, not by TAG's inverse), ordered by score, then G², then word.
func tagOracle(words []string, countOf func(string) uint64, total, types uint64) []scoredWord {
	occurrences := map[string]int{}
	first := map[string]string{}
	var order []string
	for _, w := range words {
		k := strings.ToLower(w)
		if _, ok := first[k]; !ok {
			first[k] = w
			order = append(order, k)
		}
		occurrences[k]++
	}
	p := 0.01 / float64(len(order))
	lo, hi := 0.0, 200.0
	for range 200 {
		mid := (lo + hi) / 2
		if math.Erfc(math.Sqrt(mid/2)) > p {
			lo = mid
		} else {
			hi = mid
		}
	}
	n1, n2 := float64(len(words)), float64(total)
	var want []scoredWord
	for _, k := range order {
		a, b := float64(occurrences[k]), float64(countOf(first[k]))
		lr := math.Log2((1e6*a/n1 + 10) / (1e6*(b+1)/(n2+float64(types)) + 10))
		e1, e2 := n1*(a+b)/(n1+n2), n2*(a+b)/(n1+n2)
		g2 := a * math.Log(a/e1)
		if b > 0 {
			g2 += b * math.Log(b/e2)
		}
		g2 *= 2
		if a/n1 > b/n2 && lr > 0 && g2 >= hi {
			want = append(want, scoredWord{first[k], lr, g2})
		}
	}
	sort.Slice(want, func(i, j int) bool {
		x, y := want[i], want[j]
		if x.score != y.score {
			return x.score > y.score
		}
		if x.g2 != y.g2 {
			return x.g2 > y.g2
		}
		return x.word < y.word
	})
	return want
}

type scoredWord struct {
	word      string
	score, g2 float64
}

func TestTagScoresByKeyness(t *testing.T) {
	st := realTable(t)
	h := New(st.table, Options{})
	text := "The xylophonist played the xylophone; the xylophonist's zither-playing neighbour, John, didn't mind. 1984!"
	got, _, _ := process(h, multibulk("TAG", "LIMIT", "0", text))

	// The table keeps case: a word counts as its commonest spelling.
	countOf := func(w string) uint64 {
		best := st.count[w]
		lower := strings.ToLower(w)
		best = max(best, st.count[lower])
		best = max(best, st.count[strings.ToUpper(lower[:1])+lower[1:]])
		return best
	}
	want := tagOracle([]string{"The", "xylophonist", "played", "the", "xylophone", "the", "xylophonist's",
		"zither", "playing", "neighbour", "John", "didn't", "mind"}, countOf, st.total, uint64(len(st.count)))
	var elems []string
	for _, w := range want {
		elems = append(elems, bulk(w.word), scoreBulk(w.score))
	}
	if w := array(elems...); got != w {
		t.Errorf("got  %q\nwant %q", got, w)
	}
	if len(want) < 4 || countOf(want[0].word) != 0 {
		t.Errorf("a word the corpus lacks should score highest; order %v", want)
	}
	for _, w := range want {
		if strings.EqualFold(w.word, "the") {
			t.Errorf("%q is no keyword of the text: %v", w.word, want)
		}
	}

	// LIMIT n keeps the top of the same order.
	got2, _, _ := process(h, inline("TAG", "limit", "2", "\""+text+"\""))
	if w := array(elems[:4]...); got2 != w {
		t.Errorf("LIMIT 2 inline: got %q, want %q", got2, w)
	}
	// WITHSTATS gives, for each word, the figures behind its score: score,
	// occurrences, count in the table, expected occurrences and G².
	gotStats, _, _ := process(h, multibulk("TAG", "LIMIT", "1", "WITHSTATS", text))
	f := strings.Split(gotStats, "\r\n")
	w0 := want[0]
	e := 13 * float64(countOf(w0.word)+1) / float64(st.total+uint64(len(st.count)))
	if len(f) != 13 || f[0] != "*2" || f[2] != w0.word || f[3] != "*5" || f[5] != strconv.FormatFloat(w0.score, 'f', 3, 64) ||
		f[6] != ":1" || f[7] != ":"+strconv.FormatUint(countOf(w0.word), 10) || !near(f[9], e) || !near(f[11], w0.g2) {
		t.Errorf("WITHSTATS: got %q; want %s, %.3f, 1, %d, %g, %g", gotStats, w0.word, w0.score, countOf(w0.word), e, w0.g2)
	}
}

// near reports whether s is a number within a billionth of want.
func near(s string, want float64) bool {
	v, err := strconv.ParseFloat(s, 64)
	return err == nil && math.Abs(v-want) <= 1e-9*math.Abs(want)
}

// TestTagShortAndCommonText: on the embedded table, whose contractions are
// answered from their parts, a sentence of common words has no keyword,
// and a word the corpus lacks is one even in a sentence of ten.
func TestTagShortAndCommonText(t *testing.T) {
	h := New(defaultTable(t), Options{})
	if got, _, _ := process(h, multibulk("TAG", "I don't know what you're talking about, it's fine")); got != array() {
		t.Errorf("common sentence: %q, want no keywords", got)
	}
	got, _, _ := process(h, multibulk("TAG", "the cat and the dog saw a xylophone and a zzqxjw"))
	if !strings.HasPrefix(got, "*6\r\n"+bulk("zzqxjw")) || !strings.Contains(got, bulk("xylophone")) {
		t.Errorf("got %q, want zzqxjw first, then xylophone and one more", got)
	}
}

// TestInfoCountsTheCommandsPipelinedBeforeIt: a session adds what it counts
// to the shared counters once per batch, and INFO in the middle of a batch
// still sees every command before it, as Redis's does, and not itself.
func TestInfoCountsTheCommandsPipelinedBeforeIt(t *testing.T) {
	h := New(realTable(t).table, Options{})
	s := h.NewSession()
	defer s.Close()
	other := h.NewSession()
	defer other.Close()
	processChunks(other, []byte(multibulk("GET", "zzxqvjk"))) // a miss, on another connection

	got, _ := processChunks(s, []byte(multibulk("GET", "the")+multibulk("GET", "you")+
		multibulk("MGET", "a", "zzxqvjk")+multibulk("INFO", "everything")+multibulk("GET", "I")))
	for _, want := range []string{"total_commands_processed:4\r\n", "keyspace_hits:3\r\n", "keyspace_misses:2\r\n",
		"cmdstat_get:calls=3\r\n", "cmdstat_mget:calls=1\r\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("INFO after three GETs and an MGET in one batch lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "cmdstat_info:") {
		t.Errorf("the first INFO counts itself in commandstats, which Redis's does not:\n%s", got)
	}
	// And after the batch, the GET behind INFO is counted too.
	if st := h.Stats(); st.Commands != 6 || st.KeyspaceHits != 4 || st.KeyspaceMisses != 2 {
		t.Errorf("after the batch: %d commands, %d hits, %d misses; want 6, 4, 2", st.Commands, st.KeyspaceHits, st.KeyspaceMisses)
	}
	if got, _ := processChunks(s, []byte(multibulk("INFO", "commandstats"))); !strings.Contains(got, "cmdstat_info:calls=1\r\n") {
		t.Errorf("the second INFO does not count the first:\n%s", got)
	}
}
