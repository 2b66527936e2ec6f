package cluster

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"math"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Range is an inclusive range of hash slots.
type Range struct {
	First int `json:"first"`
	Last  int `json:"last"`
}

// String writes the range as the configuration, CLUSTER NODES and
// `freqd build --slots` do: "0-5460".
func (r Range) String() string { return strconv.Itoa(r.First) + "-" + strconv.Itoa(r.Last) }

// Contains reports whether slot is in the range.
func (r Range) Contains(slot int) bool { return r.First <= slot && slot <= r.Last }

// Len is the number of slots in the range.
func (r Range) Len() int { return r.Last - r.First + 1 }

// ParseRange reads "A-B" (or a single slot "A") with 0 ≤ A ≤ B < 16384.
func ParseRange(s string) (Range, error) {
	a, b, ranged := strings.Cut(strings.TrimSpace(s), "-")
	first, err1 := strconv.Atoi(a)
	last, err2 := first, error(nil)
	if ranged {
		last, err2 = strconv.Atoi(b)
	}
	switch {
	case err1 != nil || err2 != nil:
		return Range{}, fmt.Errorf("slots %s: want FIRST-LAST, two numbers from 0 to %d", s, Slots-1)
	case first < 0 || last >= Slots || first > last:
		return Range{}, fmt.Errorf("slots %s: want 0 <= FIRST <= LAST <= %d", s, Slots-1)
	}
	return Range{first, last}, nil
}

// Split divides the slots into n ranges as redis-cli --cluster create
// assigns them to n masters: 0-5460, 5461-10922 and 10923-16383 for three.
func Split(n int) []Range {
	per := float64(Slots) / float64(n)
	var rs []Range
	first, cursor := 0, 0.0
	for i := range n {
		last := int(math.Round(cursor + per - 1))
		if last > Slots-1 || i == n-1 {
			last = Slots - 1
		}
		rs = append(rs, Range{first, last})
		first = last + 1
		cursor += per
	}
	return rs
}

// Shard is one line of a cluster configuration: the slots a shard serves,
// the address clients are sent to for them, and the node id the cluster
// commands report for it.
type Shard struct {
	Slots Range  `json:"slots"`
	Addr  string `json:"addr"` // host:port, as announced to clients
	ID    string `json:"id"`   // 40 lower-case hex digits
}

// Host and Port split the announced address.
func (s Shard) Host() string {
	h, _, _ := net.SplitHostPort(s.Addr)
	return h
}

// Port is the announced address's port.
func (s Shard) Port() int {
	_, p, _ := net.SplitHostPort(s.Addr)
	n, _ := strconv.Atoi(p)
	return n
}

// Config is a cluster's layout, the same file on every node: its shards in
// slot order, together covering every slot once.
type Config struct {
	Shards []Shard `json:"shards"`
}

// ReadConfig reads and checks the cluster configuration file at path.
func ReadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cluster configuration: %w", err)
	}
	c, err := ParseConfig(b)
	if err != nil {
		return nil, fmt.Errorf("cluster configuration %s: %w", path, err)
	}
	return c, nil
}

// ParseConfig reads a cluster configuration: one line per shard,
//
//	SLOTS ADDRESS [NODE-ID]
//
// where SLOTS is FIRST-LAST, ADDRESS the host:port announced to clients
// for those slots (a node, or a load balancer in front of the shard's
// replicas) and NODE-ID 40 hexadecimal digits; without one, the id is
// derived from the slots and the address, so every node that reads the
// same file reports the same ids. Blank lines and lines starting with #
// are ignored. The shards must cover every slot exactly once.
func ParseConfig(b []byte) (*Config, error) {
	c := &Config{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' {
			continue
		}
		f := strings.Fields(text)
		if len(f) < 2 || len(f) > 3 {
			return nil, fmt.Errorf("line %d: want SLOTS ADDRESS [NODE-ID], such as 0-5460 10.0.0.1:7379", line)
		}
		r, err := ParseRange(f[0])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		host, port, err := net.SplitHostPort(f[1])
		if p, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || p < 1 || p > 65535 {
			return nil, fmt.Errorf("line %d: address %s: want HOST:PORT, such as 10.0.0.1:7379 or [::1]:7379", line, f[1])
		}
		sh := Shard{Slots: r, Addr: f[1]}
		if len(f) == 3 {
			id := strings.ToLower(f[2])
			if _, err := hex.DecodeString(id); err != nil || len(id) != 40 {
				return nil, fmt.Errorf("line %d: node id %s: want 40 hexadecimal digits, or none to derive one", line, f[2])
			}
			sh.ID = id
		} else {
			sum := sha1.Sum([]byte("freqd " + r.String() + " " + sh.Addr))
			sh.ID = hex.EncodeToString(sum[:])
		}
		c.Shards = append(c.Shards, sh)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return c, nil
}

// check sorts the shards by slot and refuses overlaps, gaps, and an
// address or id given twice.
func (c *Config) check() error {
	if len(c.Shards) == 0 {
		return fmt.Errorf("no shards; want one line per shard: SLOTS ADDRESS [NODE-ID]")
	}
	slices.SortFunc(c.Shards, func(a, b Shard) int { return a.Slots.First - b.Slots.First })
	next := 0
	addrs, ids := map[string]bool{}, map[string]bool{}
	for _, s := range c.Shards {
		switch {
		case s.Slots.First < next:
			return fmt.Errorf("slots %s overlap the shard before; every slot must be served by one shard", s.Slots)
		case s.Slots.First > next:
			return fmt.Errorf("slots %d-%d are served by no shard; the shards must cover 0-%d", next, s.Slots.First-1, Slots-1)
		case addrs[s.Addr]:
			return fmt.Errorf("address %s serves two slot ranges; one address serves one shard", s.Addr)
		case ids[s.ID]:
			return fmt.Errorf("node id %s is given twice", s.ID)
		}
		addrs[s.Addr], ids[s.ID] = true, true
		next = s.Slots.Last + 1
	}
	if next < Slots {
		return fmt.Errorf("slots %d-%d are served by no shard; the shards must cover 0-%d", next, Slots-1, Slots-1)
	}
	return nil
}

// Owner returns the index in Shards of the shard serving slot.
func (c *Config) Owner(slot int) int {
	i, _ := slices.BinarySearchFunc(c.Shards, slot, func(s Shard, slot int) int {
		switch {
		case s.Slots.Last < slot:
			return -1
		case s.Slots.First > slot:
			return 1
		}
		return 0
	})
	return i
}
