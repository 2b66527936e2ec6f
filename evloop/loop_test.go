package evloop_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sys/unix"

	"github.com/freqd/freqd/evloop"
	"github.com/freqd/freqd/fdpass"
	"github.com/freqd/freqd/handler"
	"github.com/freqd/freqd/ingest"
	"github.com/freqd/freqd/internal/testserver"
	"github.com/freqd/freqd/listen"
	"github.com/freqd/freqd/table"
)

var bg = context.Background()

// newHandler serves the embedded default table, as `freqd serve` does.
func newHandler(t *testing.T) *handler.Handler {
	t.Helper()
	served, err := table.Load(table.Source{Default: ingest.DefaultTable})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(served.Close)
	return handler.New(served.Table, handler.Options{})
}

// running is a loop serving on its own goroutine.
type running struct {
	loop *evloop.Loop
	done chan error
}

func start(t *testing.T, cfg evloop.Config) *running {
	t.Helper()
	if cfg.Log == nil {
		cfg.Log = hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: os.Stderr})
	}
	l, err := evloop.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := &running{loop: l, done: make(chan error, 1)}
	go func() { r.done <- l.Serve() }()
	t.Cleanup(func() {
		l.Stop()
		<-r.done
	})
	return r
}

// wait expects Serve to return within a few seconds.
func (r *running) wait(t *testing.T) {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err // for Cleanup
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after the drain")
	}
}

// returned reports whether Serve has returned.
func (r *running) returned() bool {
	select {
	case err := <-r.done:
		r.done <- err
		return true
	default:
		return false
	}
}

// listenFD binds a loopback TCP listener and returns its descriptor.
func listenFD(t *testing.T) (fd int, addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if fd, err = listen.DupDescriptor(ln.(*net.TCPListener)); err != nil {
		t.Fatal(err)
	}
	return fd, ln.Addr().String() // the loop closes fd
}

// adoptingClient is a go-redis client whose every connection is one end of
// a socket pair, the other end given to serve (Adopt, or a queue).
func adoptingClient(t *testing.T, serve func(fd int)) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{
		PoolSize: 1, MaxRetries: -1, DialTimeout: 2 * time.Second, ReadTimeout: 5 * time.Second,
		Dialer: func(context.Context, string, string) (net.Conn, error) {
			fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				return nil, err
			}
			f := os.NewFile(uintptr(fds[0]), "client")
			defer f.Close()
			conn, err := net.FileConn(f)
			if err != nil {
				unix.Close(fds[1])
				return nil, err
			}
			serve(fds[1])
			return conn, nil
		},
	})
	t.Cleanup(func() { c.Close() })
	return c
}

func wantCount(t *testing.T, c *redis.Client, word string) {
	t.Helper()
	want := strconv.FormatUint(testserver.Subtlex()[word], 10)
	if got, err := c.Get(bg, word).Result(); err != nil || got != want {
		t.Fatalf("GET %s = %q, %v; want %s", word, got, err, want)
	}
}

func TestListener(t *testing.T) {
	fd, addr := listenFD(t)
	start(t, evloop.Config{Handler: newHandler(t), Queue: -1, Listeners: []evloop.Listener{{FD: fd, Name: addr}}})
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	testserver.CheckConversation(t, c)
	testserver.CheckPipeline(t, c)
}

// TestQueue passes connections over a SOCK_SEQPACKET queue, as the master
// does in fdpass mode, and drains: the idle connection is closed at once
// and Serve returns.
func TestQueue(t *testing.T) {
	q, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(q[0])
	defer unix.Close(q[1]) // the sender's copy of the receiving end, as the master keeps one
	reader, err := unix.Dup(q[1])
	if err != nil {
		t.Fatal(err)
	}
	r := start(t, evloop.Config{Handler: newHandler(t), Queue: reader})
	var client *os.File
	c := adoptingClient(t, func(fd int) {
		if err := fdpass.SendFd(q[0], []byte{0}, fd); err != nil {
			t.Error(err)
		}
		unix.Close(fd)
	})
	testserver.CheckConversation(t, c)
	testserver.CheckPipeline(t, c)

	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	client = os.NewFile(uintptr(fds[0]), "client")
	defer client.Close()
	if err := fdpass.SendFd(q[0], []byte{0}, fds[1]); err != nil {
		t.Fatal(err)
	}
	unix.Close(fds[1])
	if _, err := client.Write([]byte("GET the\r\n")); err != nil {
		t.Fatal(err)
	}
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	n, err := client.Read(buf)
	want := strconv.FormatUint(testserver.Subtlex()["the"], 10)
	if err != nil || string(buf[:n]) != "$"+strconv.Itoa(len(want))+"\r\n"+want+"\r\n" {
		t.Fatalf("GET the over a queued connection: %q, %v", buf[:n], err)
	}
	r.loop.Drain(nil)
	r.wait(t)
	if n, err := client.Read(buf); err != io.EOF {
		t.Errorf("idle connection after the drain: read %q, %v; want EOF", buf[:n], err)
	}
}

// TestDrainHandsBack moves a live go-redis connection from one loop to
// another between requests, as a retiring worker does: the client keeps
// its connection and never sees the switch.
func TestDrainHandsBack(t *testing.T) {
	h := newHandler(t)
	old := start(t, evloop.Config{Handler: h, Queue: -1})
	next := start(t, evloop.Config{Handler: h, Queue: -1})
	c := adoptingClient(t, func(fd int) { old.loop.Adopt(fd, nil) })
	wantCount(t, c, "the")
	if err := c.Do(bg, "CLIENT", "SETNAME", "handed-over").Err(); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var handed []int
	old.loop.Drain(func(fd int, state []byte) error {
		nfd, err := unix.Dup(fd) // the loop closes its own copy after this
		if err != nil {
			return err
		}
		mu.Lock()
		handed = append(handed, nfd)
		mu.Unlock()
		next.loop.Adopt(nfd, state)
		return nil
	})
	old.wait(t)
	mu.Lock()
	n := len(handed)
	mu.Unlock()
	if n != 1 {
		t.Fatalf("%d connections handed back, want 1", n)
	}
	for _, w := range []string{"you", "monday", "of"} {
		wantCount(t, c, w) // same connection, now served by next
	}
	if name, err := c.Do(bg, "CLIENT", "GETNAME").Text(); err != nil || name != "handed-over" {
		t.Errorf("client name after the hand-over: %q, %v; the session did not travel", name, err)
	}
	if s := c.PoolStats(); s.TotalConns != 1 || s.Misses != 1 {
		t.Errorf("pool stats %+v: the client reconnected, want its first connection kept", s)
	}
}

// TestDrainFinishesPartialRequest: a connection in the middle of a request
// is not given up; its request is read to the end and answered first.
func TestDrainFinishesPartialRequest(t *testing.T) {
	fd, addr := listenFD(t)
	r := start(t, evloop.Config{Handler: newHandler(t), Queue: -1, Listeners: []evloop.Listener{{FD: fd, Name: addr}}})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("*2\r\n$3\r\nGET\r\n$3\r\nth")); err != nil {
		t.Fatal(err)
	}
	// Drain closes the listener: wait until the loop has accepted.
	for deadline := time.Now().Add(5 * time.Second); r.loop.Stats().Connections != 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the loop did not accept the connection")
		}
	}
	r.loop.Drain(nil)
	time.Sleep(100 * time.Millisecond)
	if r.returned() {
		t.Fatal("the loop stopped with a request half read")
	}
	if _, err := conn.Write([]byte("e\r\n")); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(conn)
	want := strconv.FormatUint(testserver.Subtlex()["the"], 10)
	if err != nil || string(got) != "$"+strconv.Itoa(len(want))+"\r\n"+want+"\r\n" {
		t.Errorf("got %q, %v; want the answer, then the connection closed", got, err)
	}
	r.wait(t)
	// The listener is closed: new connections are refused.
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Error("the listener still accepts after the drain")
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial after the drain: %v, want connection refused", err)
	}
}

// TestRefuse: connections Admit turns away go to Refuse, never to the
// handler, and the loop keeps serving the others.
func TestRefuse(t *testing.T) {
	var mu sync.Mutex
	admit, refused := true, 0
	cfg := evloop.Config{Handler: newHandler(t), Queue: -1,
		Admit: func() bool { mu.Lock(); defer mu.Unlock(); return admit },
		Refuse: func(fd int) {
			mu.Lock()
			refused++
			mu.Unlock()
			// A lingering close, as the worker's: the client's first
			// command must not meet a reset that destroys the reply.
			go func() {
				defer unix.Close(fd)
				unix.Write(fd, []byte("-ERR max number of clients reached\r\n"))
				unix.Shutdown(fd, unix.SHUT_WR)
				unix.SetNonblock(fd, false)
				unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 2})
				var b [512]byte
				for {
					if n, err := unix.Read(fd, b[:]); n <= 0 || err != nil {
						return
					}
				}
			}()
		},
	}
	r := start(t, cfg)
	kept := adoptingClient(t, func(fd int) { r.loop.Adopt(fd, nil) })
	wantCount(t, kept, "the")
	mu.Lock()
	admit = false
	mu.Unlock()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	turned := os.NewFile(uintptr(fds[0]), "turned away")
	defer turned.Close()
	r.loop.Adopt(fds[1], nil)
	turned.SetReadDeadline(time.Now().Add(5 * time.Second))
	if got, err := io.ReadAll(turned); err != nil || string(got) != "-ERR max number of clients reached\r\n" {
		t.Errorf("connection over the limit read %q, %v; want the max-clients error, then EOF", got, err)
	}
	wantCount(t, kept, "you")

	// A connection handed over with its session is a client the server
	// already counts: it is served even at the limit.
	sess := cfg.Handler.NewSession()
	state := sess.AppendState(nil)
	sess.Close()
	handed := adoptingClient(t, func(fd int) { r.loop.Adopt(fd, state) })
	wantCount(t, handed, "monday")
	mu.Lock()
	defer mu.Unlock()
	if refused != 1 {
		t.Errorf("%d connections refused, want 1", refused)
	}
}

// TestRequestMemoryBudgetClosesTheLargestHolder: two clients hold
// unfinished requests; when their buffers pass the handler's budget, the
// one holding the most is told and closed, the other keeps its connection
// and finishes its request.
func TestRequestMemoryBudgetClosesTheLargestHolder(t *testing.T) {
	served, err := table.Load(table.Source{Default: ingest.DefaultTable})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(served.Close)
	h := handler.New(served.Table, handler.Options{MaxRequestMemory: 600 << 10})
	r := start(t, evloop.Config{Handler: h, Queue: -1})
	pair := func() *os.File {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		r.loop.Adopt(fds[1], nil)
		f := os.NewFile(uintptr(fds[0]), "client")
		t.Cleanup(func() { f.Close() })
		return f
	}
	small, big := pair(), pair()
	// An ECHO of 100 kB and one of 900 kB, both sent but for their end:
	// the larger passes the budget with its own buffer.
	send := func(f *os.File, n int) {
		go f.Write([]byte(fmt.Sprintf("*2\r\n$4\r\nECHO\r\n$%d\r\n%s", n, strings.Repeat("x", n-10))))
	}
	send(small, 100_000)
	time.Sleep(100 * time.Millisecond) // let the loop read the small one first
	send(big, 900_000)
	big.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, _ := io.ReadAll(big)
	if !strings.Contains(string(got), "--max-request-memory") {
		t.Fatalf("the largest holder read %q; want the budget error, then end of file", got)
	}
	small.Write([]byte(strings.Repeat("x", 10) + "\r\n"))
	small.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(small).ReadString('\n')
	if err != nil || line != "$100000\r\n" {
		t.Errorf("the smaller holder's request: %q, %v; want its echo", line, err)
	}
	if st := r.loop.Stats(); st.MemoryEvictions != 1 {
		t.Errorf("stats %+v: want one eviction", st)
	}
}

// TestShareIsAskedBeforeEachAccept: clients that connect together wait in
// the backlog together, and one wake-up of the loop finds them all. On a
// shared listener the loop must ask Share before each accept after the
// first of a wake-up (which the kernel woke this loop alone for), or the
// first worker woken takes the whole burst and serves it on one core while
// the others idle. Over its share, it takes the one connection of each
// wake-up and asks again before the next; alone on the listener, it still
// serves everyone, and never stops watching the listener to defer.
func TestShareIsAskedBeforeEachAccept(t *testing.T) {
	fd, addr := listenFD(t)
	const n = 10
	var conns []deadlineConn
	for range n {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	var log shareLog
	cfg := evloop.Config{Handler: newHandler(t), Queue: -1,
		Listeners: []evloop.Listener{{FD: fd, Name: addr, Shared: true}}}
	log.hook(&cfg, func(open int) bool { return open < 3 })
	start(t, cfg)
	askEach(t, conns)
	log.alternates(t)
}

// shareLog records, in a loop's order, each question to Share and each
// connection opened.
type shareLog struct {
	mu     sync.Mutex
	events []string // "share" or "open"
}

// hook sets cfg's Share, answered by answer, and Opened to record into l.
func (l *shareLog) hook(cfg *evloop.Config, answer func(open int) bool) {
	cfg.Share = func(open int) bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.events = append(l.events, "share")
		return answer(open)
	}
	cfg.Opened = func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.events = append(l.events, "open")
	}
}

// alternates fails t unless questions and openings alternated. With every
// client waiting before the loop started, no wake-up finds nothing to
// take: a question comes between any two openings (none taken past the
// share without asking), and an opening between any two questions (a loop
// that stepped away would ask again with none taken).
func (l *shareLog) alternates(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := 1; i < len(l.events); i++ {
		if l.events[i] == l.events[i-1] {
			t.Fatalf("two %q in a row: %v", l.events[i], l.events)
		}
	}
}

// deadlineConn is a client connection: a net.Conn, or an *os.File of a
// socket pair.
type deadlineConn interface {
	io.ReadWriter
	SetDeadline(time.Time) error
}

// askEach sends GET the on each client in turn and wants the answer.
func askEach(t *testing.T, clients []deadlineConn) {
	t.Helper()
	want := "$" + strconv.Itoa(len(strconv.FormatUint(testserver.Subtlex()["the"], 10))) + "\r\n"
	for i, c := range clients {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write([]byte("GET the\r\n")); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(want))
		if _, err := io.ReadFull(c, got); err != nil || string(got) != want {
			t.Fatalf("client %d of %d: %q, %v; want every client served", i, len(clients), got, err)
		}
	}
}

// TestDrainAnswersTheNextRequestBeforeClosing: a drain that closes
// connections does not close one answered a moment ago, whose client may
// be sending its next request: it answers that request and closes right
// after the reply. A connection that stays quiet is closed after
// DrainQuiet, and the drain ends.
func TestDrainAnswersTheNextRequestBeforeClosing(t *testing.T) {
	fd, addr := listenFD(t)
	const quiet = 2 * time.Second
	r := start(t, evloop.Config{Handler: newHandler(t), Queue: -1, DrainQuiet: quiet,
		Listeners: []evloop.Listener{{FD: fd, Name: addr}}})
	want := func(word string) string {
		n := strconv.FormatUint(testserver.Subtlex()[word], 10)
		return "$" + strconv.Itoa(len(n)) + "\r\n" + n + "\r\n"
	}
	ask := func(c net.Conn, word string) {
		t.Helper()
		if _, err := fmt.Fprintf(c, "GET %s\r\n", word); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(want(word)))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(c, got); err != nil || string(got) != want(word) {
			t.Fatalf("GET %s: %q, %v", word, got, err)
		}
	}
	busy, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	pooled, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer pooled.Close()
	ask(busy, "the")
	ask(pooled, "the")
	began := time.Now()
	r.loop.Drain(nil)
	// The drain has begun once the listener is closed.
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		c.Close()
		if time.Since(began) > 5*time.Second {
			t.Fatal("the listener still accepts 5 s after the drain")
		}
		time.Sleep(time.Millisecond)
	}
	if time.Since(began) >= quiet/2 {
		t.Skipf("the drain took %v to begin on this machine, too close to DrainQuiet (%v) to tell", time.Since(began), quiet)
	}
	// The next request of the busy client is answered, then the connection
	// is closed.
	if _, err := fmt.Fprintf(busy, "GET of\r\n"); err != nil {
		t.Fatalf("GET of after the drain began: %v; want the connection still open", err)
	}
	busy.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(busy)
	if err != nil || string(got) != want("of") {
		t.Errorf("after the drain began: %q, %v; want the answer to GET of, then the end of the connection", got, err)
	}
	// The quiet one is closed once DrainQuiet has passed, unasked.
	pooled.SetReadDeadline(time.Now().Add(5 * time.Second))
	if got, err := io.ReadAll(pooled); err != nil || len(got) != 0 {
		t.Errorf("the quiet connection: %q, %v; want it closed with nothing sent", got, err)
	}
	r.wait(t)
}

// TestQueueOverShareTakesTheMessageItWasWokenFor: a reader holding more
// than its share still takes the message the kernel woke it for, which
// the kernel would hand to no other reader, and takes no more in that
// wake-up. Stepping away instead (asking Share twice in a row while
// messages wait) strands the message until another one arrives.
func TestQueueOverShareTakesTheMessageItWasWokenFor(t *testing.T) {
	q, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Closed after the loop stops (cleanups run last first), so that it
	// does not see the queue's end while it serves.
	t.Cleanup(func() { unix.Close(q[0]); unix.Close(q[1]) })
	reader, err := unix.Dup(q[1])
	if err != nil {
		t.Fatal(err)
	}
	const n = 10
	var clients []deadlineConn
	for range n {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		c := os.NewFile(uintptr(fds[0]), "client")
		defer c.Close()
		clients = append(clients, c)
		if err := fdpass.SendFd(q[0], []byte{0}, fds[1]); err != nil {
			t.Fatal(err)
		}
		unix.Close(fds[1])
	}
	var log shareLog
	cfg := evloop.Config{Handler: newHandler(t), Queue: reader}
	log.hook(&cfg, func(int) bool { return false }) // always over its share
	start(t, cfg)
	askEach(t, clients)
	log.alternates(t)
}
