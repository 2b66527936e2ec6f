package loadgen

import (
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/freqd/freqd/handler"
)

// datagramServer answers datagrams on conn with the real handler over the
// default table until the test ends. answer decides, per datagram (counted
// from 1), whether to reply and after how long; maxReply bounds replies.
func datagramServer(t *testing.T, conn net.PacketConn, maxReply int, answer func(n uint64) (reply bool, delay time.Duration)) {
	t.Helper()
	h := handler.New(defaultTable, handler.Options{})
	var count atomic.Uint64
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			reply, delay := answer(count.Add(1))
			if !reply {
				continue
			}
			out := h.ServeDatagram(buf[:n], nil, handler.DatagramLimits{MaxReply: maxReply})
			if delay == 0 {
				conn.WriteTo(out, from)
				continue
			}
			time.AfterFunc(delay, func() { conn.WriteTo(out, from) })
		}
	}()
	t.Cleanup(func() { conn.Close() })
}

func always(uint64) (bool, time.Duration) { return true, 0 }

// datagramAddrs starts a UDP and a unix datagram server and returns their
// Config.Addr values.
func datagramAddrs(t *testing.T, maxReply int, answer func(uint64) (bool, time.Duration)) []string {
	t.Helper()
	u, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	datagramServer(t, u, maxReply, answer)
	path := filepath.Join(t.TempDir(), "d.sock")
	g, err := net.ListenPacket("unixgram", path)
	if err != nil {
		t.Fatal(err)
	}
	datagramServer(t, g, maxReply, answer)
	return []string{"udp:" + u.LocalAddr().String(), "unixgram:" + path}
}

func TestDatagramAnswersAreRight(t *testing.T) {
	for _, addr := range datagramAddrs(t, handler.MaxUDP4Reply, always) {
		res := runCfg(t, Config{Addr: addr, Conns: 4, Requests: 2000, Pipeline: 5, Miss: 0.2})
		checkCounts(t, res)
		if res.OK != 2000 || res.Failed != 0 {
			t.Errorf("%s: ok %d, errors %+v (%s); want 2000 right answers", addr, res.OK, res.Errors, res.FirstError)
		}
	}
}

// TestDatagramLateRepliesAreLostNotWrong answers every third datagram only
// after the client's timeout. Those requests must count as lost, and the
// late replies must not be taken for the answers to later requests.
func TestDatagramLateRepliesAreLostNotWrong(t *testing.T) {
	late := func(n uint64) (bool, time.Duration) {
		if n%3 == 0 {
			return true, 150 * time.Millisecond
		}
		return true, 0
	}
	for _, addr := range datagramAddrs(t, handler.MaxUDP4Reply, late) {
		res := runCfg(t, Config{Addr: addr, Conns: 3, Requests: 300, Timeout: 50 * time.Millisecond})
		checkCounts(t, res)
		if res.Errors.Wrong != 0 || res.Errors.Lost == 0 || res.OK == 0 || res.OK+res.Errors.Lost != 300 {
			t.Errorf("%s: ok %d, errors %+v (%s); want right answers and lost ones, none wrong", addr, res.OK, res.Errors, res.FirstError)
		}
		if !strings.HasPrefix(res.FirstError, "lost: ") {
			t.Errorf("%s: first error %q, want a lost request", addr, res.FirstError)
		}
	}
}

// TestDatagramWholeDatagramError: a server that refuses a datagram answers
// it with one error; every request of the datagram fails, as other.
func TestDatagramWholeDatagramError(t *testing.T) {
	for _, addr := range datagramAddrs(t, 20, always) {
		res := runCfg(t, Config{Addr: addr, Conns: 2, Requests: 40, Pipeline: 4})
		checkCounts(t, res)
		if res.Errors.Other != 40 || res.OK != 0 {
			t.Errorf("%s: ok %d, errors %+v; want all 40 requests failed as other", addr, res.OK, res.Errors)
		}
		if !strings.Contains(res.FirstError, "reply too large for a datagram") {
			t.Errorf("%s: first error %q, want the server's error", addr, res.FirstError)
		}
	}
}

func TestDatagramNobodyListening(t *testing.T) {
	u, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "udp:" + u.LocalAddr().String()
	u.Close()
	res := runCfg(t, Config{Addr: addr, Conns: 1, Requests: 5, Timeout: 200 * time.Millisecond})
	if res.Errors.Refused+res.Errors.Lost != 5 || res.Errors.Wrong != 0 {
		t.Errorf("errors %+v; want every request refused (ICMP port unreachable) or lost", res.Errors)
	}
}

func TestDatagramConfig(t *testing.T) {
	c := Config{Addr: "udp:127.0.0.1:1", Reconnect: true}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "--reconnect") {
		t.Errorf("Validate with --reconnect over UDP: %v, want an error naming --reconnect", err)
	}
	if d := (Config{Addr: "unixgram:/x"}).withDefaults().Timeout; d != DefaultDatagramTimeout {
		t.Errorf("default datagram timeout %v, want %v", d, DefaultDatagramTimeout)
	}
	if d := (Config{Addr: "127.0.0.1:1"}).withDefaults().Timeout; d != DefaultTimeout {
		t.Errorf("default stream timeout %v, want %v", d, DefaultTimeout)
	}
}
