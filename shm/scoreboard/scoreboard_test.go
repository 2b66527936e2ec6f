package scoreboard

import (
	"os"
	"testing"
	"time"
)

// TestScoreboardIsShared maps one scoreboard twice, as the master and a
// worker do, and checks each side sees the other's writes.
func TestScoreboardIsShared(t *testing.T) {
	master, f, err := New(4)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	defer master.Close()
	w, err := Open(f)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	master.Assign(2, 1, 4242, 7, 3)
	ws := w.Writer(2)
	if got := w.Snapshot(2); got.PID != 4242 || got.Slot != 1 || got.Generation != 7 || got.Restarts != 3 || got.State != StateStarting {
		t.Fatalf("worker sees %+v after Assign", got)
	}
	ws.SetState(StateIdle)
	ws.ConnOpened()
	ws.ConnOpened()
	ws.ConnClosed()
	ws.SetCounters(100, 2)
	ws.SetCommandCounts([]uint64{5, 6, 7})
	ws.SetDatagramCounters(9, 4)
	got := master.Snapshot(2)
	if got.State != StateBusy || got.Accepted != 2 || got.Open != 1 || got.Requests != 100 || got.Errors != 2 ||
		got.DatagramDropped != 9 || got.DatagramRefused != 4 {
		t.Fatalf("master sees %+v", got)
	}
	if c := master.CommandCounts(2, nil); c[0] != 5 || c[1] != 6 || c[2] != 7 || len(c) != MaxCommands {
		t.Fatalf("command counts %v", c)
	}
	ws.ConnClosed()
	if st := master.Snapshot(2).State; st != StateIdle {
		t.Fatalf("state after last close: %s, want idle", st)
	}
	ws.Heartbeat()
	if age := master.HeartbeatAge(2); age < 0 || age > time.Second {
		t.Fatalf("heartbeat age %v", age)
	}
	master.Clear(2)
	if got := w.Snapshot(2); got.PID != 0 || got.State != StateEmpty {
		t.Fatalf("after Clear: %+v", got)
	}
	// A new worker in the entry starts from zero.
	master.Assign(2, 1, 4343, 8, 4)
	if got := w.Snapshot(2); got.Requests != 0 || got.DatagramDropped != 0 || got.DatagramRefused != 0 {
		t.Fatalf("after a new Assign: %+v", got)
	}
}

func TestOpenRejectsOtherFiles(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Write(make([]byte, 4096))
	if _, err := Open(f); err == nil {
		t.Fatal("Open accepted a file of zeros")
	}
	if _, _, err := New(MaxEntries + 1); err == nil {
		t.Fatal("New accepted too many entries")
	}
}
