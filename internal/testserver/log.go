package testserver

import (
	"bytes"
	"strings"
	"sync"
)

// Log collects a server's output; it is safe to write from the goroutine
// that drains the server's stderr while a test reads it.
type Log struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Contains says whether the log holds s.
func (l *Log) Contains(s string) bool { return strings.Contains(l.String(), s) }
