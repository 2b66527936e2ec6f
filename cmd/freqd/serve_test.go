package main

import (
	"strings"
	"testing"
)

// TestServeRefusesFlagsItsModeIgnores pins that a flag the chosen design
// would silently ignore is refused with a message naming it, before
// anything is bound.
func TestServeRefusesFlagsItsModeIgnores(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--mode", "epoll", "--workers", "4"}, "mode epoll is one process and does not use --workers"},
		{[]string{"--mode", "goroutine", "--dispatch", "least-loaded", "--data-mode", "map"}, "does not use --data-mode, --dispatch"},
		{[]string{"--mode", "fdpass", "--max-children", "3"}, "--max-children applies to --mode fork only"},
		{[]string{"--mode", "accept", "--dispatch", "least-loaded"}, "--dispatch applies to --mode fdpass only"},
		{[]string{"--mode", "nonsense"}, "unknown mode nonsense; the pre-forked modes are fdpass, accept, reuseport, the classic ones iterative, fork, goroutine, epoll"},
	}
	for i, tc := range tests {
		r := freqd(t, t.TempDir(), nil, append([]string{"serve", "--listen", "127.0.0.1:0"}, tc.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("case %d %q: exit %d, stderr %q; want exit 2 and %q", i, tc.args, r.code, r.stderr, tc.want)
		}
	}
}
