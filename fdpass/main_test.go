package fdpass_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/freqd/freqd/fdpass"
	"golang.org/x/sys/unix"
)

// roleEnv names the role a re-executed test binary plays instead of running
// tests; its socket is descriptor 3 (ExtraFiles[0]).
const roleEnv = "FDPASS_TEST_ROLE"

func TestMain(m *testing.M) {
	if role := os.Getenv(roleEnv); role != "" {
		os.Exit(runChild(role))
	}
	// The first pollable descriptor makes the runtime open its netpoller (an
	// epoll instance and a wake-up descriptor) for good. Do it now so the
	// first test's leak check does not count them.
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, "fdpass tests: open a pipe to start the netpoller:", err)
		os.Exit(2)
	}
	r.Close()
	w.Close()
	os.Exit(m.Run())
}

// runChild plays a worker-side or master-side process in a multi-process test.
//
//   - reader: receive messages with one descriptor from fd 3 until EOF and
//     print "payload inode" for each, like a worker taking connections.
//   - idle: hold fd 3 without reading it until stdin closes, like a worker
//     that is busy or about to die.
//   - sender: send one message carrying a pipe from fd 3, print "sent", then
//     wait for stdin to close (or to be killed).
//   - limited: lower its descriptor limit to leave room for 4 more, print
//     "ready", receive one message of up to 8 descriptors from fd 3 with
//     RecvFd, and print how many arrived and whether the error was
//     ErrDescriptorLimit.
func runChild(role string) int {
	var err error
	switch role {
	case "reader":
		err = childReader()
	case "idle":
		// Descriptor 3 is left as a bare number: an *os.File would close it
		// when garbage collected.
		fmt.Println("ready")
		_, err = io.Copy(io.Discard, os.Stdin)
	case "sender":
		err = childSender()
	case "limited":
		err = childLimited()
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "child %s (pid %d): %v\n", role, os.Getpid(), err)
		return 1
	}
	return 0
}

func childReader() error {
	conn, err := fdpass.FileConn(os.NewFile(3, "queue"))
	if err != nil {
		return err
	}
	defer conn.Close()
	// Fail rather than hang if the parent never closes the sending end.
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	buf := make([]byte, 64)
	for {
		n, fds, err := fdpass.Recv(conn, buf, 1)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if len(fds) != 1 {
			return fmt.Errorf("message %q carried %d descriptors, want 1", buf[:n], len(fds))
		}
		var st unix.Stat_t
		err = unix.Fstat(fds[0], &st)
		unix.Close(fds[0])
		if err != nil {
			return fmt.Errorf("fstat received descriptor: %w", err)
		}
		if _, err := fmt.Printf("%s %d\n", buf[:n], st.Ino); err != nil {
			return err
		}
	}
}

func childSender() error {
	conn, err := fdpass.FileConn(os.NewFile(3, "queue"))
	if err != nil {
		return err
	}
	defer conn.Close()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return err
	}
	err = fdpass.Send(conn, []byte(strconv.Itoa(os.Getpid())), p[0])
	unix.Close(p[0])
	unix.Close(p[1])
	if err != nil {
		return err
	}
	fmt.Println("sent")
	_, err = io.Copy(io.Discard, os.Stdin)
	return err
}

func childLimited() error {
	fmt.Println("ready")
	// Wait with poll(2), not a sleeping loop: a Go timer would open the
	// runtime's epoll descriptors after the limit is set and take room.
	pfd := []unix.PollFd{{Fd: 3, Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(pfd, -1); err != unix.EINTR {
			break
		}
	}
	// The limit bounds descriptor numbers, not their count, so leave exactly
	// four free numbers below it, counting the holes among the open ones.
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return err
	}
	open := map[int]bool{}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		// ReadDir's own descriptor is listed but closed again by now.
		if _, err := os.Readlink("/proc/self/fd/" + e.Name()); err != nil {
			continue
		}
		open[fd] = true
	}
	limit, free := 0, 0
	for ; free < 4; limit++ {
		if !open[limit] {
			free++
		}
	}
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	lim.Cur = uint64(limit)
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	buf := make([]byte, 16)
	_, fds, err := fdpass.RecvFd(3, buf, 8)
	fmt.Printf("%d %v\n", len(fds), errors.Is(err, fdpass.ErrDescriptorLimit))
	return nil
}

// child is a running re-executed test binary.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  *bufio.Scanner
	stderr *strings.Builder
	once   sync.Once
	err    error
}

// startChild starts the test binary in role with sock as its descriptor 3.
// The child is killed and reaped when the test ends, if not before.
func startChild(t *testing.T, role string, sock *os.File) *child {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("find the test binary: %v", err)
	}
	c := &child{cmd: exec.Command(exe), stderr: new(strings.Builder)}
	c.cmd.Env = append(os.Environ(), roleEnv+"="+role)
	c.cmd.ExtraFiles = []*os.File{sock}
	c.cmd.Stderr = c.stderr
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c.lines = bufio.NewScanner(stdout)
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start %s child: %v", role, err)
	}
	t.Cleanup(func() { c.kill() })
	return c
}

// expect reads the child's next line of output and fails unless it is want.
func (c *child) expect(t *testing.T, want string) {
	t.Helper()
	if !c.lines.Scan() {
		t.Fatalf("child %d ended before printing %q: %v; stderr: %s", c.cmd.Process.Pid, want, c.wait(), c.stderr)
	}
	if got := c.lines.Text(); got != want {
		t.Fatalf("child %d printed %q, want %q", c.cmd.Process.Pid, got, want)
	}
}

// kill kills the child and reaps it; it returns the result of the one Wait.
func (c *child) kill() error {
	c.cmd.Process.Kill()
	return c.wait()
}

// wait closes the child's stdin, which ends the idle and sender roles, and
// reaps it once, after its output has been read or abandoned.
func (c *child) wait() error {
	c.once.Do(func() {
		c.stdin.Close()
		c.err = c.cmd.Wait()
	})
	return c.err
}

// openFDs returns this process's open descriptors and what each refers to.
func openFDs(t testing.TB) map[int]string {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("list open descriptors: %v", err)
	}
	fds := make(map[int]string, len(entries))
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			t.Fatalf("unexpected entry %q in /proc/self/fd", e.Name())
		}
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if errors.Is(err, os.ErrNotExist) {
			continue // ReadDir's own descriptor, closed since
		}
		if err != nil {
			t.Fatalf("read descriptor %d: %v", fd, err)
		}
		fds[fd] = target
	}
	return fds
}

// checkLeaks fails the test if, when it ends, the process has descriptors
// open that it did not have now, or lacks ones it had.
func checkLeaks(t *testing.T) {
	t.Helper()
	before := openFDs(t)
	t.Cleanup(func() {
		after := openFDs(t)
		for fd, target := range after {
			if before[fd] != target {
				t.Errorf("descriptor %d (%s) leaked", fd, target)
			}
		}
		for fd, target := range before {
			if _, ok := after[fd]; !ok {
				t.Errorf("descriptor %d (%s), open before the test, was closed by it", fd, target)
			}
		}
		if len(after) != len(before) {
			t.Errorf("%d descriptors open after the test, %d before", len(after), len(before))
		}
	})
}
