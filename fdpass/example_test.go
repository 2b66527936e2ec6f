package fdpass_test

import (
	"fmt"
	"io"
	"log"
	"os"

	"github.com/freqd/freqd/fdpass"
)

// The master passes a descriptor over the dispatch socket; a worker receives
// a new descriptor for the same open file and uses it. Here the "connection"
// is a pipe, and both ends of the socketpair live in one process.
func Example() {
	a, b, err := fdpass.Socketpair()
	if err != nil {
		log.Fatal(err)
	}
	master, err := fdpass.FileConn(a)
	if err != nil {
		log.Fatal(err)
	}
	defer master.Close()
	worker, err := fdpass.FileConn(b)
	if err != nil {
		log.Fatal(err)
	}
	defer worker.Close()

	r, w, err := os.Pipe()
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	raw, err := w.SyscallConn()
	if err != nil {
		log.Fatal(err)
	}
	var sendErr error
	if err := raw.Control(func(fd uintptr) { sendErr = fdpass.Send(master, []byte("conn 1"), int(fd)) }); err != nil {
		log.Fatal(err)
	}
	if sendErr != nil {
		log.Fatal(sendErr)
	}
	w.Close() // the worker's copy is the pipe's only write end now

	buf := make([]byte, 64)
	n, fds, err := fdpass.Recv(worker, buf, 1)
	if err != nil {
		log.Fatal(err)
	}
	if len(fds) != 1 {
		log.Fatalf("message %q carried %d descriptors, want 1", buf[:n], len(fds))
	}
	conn := os.NewFile(uintptr(fds[0]), string(buf[:n]))
	fmt.Fprintf(conn, "hello from the worker through %s\n", conn.Name())
	conn.Close()

	out, err := io.ReadAll(r)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(out))
	// Output: hello from the worker through conn 1
}
