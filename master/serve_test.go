package master_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/freqd/freqd/internal/testserver"
)

var modes = []string{"fdpass", "accept", "reuseport"}

// folded is the embedded SUBTLEX-US list as the default table serves it:
// case folded, counts of words that differ only in case summed. It is
// computed from the raw list, independently of the code under test.
var folded = testserver.Subtlex()

// rankOf is the 1-based position of w by count (desc), then word (asc).
func rankOf(w string) int64 {
	type kv struct {
		w string
		c uint64
	}
	all := make([]kv, 0, len(folded))
	for k, v := range folded {
		all = append(all, kv{k, v})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].c != all[j].c {
			return all[i].c > all[j].c
		}
		return all[i].w < all[j].w
	})
	for i, e := range all {
		if e.w == w {
			return int64(i + 1)
		}
	}
	return 0
}

func TestCommandsEveryModeAndListener(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			s := startServer(t, mode, 2)
			for _, network := range []string{"tcp", "unix"} {
				t.Run(network, func(t *testing.T) {
					checkCommands(t, s, network, client(t, network, dialAddr(s, network), 4))
				})
			}
		})
	}
}

func checkCommands(t *testing.T, s *server, network string, c *redis.Client) {
	u := func(w string) string { return strconv.FormatUint(folded[w], 10) }
	cases := []struct {
		args    []any
		want    any    // nil means a nil reply
		wantErr string // prefix of the error text
	}{
		{[]any{"PING"}, "PONG", ""},
		{[]any{"ECHO", "hi there"}, "hi there", ""},
		{[]any{"GET", "the"}, u("the"), ""},
		{[]any{"GET", "The"}, u("the"), ""}, // lookups fold as the build did
		{[]any{"get", "I"}, u("i"), ""},
		{[]any{"GET", "zzqxjw"}, nil, ""},
		{[]any{"MGET", "you", "zzqxjw", "monday"}, []any{u("you"), nil, u("monday")}, ""},
		{[]any{"EXISTS", "you", "zzqxjw", "the"}, int64(2), ""},
		{[]any{"FREQ", "i", "zzqxjw"}, []any{int64(folded["i"]), int64(0)}, ""},
		{[]any{"RANK", "you"}, rankOf("you"), ""},
		{[]any{"RANK", "monday"}, rankOf("monday"), ""},
		{[]any{"RANK", "zzqxjw"}, nil, ""},
		{[]any{"DBSIZE"}, int64(len(folded)), ""},
		{[]any{"SELECT", "0"}, "OK", ""},
		{[]any{"SELECT", "1"}, nil, "ERR DB index is out of range"},
		{[]any{"CONFIG", "GET", "save"}, []any{"save", ""}, ""},
		{[]any{"CONFIG", "GET", "appendonly"}, []any{"appendonly", "no"}, ""},
		{[]any{"CLIENT", "SETNAME", "tester"}, "OK", ""},
		{[]any{"GET"}, nil, "ERR wrong number of arguments for 'get' command"},
		{[]any{"RANK", "a", "b"}, nil, "ERR wrong number of arguments for 'rank' command"},
		{[]any{"NOSUCH", "a"}, nil, "ERR unknown command"},
	}
	for i, tc := range cases {
		got, err := c.Do(bg, tc.args...).Result()
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
				t.Errorf("case %d (%v): got %v, %v; want error %q", i, tc.args, got, err, tc.wantErr)
			}
		case tc.want == nil:
			if !errors.Is(err, redis.Nil) {
				t.Errorf("case %d (%v): got %#v, %v; want nil", i, tc.args, got, err)
			}
		default:
			if err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("case %d (%v): got %#v, %v; want %#v", i, tc.args, got, err, tc.want)
			}
		}
	}

	// Pipelining: many commands in one write, answers in order.
	words := []string{"the", "you", "zzqxjw", "monday", "of", "xylophone", "i"}
	pipe := c.Pipeline()
	var cmds []*redis.StringCmd
	for i := 0; i < 300; i++ {
		cmds = append(cmds, pipe.Get(bg, words[i%len(words)]))
	}
	pipe.Exec(bg)
	for i, cmd := range cmds {
		w := words[i%len(words)]
		got, err := cmd.Result()
		if n, ok := folded[w]; ok {
			if err != nil || got != strconv.FormatUint(n, 10) {
				t.Fatalf("pipelined GET %s: got %q, %v; want %d", w, got, err, n)
			}
		} else if !errors.Is(err, redis.Nil) {
			t.Fatalf("pipelined GET %s: got %q, %v; want nil", w, got, err)
		}
	}

	// TAG: the rarest words of a text first, scores descending.
	res, err := c.Do(bg, "TAG", "LIMIT", "3", "the cat and the dog saw a xylophone and a zzqxjw").StringSlice()
	if err != nil || len(res) != 6 {
		t.Fatalf("TAG: got %q, %v; want 3 word/score pairs", res, err)
	}
	if res[0] != "zzqxjw" {
		t.Errorf("TAG: first word %q, want the absent word zzqxjw", res[0])
	}
	for i := 0; i < len(res); i += 2 {
		if res[i] == "the" || res[i] == "a" || res[i] == "and" {
			t.Errorf("TAG: common word %q among the 3 most unusual: %q", res[i], res)
		}
		if i > 0 {
			prev, _ := strconv.ParseFloat(res[i-1], 64)
			cur, _ := strconv.ParseFloat(res[i+1], 64)
			if cur > prev {
				t.Errorf("TAG: scores not descending: %q", res)
			}
		}
	}

	// INFO names the mode and every live worker.
	info, err := c.Info(bg).Result()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(info, "mode:"+s.mode) {
		t.Errorf("INFO does not name mode %s:\n%s", s.mode, info)
	}
	for _, pid := range s.workers() {
		if !strings.Contains(info, fmt.Sprintf("pid=%d,", pid)) {
			t.Errorf("INFO does not list worker %d:\n%s", pid, info)
		}
	}

	// Inline commands, as nc or telnet send them, pipelined in one write.
	conn, err := net.Dial(network, dialAddr(s, network))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET the\r\nPING\r\nQUIT\r\n")
	var buf bytes.Buffer
	buf.ReadFrom(conn)
	want := fmt.Sprintf("$%d\r\n%s\r\n+PONG\r\n+OK\r\n", len(u("the")), u("the"))
	if buf.String() != want {
		t.Errorf("inline: got %q, want %q", buf.String(), want)
	}
}

var _ = os.Getpid
var _ = syscall.SIGKILL
