// Package memfd makes in-memory files that several processes map: sealed
// copies of a frequency table that nobody can change while workers serve
// them, and plain shared regions such as the scoreboard.
package memfd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// requiredSeals make a memfd immutable: it can neither shrink (which would
// make readers fault with SIGBUS), grow, nor be written, and the seals
// themselves can no longer change.
const requiredSeals = unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE | unix.F_SEAL_SEAL

// Sealed returns a memfd (close-on-exec) holding a copy of b, sealed
// against every change. The master copies a verified table into one and
// passes it to workers, which can then map it without fearing that the file
// on disk is replaced, truncated or rewritten while they serve it.
func Sealed(name string, b []byte) (*os.File, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("memfd_create %q: %w", name, err)
	}
	f := os.NewFile(uintptr(fd), "memfd:"+name)
	if err := fillAndSeal(f, b); err != nil {
		f.Close()
		return nil, fmt.Errorf("memfd %q: %w", name, err)
	}
	return f, nil
}

// SealedCopy is Sealed for the contents of an open file, read straight
// into the memfd's pages so that a table of hundreds of megabytes never
// passes through the Go heap: the master would otherwise hold a dead copy
// as large as the table until the runtime returned it.
func SealedCopy(name string, src *os.File) (*os.File, error) {
	fi, err := src.Stat()
	if err != nil {
		return nil, err
	}
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("memfd_create %q: %w", name, err)
	}
	f := os.NewFile(uintptr(fd), "memfd:"+name)
	err = fillMapped(f, fi.Size(), func(m []byte) error {
		n, err := io.ReadFull(io.NewSectionReader(src, 0, fi.Size()), m)
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			err = fmt.Errorf("copied %d of %d bytes: the file changed while being read; load it again once whatever writes it is done", n, fi.Size())
		case errors.Is(err, unix.EFAULT):
			// The kernel could not allocate a page of the memfd for
			// the read to land in: memory, not the file, ran out.
			err = noMemory(int64(n), len(m))
		}
		return err
	})
	if err == nil {
		err = seal(f)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("memfd %q: %w", name, err)
	}
	return f, nil
}

func fillAndSeal(f *os.File, b []byte) error {
	if err := fillMapped(f, int64(len(b)), func(m []byte) error {
		copy(m, b)
		return nil
	}); err != nil {
		return err
	}
	return seal(f)
}

// fillMapped sizes f and has fill write its contents through a shared
// mapping advised for transparent huge pages. Shared memory decides a
// page's size when the page is first written, and write(2) or
// copy_file_range never asks for huge pages; only a mapping that asks does,
// where the system allows them for shared memory
// (/sys/kernel/mm/transparent_hugepage/shmem_enabled: advise, within_size
// or always). A table in 2-MiB pages spares each lookup a page-table walk
// once the index outgrows what the TLB covers: a table of a hundred
// million words spans more than a million 4-KiB pages. Where the system
// refuses, the advice is ignored and the pages are ordinary ones.
func fillMapped(f *os.File, size int64, fill func(m []byte) error) error {
	if err := f.Truncate(size); err != nil {
		return err
	}
	if size == 0 {
		return nil
	}
	if int64(int(size)) != size {
		return fmt.Errorf("%d bytes do not fit this process's address space", size)
	}
	return Control(f, func(fd int) error {
		m, err := unix.Mmap(fd, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			return fmt.Errorf("mmap: %w", err)
		}
		AdviseHuge(fd, m)
		err = fillSafely(m, fill)
		// Sealing against writes fails while a writable mapping exists.
		if uerr := unix.Munmap(m); err == nil && uerr != nil {
			err = fmt.Errorf("munmap: %w", uerr)
		}
		return err
	})
}

// fillSafely runs fill on m with a fault in m turned into an error. A
// page of shared memory is allocated when first written, and one the
// system cannot allocate raises SIGBUS in the writer: the master loading a
// table (at start or on SIGHUP) must report that, not die while serving
// the table it has. Writes a system call makes into m fail with EFAULT
// instead, which fill returns.
func fillSafely(m []byte, fill func(m []byte) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			fault, ok := r.(interface{ Addr() uintptr })
			if !ok {
				panic(r)
			}
			base := uintptr(unsafe.Pointer(unsafe.SliceData(m)))
			if a := fault.Addr(); a >= base && a-base < uintptr(len(m)) {
				err = noMemory(int64(a-base), len(m))
				return
			}
			// Not the copy's page: the bytes copied from were a mapping
			// whose file was cut short under it.
			err = fmt.Errorf("the source of a %d-byte copy faulted at %#x: its file was truncated while being read; load it again once whatever writes it is done", len(m), fault.Addr())
		}
	}()
	return fill(m)
}

// noMemory is the error for a page of the copy the system would not give.
func noMemory(off int64, size int) error {
	return fmt.Errorf("no memory for the page at byte %d of a %d-byte copy: free memory or raise the memory limit (cgroup memory.max, vm.overcommit_memory) and load again; a table already served stays served", off, size)
}

// AdviseHuge asks for transparent huge pages on a mapping of shared memory
// (a memfd, tmpfs), for the reason fillMapped gives; a kernel without them
// refuses, which changes nothing. It is never asked for a file on disk:
// there the kernel answers a fault in such a mapping by reading 2 to 4 MiB
// around it, and a table mapped where it lies (--data-mode map) is often
// larger than memory, so each cold lookup would read megabytes.
func AdviseHuge(fd int, m []byte) {
	var st unix.Statfs_t
	if unix.Fstatfs(fd, &st) == nil && st.Type == unix.TMPFS_MAGIC {
		_ = unix.Madvise(m, unix.MADV_HUGEPAGE)
	}
}

func seal(f *os.File) error {
	return Control(f, func(fd int) error {
		// F_SEAL_WRITE waits for pages the kernel holds pinned (page
		// migration, compaction) and fails with EBUSY if they stay pinned;
		// seen once in CI. The pins are transient: try again briefly.
		var err error
		for attempt := 0; attempt < 20; attempt++ {
			if _, err = unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, requiredSeals); err != unix.EBUSY {
				break
			}
			time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
		}
		if err != nil {
			return fmt.Errorf("add seals: %w", err)
		}
		return nil
	})
}

// CheckSealed returns an error unless f carries all the seals Sealed sets. A worker calls it before trusting a descriptor it has inherited.
func CheckSealed(f *os.File) error {
	var seals int
	err := Control(f, func(fd int) error {
		var err error
		seals, err = unix.FcntlInt(uintptr(fd), unix.F_GET_SEALS, 0)
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: cannot read seals (%w); expected a sealed memfd from the master", f.Name(), err)
	}
	if missing := requiredSeals &^ seals; missing != 0 {
		return fmt.Errorf("%s: not sealed against changes (seals %#x, missing %#x); expected a sealed memfd from the master", f.Name(), seals, missing)
	}
	return nil
}

// Control runs fn on f's descriptor without f.Fd, which would switch the
// descriptor to blocking mode.
func Control(f *os.File, fn func(fd int) error) error {
	raw, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := raw.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// Shared returns a memfd (close-on-exec) of size zeroed bytes, not sealed:
// a region that processes map read-write to share counters.
func Shared(name string, size int64) (*os.File, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd_create %q: %w", name, err)
	}
	f := os.NewFile(uintptr(fd), "memfd:"+name)
	if err := f.Truncate(size); err != nil {
		f.Close()
		return nil, fmt.Errorf("memfd %q: size %d: %w", name, size, err)
	}
	return f, nil
}
