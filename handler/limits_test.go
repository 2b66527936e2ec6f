package handler

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/freqd/freqd/resp"
)

// infoBody returns the body of one "# Title" section of an INFO reply.
func infoBody(reply, title string) string {
	_, body, ok := strings.Cut(reply, "# "+title+"\r\n")
	if !ok {
		return ""
	}
	body, _, _ = strings.Cut(body, "\r\n\r\n")
	return strings.TrimSuffix(body, "\r\n") + "\r\n"
}

func TestInfoShowsLimitsInEffect(t *testing.T) {
	tests := []struct {
		name      string
		limits    resp.Limits
		read      time.Duration
		idle      time.Duration
		write     time.Duration
		effective resp.Limits
		ms        [3]int // read, idle, write as INFO should show them
	}{
		{"defaults", resp.Limits{}, 0, 0, 0,
			resp.Limits{MaxInlineLen: resp.DefaultMaxInlineLen, MaxBulkLen: resp.DefaultMaxBulkLen, MaxArgs: resp.DefaultMaxArgs,
				MaxRequestLen: resp.DefaultMaxRequestLen, UnauthMaxArgs: resp.DefaultUnauthMaxArgs, UnauthMaxBulkLen: resp.DefaultUnauthMaxBulkLen},
			[3]int{0, 0, 0}},
		{"set", resp.Limits{MaxInlineLen: 100, MaxBulkLen: 200, MaxArgs: 3, MaxRequestLen: 1000, UnauthMaxArgs: 2, UnauthMaxBulkLen: 50},
			1500 * time.Millisecond, 5 * time.Minute, 250 * time.Microsecond,
			resp.Limits{MaxInlineLen: 100, MaxBulkLen: 200, MaxArgs: 3, MaxRequestLen: 1000, UnauthMaxArgs: 2, UnauthMaxBulkLen: 50},
			[3]int{1500, 300000, 1}},
		{"partly set", resp.Limits{MaxBulkLen: 4096}, time.Second, 0, 0,
			resp.Limits{MaxInlineLen: resp.DefaultMaxInlineLen, MaxBulkLen: 4096, MaxArgs: resp.DefaultMaxArgs,
				MaxRequestLen: resp.DefaultMaxRequestLen, UnauthMaxArgs: resp.DefaultUnauthMaxArgs, UnauthMaxBulkLen: resp.DefaultUnauthMaxBulkLen},
			[3]int{1000, 0, 0}},
	}
	for i, tc := range tests {
		budget := int64(i) << 20
		h := New(realTable(t).table, Options{Limits: tc.limits, Timeouts: Timeouts{Read: tc.read, Idle: tc.idle, Write: tc.write},
			MaxRequestMemory: budget})
		e := tc.effective
		want := fmt.Sprintf("proto_max_inline_len:%d\r\nproto_max_bulk_len:%d\r\nproto_max_args:%d\r\nproto_max_request_len:%d\r\n"+
			"proto_unauth_max_args:%d\r\nproto_unauth_max_bulk_len:%d\r\nmax_request_memory:%d\r\n"+
			"read_timeout_ms:%d\r\nidle_timeout_ms:%d\r\nwrite_timeout_ms:%d\r\n",
			e.MaxInlineLen, e.MaxBulkLen, e.MaxArgs, e.MaxRequestLen, e.UnauthMaxArgs, e.UnauthMaxBulkLen, budget, tc.ms[0], tc.ms[1], tc.ms[2])
		for _, args := range [][]string{{"INFO", "limits"}, {"INFO"}} {
			got, _, _ := process(h, multibulk(args...))
			if body := infoBody(got, "Limits"); body != want {
				t.Errorf("case %d (%s, %s): Limits section\n%q\nwant\n%q", i, tc.name, strings.Join(args, " "), body, want)
			}
		}
	}
}

// wordsOfLength returns a text of exactly n bytes of real and made-up words.
func wordsOfLength(n int) string {
	const phrase = "the zymurgist tagged a rare xylophone and "
	return strings.Repeat(phrase, n/len(phrase)+1)[:n]
}

func TestTagTextIsBoundedByRequestLimits(t *testing.T) {
	small := resp.Limits{MaxInlineLen: 512, MaxBulkLen: 1024, MaxRequestLen: 2048}
	tests := []struct {
		name   string
		limits resp.Limits
		in     string
		err    string // the protocol error, "" when TAG answers
	}{
		{"text of MaxBulkLen by default", resp.Limits{}, multibulk("TAG", "LIMIT", "1", wordsOfLength(resp.DefaultMaxBulkLen)), ""},
		{"text over MaxBulkLen by default", resp.Limits{}, multibulk("TAG", "LIMIT", "1", wordsOfLength(resp.DefaultMaxBulkLen+1)),
			"Protocol error: invalid bulk length"},
		{"text of MaxBulkLen", small, multibulk("TAG", "LIMIT", "1", wordsOfLength(1024)), ""},
		{"text over MaxBulkLen", small, multibulk("TAG", "LIMIT", "1", wordsOfLength(1025)), "Protocol error: invalid bulk length"},
		{"parts within MaxRequestLen", small, multibulk("TAG", "LIMIT", "1", wordsOfLength(1000), wordsOfLength(900)), ""},
		{"parts over MaxRequestLen", small, multibulk("TAG", "LIMIT", "1", wordsOfLength(1000), wordsOfLength(1000)),
			"Protocol error: request exceeds the server's size limit"},
		{"inline text of MaxInlineLen", small, "TAG LIMIT 1 " + wordsOfLength(512-len("TAG LIMIT 1 ")) + "\r\n", ""},
		{"inline text over MaxInlineLen", small, "TAG LIMIT 1 " + wordsOfLength(513-len("TAG LIMIT 1 ")) + "\r\n",
			"Protocol error: too big inline request"},
	}
	for i, tc := range tests {
		h := New(realTable(t).table, Options{Limits: tc.limits})
		got, n, closed := process(h, tc.in)
		if n != len(tc.in) {
			t.Errorf("case %d (%s): consumed %d of %d bytes", i, tc.name, n, len(tc.in))
		}
		if tc.err != "" {
			if want := errorReply("ERR " + tc.err); got != want || !closed {
				t.Errorf("case %d (%s): got %q (closed %v), want %q and close", i, tc.name, abbrev(got), closed, want)
			}
			continue
		}
		// LIMIT 1: one word and its score, the rarest in the text.
		if !strings.HasPrefix(got, "*2\r\n"+bulk("zymurgist")) || closed {
			t.Errorf("case %d (%s): got %q (closed %v), want zymurgist scored", i, tc.name, abbrev(got), closed)
		}
	}
}
