package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/internal/testserver"
)

// TestGetOverDatagramsWithPassword runs `freqd get --udp` against a server
// that requires a password, over UDP and a unix datagram socket: with the
// password (--password or FREQD_REQUIREPASS) it gets the counts, without it
// or with a wrong one it says why it got none.
func TestGetOverDatagramsWithPassword(t *testing.T) {
	const pass = "dgram-sesame"
	path := filepath.Join(t.TempDir(), "d.sock")
	s := testserver.Start(t, freqdBin, mode.FDPass, 1, "--requirepass", pass,
		"--listen", "udp:127.0.0.1:0", "--listen", "unixgram:"+path)
	table := testserver.Subtlex()
	words := []string{"the", "you", "monday"}
	var want strings.Builder
	for _, w := range words {
		fmt.Fprintf(&want, "%s\t%d\n", w, table[w])
	}
	get := func(env []string, args ...string) result {
		t.Helper()
		cmd := exec.Command(freqdBin, append([]string{"get"}, args...)...)
		cmd.Env = append([]string{"PATH=/usr/bin:/bin"}, env...)
		var out, errOut strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errOut
		cmd.Run()
		return result{cmd.ProcessState.ExitCode(), out.String(), errOut.String()}
	}
	for _, addr := range []string{s.UDP, "unixgram:" + path} {
		cases := []struct {
			name    string
			env     []string
			args    []string
			code    int
			stdout  string
			errText string
		}{
			{"--password", nil, []string{"--password", pass}, 0, want.String(), ""},
			{"FREQD_REQUIREPASS", []string{"FREQD_REQUIREPASS=" + pass}, nil, 0, want.String(), ""},
			{"no password", nil, nil, 1, "", "NOAUTH Authentication required. (give the password with --password or FREQD_REQUIREPASS)"},
			{"wrong password", nil, []string{"--password", "wrong"}, 1, "", "AUTH refused: WRONGPASS"},
		}
		for i, tc := range cases {
			args := append(append([]string{"--udp", addr}, tc.args...), words...)
			r := get(tc.env, args...)
			if r.code != tc.code || r.stdout != tc.stdout || !strings.Contains(r.stderr, tc.errText) {
				t.Errorf("%s case %d (%s): exit %d, stdout %q, stderr %q; want exit %d, stdout %q, stderr containing %q",
					addr, i, tc.name, r.code, r.stdout, r.stderr, tc.code, tc.stdout, tc.errText)
			}
		}
	}
	// Many words in one datagram, over UDP: the authenticated reply is not
	// held to 3 times the request, and was not refused.
	many := table.Sample(400)
	r := get(nil, append([]string{"--udp", s.UDP, "--password", pass}, many...)...)
	if lines := strings.Count(r.stdout, "\n"); lines != len(many) || r.stderr != "" {
		t.Errorf("400 words over UDP: %d lines, stderr %q; want one line per word", lines, r.stderr)
	}
	if info := infoOver(t, s, pass); !strings.Contains(info, "worker_datagram_replies_refused:0\r\n") {
		t.Errorf("INFO workers after authenticated queries: want no refused reply, got:\n%s", info)
	}
}

// infoOver reads INFO workers over TCP with go-redis, authenticated.
func infoOver(t *testing.T, s *testserver.Server, pass string) string {
	t.Helper()
	c := dial(s.TCP, pass)
	defer c.Close()
	info, err := c.Info(t.Context(), "workers").Result()
	if err != nil {
		t.Fatal(err)
	}
	return info
}
