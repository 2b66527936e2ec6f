package version

import (
	"runtime/debug"
	"testing"
)

// TestFromBuildInfo pins what an unstamped build reports: the version and
// commit Go recorded, marked dirty when built from uncommitted changes,
// and nothing invented.
func TestFromBuildInfo(t *testing.T) {
	tests := []struct {
		main     string
		settings map[string]string
		want     Info
	}{
		{"v0.0.0-20260101120000-1a2b3c4d5e6f+dirty",
			map[string]string{"vcs.revision": "1a2b3c4d5e6f7a8b9c0d", "vcs.modified": "true"},
			Info{Version: "v0.0.0-20260101120000-1a2b3c4d5e6f+dirty", Commit: "1a2b3c4d5e6f7a8b9c0d-dirty"}},
		{"v1.2.3", map[string]string{"vcs.revision": "abc", "vcs.modified": "false"}, Info{Version: "v1.2.3", Commit: "abc"}},
		{"(devel)", nil, Info{}},
	}
	for _, tc := range tests {
		bi := &debug.BuildInfo{Main: debug.Module{Version: tc.main}}
		for k, v := range tc.settings {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: k, Value: v})
		}
		var got Info
		fromBuildInfo(&got, bi)
		if got != tc.want {
			t.Errorf("build info %s %v: %+v; want %+v", tc.main, tc.settings, got, tc.want)
		}
	}
}

// TestStampWins pins that what the linker stamped is not overwritten by
// Go's build information.
func TestStampWins(t *testing.T) {
	got := Info{Version: "v2.0.0", Commit: "feed"}
	fromBuildInfo(&got, &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-x"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "beef"}}})
	if got.Version != "v2.0.0" || got.Commit != "feed" {
		t.Errorf("%+v; want the stamp kept", got)
	}
}

func TestString(t *testing.T) {
	tests := []struct {
		in   Info
		want string
	}{
		{Info{Version: "v1.2.0", Commit: "1a2b3c4d5e6f7a8b9c0d", Date: "2026-01-02T03:04:05Z", Go: "go1.26.0", Platform: "linux/amd64"},
			"freqd v1.2.0 (commit 1a2b3c4d5e6f, built 2026-01-02T03:04:05Z, go1.26.0 linux/amd64)"},
		{Info{Version: "devel", Commit: "1a2b3c4d5e6f7a8b9c0d-dirty", Go: "go1.26.0", Platform: "linux/arm64"},
			"freqd devel (commit 1a2b3c4d5e6f-dirty, go1.26.0 linux/arm64)"},
		{Info{Version: "devel", Go: "go1.26.0", Platform: "linux/amd64"}, "freqd devel (go1.26.0 linux/amd64)"},
	}
	for _, tc := range tests {
		if got := tc.in.String(); got != tc.want {
			t.Errorf("%+v: %q; want %q", tc.in, got, tc.want)
		}
	}
}
