package handler

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// testPass is a password with a space and a quote, so that it must travel
// as one multibulk argument and be compared whole.
const testPass = `correct horse "battery"`

// protected returns a Handler over the real table that requires testPass.
func protected(t *testing.T) *Handler {
	h := New(realTable(t).table, Options{RequirePass: testPass})
	return h
}

func helloReply(id uint64) string {
	return array(bulk("server"), bulk("redis"), bulk("version"), bulk(compatVersion), bulk("proto"), ":2\r\n",
		bulk("id"), integer(id), bulk("mode"), bulk("standalone"), bulk("role"), bulk("master"),
		bulk("modules"), array())
}

var (
	noAuth      = errorReply("NOAUTH Authentication required.")
	wrongPass   = errorReply("WRONGPASS invalid username-password pair or user is disabled.")
	helloNoAuth = errorReply("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
)

// TestEveryCommandWaitsForAuth sends each command with valid arguments
// before and after AUTH. Before, all but AUTH, HELLO and QUIT answer
// NOAUTH; after, each answers exactly as on a server without a password.
func TestEveryCommandWaitsForAuth(t *testing.T) {
	st := realTable(t)
	open := New(st.table, Options{})
	h := protected(t)
	requests := map[string][]string{
		"get":     {"GET", "the"},
		"mget":    {"MGET", "the", "zzxqvjk"},
		"exists":  {"EXISTS", "the"},
		"freq":    {"FREQ", "the", "I"},
		"rank":    {"RANK", "you"},
		"dbsize":  {"DBSIZE"},
		"tag":     {"TAG", "LIMIT", "2", "the zymurgist and the cat"},
		"zipf":    {"ZIPF", "the", "zzxqvjk"},
		"fpm":     {"FPM", "the"},
		"ping":    {"PING"},
		"echo":    {"ECHO", "hi"},
		"info":    {"INFO", "keyspace"},
		"select":  {"SELECT", "0"},
		"client":  {"CLIENT", "GETNAME"},
		"command": {"COMMAND", "COUNT"},
		"config":  {"CONFIG", "GET", "save"},
		"multi":   {"MULTI"},
		"exec":    {"EXEC"},
		"discard": {"DISCARD"},
		"watch":   {"WATCH", "the"},
		"unwatch": {"UNWATCH"},
		"scan":    {"SCAN", "0", "COUNT", "3"},
		"keys":    {"KEYS", "th?"},
		"type":    {"TYPE", "the"},
		"strlen":  {"STRLEN", "the"},
		"ttl":     {"TTL", "the"},
		"pttl":    {"PTTL", "zzxqvjk"},
		"memory":  {"MEMORY", "USAGE", "the"},
		"object":  {"OBJECT", "ENCODING", "the"},
		// Outside a cluster: refused alike, after AUTH, by each.
		"cluster":   {"CLUSTER", "KEYSLOT", "the"},
		"readonly":  {"READONLY"},
		"readwrite": {"READWRITE"},
		"asking":    {"ASKING"},
		// RANDOMKEY's answer differs from call to call: it is checked on
		// its own below.
	}
	allowed := map[string]bool{"auth": true, "hello": true, "quit": true, "randomkey": true}
	for _, c := range commandList {
		name := c.name
		if c.parent != nil {
			continue
		}
		if _, ok := requests[name]; !ok && !allowed[name] {
			t.Errorf("command %q has no case here: add one", name)
		}
	}

	i := 0
	for name, args := range requests {
		s := h.NewSession()
		req := multibulk(args...)
		if got, _ := processChunks(s, []byte(req)); got != noAuth {
			t.Errorf("case %d (%s before AUTH): got %q, want NOAUTH", i, name, got)
		}
		if got, _ := processChunks(s, []byte(multibulk("AUTH", testPass))); got != simple("OK") {
			t.Fatalf("case %d (%s): AUTH answered %q", i, name, got)
		}
		want, _, _ := process(open, req)
		if got, _ := processChunks(s, []byte(req)); got != want {
			t.Errorf("case %d (%s after AUTH): got %q, want %q as without a password", i, name, got, want)
		}
		s.Close()
		i++
	}

	s := h.NewSession()
	if got, _ := processChunks(s, []byte(multibulk("RANDOMKEY"))); got != noAuth {
		t.Errorf("RANDOMKEY before AUTH: got %q, want NOAUTH", got)
	}
	processChunks(s, []byte(multibulk("AUTH", testPass)))
	if got, _ := processChunks(s, []byte(multibulk("RANDOMKEY"))); !strings.HasPrefix(got, "$") {
		t.Errorf("RANDOMKEY after AUTH: got %q, want a word", got)
	}
	s.Close()

	// The three that work before AUTH.
	s = h.NewSession()
	defer s.Close()
	got, closed := processChunks(s, []byte(multibulk("AUTH", "wrong")+multibulk("HELLO", "3")+multibulk("HELLO", "4")+multibulk("QUIT")))
	if want := wrongPass + errorReply(errHelloNoAuth) + errorReply("NOPROTO unsupported protocol version") + simple("OK"); got != want || !closed {
		t.Errorf("AUTH, HELLO, QUIT before AUTH: got %q (closed %v), want %q and close", got, closed, want)
	}
}

func TestAuthChecksUserAndPassword(t *testing.T) {
	tests := []struct {
		name     string
		pass     string // the Handler's RequirePass
		args     []string
		want     string
		loggedIn bool // whether a GET is answered afterwards
		failures uint64
	}{
		{"right password", testPass, []string{"AUTH", testPass}, simple("OK"), true, 0},
		{"default user and right password", testPass, []string{"AUTH", "default", testPass}, simple("OK"), true, 0},
		{"wrong password", testPass, []string{"AUTH", "wrong"}, wrongPass, false, 1},
		{"empty password", testPass, []string{"AUTH", ""}, wrongPass, false, 1},
		{"prefix of the password", testPass, []string{"AUTH", testPass[:len(testPass)-1]}, wrongPass, false, 1},
		{"password with more after it", testPass, []string{"AUTH", testPass + "x"}, wrongPass, false, 1},
		{"password in another case", testPass, []string{"AUTH", strings.ToUpper(testPass)}, wrongPass, false, 1},
		{"default user and wrong password", testPass, []string{"AUTH", "default", "wrong"}, wrongPass, false, 1},
		{"other user and right password", testPass, []string{"AUTH", "bob", testPass}, wrongPass, false, 1},
		{"user names are case-sensitive", testPass, []string{"AUTH", "DEFAULT", testPass}, wrongPass, false, 1},
		{"too many arguments", testPass, []string{"AUTH", "default", testPass, "x"}, errorReply("ERR syntax error"), false, 0},
		{"no arguments", testPass, []string{"AUTH"}, arityError("auth"), false, 0},
		{"no password configured", "", []string{"AUTH", "x"},
			errorReply("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"), true, 0},
		{"no password configured, default user", "", []string{"AUTH", "default", "anything"}, simple("OK"), true, 0},
		{"no password configured, other user", "", []string{"AUTH", "bob", "anything"}, wrongPass, true, 1},
	}
	st := realTable(t)
	for i, tc := range tests {
		h := New(st.table, Options{RequirePass: tc.pass})
		forms := []struct{ form, in string }{{"multibulk", multibulk(tc.args...)}}
		if inlineable(tc.args) {
			forms = append(forms, struct{ form, in string }{"inline", inline(tc.args...)})
		}
		for _, f := range forms {
			before := h.Stats().AuthFailures
			s := h.NewSession()
			got, _ := processChunks(s, []byte(f.in))
			if got != tc.want {
				t.Errorf("case %d (%s, %s): got %q, want %q", i, tc.name, f.form, got, tc.want)
			}
			wantGet := noAuth
			if tc.loggedIn {
				wantGet = bulkUint(st.count["the"])
			}
			if got, _ := processChunks(s, []byte(multibulk("GET", "the"))); got != wantGet {
				t.Errorf("case %d (%s, %s): GET afterwards answered %q, want %q", i, tc.name, f.form, got, wantGet)
			}
			if n := h.Stats().AuthFailures - before; n != tc.failures {
				t.Errorf("case %d (%s, %s): %d failures counted, want %d", i, tc.name, f.form, n, tc.failures)
			}
			s.Close()
		}
	}
}

func TestWrongPasswordAfterLoginKeepsTheLogin(t *testing.T) {
	st := realTable(t)
	h := protected(t)
	s := h.NewSession()
	defer s.Close()
	in := multibulk("AUTH", testPass) + multibulk("AUTH", "wrong") + multibulk("GET", "the")
	got, _ := processChunks(s, []byte(in))
	if want := simple("OK") + wrongPass + bulkUint(st.count["the"]); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestWrongPasswordsAreCountedAcrossSessions(t *testing.T) {
	h := protected(t)
	const sessions, tries = 4, 25
	for i := range sessions {
		s := h.NewSession()
		in := strings.Repeat(multibulk("AUTH", fmt.Sprint("guess", i)), tries) + multibulk("PING")
		got, closed := processChunks(s, []byte(in))
		// Every wrong password gets its error and the session carries on.
		if want := strings.Repeat(wrongPass, tries) + noAuth; got != want || closed {
			t.Errorf("case %d (session %d): got %q (closed %v)", i, i, abbrev(got), closed)
		}
		s.Close()
	}
	if n := h.Stats().AuthFailures; n != sessions*tries {
		t.Errorf("%d failures counted, want %d", n, sessions*tries)
	}
	info, _, _ := process(h, multibulk("AUTH", testPass)+multibulk("INFO", "stats"))
	if want := fmt.Sprintf("auth_failures:%d\r\n", sessions*tries); !strings.Contains(info, want) {
		t.Errorf("INFO stats lacks %q:\n%s", want, info)
	}
}

func TestHelloAuthenticatesLikeRedis(t *testing.T) {
	st := realTable(t)
	get := bulkUint(st.count["the"])
	tests := []struct {
		name     string
		pass     string // the Handler's RequirePass
		args     []string
		hello    bool   // whether HELLO answers with the server map
		want     string // the reply when it does not
		loggedIn bool
		failures uint64
		name2    string // CLIENT GETNAME's answer afterwards, once logged in
	}{
		{"no auth before login", testPass, []string{"HELLO"}, false, helloNoAuth, false, 0, nilBulk},
		{"version 2 before login", testPass, []string{"HELLO", "2"}, false, helloNoAuth, false, 0, nilBulk},
		{"setname before login", testPass, []string{"HELLO", "2", "SETNAME", "x"}, false, helloNoAuth, false, 0, nilBulk},
		{"version 4 is refused before auth", testPass, []string{"HELLO", "4", "AUTH", "default", testPass},
			false, errorReply("NOPROTO unsupported protocol version"), false, 0, nilBulk},
		{"bad version is refused before auth", testPass, []string{"HELLO", "x", "AUTH", "default", testPass},
			false, errorReply("ERR Protocol version is not an integer or out of range"), false, 0, nilBulk},
		{"auth", testPass, []string{"HELLO", "2", "AUTH", "default", testPass}, true, "", true, 0, nilBulk},
		{"auth in lower case", testPass, []string{"hello", "2", "auth", "default", testPass}, true, "", true, 0, nilBulk},
		{"auth and setname", testPass, []string{"HELLO", "2", "AUTH", "default", testPass, "SETNAME", "tagger"}, true, "", true, 0, bulk("tagger")},
		{"setname then auth", testPass, []string{"HELLO", "2", "SETNAME", "tagger", "AUTH", "default", testPass}, true, "", true, 0, bulk("tagger")},
		{"wrong password", testPass, []string{"HELLO", "2", "AUTH", "default", "wrong"}, false, wrongPass, false, 1, nilBulk},
		{"wrong password does not set the name", testPass, []string{"HELLO", "2", "AUTH", "default", "wrong", "SETNAME", "x"}, false, wrongPass, false, 1, nilBulk},
		{"other user", testPass, []string{"HELLO", "2", "AUTH", "bob", testPass}, false, wrongPass, false, 1, nilBulk},
		{"auth missing its password", testPass, []string{"HELLO", "2", "AUTH", "default"},
			false, errorReply("ERR Syntax error in HELLO option 'AUTH'"), false, 0, nilBulk},
		{"bad name is refused before auth", testPass, []string{"HELLO", "2", "AUTH", "default", "wrong", "SETNAME", "a b"},
			false, errorReply("ERR Client names cannot contain spaces, newlines or special characters."), false, 0, nilBulk},
		{"no password configured", "", []string{"HELLO", "2"}, true, "", true, 0, nilBulk},
		{"no password configured, default user", "", []string{"HELLO", "2", "AUTH", "default", "anything"}, true, "", true, 0, nilBulk},
		{"no password configured, other user", "", []string{"HELLO", "2", "AUTH", "bob", "anything"}, false, wrongPass, true, 1, nilBulk},
	}
	for i, tc := range tests {
		h := New(realTable(t).table, Options{RequirePass: tc.pass})
		s := h.NewSession()
		want := tc.want
		if tc.hello {
			want = helloReply(s.ID())
		}
		if got, _ := processChunks(s, []byte(multibulk(tc.args...))); got != want {
			t.Errorf("case %d (%s): got %q, want %q", i, tc.name, got, want)
		}
		wantAfter := noAuth + noAuth
		if tc.loggedIn {
			wantAfter = get + tc.name2
		}
		if got, _ := processChunks(s, []byte(multibulk("GET", "the")+multibulk("CLIENT", "GETNAME"))); got != wantAfter {
			t.Errorf("case %d (%s): GET and CLIENT GETNAME afterwards answered %q, want %q", i, tc.name, got, wantAfter)
		}
		if n := h.Stats().AuthFailures; n != tc.failures {
			t.Errorf("case %d (%s): %d failures counted, want %d", i, tc.name, n, tc.failures)
		}
		s.Close()
	}
}

// TestChecksComeInRedisOrder pins that an unknown command or a wrong
// argument count is reported before NOAUTH, as Redis 7 does.
func TestChecksComeInRedisOrder(t *testing.T) {
	h := protected(t)
	in := multibulk("NOPE", "x") + multibulk("GET") + multibulk("GET", "the")
	got, _, _ := process(h, in)
	want := errorReply("ERR unknown command 'NOPE', with args beginning with: 'x' ") + arityError("get") + noAuth
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestUnauthenticatedRequestsAreBounded(t *testing.T) {
	st := realTable(t)
	words := make([]string, 20)
	for i := range words {
		words[i] = "the"
	}
	wide := multibulk(append([]string{"FREQ"}, words...)...)
	wideReply := array(slices.Repeat([]string{integer(st.count["the"])}, len(words))...)
	tests := []struct {
		name   string
		pass   string
		in     string
		want   string
		closed bool
	}{
		{"wide request before AUTH", testPass, wide, errorReply("ERR Protocol error: unauthenticated multibulk length"), true},
		{"long argument before AUTH", testPass, multibulk("AUTH", strings.Repeat("p", 16<<10+1)), errorReply("ERR Protocol error: unauthenticated bulk length"), true},
		{"long wrong password within the bound", testPass, multibulk("AUTH", strings.Repeat("p", 16<<10)), wrongPass, false},
		{"wide request pipelined after AUTH", testPass, multibulk("AUTH", testPass) + wide, simple("OK") + wideReply, false},
		{"wide request without a password", "", wide, wideReply, false},
	}
	for i, tc := range tests {
		h := New(st.table, Options{RequirePass: tc.pass})
		got, n, closed := process(h, tc.in)
		if got != tc.want || closed != tc.closed || n != len(tc.in) {
			t.Errorf("case %d (%s): got %q (closed %v, consumed %d of %d), want %q (closed %v)",
				i, tc.name, abbrev(got), closed, n, len(tc.in), abbrev(tc.want), tc.closed)
		}
	}
}

func TestPasswordIsNeverShown(t *testing.T) {
	h := protected(t)
	in := multibulk("AUTH", testPass) + multibulk("INFO", "everything") + multibulk("CONFIG", "GET", "*") +
		multibulk("CONFIG", "GET", "requirepass") + multibulk("CLIENT", "GETNAME") + multibulk("HELLO", "2")
	got, _, _ := process(h, in)
	if strings.Contains(got, testPass) || strings.Contains(got, "battery") {
		t.Errorf("a reply shows the password:\n%s", got)
	}
	if !strings.Contains(got, "# Limits\r\n") || !strings.Contains(got, bulk("appendonly")+bulk("no")) || !strings.Contains(got, bulk("save")+bulk("")) {
		t.Errorf("INFO or CONFIG GET did not answer as expected:\n%s", got)
	}
	if cfg, _, _ := process(h, multibulk("AUTH", testPass)+multibulk("CONFIG", "GET", "requirepass")); cfg != simple("OK")+array() {
		t.Errorf("CONFIG GET requirepass: %q, want an empty array", cfg)
	}
}

func TestGoRedisAuthenticates(t *testing.T) {
	st := realTable(t)
	h := protected(t)
	addr, _ := serveTCP(t, h)
	ctx := context.Background()
	tests := []struct {
		name     string
		opts     redis.Options
		wantErr  string // a prefix of the error of the first command, "" for none
		auths    uint64 // AUTH commands go-redis sends after HELLO
		failures uint64 // failed authentications counted
	}{
		// HELLO 3 AUTH (RESP3, go-redis's default) or HELLO 2 AUTH logs
		// in; a refused one is retried as AUTH.
		{"password, protocol 3", redis.Options{Password: testPass}, "", 0, 0},
		{"password, protocol 2", redis.Options{Password: testPass, Protocol: 2}, "", 0, 0},
		{"user and password", redis.Options{Username: "default", Password: testPass, ClientName: "acl"}, "", 0, 0},
		{"wrong password, protocol 3", redis.Options{Password: "wrong"}, "WRONGPASS", 1, 2},
		{"wrong password, protocol 2", redis.Options{Password: "wrong", Protocol: 2}, "WRONGPASS", 1, 2},
		{"other user", redis.Options{Username: "bob", Password: testPass}, "WRONGPASS", 1, 2},
		{"no password", redis.Options{}, "NOAUTH Authentication required.", 0, 0},
	}
	for i, tc := range tests {
		opts := tc.opts
		opts.Addr, opts.MaxRetries = addr, -1
		rdb := redis.NewClient(&opts)
		failuresBefore := h.Stats().AuthFailures
		authsBefore := callsOf(h, "auth")
		got, err := rdb.Get(ctx, "the").Uint64()
		switch {
		case tc.wantErr == "" && (err != nil || got != st.count["the"]):
			t.Errorf("case %d (%s): GET the: %d, %v; want %d", i, tc.name, got, err, st.count["the"])
		case tc.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.wantErr)):
			t.Errorf("case %d (%s): GET the: %d, %v; want an error starting %q", i, tc.name, got, err, tc.wantErr)
		}
		if n := h.Stats().AuthFailures - failuresBefore; n != tc.failures {
			t.Errorf("case %d (%s): %d failures counted, want %d", i, tc.name, n, tc.failures)
		}
		if n := callsOf(h, "auth"); n-authsBefore != tc.auths {
			t.Errorf("case %d (%s): go-redis sent AUTH %d times, want %d", i, tc.name, n-authsBefore, tc.auths)
		}
		if tc.wantErr == "" && opts.ClientName != "" {
			if name, err := rdb.ClientGetName(ctx).Result(); err != nil || name != opts.ClientName {
				t.Errorf("case %d (%s): CLIENT GETNAME: %q, %v", i, tc.name, name, err)
			}
		}
		rdb.Close()
	}
}

// abbrev shortens a long reply for a failure message.
func abbrev(s string) string {
	if len(s) > 200 {
		return fmt.Sprintf("%s...(%d bytes)", s[:200], len(s))
	}
	return s
}

// inlineable reports whether args survive being sent as an inline command
// unquoted: none is empty or holds a blank or a quote.
func inlineable(args []string) bool {
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"'") {
			return false
		}
	}
	return true
}

// callsOf is the number of calls of the named command, as the scoreboard
// and metrics read them (CommandNames and CommandCounts).
func callsOf(h *Handler, name string) uint64 {
	counts := h.CommandCounts(nil)
	for i, n := range CommandNames() {
		if n == name {
			return counts[i]
		}
	}
	return 0
}
