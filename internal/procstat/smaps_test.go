package procstat

import (
	"slices"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

const smapsSample = `00400000-00b5a000 r-xp 00000000 fe:00 10535568                           /usr/bin/freqd
Size:               7528 kB
AnonHugePages:         0 kB
FilePmdMapped:         0 kB
VmFlags: rd ex mr mw me sd
7fc5a0000000-7fc5bd21b000 r--s 00000000 00:01 21573                      /memfd:freqd-table (deleted)
Size:            4000000 kB
Rss:             3998720 kB
AnonHugePages:         0 kB
ShmemPmdMapped:  3997696 kB
FilePmdMapped:         0 kB
THPeligible:    1
VmFlags: rd sh mr mw me ms sd hg
7fc5bd21b000-7fc5bd400000 rw-p 00000000 00:00 0
Size:               1940 kB
AnonHugePages:      2048 kB
VmFlags: rd wr mr mw me ac sd
`

func TestReadMappingReadsTheMappingAtItsStart(t *testing.T) {
	for _, c := range []struct {
		start uintptr
		want  int64
		flag  string // one of its VmFlags
	}{
		{0x7fc5a0000000, 3997696 << 10, "hg"},
		{0x400000, 0, "ex"},
		{0x7fc5bd21b000, 2048 << 10, "ac"}, // the last mapping, ended by EOF
	} {
		got, err := readMapping(strings.NewReader(smapsSample), c.start)
		if err != nil || got.HugeBytes != c.want || !slices.Contains(got.Flags, c.flag) {
			t.Errorf("mapping at %#x: %+v, %v; want %d huge bytes and the flag %s", c.start, got, err, c.want, c.flag)
		}
	}
	if _, err := readMapping(strings.NewReader(smapsSample), 0x7fc5a0001000); err == nil {
		t.Error("an address inside a mapping, not at its start, was accepted")
	}
}

func TestSelfMappingFindsAMappingOfThisProcess(t *testing.T) {
	// A mapping of a file of its own, which the kernel cannot merge with
	// a neighbour into one entry that starts elsewhere.
	fd, err := unix.MemfdCreate("procstat-test", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Ftruncate(fd, 1<<20); err != nil {
		t.Fatal(err)
	}
	m, err := unix.Mmap(fd, 0, 1<<20, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	// No huge page fits in 1 MiB: what is checked is that the mapping is
	// found in the live /proc/self/smaps and read without error.
	if got, err := SelfMapping(uintptr(unsafe.Pointer(&m[0]))); err != nil || got.HugeBytes != 0 || !slices.Contains(got.Flags, "sh") {
		t.Errorf("SelfMapping of a 1-MiB shared mapping: %+v, %v; want 0 huge bytes and the flag sh", got, err)
	}
}
