// Package table gives a server the frequency table it serves: the file
// named by --data, validated once in full, either copied into a sealed
// memfd or mapped where it lies, or the built-in default table. Workers
// inherit the resulting descriptor and map it; the pages exist once in
// memory however many processes serve them.
//
// It knows nothing of how tables are built: the default table comes from
// the caller (Source.Default), so serving does not depend on the build
// pipeline.
package table

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/freqd/freqd/shm/freqfile"
	"github.com/freqd/freqd/shm/memfd"
)

// How the table reaches the workers (--data-mode).
const (
	// Copy serves a sealed memfd copy of the file: the file on disk may be
	// replaced, truncated or rewritten in place while served, and the
	// workers see none of it.
	Copy = "copy"
	// Map maps the file itself: no copy, for tables larger than memory
	// would comfortably hold twice. A file truncated while served makes
	// lookups fault; workers turn those faults into error replies (they do
	// not crash) until a reload loads a good file. A file rewritten in
	// place (rather than replaced by rename, as `freqd build` does) can
	// give wrong answers: this mode trusts the operator on that.
	Map = "map"
)

// Source says which table to serve and how.
type Source struct {
	// Path is the frequency file; "" serves the default table.
	Path string
	// Mode is Copy (the default when empty) or Map.
	Mode string
	// Default returns the bytes of the table served without a Path.
	Default func() ([]byte, error)
}

// Check reports a Source that cannot work, before anything is loaded.
func (s Source) Check() error {
	switch s.Mode {
	case "", Copy, Map:
	default:
		return fmt.Errorf("--data-mode %s: want %s or %s", s.Mode, Copy, Map)
	}
	if s.Path == "" && s.Default == nil {
		return errors.New("no --data file given and no default table built in")
	}
	return nil
}

// Served is a validated table, open and mapped.
type Served struct {
	// Table is the mapped table, for the process's own use.
	Table *freqfile.Table
	// File is the descriptor workers inherit: a sealed memfd (Copy, the
	// default table) or the data file itself (Map).
	File *os.File
	// Name is what the operator knows the table as: the path, or
	// "the built-in table".
	Name string
	// Sealed tells that File is a sealed memfd, which a worker checks
	// before trusting it.
	Sealed bool
}

// DefaultName is how errors and logs name the table served without --data.
const DefaultName = "the built-in table"

// Load loads and validates the table src names, in full (header and body
// checksum), so that the workers only ever map a table known to be good.
func Load(src Source) (*Served, error) {
	if err := src.Check(); err != nil {
		return nil, err
	}
	if src.Path == "" {
		b, err := src.Default()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", DefaultName, err)
		}
		f, err := memfd.Sealed("freqd-table", b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", DefaultName, err)
		}
		return verify(f, DefaultName, true)
	}
	f, err := os.Open(src.Path)
	if err != nil {
		// The operator gave the path: name it once, without the
		// system call ("open ...") that failed on it.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("data file %s: %w", src.Path, err)
	}
	if src.Mode == Map {
		return verify(f, src.Path, false)
	}
	// A copy read into sealed memory and validated there: it is what the
	// workers will serve, whatever happens to the file now.
	m, err := memfd.SealedCopy("freqd-table", f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("data file %s: copy into memory: %w", src.Path, err)
	}
	return verify(m, src.Path, true)
}

// verify maps f and checks it in full; on any failure f is closed.
func verify(f *os.File, name string, sealed bool) (*Served, error) {
	t, err := freqfile.OpenFile(f)
	if err != nil {
		// OpenFile names f, which may be a copy the operator never saw:
		// the error is reported under the name the operator gave.
		err = errors.Unwrap(err)
	} else if err = t.Verify(); err != nil {
		t.Close()
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("data file %s: %w", name, err)
	}
	return &Served{Table: t, File: f, Name: name, Sealed: sealed}, nil
}

// Close releases the mapping and the descriptor.
func (s *Served) Close() {
	s.Table.Close()
	s.File.Close()
}

// hugeHintSize is the table size from which Pages suggests huge pages: an
// index of 64 MiB spans 16,384 pages of 4 KiB, more than a TLB holds, so
// lookups start to pay page-table walks.
const hugeHintSize = 64 << 20

// shmemHuge is where Linux says whether shared memory, and so a memfd, may
// have transparent huge pages.
const shmemHuge = "/sys/kernel/mm/transparent_hugepage/shmem_enabled"

// Pages reports, for the log, how many bytes of the table this process
// maps with huge pages and, for a large table copied into memory without
// any, what the operator can change. memfd.Sealed asks for huge pages; the
// system setting decides.
func (s *Served) Pages() (huge int64, hint string) {
	huge, err := s.Table.HugePageBytes()
	if err != nil || huge > 0 || !s.Sealed || s.Table.Size() < hugeHintSize {
		return huge, ""
	}
	b, err := os.ReadFile(shmemHuge)
	if err != nil {
		return 0, fmt.Sprintf("the table is in 4-KiB pages, and this kernel offers no transparent huge pages for shared memory (%v)", err)
	}
	switch setting := selected(string(b)); setting {
	case "never", "deny", "unknown":
		return 0, fmt.Sprintf("the table is in 4-KiB pages (%s is %s): set it to advise and reload, so lookups in a table this large do not walk the page tables", shmemHuge, setting)
	default:
		return 0, fmt.Sprintf("the table is in 4-KiB pages although %s is %s: memory may be too fragmented for 2-MiB pages; a reload tries again", shmemHuge, setting)
	}
}

// selected returns the bracketed choice of a sysfs setting such as
// "always within_size [advise] never deny force".
func selected(s string) string {
	if _, rest, ok := strings.Cut(s, "["); ok {
		if v, _, ok := strings.Cut(rest, "]"); ok {
			return v
		}
	}
	return "unknown"
}
