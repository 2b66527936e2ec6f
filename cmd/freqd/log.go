package main

import (
	"os"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sys/unix"
)

// newLogger makes the process's logger: human-readable (coloured on a
// terminal) unless JSON is asked for, on stderr.
func newLogger(name, level string, json bool) hclog.Logger {
	_, err := unix.IoctlGetTermios(int(os.Stderr.Fd()), unix.TCGETS)
	color := hclog.ColorOff
	if err == nil && !json {
		color = hclog.AutoColor
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:       name,
		Level:      hclog.LevelFromString(level),
		JSONFormat: json,
		Output:     os.Stderr,
		Color:      color,
		TimeFormat: "2006-01-02T15:04:05.000Z0700",
	})
}

// validLevel reports whether hclog knows the level name.
func validLevel(l string) bool { return hclog.LevelFromString(l) != hclog.NoLevel }
