// Package version says which freqd this binary is: the version, the commit
// it was built from, when it was built and by which Go.
//
// `make build` stamps the first three with -ldflags -X (see the Makefile);
// a plain `go build` or `go install` leaves them empty, and the version and
// commit then come from the build information Go embeds in every binary, so
// that no build says nothing at all.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Stamped by the linker: -X github.com/freqd/freqd/internal/version.version=...
var (
	version string // git describe --tags --always --dirty
	commit  string // the full commit hash
	date    string // build time, RFC 3339 in UTC
)

// Info describes the running binary.
type Info struct {
	// Version is the release, as `git describe` names it (v1.2.0,
	// v1.2.0-3-g1a2b3c4, or a bare abbreviated commit before the first
	// tag; "-dirty" when built from uncommitted changes), Go's
	// pseudo-version for an unstamped build, or "devel" when nothing is
	// known.
	Version string
	// Commit is the commit hash, "" when unknown.
	Commit string
	// Date is when the binary was built, "" when unknown: only a stamped
	// build knows it.
	Date string
	// Go is the Go release that compiled the binary.
	Go string
	// Platform is GOOS/GOARCH.
	Platform string
}

// Get returns what is known about the running binary.
func Get() Info {
	i := Info{Version: version, Commit: commit, Date: date, Go: runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if i.Version != "" && i.Commit != "" {
		return i
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		fromBuildInfo(&i, bi)
	}
	if i.Version == "" {
		i.Version = "devel"
	}
	return i
}

// fromBuildInfo fills what the linker did not stamp from Go's build
// information: the main module's version (a pseudo-version such as
// v0.0.0-20260101120000-1a2b3c4d5e6f+dirty when built in a git checkout)
// and the vcs.* settings.
func fromBuildInfo(i *Info, bi *debug.BuildInfo) {
	var rev string
	var modified bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if i.Commit == "" && rev != "" {
		i.Commit = rev
		if modified {
			i.Commit += "-dirty"
		}
	}
	if i.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		i.Version = bi.Main.Version
	}
}

// String is the one line `freqd version` and --version print, e.g.
// "freqd v1.2.0 (commit 1a2b3c4d5e6f, built 2026-01-02T03:04:05Z, go1.26.0 linux/amd64)".
func (i Info) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "freqd %s (", i.Version)
	if i.Commit != "" {
		fmt.Fprintf(&b, "commit %s, ", shortCommit(i.Commit))
	}
	if i.Date != "" {
		fmt.Fprintf(&b, "built %s, ", i.Date)
	}
	fmt.Fprintf(&b, "%s %s)", i.Go, i.Platform)
	return b.String()
}

// shortCommit keeps the 12 hex digits Go's pseudo-versions use, enough to
// name a commit in any repository of this size, and a -dirty mark.
func shortCommit(c string) string {
	hash, dirty, _ := strings.Cut(c, "-")
	if len(hash) > 12 {
		hash = hash[:12]
	}
	if dirty != "" {
		return hash + "-" + dirty
	}
	return hash
}
