package evloop_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
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
	start(t, evloop.Config{Handler: hs[0], Queue: -1, Listeners: []evloop.Listener{{FD: fd, Name: addr}}})

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
