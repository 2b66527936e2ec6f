package main

import (
	"testing"
	"time"
)

func TestCompareRequested(t *testing.T) {
	tests := []struct {
		args []string
		want bool
	}{
		{[]string{"--compare", "all"}, true},
		{[]string{"-compare=fdpass,epoll", "--duration", "1s"}, true},
		{[]string{"--addr", "127.0.0.1:7379"}, false},
		{[]string{"--addr", "compare"}, false},
		{[]string{"--", "--compare"}, false},
	}
	for i, tc := range tests {
		if got := compareRequested(tc.args); got != tc.want {
			t.Errorf("case %d (%q): %v, want %v", i, tc.args, got, tc.want)
		}
	}
}

func TestParseChaos(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"", 0, false},
		{"kill-worker=500ms", 500 * time.Millisecond, false},
		{"kill-worker=0s", 0, true},
		{"kill-worker=soon", 0, true},
		{"kill-master=1s", 0, true},
		{"500ms", 0, true},
	}
	for i, tc := range tests {
		got, err := parseChaos(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("case %d (%q): %v, %v; want %v, error %v", i, tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}
