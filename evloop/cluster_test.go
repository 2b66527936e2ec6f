package evloop_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/freqd/freqd/cluster"
	"github.com/freqd/freqd/evloop"
	"github.com/freqd/freqd/handler"
	"github.com/freqd/freqd/ingest"
	"github.com/freqd/freqd/internal/testserver"
	"github.com/freqd/freqd/resp"
	"github.com/freqd/freqd/shm/freqfile"
	"github.com/freqd/freqd/table"
)

// gate is a TCP proxy that holds what a client sends until the test
// opens it: a shard whose answers are as slow as the test wants.
type gate struct {
	ln   net.Listener
	open chan struct{}
}

func newGate(t *testing.T, to string) *gate {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{ln: ln, open: make(chan struct{})}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", to)
			if err != nil {
				c.Close()
				continue
			}
			go func() {
				<-g.open
				io.Copy(s, c)
				s.Close()
			}()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
	return g
}

// TestWaitingConnectionStallsNobody serves shard 1 of 2 on an event loop
// whose peer, shard 2, answers only when the test lets it. A client asks
// for a word shard 2 holds, with a second request pipelined behind it;
// meanwhile another client of the same loop is answered at once, again
// and again. When shard 2 answers, the first client gets both replies, in
// order.
func TestWaitingConnectionStallsNobody(t *testing.T) {
	t.Run("the loop's own connections", func(t *testing.T) { testWaiting(t, true) })
	t.Run("the handler's peers", func(t *testing.T) { testWaiting(t, false) })
}

// testWaiting runs TestWaitingConnectionStallsNobody with the loop's own
// connections to the other shard, or the handler's Peers, a goroutine's.
func testWaiting(t *testing.T, own bool) {
	served, err := table.Load(table.Source{Default: ingest.DefaultTable})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(served.Close)
	whole := served.Table

	fd, addr := listenFD(t)
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln2.Close() })
	g := newGate(t, ln2.Addr().String())
	ranges := cluster.Split(2)
	cfg, err := cluster.ParseConfig(fmt.Appendf(nil, "%s %s\n%s %s\n", ranges[0], addr, ranges[1], g.ln.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := []cluster.ShardFile{{Slots: ranges[0], Path: filepath.Join(dir, "1")}, {Slots: ranges[1], Path: filepath.Join(dir, "2")}}
	sw, err := cluster.NewSetWriter(files, freqfile.BuildOptions{FoldCase: true}, freqfile.StreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for r := uint64(1); r <= whole.Len(); r++ {
		w, c, _ := whole.Entry(r)
		sw.Add(w, c)
	}
	if err := sw.Commit(); err != nil {
		t.Fatal(err)
	}
	var hs []*handler.Handler
	var nodes []*cluster.Node
	for _, f := range files {
		tb, err := freqfile.Open(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tb.Close() })
		node, err := cluster.NewNode(cfg, tb, f.Path)
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, handler.New(tb, handler.Options{Cluster: node, Peers: cluster.NewPeers(node, "", 30*time.Second)}))
		nodes = append(nodes, node)
	}
	go func() {
		for {
			c, err := ln2.Accept()
			if err != nil {
				return
			}
			go hs[1].ServeConn(c)
		}
	}()
	cfg0 := evloop.Config{Handler: hs[0], Queue: -1, Listeners: []evloop.Listener{{FD: fd, Name: addr}}}
	if own {
		cfg0.Cluster, cfg0.ClusterTimeout = nodes[0], 30*time.Second
	}
	start(t, cfg0)

	// A word whose capitalised form is in shard 1's slots and which shard
	// 2 holds, and one shard 1 holds.
	var far, near string
	for w := range testserver.Subtlex() {
		c := string(w[0]-'a'+'A') + w[1:]
		if w[0] < 'a' || w[0] > 'z' {
			continue
		}
		if ranges[0].Contains(cluster.Slot([]byte(c))) && ranges[1].Contains(cluster.Slot([]byte(w))) && far == "" {
			far = c
		}
		if ranges[0].Contains(cluster.Slot([]byte(w))) && near == "" {
			near = w
		}
	}
	want := func(w string) string {
		n, _ := whole.Lookup([]byte(w))
		return strconv.FormatUint(n, 10)
	}

	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fmt.Fprintf(slow, "GET %s\r\nGET %s\r\n", far, near)
	replies := make(chan string, 2)
	go func() {
		br := bufio.NewReader(slow)
		for range 2 {
			r, err := resp.ReadReply(br)
			if err != nil {
				replies <- err.Error()
				return
			}
			replies <- string(r)
		}
	}()

	fast, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	br := bufio.NewReader(fast)
	for i := range 200 {
		fmt.Fprintf(fast, "GET %s\r\n", near)
		fast.SetReadDeadline(time.Now().Add(10 * time.Second))
		r, err := resp.ReadReply(br)
		if err != nil || string(r) != "$"+strconv.Itoa(len(want(near)))+"\r\n"+want(near)+"\r\n" {
			t.Fatalf("request %d of the other client: %q, %v", i, r, err)
		}
	}
	select {
	case r := <-replies:
		t.Fatalf("the waiting client was answered before its shard could answer: %q", r)
	default:
	}
	close(g.open)
	for _, w := range []string{far, near} {
		select {
		case r := <-replies:
			if exp := "$" + strconv.Itoa(len(want(w))) + "\r\n" + want(w) + "\r\n"; r != exp {
				t.Errorf("GET %s: %q, want %q", w, r, exp)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("no answer to GET %s once its shard answered", w)
		}
	}
}

// TestUpstreamFailures: through the loop's own connection to the other
// shard, a shard that never answers fails the lookup after the timeout,
// one that refuses connections fails it at once, and one that comes back
// is used again; the client gets an error naming the shard each time,
// and stays connected.
func TestUpstreamFailures(t *testing.T) {
	served, err := table.Load(table.Source{Default: ingest.DefaultTable})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(served.Close)
	whole := served.Table
	fd, addr := listenFD(t)
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr2 := ln2.Addr().String()
	ranges := cluster.Split(2)
	cfg, _ := cluster.ParseConfig(fmt.Appendf(nil, "%s %s\n%s %s\n", ranges[0], addr, ranges[1], addr2))
	dir := t.TempDir()
	files := []cluster.ShardFile{{Slots: ranges[0], Path: filepath.Join(dir, "1")}, {Slots: ranges[1], Path: filepath.Join(dir, "2")}}
	sw, _ := cluster.NewSetWriter(files, freqfile.BuildOptions{FoldCase: true}, freqfile.StreamOptions{})
	for r := uint64(1); r <= whole.Len(); r++ {
		w, c, _ := whole.Entry(r)
		sw.Add(w, c)
	}
	if err := sw.Commit(); err != nil {
		t.Fatal(err)
	}
	var hs []*handler.Handler
	var node0 *cluster.Node
	for i, f := range files {
		tb, err := freqfile.Open(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tb.Close() })
		node, _ := cluster.NewNode(cfg, tb, f.Path)
		if i == 0 {
			node0 = node
		}
		hs = append(hs, handler.New(tb, handler.Options{Cluster: node}))
	}
	start(t, evloop.Config{Handler: hs[0], Queue: -1, Listeners: []evloop.Listener{{FD: fd, Name: addr}},
		Cluster: node0, ClusterTimeout: 300 * time.Millisecond})
	var far string
	for w := range testserver.Subtlex() {
		c := string(w[0]-'a'+'A') + w[1:]
		if w[0] >= 'a' && w[0] <= 'z' && ranges[0].Contains(cluster.Slot([]byte(c))) && ranges[1].Contains(cluster.Slot([]byte(w))) {
			far = c
			break
		}
	}
	client, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	br := bufio.NewReader(client)
	get := func() string {
		fmt.Fprintf(client, "GET %s\r\n", far)
		client.SetReadDeadline(time.Now().Add(20 * time.Second))
		r, err := resp.ReadReply(br)
		if err != nil {
			t.Fatalf("GET %s: %v", far, err)
		}
		return string(r)
	}
	shard := "shard " + ranges[1].String() + " at " + addr2

	// Accepts, reads, never answers.
	silent := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln2.Accept()
			if err != nil {
				return
			}
			silent <- c
			go io.Copy(io.Discard, c)
		}
	}()
	if r := get(); r != "-ERR another shard holds some of these words and did not answer ("+shard+": no answer within 300ms); retry once it is back\r\n" {
		t.Errorf("a shard that never answers: %q", r)
	}
	ln2.Close()
	for len(silent) > 0 {
		(<-silent).Close()
	}
	if r := get(); !strings.Contains(r, shard+": connect: connection refused") {
		t.Errorf("a shard that refuses connections: %q", r)
	}
	// Back, after the half second a refusing shard is left alone.
	time.Sleep(600 * time.Millisecond)
	ln3, err := net.Listen("tcp", addr2)
	if err != nil {
		t.Skipf("cannot listen again on %s: %v", addr2, err)
	}
	defer ln3.Close()
	go func() {
		for {
			c, err := ln3.Accept()
			if err != nil {
				return
			}
			go hs[1].ServeConn(c)
		}
	}()
	n, _ := whole.Lookup([]byte(far))
	if r, want := get(), fmt.Sprintf("$%d\r\n%d\r\n", len(strconv.FormatUint(n, 10)), n); r != want {
		t.Errorf("the shard back: %q, want %q", r, want)
	}
}
