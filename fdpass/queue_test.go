package fdpass_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/freqd/freqd/fdpass"
	"golang.org/x/sys/unix"
)

// delivery is one message as a reader saw it: the payload (a sequence
// number) and the inode of the descriptor that came with it.
type delivery struct {
	seq string
	ino uint64
	err error
}

// TestQueueDeliversEachDescriptorOnce has several readers, goroutines and
// processes, drain one receiving end, as freqd's workers do, and checks that
// every descriptor sent arrives exactly once, with its own message.
func TestQueueDeliversEachDescriptorOnce(t *testing.T) {
	tests := []struct {
		name      string
		messages  int
		netpoller int // goroutines reading with Recv
		blocking  int // goroutines reading with RecvFd on locked threads
		processes int // child processes reading with Recv
	}{
		{"goroutines in the netpoller", 2000, 4, 0, 0},
		{"goroutines on blocking threads", 2000, 0, 4, 0},
		{"processes and goroutines", 1000, 2, 0, 2},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkLeaks(t)
			a, b, err := fdpass.Socketpair()
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			sender := fileConn(t, a)
			// Closing the only sending end, whatever happens, is what ends
			// every reader.
			defer sender.Close()

			deliveries := make(chan delivery, 64)
			var readers sync.WaitGroup
			for range tc.netpoller {
				conn := fileConn(t, dupFile(t, b))
				readers.Go(func() { readNetpoller(conn, deliveries) })
			}
			for range tc.blocking {
				fd := dup(t, b)
				// Fail rather than hang if the sending end is never closed.
				tv := unix.Timeval{Sec: 20}
				if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
					t.Fatal(err)
				}
				readers.Go(func() {
					defer unix.Close(fd)
					readBlocking(fd, deliveries)
				})
			}
			for range tc.processes {
				c := startChild(t, "reader", b)
				readers.Go(func() { readChild(c, deliveries) })
			}
			go func() {
				readers.Wait()
				close(deliveries)
			}()

			sent := make(map[string]uint64, tc.messages)
			sendErr := make(chan error, 1)
			go func() {
				defer sender.Close()
				sendErr <- sendPipes(sender, tc.messages, sent)
			}()

			got := make(map[string]int, tc.messages)
			var delivered []delivery
			for d := range deliveries {
				if d.err != nil {
					t.Errorf("case %d (%s): reader: %v", i, tc.name, d.err)
					continue
				}
				got[d.seq]++
				delivered = append(delivered, d)
			}
			if err := <-sendErr; err != nil {
				t.Fatalf("case %d (%s): send: %v", i, tc.name, err)
			}
			for _, d := range delivered {
				if want, ok := sent[d.seq]; !ok || d.ino != want {
					t.Errorf("case %d (%s): message %q came with inode %d, want %d", i, tc.name, d.seq, d.ino, want)
				}
			}
			for seq := range sent {
				if got[seq] != 1 {
					t.Errorf("case %d (%s): message %s delivered %d times, want once", i, tc.name, seq, got[seq])
				}
			}
			if len(delivered) != tc.messages {
				t.Errorf("case %d (%s): %d deliveries for %d messages", i, tc.name, len(delivered), tc.messages)
			}
		})
	}
}

// sendPipes sends n messages, each carrying one end of a new pipe, and
// records each message's sequence number and the pipe's inode in sent.
func sendPipes(c *net.UnixConn, n int, sent map[string]uint64) error {
	for i := range n {
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
			return err
		}
		var st unix.Stat_t
		err := unix.Fstat(p[0], &st)
		if err == nil {
			seq := strconv.Itoa(i)
			sent[seq] = st.Ino
			err = fdpass.Send(c, []byte(seq), p[0])
		}
		unix.Close(p[0])
		unix.Close(p[1])
		if err != nil {
			return fmt.Errorf("message %d: %w", i, err)
		}
	}
	return nil
}

// deliver reports a received message and closes its descriptors.
func deliver(out chan<- delivery, payload []byte, fds []int) {
	defer closeAll(fds)
	if len(fds) != 1 {
		out <- delivery{err: fmt.Errorf("message %q carried %d descriptors, want 1", payload, len(fds))}
		return
	}
	var st unix.Stat_t
	if err := unix.Fstat(fds[0], &st); err != nil {
		out <- delivery{err: err}
		return
	}
	out <- delivery{seq: string(payload), ino: st.Ino}
}

func readNetpoller(c *net.UnixConn, out chan<- delivery) {
	buf := make([]byte, 16)
	for {
		n, fds, err := fdpass.Recv(c, buf, 1)
		if err == io.EOF {
			return
		}
		if err != nil {
			out <- delivery{err: err}
			return
		}
		deliver(out, buf[:n], fds)
	}
}

func readBlocking(fd int, out chan<- delivery) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	buf := make([]byte, 16)
	for {
		n, fds, err := fdpass.RecvFd(fd, buf, 1)
		if err == io.EOF {
			return
		}
		if err != nil {
			out <- delivery{err: err}
			return
		}
		deliver(out, buf[:n], fds)
	}
}

// readChild turns a reader child's output lines into deliveries.
func readChild(c *child, out chan<- delivery) {
	for c.lines.Scan() {
		seq, ino, ok := strings.Cut(c.lines.Text(), " ")
		n, err := strconv.ParseUint(ino, 10, 64)
		if !ok || err != nil {
			out <- delivery{err: fmt.Errorf("child %d printed %q, want \"seq inode\"", c.cmd.Process.Pid, c.lines.Text())}
			continue
		}
		out <- delivery{seq: seq, ino: n}
	}
	if err := c.wait(); err != nil {
		out <- delivery{err: fmt.Errorf("child %d: %v; stderr: %s", c.cmd.Process.Pid, err, c.stderr)}
	}
}

// dup returns a close-on-exec duplicate of f's descriptor, which shares its
// open file description (and so its blocking mode).
func dup(t *testing.T, f *os.File) int {
	t.Helper()
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

func dupFile(t *testing.T, f *os.File) *os.File {
	return os.NewFile(uintptr(dup(t, f)), f.Name())
}

// Descriptors queued while no worker reads wait in the socket as long as a
// copy of the receiving end is open: the master's copy outlives a worker.
func TestQueuedDescriptorsSurviveReaderDeath(t *testing.T) {
	checkLeaks(t)
	const messages = 16
	a, kept, err := fdpass.Socketpair()
	if err != nil {
		t.Fatal(err)
	}
	sender := fileConn(t, a)
	worker := startChild(t, "idle", kept)
	worker.expect(t, "ready")

	readEnds := make([]*os.File, messages)
	for i := range readEnds {
		r, w := newPipe(t)
		defer r.Close()
		readEnds[i] = r
		err := fdpass.Send(sender, []byte(strconv.Itoa(i)), w)
		unix.Close(w)
		if err != nil {
			t.Fatalf("send message %d: %v", i, err)
		}
	}
	if err := worker.kill(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("worker exited with %v, want killed; stderr: %s", err, worker.stderr)
	}

	conn := fileConn(t, kept)
	buf := make([]byte, 8)
	for i := range messages {
		n, fds, err := fdpass.Recv(conn, buf, 1)
		if err != nil {
			t.Fatalf("message %d of %d, after the worker died: %v", i, messages, err)
		}
		seq, err := strconv.Atoi(string(buf[:n]))
		if err != nil || seq != i || len(fds) != 1 {
			closeAll(fds)
			t.Fatalf("message %d is %q with %d descriptors, want %d with 1", i, buf[:n], len(fds), i)
		}
		// The descriptor is still the live write end of pipe i.
		note := []byte("still open " + strconv.Itoa(i))
		_, werr := unix.Write(fds[0], note)
		closeAll(fds)
		if werr != nil {
			t.Fatalf("write through descriptor %d: %v", i, werr)
		}
		got := make([]byte, len(note))
		readEnds[i].SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadFull(readEnds[i], got); err != nil || string(got) != string(note) {
			t.Fatalf("pipe %d: read %q, %v; want %q", i, got, err, note)
		}
		if err := expectEOF(readEnds[i]); err != nil {
			t.Errorf("pipe %d: %v", i, err)
		}
	}
}

// Descriptors queued in a socket whose every receiving end is closed are
// freed: a passed connection stays open while a worker holds the queue, and
// its client sees EOF once the last one is gone.
func TestQueuedDescriptorsFreedWhenNoReaderLeft(t *testing.T) {
	checkLeaks(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	accepted, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}

	a, b, err := fdpass.Socketpair()
	if err != nil {
		t.Fatal(err)
	}
	sender := fileConn(t, a)
	worker := startChild(t, "idle", b)
	b.Close() // the worker now holds the only receiving end
	worker.expect(t, "ready")

	raw, err := accepted.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var sendErr error
	if err := raw.Control(func(fd uintptr) { sendErr = fdpass.Send(sender, []byte("conn"), int(fd)) }); err != nil {
		t.Fatal(err)
	}
	if sendErr != nil {
		t.Fatal(sendErr)
	}
	accepted.Close() // the queued copy is now the connection's only descriptor

	client.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, err := client.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("client read %d bytes, %v while the connection was queued; want it open and silent", n, err)
	}

	if err := worker.kill(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("worker exited with %v, want killed; stderr: %s", err, worker.stderr)
	}
	client.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := client.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("client read %d bytes, %v after the last receiving end closed; want io.EOF", n, err)
	}
}
