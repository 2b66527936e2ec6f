package ingest

import (
	"bytes"
	"context"
	"fmt"

	"github.com/freqd/freqd/data"
	"github.com/freqd/freqd/shm/freqfile"
)

// DefaultTable builds the embedded SUBTLEX-US list (package data) into a
// frequency table, as `freqd serve` serves it without --data and `freqd
// build --default` writes it: normalized by word.Default's rules, recorded
// in its metadata, with contractions answered from their parts, since
// SUBTLEX-US counts "don't" as "don" and "t".
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
	opts := c.BuildOptions(freqfile.BuildOptions{})
	if err := freqfile.WriteTable(&buf, entries, opts); err != nil {
		return nil, fmt.Errorf("embedded table: %w", err)
	}
	return buf.Bytes(), nil
}
