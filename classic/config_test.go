package classic

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/freqd/freqd/ingest"
	"github.com/freqd/freqd/internal/mode"
	"github.com/freqd/freqd/table"
)

// TestNewRefusesWithAnActionableError checks that New reports what is wrong
// and what to do about it, and leaves nothing bound or on disk behind.
func TestNewRefusesWithAnActionableError(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	sock := filepath.Join(dir, "freqd.sock")
	notSocket := filepath.Join(dir, "plain-file")
	if err := os.WriteFile(notSocket, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name string
		cfg  Config
		want []string // substrings of the error
	}{
		{"unknown mode", Config{Mode: "threads"}, []string{"mode threads", "iterative", "epoll"}},
		{"negative bound", Config{Mode: mode.Fork, MaxChildren: -1}, []string{"--max-children -1"}},
		{"missing data file", Config{Mode: mode.Epoll, Data: table.Source{Path: filepath.Join(dir, "none.freq")}, Listen: []string{"unix:" + sock}},
			[]string{"data file", "none.freq", "no such file"}},
		{"port in use", Config{Mode: mode.Goroutine, Listen: []string{"unix:" + sock, busy.Addr().String()}},
			[]string{busy.Addr().String(), "already in use", "choose another --listen"}},
		{"path is not a socket", Config{Mode: mode.Iterative, Listen: []string{"unix:" + notSocket}},
			[]string{notSocket, "not a socket"}},
	}
	for i, tc := range cases {
		tc.cfg.Data.Default = ingest.DefaultTable // as `freqd serve` sets it
		s, err := New(tc.cfg)
		if err == nil {
			s.design.shutdown(false)
			s.design.serve()
			s.served.Close()
			t.Errorf("case %d (%s): New succeeded; want an error", i, tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("case %d (%s): error %q does not mention %q", i, tc.name, err, w)
			}
		}
		if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("case %d (%s): socket file %s left behind (%v)", i, tc.name, sock, err)
		}
	}
}
