package master

import (
	"bytes"
	"context"
	"fmt"
	"os"

	"github.com/freqd/freqd/data"
	"github.com/freqd/freqd/ingest"
	"github.com/freqd/freqd/shm/freqfile"
	"github.com/freqd/freqd/shm/memfd"
)

// LoadTable validates the frequency table once, in full (checksum included),
// and puts it in a sealed memfd for the workers. Serving a sealed copy rather
// than mapping the operator's file means the file can be truncated or
// rewritten in place while served: a mapped file that shrinks raises SIGBUS
// in every worker (PITFALLS #17); a sealed memfd cannot change at all.
// The master keeps the memfd mapped for its own use (INFO, metrics); the
// single-process designs of package classic serve from that mapping.
func LoadTable(path string) (*freqfile.Table, *os.File, error) {
	var f *os.File
	var err error
	name := path
	if path == "" {
		name = "embedded SUBTLEX-US"
		var b []byte
		if b, err = DefaultTable(); err != nil {
			return nil, nil, err
		}
		f, err = memfd.Sealed("freqd-table", b)
	} else {
		var src *os.File
		if src, err = os.Open(path); err != nil {
			return nil, nil, fmt.Errorf("data file: %w", err)
		}
		f, err = memfd.SealedCopy("freqd-table", src)
		src.Close()
	}
	if err != nil {
		return nil, nil, fmt.Errorf("data file %s: copy into memfd: %w", name, err)
	}
	// Validate the copy, not the file: it is what the workers will serve.
	return openVerified(f, name)
}

// openVerified maps f and checks it in full (header and body checksum);
// on any failure f is closed.
func openVerified(f *os.File, name string) (*freqfile.Table, *os.File, error) {
	t, err := freqfile.OpenFile(f)
	if err == nil {
		if err = t.Verify(); err != nil {
			t.Close()
		}
	}
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("data file %s: %w", name, err)
	}
	return t, f, nil
}

// Data modes: how workers get the table.
const (
	// DataCopy serves a sealed memfd copy: immune to the file changing.
	DataCopy = "copy"
	// DataMap maps the file itself: no copy, for tables larger than memory
	// would comfortably hold twice. A file truncated while served makes
	// lookups fault; workers turn those faults into error replies (they do
	// not crash) until SIGHUP loads a good file. A file rewritten in place
	// (rather than replaced by rename, as freqd build does) can give wrong
	// answers: this mode trusts the operator on that.
	DataMap = "map"
)

// MapTable validates the data file once, in full, and returns it open and
// mapped, for DataMap.
func MapTable(path string) (*freqfile.Table, *os.File, error) {
	if path == "" {
		return LoadTable("") // the embedded table has no file to map
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("data file: %w", err)
	}
	return openVerified(f, path)
}

// DefaultTable builds the embedded SUBTLEX-US word list into a frequency
// table, case folded, as `freqd serve` without --data serves it.
func DefaultTable() ([]byte, error) {
	c := ingest.New(ingest.Options{})
	if err := c.AddReader(context.Background(), "embedded SUBTLEX-US", bytes.NewReader(data.SubtlexUS)); err != nil {
		return nil, fmt.Errorf("embedded table: %w", err)
	}
	var buf bytes.Buffer
	if err := freqfile.WriteTable(&buf, c.Entries(), freqfile.BuildOptions{FoldCase: true}); err != nil {
		return nil, fmt.Errorf("embedded table: %w", err)
	}
	return buf.Bytes(), nil
}
