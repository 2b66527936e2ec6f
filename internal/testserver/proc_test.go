package testserver

import (
	"os"
	"os/exec"
	"slices"
	"syscall"
	"testing"
	"time"
)

// TestChildrenStateAndKillTree follows a real child through the states the
// fault tests rely on: listed as a child, stopped, killed, reaped.
func TestChildrenStateAndKillTree(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	waited := make(chan struct{})
	go func() { cmd.Wait(); close(waited) }()
	defer func() { cmd.Process.Kill(); <-waited }()

	if kids := Children(os.Getpid()); !slices.Contains(kids, pid) {
		t.Fatalf("Children(%d) = %v, missing the child %d", os.Getpid(), kids, pid)
	}
	if !Alive(pid) || Stopped(pid) {
		t.Fatalf("child %d: alive %v, stopped %v; want alive and running", pid, Alive(pid), Stopped(pid))
	}
	syscall.Kill(pid, syscall.SIGSTOP)
	Eventually(t, 5*time.Second, func() bool { return Stopped(pid) }, func() string { return "the child to stop" })

	// A stopped child is killed too, and once reaped it is neither a
	// child nor alive.
	KillTree(pid)
	<-waited
	if Alive(pid) || slices.Contains(Children(os.Getpid()), pid) {
		t.Errorf("child %d still listed after KillTree and wait", pid)
	}
}

func TestOpenFDsAndPeakRSS(t *testing.T) {
	before, err := OpenFDs(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := OpenFDs(os.Getpid())
	f.Close()
	if after != before+1 {
		t.Errorf("OpenFDs: %d before opening a file, %d after; want one more", before, after)
	}
	if rss, err := PeakRSS(os.Getpid()); err != nil || rss < 1<<20 {
		t.Errorf("PeakRSS of this test = %d, %v; want at least a MiB", rss, err)
	}
	if _, err := PeakRSS(-1); err == nil {
		t.Errorf("PeakRSS of no process: no error")
	}
}
