package handler

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/freqd/freqd/data"
	"github.com/freqd/freqd/shm/freqfile"
)

// subtlex is the real word list, parsed here independently of shm so that
// expected answers come from the data rather than from the code under test.
type subtlex struct {
	count map[string]uint64
	rank  map[string]uint64 // line number, 1-based: the file is in frequency order
	total uint64
	table *freqfile.Table
}

var (
	fixtureOnce sync.Once
	fixture     subtlex
	fixtureErr  error
)

// realTable returns the SUBTLEX-US list and a freqfile.Table built from it, case
// kept as in the corpus ("I", "John"). It is built once per test binary.
func realTable(tb testing.TB) *subtlex {
	tb.Helper()
	fixtureOnce.Do(func() {
		fixture.count = make(map[string]uint64, data.SubtlexUSWords)
		fixture.rank = make(map[string]uint64, data.SubtlexUSWords)
		var entries []freqfile.Entry
		sc := bufio.NewScanner(bytes.NewReader(data.SubtlexUS))
		for sc.Scan() {
			word, num, ok := strings.Cut(sc.Text(), "\t")
			if !ok {
				continue
			}
			n, err := strconv.ParseUint(num, 10, 64)
			if err != nil {
				fixtureErr = err
				return
			}
			entries = append(entries, freqfile.Entry{Word: word, Count: n})
			fixture.count[word] = n
			fixture.rank[word] = uint64(len(entries))
			fixture.total += n
		}
		var buf bytes.Buffer
		if fixtureErr = freqfile.WriteTable(&buf, entries, freqfile.BuildOptions{}); fixtureErr != nil {
			return
		}
		fixture.table, fixtureErr = freqfile.Parse(buf.Bytes())
	})
	if fixtureErr != nil {
		tb.Fatalf("building the SUBTLEX-US table: %v", fixtureErr)
	}
	if len(fixture.count) != data.SubtlexUSWords || fixture.total != data.SubtlexUSTotal {
		tb.Fatalf("SUBTLEX-US parsed as %d words totalling %d, want %d and %d",
			len(fixture.count), fixture.total, data.SubtlexUSWords, data.SubtlexUSTotal)
	}
	return &fixture
}
