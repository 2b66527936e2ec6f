package memfd

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestSealedRefusesEveryChange(t *testing.T) {
	good := bytes.Repeat([]byte("freqd sealed memfd "), 1000)
	f, err := Sealed("freqd-test", good)
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
	got := make([]byte, len(good))
	if _, err := f.ReadAt(got, 0); err != nil || !bytes.Equal(got, good) {
		t.Errorf("memfd content differs from the input (read error %v)", err)
	}
}

func TestSealedCopyCopiesTheWholeFile(t *testing.T) {
	want := bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7}, 300000)
	src, err := os.CreateTemp(t.TempDir(), "src")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := src.Write(want); err != nil {
		t.Fatal(err)
	}
	f, err := SealedCopy("copy", src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := CheckSealed(f); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(want))
	if _, err := f.ReadAt(got, 0); err != nil || !bytes.Equal(got, want) {
		t.Errorf("copy differs from the source (read error %v)", err)
	}
}

func TestCheckSealedRejectsPlainFiles(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "plain")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := CheckSealed(f); err == nil || !strings.Contains(err.Error(), "sealed memfd") {
		t.Errorf("CheckSealed on a plain file: %v, want an error naming a sealed memfd", err)
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

func TestSharedIsZeroedAndWritable(t *testing.T) {
	f, err := Shared("shared", 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 4096)
	if _, err := f.ReadAt(b, 0); err != nil || !bytes.Equal(b, make([]byte, 4096)) {
		t.Fatalf("fresh region not zeroed (read error %v)", err)
	}
	if _, err := f.WriteAt([]byte("x"), 10); err != nil {
		t.Errorf("write to a shared region: %v", err)
	}
}

// TestFillSafelyTurnsAFaultIntoAnError: a page that cannot be had while a
// table is copied in (here, past the end of a file cut short) is an error
// for the master to report, not a SIGBUS that ends it.
func TestFillSafelyTurnsAFaultIntoAnError(t *testing.T) {
	f, err := Shared("freqd-fault-test", 8192)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := unix.Mmap(int(f.Fd()), 0, 8192, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	if err := f.Truncate(0); err != nil {
		t.Fatal(err)
	}
	err = fillSafely(m, func(m []byte) error {
		m[4096] = 1 // beyond the file's end now: SIGBUS
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "no memory for the page at byte 4096 of a 8192-byte copy") {
		t.Fatalf("a write that faulted gave %v, want an error naming the page", err)
	}
	// A fault in what is copied from (a mapping of a file cut short) is
	// the source's, and says so.
	src, err := Shared("freqd-fault-source", 8192)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	from, err := unix.Mmap(int(src.Fd()), 0, 8192, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(from)
	if err := src.Truncate(0); err != nil {
		t.Fatal(err)
	}
	to := make([]byte, 8192)
	err = fillSafely(to, func(m []byte) error {
		copy(m, from)
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "the source of a 8192-byte copy faulted") {
		t.Fatalf("a read that faulted gave %v, want an error blaming the source", err)
	}
	// A panic of another kind is not swallowed.
	defer func() {
		if r := recover(); r != "not a fault" {
			t.Errorf("recovered %v, want the fill's own panic passed on", r)
		}
	}()
	_ = fillSafely(m, func([]byte) error { panic("not a fault") })
}
