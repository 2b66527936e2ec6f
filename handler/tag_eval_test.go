package handler

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/freqd/freqd/ingest"
	"github.com/freqd/freqd/shm/freqfile"
	"github.com/redis/go-redis/v9"
)

// The evaluation of TAG: real texts that ship with Debian (testdata/README.md
// says where each comes from), each with the words a reader would name as
// what the text is about. The words were chosen by reading the texts, before
// any tuning of TAG, and are not to be changed to suit a scoring.
var evalTexts = []struct {
	name string // a file under testdata/texts, or a label for text
	text string // the text itself, when not a file
	gold []string
}{
	{name: "GPL-3.txt", gold: []string{"license", "copyright", "software", "source", "warranty", "patent"}},
	{name: "Apache-2.0.txt", gold: []string{"license", "licensor", "contributor", "contribution", "derivative", "patent"}},
	{name: "GFDL-1.3.txt", gold: []string{"document", "license", "invariant", "cover", "texts", "modified"}},
	{name: "MPL-2.0.txt", gold: []string{"license", "contributor", "covered", "software", "executable", "patent"}},
	{name: "Artistic.txt", gold: []string{"package", "standard", "version", "copyright", "modifications"}},
	{name: "CC0-1.0.txt", gold: []string{"affirmer", "copyright", "rights", "waiver", "work"}},
	{name: "BSD.txt", gold: []string{"software", "copyright", "redistributions", "warranties", "regents"}},
	{name: "gzip.1.txt", gold: []string{"gzip", "compressed", "compression", "gunzip", "decompress"}},
	{name: "grep.1.txt", gold: []string{"grep", "patterns", "matching", "lines", "regular", "expressions"}},
	{name: "tar.1.txt", gold: []string{"tar", "archive", "extract", "members", "archives"}},
	{name: "find.1.txt", gold: []string{"find", "directory", "expression", "symbolic", "predicates"}},
	{name: "bash.1.txt", gold: []string{"shell", "bash", "variable", "expansion", "builtin", "history"}},
	{name: "ssh.1.txt", gold: []string{"ssh", "remote", "authentication", "forwarding", "host", "keys"}},
	{name: "dpkg-triggers.txt", gold: []string{"trigger", "triggers", "dpkg", "activation", "pending"}},
	// Single sentences from the same texts: TAG must make sense of ten
	// words as well as of a manual.
	{name: "gzip NAME line", text: "gzip, gunzip, zcat - compress or expand files",
		gold: []string{"gzip", "compress"}},
	{name: "GPL-3 preamble sentence", text: "The GNU General Public License is a free, copyleft license for software and other kinds of works.",
		gold: []string{"copyleft", "license", "software"}},
	{name: "bash DESCRIPTION sentence", text: "Bash is an sh-compatible command language interpreter that executes commands read from the standard input or from a file.",
		gold: []string{"bash", "interpreter"}},
}

// functionWords are English closed-class words: articles, determiners,
// pronouns, prepositions, conjunctions, auxiliaries and modals, and the
// parts SUBTLEX-US splits contractions into. None says what a text is
// about, however often the text uses it.
var functionWords = wordSet(`a about above across after against all along also am among an and another any
are around as at be because been before being below between both but by can could d did do does doing don
each either every few for from had has have having he her here hers herself him himself his how i if in into
is it its itself just least less ll m many may me might mine more most much must my myself neither no nor
not of off on once only onto or other others our ours ourselves over per re s shall she should so some such
t than that the their theirs them themselves then there these they this those though through to too toward
towards under unless until upon us ve very via was we were what whatever when where whether which while who
whom whose why will with within without would yet you your yours yourself yourselves`)

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// evalTop is the depth at which TAG is judged: what a client shows.
const evalTop = 10

// farMoreOften is how many times more often than the corpus a text must use
// one of the corpus's 100 most frequent words for that word to be allowed
// among its top evalTop.
const farMoreOften = 10

// evalResult is TAG's quality on one text.
type evalResult struct {
	name       string
	top        []string // the first evalTop words, lower-cased
	intrusions []string // corpus top-100 words in top, not far more frequent in the text
	function   []string // function words in top
	recall     float64  // share of the gold words in top
	ap         float64  // average precision of the gold words over TAG's whole ranking
}

var (
	evalTableOnce sync.Once
	evalTable     *freqfile.Table
	evalTableErr  error
)

// defaultTable is the embedded table exactly as `freqd serve` builds it.
func defaultTable(tb testing.TB) *freqfile.Table {
	tb.Helper()
	evalTableOnce.Do(func() {
		var b []byte
		if b, evalTableErr = ingest.DefaultTable(); evalTableErr == nil {
			evalTable, evalTableErr = freqfile.Parse(b)
		}
	})
	if evalTableErr != nil {
		tb.Fatalf("embedded table: %v", evalTableErr)
	}
	return evalTable
}

// TestTagEvaluation measures TAG on the test texts through a real client
// on a real socket, against the embedded table, and logs the measure
// (go test -run TagEvaluation -v ./handler). The measure, documented in
// docs/tag.md:
//
//   - intrusions: words among a text's top 10 that are among the table's 100
//     most frequent words, unless the text uses the word at least
//     farMoreOften times as often as the corpus does; summed over texts;
//   - function words: closed-class English words among the top 10, summed;
//   - recall@10: the share of a text's gold words in its top 10, averaged;
//   - MAP: the average precision of the gold words over TAG's whole
//     ranking, averaged over texts (1 when they are TAG's first words).
func TestTagEvaluation(t *testing.T) {
	tab := defaultTable(t)
	h := New(tab, Options{})
	addr, _ := serveTCP(t, h)
	rdb := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, MaxRetries: -1})
	defer rdb.Close()

	top100 := map[string]bool{}
	for r := uint64(1); r <= 100; r++ {
		w, _, _ := tab.Entry(r)
		top100[string(w)] = true
	}
	var results []evalResult
	for _, et := range evalTexts {
		text := et.text
		if text == "" {
			b, err := os.ReadFile(filepath.Join("..", "testdata", "texts", et.name))
			if err != nil {
				t.Fatal(err)
			}
			text = string(b)
		}
		words, err := rdb.Do(context.Background(), "TAG", "LIMIT", "0", text).StringSlice()
		if err != nil {
			t.Fatalf("%s: TAG: %v", et.name, err)
		}
		var ranking []string
		for i := 0; i+1 < len(words); i += 2 {
			ranking = append(ranking, strings.ToLower(words[i]))
		}
		results = append(results, judge(t, tab, top100, et.name, text, et.gold, ranking))
	}

	var intrusions, function int
	var recall, ap float64
	for _, r := range results {
		t.Logf("%-26s recall@10 %.2f  AP %.2f  top: %s", r.name, r.recall, r.ap, strings.Join(r.top, " "))
		if len(r.intrusions) > 0 || len(r.function) > 0 {
			t.Logf("%-26s intrusions %q, function words %q", "", r.intrusions, r.function)
		}
		intrusions += len(r.intrusions)
		function += len(r.function)
		recall += r.recall
		ap += r.ap
	}
	n := float64(len(results))
	t.Logf("TAG evaluation over %d texts: intrusions@10 %d, function words@10 %d, recall@10 %.3f, MAP %.3f",
		len(results), intrusions, function, recall/n, ap/n)
}

// judge scores one text's ranking. The text's own word counts, which
// excuse a frequent word the text uses far more than the corpus does, come
// from a tokenization of the test's own, not TAG's.
func judge(t *testing.T, tab *freqfile.Table, top100 map[string]bool, name, text string, gold, ranking []string) evalResult {
	t.Helper()
	counts := map[string]int{}
	n := 0
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) }) {
		counts[w]++
		n++
	}
	for _, g := range gold {
		if counts[g] == 0 {
			t.Fatalf("%s: gold word %q is not in the text", name, g)
		}
	}
	r := evalResult{name: name, top: ranking[:min(evalTop, len(ranking))]}
	for _, w := range r.top {
		if functionWords[w] {
			r.function = append(r.function, w)
		}
		if !top100[w] {
			continue
		}
		c, _ := tab.Lookup([]byte(w))
		inText := float64(counts[w]) / float64(n)
		inCorpus := float64(c) / float64(tab.Total())
		if inText < farMoreOften*inCorpus {
			r.intrusions = append(r.intrusions, fmt.Sprintf("%s (%.1fx)", w, inText/inCorpus))
		}
	}
	isGold := wordSet(strings.Join(gold, " "))
	hits := 0
	for i, w := range ranking {
		if !isGold[w] {
			continue
		}
		hits++
		r.ap += float64(hits) / float64(i+1)
		if i < evalTop {
			r.recall++
		}
	}
	r.ap /= float64(len(gold))
	r.recall /= float64(len(gold))
	return r
}
