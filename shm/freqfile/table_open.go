package freqfile

import (
	"fmt"
	"os"
	"unsafe"

	"github.com/freqd/freqd/internal/procstat"
	"github.com/freqd/freqd/shm/memfd"

	"golang.org/x/sys/unix"
)

// Open maps the frequency file at path read-only and shared, and checks its
// header. Many processes that open the same file share its pages. A file
// truncated while mapped would kill the process with SIGBUS on the next
// read, so a server should serve a sealed copy (SealedMemfd) instead.
func Open(path string) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close() // the mapping does not need the descriptor
	return OpenFile(f)
}

// OpenFile is Open on a file that is already open, such as a memfd received
// from the master. Its errors name the file as f.Name() gives it. It does not take ownership of f: the caller may close f
// at once, and the mapping stays valid until Close.
func OpenFile(f *os.File) (*Table, error) {
	t, err := openFile(f)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", f.Name(), err)
	}
	return t, nil
}

func openFile(f *os.File) (*Table, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s); give the path of a frequency file", fi.Mode().Type())
	}
	size := fi.Size()
	if size < headerSize {
		// Too short to map usefully: let Parse name the problem.
		b := make([]byte, size)
		if _, err := f.ReadAt(b, 0); err != nil {
			return nil, err
		}
		_, err := decodeHeader(b)
		return nil, err
	}
	if size > maxFileSize || int64(int(size)) != size {
		return nil, corruptf("file of %d bytes exceeds the format's %d-byte limit", size, int64(maxFileSize))
	}
	var m []byte
	err = memfd.Control(f, func(fd int) error {
		m, err = unix.Mmap(fd, 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
		if err == nil {
			// Huge pages where the file has them: a memfd filled as
			// memfd.Sealed fills it.
			memfd.AdviseHuge(fd, m)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("mmap: %w", err)
	}
	t, err := Parse(m)
	if err != nil {
		unix.Munmap(m)
		return nil, err
	}
	t.mapped = m
	return t, nil
}

// HugePageBytes reports how much of the table's mapping this process maps
// with huge pages (2 MiB and up), from /proc/self/smaps: 0 for a table
// that is not mapped, or whose pages are all ordinary ones.
func (t *Table) HugePageBytes() (int64, error) {
	if len(t.mapped) == 0 {
		return 0, nil
	}
	m, err := procstat.SelfMapping(uintptr(unsafe.Pointer(unsafe.SliceData(t.mapped))))
	return m.HugeBytes, err
}

// Close releases the table's mapping, if it has one. Every method of a
// closed table reports "not found" or errClosed; words returned by Entry
// must not be used after Close.
func (t *Table) Close() error {
	m := t.mapped
	*t = Table{}
	if m != nil {
		if err := unix.Munmap(m); err != nil {
			return fmt.Errorf("unmap frequency table: %w", err)
		}
	}
	return nil
}
