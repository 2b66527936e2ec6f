package ingest

import (
	"bytes"
	"context"
	"fmt"

	"github.com/freqd/freqd/data"
	"github.com/freqd/freqd/shm/freqfile"
)

// DefaultTable builds the embedded SUBTLEX-US list (package data) into a
// frequency table, case folded, as `freqd serve` serves it without --data
// and `freqd build --default` writes it.
func DefaultTable() ([]byte, error) {
	c := New(Options{})
	if err := c.AddReader(context.Background(), "embedded SUBTLEX-US", bytes.NewReader(data.SubtlexUS)); err != nil {
		return nil, fmt.Errorf("embedded table: %w", err)
	}
	entries, err := c.Entries()
	if err != nil {
		return nil, fmt.Errorf("embedded table: %w", err)
	}
	var buf bytes.Buffer
	if err := freqfile.WriteTable(&buf, entries, freqfile.BuildOptions{FoldCase: true}); err != nil {
		return nil, fmt.Errorf("embedded table: %w", err)
	}
	return buf.Bytes(), nil
}
