package childproc

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMain lets the test binary play the child: it reports its spec and
// which descriptors it holds.
func TestMain(m *testing.M) {
	if os.Getenv("CHILDPROC_TEST_CHILD") == "1" {
		var spec struct{ Name string }
		if err := ReadSpec("CHILDPROC_TEST_SPEC", "the test", &spec); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		b := make([]byte, 16)
		n, _ := os.NewFile(4, "second").Read(b)
		fmt.Printf("%s %s\n", spec.Name, b[:n])
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestChildSeesFilesAtTheirNumbersAndCopiesAreClosed(t *testing.T) {
	r1, w1, _ := os.Pipe()
	r2, w2, _ := os.Pipe()
	defer r1.Close()
	defer w1.Close()
	defer w2.Close()
	w2.Write([]byte("hello"))
	w2.Close()
	b := New(os.Args[0], "child", "-test.run", "^$")
	b.Cmd.Env = append(os.Environ(), "CHILDPROC_TEST_CHILD=1")
	if n := b.Add(r1, false); n != 3 {
		t.Errorf("first file is descriptor %d in the child, want 3", n)
	}
	if n := b.Add(r2, true); n != 4 {
		t.Errorf("second file is descriptor %d in the child, want 4", n)
	}
	if err := b.SetSpec("CHILDPROC_TEST_SPEC", struct{ Name string }{"worker-7"}); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	b.Cmd.Stdout = &out
	if err := b.Start((*exec.Cmd).Start); err != nil {
		t.Fatal(err)
	}
	if err := b.Cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out.String()); got != "worker-7 hello" {
		t.Errorf("child printed %q", got)
	}
	if _, err := r2.Stat(); err == nil {
		t.Error("the copy made for the child is still open after the start")
	}
	if _, err := r1.Stat(); err != nil {
		t.Error("a file the caller keeps was closed")
	}
}

func TestFailedStartReleasesEverything(t *testing.T) {
	r, w, _ := os.Pipe()
	defer w.Close()
	b := New("/nonexistent/freqd")
	b.Add(r, true)
	if err := b.Start((*exec.Cmd).Start); err == nil {
		t.Fatal("starting a missing binary succeeded")
	}
	if _, err := r.Stat(); err == nil {
		t.Error("a copy made for a child that never started is still open")
	}
	if _, err := b.AddNew(nil, errors.New("dup failed")); err == nil {
		t.Error("AddNew dropped an error")
	}
}

func TestReadSpecSaysWhoStartsTheProcess(t *testing.T) {
	var v struct{}
	err := ReadSpec("CHILDPROC_TEST_UNSET", "`freqd serve`", &v)
	if err == nil || !strings.Contains(err.Error(), "started by `freqd serve`, not by hand") {
		t.Errorf("unset spec: %v", err)
	}
}
