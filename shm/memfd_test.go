package shm

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestSealedMemfd(t *testing.T) {
	good := subtlexBytes(t)
	f, err := SealedMemfd("freqd-test", good)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := CheckSealed(f); err != nil {
		t.Fatalf("CheckSealed on a sealed memfd: %v", err)
	}
	if _, err := f.WriteAt([]byte("X"), 0); err == nil {
		t.Error("writing to the sealed memfd succeeded")
	}
	if err := f.Truncate(10); err == nil {
		t.Error("shrinking the sealed memfd succeeded")
	}
	if err := f.Truncate(int64(len(good)) + 4096); err == nil {
		t.Error("growing the sealed memfd succeeded")
	}

	// Workers map it; the mapping outlives the descriptor.
	tab, err := OpenFile(f)
	if err != nil {
		t.Fatal(err)
	}
	defer tab.Close()
	if err := tab.Verify(); err != nil {
		t.Fatal(err)
	}
	if c, ok := tab.Lookup([]byte("the")); !ok || c != 1501908 {
		t.Errorf("Lookup(the) through the memfd = %d, %v; want 1501908", c, ok)
	}
	got := make([]byte, len(good))
	if _, err := f.ReadAt(got, 0); err != nil || !bytes.Equal(got, good) {
		t.Errorf("memfd content differs from the input (read error %v)", err)
	}
}

func TestCheckSealedRejectsPlainFiles(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "plain")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := CheckSealed(f); err == nil || !strings.Contains(err.Error(), "SealedMemfd") {
		t.Errorf("CheckSealed on a plain file: %v, want an error pointing at SealedMemfd", err)
	}
	// A memfd that could be sealed but is not.
	fd, err := unix.MemfdCreate("unsealed", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		t.Fatal(err)
	}
	m := os.NewFile(uintptr(fd), "memfd:unsealed")
	defer m.Close()
	if err := CheckSealed(m); err == nil || !strings.Contains(err.Error(), "not sealed") {
		t.Errorf("CheckSealed on an unsealed memfd: %v, want \"not sealed\"", err)
	}
}
