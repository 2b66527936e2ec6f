package procstat

import (
	"os"
	"runtime"
	"testing"
)

func TestParseStatm(t *testing.T) {
	u, err := parseStatm([]byte("1000 300 100 5 0 200 0\n"))
	if err != nil || u.RSS != 300*pageSize || u.Private != 200*pageSize {
		t.Errorf("got %+v, %v", u, err)
	}
	for _, bad := range []string{"", "1 2", "1 x 3", "1 2 -3"} {
		if _, err := parseStatm([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestReadSeesAnAllocation: memory this process touches shows in its
// private figure, read both as itself and by pid.
func TestReadMemorySeesAnAllocation(t *testing.T) {
	before, err := ReadMemory(0)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<20)
	for i := range buf {
		buf[i] = 1
	}
	after, err := ReadMemory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(buf)
	if after.Private < before.Private+60<<20 || after.RSS < after.Private {
		t.Errorf("before %+v, after touching 64 MiB %+v", before, after)
	}
	if _, err := ReadMemory(-5); err == nil {
		t.Error("a process that cannot exist was read")
	}
}
