package testserver

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// unixgramNames numbers this process's unix datagram client sockets, so
// that each gets an abstract name of its own.
var unixgramNames atomic.Uint64

// unixgramName is a fresh abstract socket name (Linux): no file to remove,
// gone when the socket is closed.
func unixgramName(role string) *net.UnixAddr {
	return &net.UnixAddr{Net: "unixgram",
		Name: fmt.Sprintf("@freqd-test-%s-%d-%d", role, os.Getpid(), unixgramNames.Add(1))}
}

// NeverReader is a unix datagram client that sends requests and never
// reads the replies: a hostile or broken local client. Once its receive
// queue is full (net.unix.max_dgram_qlen replies), the server can send it
// nothing more.
type NeverReader struct {
	// Sent counts the requests the server's socket took.
	Sent atomic.Int64

	conn *net.UnixConn
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// StartNeverReader sends GET requests for words to the unix datagram
// socket at path, about perSecond of them a second in bursts every 10 ms,
// from a socket bound to an abstract name and not connected (as a client
// that talks to several servers is), until Stop. A send that finds the
// server's queue full gives up after 10 ms: the client does not wait for
// the server either.
func StartNeverReader(path string, words []string, perSecond int) (*NeverReader, error) {
	c, err := net.ListenUnixgram("unixgram", unixgramName("never-reader"))
	if err != nil {
		return nil, err
	}
	n := &NeverReader{conn: c, stop: make(chan struct{}), done: make(chan struct{})}
	to := &net.UnixAddr{Net: "unixgram", Name: path}
	burst := max(perSecond/100, 1)
	go func() {
		defer close(n.done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-n.stop:
				return
			case <-tick.C:
			}
			for range burst {
				c.SetWriteDeadline(time.Now().Add(10 * time.Millisecond))
				if _, err := c.WriteToUnix([]byte("GET "+words[rand.IntN(len(words))]+"\r\n"), to); err == nil {
					n.Sent.Add(1)
				}
			}
		}
	}()
	return n, nil
}

// Stop ends the sending, closes the socket and returns how many requests
// were sent. It may be called more than once.
func (n *NeverReader) Stop() int64 {
	n.once.Do(func() {
		close(n.stop)
		<-n.done
		n.conn.Close()
	})
	return n.Sent.Load()
}

// MaxDatagramQueue is how many datagrams a unix datagram socket queues
// before a sender must wait (net.unix.max_dgram_qlen): 10 by default,
// 512 where systemd sets it.
func MaxDatagramQueue() int {
	b, err := os.ReadFile("/proc/sys/net/unix/max_dgram_qlen")
	if err != nil {
		return 10
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 10
	}
	return n
}

// DatagramRun is what AskDatagrams saw.
type DatagramRun struct {
	Planned   int             // requests it was to send
	OK, Wrong int             // right and wrong answers
	Late      int             // sent, but no reply within the per-request wait
	Latencies []time.Duration // of the answered requests, in order
	Elapsed   time.Duration
}

// Unanswered is how many planned requests got no answer: late, or never
// sent because the budget ran out.
func (r *DatagramRun) Unanswered() int { return r.Planned - r.OK - r.Wrong }

// Quantile is the q-quantile of the latency of all planned requests, an
// unanswered one counting as infinitely slow (math.MaxInt64).
func (r *DatagramRun) Quantile(q float64) time.Duration {
	all := slices.Clone(r.Latencies)
	for range r.Unanswered() {
		all = append(all, math.MaxInt64)
	}
	if len(all) == 0 {
		return math.MaxInt64
	}
	slices.Sort(all)
	return all[min(int(math.Ceil(q*float64(len(all))))-1, len(all)-1)]
}

// String is the run on one line, for test logs.
func (r *DatagramRun) String() string {
	q := func(v float64) string {
		if d := r.Quantile(v); d != math.MaxInt64 {
			return d.Round(time.Microsecond).String()
		}
		return "unanswered"
	}
	return fmt.Sprintf("%d of %d answered right in %v (%.0f/s), %d wrong, %d late; p50 %s, p99 %s",
		r.OK, r.Planned, r.Elapsed.Round(time.Millisecond), float64(r.OK)/r.Elapsed.Seconds(), r.Wrong, r.Late, q(0.50), q(0.99))
}

// AskDatagrams sends n GET requests for random words one at a time over a
// datagram socket, network "udp" (addr host:port) or "unixgram" (addr a
// path), and checks each answer. Each request waits up to wait for its
// reply; no request is sent once budget has passed since the first. After
// a late reply the socket is replaced, so that the late reply cannot be
// taken for the next answer.
func AskDatagrams(network, addr string, words []string, check Check, n int, wait, budget time.Duration) (*DatagramRun, error) {
	dial := func() (net.Conn, error) {
		if network == "unixgram" {
			return net.DialUnix("unixgram", unixgramName("client"), &net.UnixAddr{Net: "unixgram", Name: addr})
		}
		return net.Dial(network, addr)
	}
	c, err := dial()
	if err != nil {
		return nil, err
	}
	defer func() { c.Close() }()
	r := &DatagramRun{Planned: n}
	buf := make([]byte, 64<<10)
	start := time.Now()
	for i := 0; i < n && time.Since(start) < budget; i++ {
		word := words[rand.IntN(len(words))]
		t0 := time.Now()
		c.SetDeadline(t0.Add(wait))
		_, err := c.Write([]byte("GET " + word + "\r\n"))
		var m int
		if err == nil {
			m, err = c.Read(buf)
		}
		if err != nil {
			r.Late++
			c.Close()
			if c, err = dial(); err != nil {
				return r, err
			}
			continue
		}
		r.Latencies = append(r.Latencies, time.Since(t0))
		if check(word, datagramReply(buf[:m])) {
			r.OK++
		} else {
			r.Wrong++
		}
	}
	r.Elapsed = time.Since(start)
	return r, nil
}

// datagramReply is the reply datagram as Check takes it: one RESP reply,
// and nothing after it.
func datagramReply(b []byte) string {
	br := bufio.NewReader(bytes.NewReader(b))
	line, err := br.ReadString('\n')
	if err != nil {
		return string(b) + " (incomplete)"
	}
	if strings.HasPrefix(line, "$") && line != "$-1\r\n" {
		rest, err := br.ReadString('\n')
		if err != nil {
			return string(b) + " (incomplete)"
		}
		line += rest
	}
	if br.Buffered() > 0 {
		return string(b) + " (trailing bytes)"
	}
	return line
}
