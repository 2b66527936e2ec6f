// Command freqd is the one binary of the freqd word-frequency server: it builds
// and inspects frequency files, runs the pre-forked server (master and
// workers), and talks to a running server.
//
// main only picks a subcommand; each subcommand lives in its own file, parses
// its own flags and calls into the packages that do the work. cli.go holds
// what they share: flag parsing, help, and the description that help, shell
// completion and the man page are all rendered from.
package main

import "os"

func main() { os.Exit(dispatch(os.Args[1:])) }
