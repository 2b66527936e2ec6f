package compare

import (
	"slices"
	"strings"
	"testing"

	"github.com/freqd/freqd/internal/mode"
)

func TestParseModes(t *testing.T) {
	tests := []struct {
		in      string
		want    []mode.Mode
		wantErr string
	}{
		{"all", mode.All, ""},
		{"epoll,fdpass", []mode.Mode{mode.Epoll, mode.FDPass}, ""},
		{" fork , accept ,", []mode.Mode{mode.Fork, mode.Accept}, ""},
		{"fdpass,prefork", nil, "unknown mode prefork"},
		{"epoll,epoll", nil, "listed twice"},
		{",", nil, "no design"},
	}
	for i, tc := range tests {
		got, err := ParseModes(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("case %d (%q): error %v, want one saying %q", i, tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("case %d (%q): %v, %v; want %v", i, tc.in, got, err, tc.want)
		}
	}
}
