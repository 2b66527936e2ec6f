//go:build race

package faults

// Under -race the server is built with the race detector too, so the
// faults also hunt for data races in the master and the workers, where they
// are most likely: in the paths that handle deaths, reloads and timeouts.
func init() { buildFlags = append(buildFlags, "-race") }
