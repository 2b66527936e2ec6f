package compare

import (
	"slices"
	"strings"
	"testing"
)

func TestParseModes(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{"all", AllModes, ""},
		{"epoll,fdpass", []string{"epoll", "fdpass"}, ""},
		{" fork , accept ,", []string{"fork", "accept"}, ""},
		{"fdpass,prefork", nil, `unknown design "prefork"`},
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
	if len(AllModes) != 7 || !IsPreForked("reuseport") || IsPreForked("epoll") {
		t.Errorf("AllModes %v: want the 3 pre-forked designs and the 4 baselines", AllModes)
	}
}
