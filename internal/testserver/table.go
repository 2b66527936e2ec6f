package testserver

import (
	"bufio"
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/freqd/freqd/data"
)

// Table is the reference a test checks answers against: word to count, as
// a server should answer GET word. A word not in it must get a nil reply.
type Table map[string]uint64

// Subtlex returns the embedded SUBTLEX-US list as `freqd serve` serves it by
// default: case folded, the counts of words that differ only in case
// summed. It is computed from the raw list, independently of the code under
// test, once; callers must not modify it.
var Subtlex = sync.OnceValue(func() Table {
	t := Table{}
	sc := bufio.NewScanner(bytes.NewReader(data.SubtlexUS))
	for sc.Scan() {
		w, c, ok := strings.Cut(sc.Text(), "\t")
		n, err := strconv.ParseUint(c, 10, 64)
		if !ok || err != nil {
			// The list is compiled into the binary: a bad line is a
			// broken build, not an input to handle.
			panic(fmt.Sprintf("data.SubtlexUS: bad line %q", sc.Text()))
		}
		t[strings.ToLower(w)] += n
	}
	return t
})

// Total is the sum of the counts.
func (t Table) Total() uint64 {
	var n uint64
	for _, c := range t {
		n += c
	}
	return n
}

// Reply is the exact RESP reply to GET w.
func (t Table) Reply(w string) string {
	n, ok := t[w]
	if !ok {
		return "$-1\r\n"
	}
	v := strconv.FormatUint(n, 10)
	return fmt.Sprintf("$%d\r\n%s\r\n", len(v), v)
}

// Check accepts exactly t's answers.
func (t Table) Check(w, reply string) bool { return reply == t.Reply(w) }

// Either accepts any of the tables' answers: while a server switches from
// one table to another, a right answer comes from one or the other.
func Either(tables ...Table) Check {
	return func(w, reply string) bool {
		for _, t := range tables {
			if t.Check(w, reply) {
				return true
			}
		}
		return false
	}
}

// Absent are words in no table a test builds, so loads also ask for misses.
var Absent = []string{"zzqxjw", "qqqvvv"}

// Sample returns the Absent words and n of t's words spread evenly over its
// sorted order, so a load touches the whole table, the same words every
// run. Words with spaces, quotes or line ends are skipped: the load sends
// inline commands.
func (t Table) Sample(n int) []string {
	all := make([]string, 0, len(t))
	for w := range t {
		if w != "" && !strings.ContainsAny(w, " \t\r\n\"'") {
			all = append(all, w)
		}
	}
	sort.Strings(all)
	out := append([]string(nil), Absent...)
	if n > len(all) {
		n = len(all)
	}
	for i := 0; i < n; i++ {
		out = append(out, all[i*len(all)/n])
	}
	return out
}

// Scaled returns a table of t's words given in words, each count multiplied
// by k: a second valid table that answers every word differently.
func (t Table) Scaled(words []string, k uint64) Table {
	s := Table{}
	for _, w := range words {
		if n, ok := t[w]; ok {
			s[w] = n * k
		}
	}
	return s
}
