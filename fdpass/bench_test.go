package fdpass_test

import (
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkRoundTrip measures passing one descriptor: send, receive, and
// close the received copy, as the master and a worker do per connection.
func BenchmarkRoundTrip(b *testing.B) {
	for _, api := range apis {
		b.Run(api, func(b *testing.B) {
			p := newPair(b, api)
			var pipe [2]int
			if err := unix.Pipe2(pipe[:], unix.O_CLOEXEC); err != nil {
				b.Fatal(err)
			}
			defer unix.Close(pipe[0])
			defer unix.Close(pipe[1])
			payload, buf := []byte("c"), make([]byte, 8)
			b.ReportAllocs()
			for b.Loop() {
				if err := p.send(payload, pipe[1]); err != nil {
					b.Fatal(err)
				}
				_, fds, err := p.recv(buf, 1)
				if err != nil {
					b.Fatal(err)
				}
				closeAll(fds)
			}
		})
	}
}
