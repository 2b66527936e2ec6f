package cluster_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/freqd/freqd/cluster"
	"github.com/freqd/freqd/handler"
	"github.com/freqd/freqd/shm/freqfile"
)

// pair is a cluster of two shards of a small set: shard 0 is the node
// under test (not served), shard 1 a real Handler on a loopback port that
// the test may stop and start again.
type pair struct {
	node  *cluster.Node // shard 0's
	words [][]byte      // words shard 1 holds
	h     *handler.Handler
	addr  string

	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
}

func newPair(t *testing.T, password string) *pair {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pair{addr: ln.Addr().String()}
	r := cluster.Split(2)
	cfg, err := cluster.ParseConfig(fmt.Appendf(nil, "%s 127.0.0.1:1\n%s %s\n", r[0], r[1], p.addr))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := []cluster.ShardFile{{Slots: r[0], Path: filepath.Join(dir, "0")}, {Slots: r[1], Path: filepath.Join(dir, "1")}}
	sw, err := cluster.NewSetWriter(files, freqfile.BuildOptions{}, freqfile.StreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		w := fmt.Appendf(nil, "w%03d", i)
		sw.Add(w, uint64(2000-i))
		if r[1].Contains(cluster.Slot(w)) {
			p.words = append(p.words, w)
		}
	}
	if err := sw.Commit(); err != nil {
		t.Fatal(err)
	}
	var tables []*freqfile.Table
	for _, f := range files {
		tb, err := freqfile.Open(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tb.Close() })
		tables = append(tables, tb)
	}
	if p.node, err = cluster.NewNode(cfg, tables[0], "shard 0"); err != nil {
		t.Fatal(err)
	}
	n1, err := cluster.NewNode(cfg, tables[1], "shard 1")
	if err != nil {
		t.Fatal(err)
	}
	p.h = handler.New(tables[1], handler.Options{Cluster: n1, RequirePass: password})
	p.serve(t, ln)
	t.Cleanup(p.stop)
	return p
}

// serve answers on ln until stop.
func (p *pair) serve(t *testing.T, ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			p.conns = append(p.conns, c)
			p.mu.Unlock()
			go p.h.ServeConn(c)
		}
	}()
}

// stop closes the listener and every connection, as a shard that dies.
func (p *pair) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// lookup asks shard 1 and waits for the answer.
func lookup(peers *cluster.Peers, words [][]byte) ([]cluster.Entry, error) {
	type answer struct {
		e   []cluster.Entry
		err error
	}
	ch := make(chan answer, 1)
	peers.Lookup(1, words, func(e []cluster.Entry, err error) { ch <- answer{e, err} })
	select {
	case a := <-ch:
		return a.e, a.err
	case <-time.After(20 * time.Second):
		return nil, fmt.Errorf("no callback")
	}
}

// TestPeersLookUpConcurrently: lookups from many goroutines are answered,
// each with its own words' entries, and a shard that restarted is
// reconnected to without a failed lookup.
func TestPeersLookUpConcurrently(t *testing.T) {
	p := newPair(t, "")
	peers := cluster.NewPeers(p.node, "", 5*time.Second)
	check := func(round int) {
		var wg sync.WaitGroup
		for g := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				words := append([][]byte{[]byte("absent")}, p.words[g:g+5]...)
				e, err := lookup(peers, words)
				if err != nil || len(e) != len(words) || e[0].Found {
					t.Errorf("round %d: %v %v", round, e, err)
					return
				}
				for i, w := range words[1:] {
					var n int
					fmt.Sscanf(string(w), "w%d", &n)
					if !e[i+1].Found || e[i+1].Count != uint64(2000-n) || e[i+1].Rank != uint64(n+1) {
						t.Errorf("round %d: %s: %+v", round, w, e[i+1])
					}
				}
			}()
		}
		wg.Wait()
	}
	check(1)
	// The shard restarts on the same port: the connection peers holds is
	// dead, and the next lookups go over a new one.
	p.stop()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Skipf("cannot listen again on %s: %v", p.addr, err)
	}
	p.serve(t, ln)
	check(2)
}

// TestPeersReportAShardDown: a shard that refuses connections fails the
// lookup with its slots and address, and the next lookups fail at once.
func TestPeersReportAShardDown(t *testing.T) {
	p := newPair(t, "")
	p.stop()
	peers := cluster.NewPeers(p.node, "", 5*time.Second)
	for range 2 {
		_, err := lookup(peers, p.words[:1])
		if err == nil || !strings.Contains(err.Error(), "shard 8192-16383 at "+p.addr+": connect: connection refused") {
			t.Errorf("lookup on a shard that is down: %v", err)
		}
	}
}

// TestPeersTimeOut: a shard that accepts and never answers fails the
// lookup once the timeout has passed.
func TestPeersTimeOut(t *testing.T) {
	p := newPair(t, "")
	p.stop()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Skip(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go io.Copy(io.Discard, c) // reads, never answers
		}
	}()
	peers := cluster.NewPeers(p.node, "", 300*time.Millisecond)
	_, err = lookup(peers, p.words[:3])
	if err == nil || !strings.Contains(err.Error(), "no answer within 300ms") {
		t.Errorf("lookup on a shard that never answers: %v", err)
	}
}

// TestPeersAuthenticate: with the cluster's password a node's lookups
// pass; with another, they fail saying why.
func TestPeersAuthenticate(t *testing.T) {
	p := newPair(t, "s3cret")
	if e, err := lookup(cluster.NewPeers(p.node, "s3cret", 5*time.Second), p.words[:2]); err != nil || !e[0].Found {
		t.Errorf("with the password: %v %v", e, err)
	}
	_, err := lookup(cluster.NewPeers(p.node, "wrong", 5*time.Second), p.words[:2])
	if err == nil || !strings.Contains(err.Error(), "AUTH refused") || !bytes.Contains([]byte(err.Error()), []byte("same password")) {
		t.Errorf("with a wrong password: %v", err)
	}
	_, err = lookup(cluster.NewPeers(p.node, "", 5*time.Second), p.words[:2])
	if err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Errorf("without a password: %v", err)
	}
}
