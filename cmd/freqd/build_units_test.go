package main

import "testing"

func TestHumanBytes(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{{0, "0 B"}, {999, "999 B"}, {1000, "1.0 kB"}, {2597232, "2.6 MB"}, {1 << 40, "1.1 TB"}}
	for i, tc := range tests {
		if got := humanBytes(tc.n); got != tc.want {
			t.Errorf("case %d (%d): got %q, want %q", i, tc.n, got, tc.want)
		}
	}
}

func TestGroupDigits(t *testing.T) {
	tests := []struct {
		n    uint64
		want string
	}{{0, "0"}, {999, "999"}, {1000, "1,000"}, {49719560, "49,719,560"}, {1<<64 - 1, "18,446,744,073,709,551,615"}}
	for i, tc := range tests {
		if got := groupDigits(tc.n); got != tc.want {
			t.Errorf("case %d (%d): got %q, want %q", i, tc.n, got, tc.want)
		}
	}
}
