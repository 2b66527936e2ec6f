package main

import "testing"

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "1048576": 1 << 20, "256MiB": 256 << 20, "1GiB": 1 << 30, "500MB": 500e6,
		"32M": 32 << 20, "1.5GiB": 3 << 29, "64 KiB": 64 << 10, "7B": 7,
	} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "lots", "-1MiB", "1XB", "MiB", "1e30GiB"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) succeeded", in)
		}
	}
	if s := formatSize(256 << 20); s != "256MiB" {
		t.Errorf("formatSize = %q", s)
	}
}
