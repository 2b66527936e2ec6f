package main

import (
	"flag"
	"fmt"

	"github.com/freqd/freqd/internal/version"
)

func init() {
	register(&command{
		name:     "version",
		summary:  "print the version, commit, build date and Go version",
		synopsis: []string{"version"},
		about: `Prints one line: the version (as 'git describe' names the commit a release
build was made from), the commit, when it was built and the Go that built it.
Every command also takes --version. A running server reports its version in
INFO (freqd_version), in /metrics (freqd_build_info) and in its first log
line.`,
		examples: []example{{line: "freqd version"}},
		setup: func(fs *flag.FlagSet) func([]string) int {
			c := commands["version"]
			return func(args []string) int {
				if code := c.noArgs(args, "version"); code != exitOK {
					return code
				}
				fmt.Println(version.Get())
				return exitOK
			}
		},
	})
}
