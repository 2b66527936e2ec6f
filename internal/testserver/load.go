package testserver

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// RequestTimeout bounds one request of a load, dial included: far above
// any loopback round trip, so only a fault makes a request take that long.
const RequestTimeout = 5 * time.Second

// Check says whether reply is a right answer to GET word.
type Check func(word, reply string) bool

// Load counts what a load's clients saw. A request is OK (right answer),
// Wrong (an answer, but not a right one), or Failed (no answer: the
// connection failed or timed out); Refused counts the failed dials among
// the failures that were refused outright (ECONNREFUSED, or ENOENT for a
// unix socket whose file is gone), which no fault of a worker may cause.
type Load struct {
	OK, Failed, Refused, Wrong atomic.Int64

	mu    sync.Mutex
	kinds map[string]int
	done  chan struct{}
}

// fail counts a failed request under the last part of its error's text:
// "read tcp a->b: read: connection reset by peer" counts as "connection
// reset by peer".
func (l *Load) fail(err error) {
	l.Failed.Add(1)
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.kinds == nil {
		l.kinds = map[string]int{}
	}
	l.kinds[msg]++
}

// Failures returns how many requests failed of each kind, such as
// "connection reset by peer" or "i/o timeout".
func (l *Load) Failures() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]int, len(l.kinds))
	for k, v := range l.kinds {
		out[k] = v
	}
	return out
}

// FormatFailures writes failure counts (from Failures) as one line sorted
// by kind, "" when there are none: "broken pipe×1, connection reset by
// peer×3".
func FormatFailures(kinds map[string]int) string {
	parts := make([]string, 0, len(kinds))
	for k, n := range kinds {
		parts = append(parts, fmt.Sprintf("%s×%d", k, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// String is the counts on one line, for test logs.
func (l *Load) String() string {
	return fmt.Sprintf("ok=%d failed=%d refused=%d wrong=%d failures=%v",
		l.OK.Load(), l.Failed.Load(), l.Refused.Load(), l.Wrong.Load(), l.Failures())
}

// Wait returns once every client of a RunLoad has stopped.
func (l *Load) Wait() { <-l.done }

// Ask sends GET word on c, reads the reply through br, and counts it as OK
// or Wrong by check. An error means no whole reply came: the caller counts
// the failure (or not) and must not reuse c.
func (l *Load) Ask(c net.Conn, br *bufio.Reader, word string, check Check) error {
	c.SetDeadline(time.Now().Add(RequestTimeout))
	if _, err := fmt.Fprintf(c, "GET %s\r\n", word); err != nil {
		return err
	}
	reply, err := br.ReadString('\n')
	if err != nil {
		return err
	}
	if strings.HasPrefix(reply, "$") && reply != "$-1\r\n" {
		rest, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		reply += rest
	}
	if check(word, reply) {
		l.OK.Add(1)
	} else {
		l.Wrong.Add(1)
	}
	return nil
}

// RunLoad starts keepalive clients that send GETs one after another on one
// connection (reconnecting when it fails) and perRequest clients that dial
// a new connection for every GET, on network ("tcp" or "unix") to addr. Each
// asks for random words of words, checks every reply with check, and stops
// when stop is closed; Wait returns once all have.
func RunLoad(network, addr string, keepalive, perRequest int, words []string, check Check, stop <-chan struct{}) *Load {
	l := &Load{done: make(chan struct{})}
	dial := func() (net.Conn, error) {
		c, err := net.DialTimeout(network, addr, RequestTimeout)
		if err != nil && (errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT)) {
			l.Refused.Add(1)
		}
		return c, err
	}
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	var wg sync.WaitGroup
	for range keepalive {
		wg.Go(func() {
			var c net.Conn
			var br *bufio.Reader
			defer func() {
				if c != nil {
					c.Close()
				}
			}()
			for !stopped() {
				if c == nil {
					var err error
					if c, err = dial(); err != nil {
						l.fail(err)
						c = nil
						time.Sleep(10 * time.Millisecond) // no busy loop while nothing listens
						continue
					}
					br = bufio.NewReader(c)
				}
				if err := l.Ask(c, br, words[rand.IntN(len(words))], check); err != nil {
					l.fail(err)
					c.Close()
					c = nil
				}
			}
		})
	}
	for range perRequest {
		wg.Go(func() {
			for !stopped() {
				c, err := dial()
				if err != nil {
					l.fail(err)
					time.Sleep(10 * time.Millisecond)
					continue
				}
				if err := l.Ask(c, bufio.NewReader(c), words[rand.IntN(len(words))], check); err != nil {
					l.fail(err)
				}
				c.Close()
			}
		})
	}
	go func() { wg.Wait(); close(l.done) }()
	return l
}
