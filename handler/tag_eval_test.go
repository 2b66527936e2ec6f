package handler

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
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

// functionWords are English closed-class words (testdata/function-words.txt).
var functionWords = func() map[string]bool {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "function-words.txt"))
	if err != nil {
		panic(err)
	}
	var words []string
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "#") {
			words = append(words, line)
		}
	}
	return wordSet(strings.Join(words, " "))
}()

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

// Thresholds TestTagEvaluation holds TAG to. Today's scoring reaches
// recall@10 0.775 and MAP 0.648 with no intrusion; the scoring freqd had
// before (occurrences × surprisal) had 48 intrusions, 62 function words,
// recall@10 0.641 and MAP 0.451 (docs/tag.md).
const (
	minRecall = 0.75
	minMAP    = 0.62
)

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

	top100 := tableTop100(tab)
	var results []evalResult
	for _, et := range evalTexts {
		text := evalText(t, et.name, et.text)
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
	m := summarize(results)
	for _, r := range results {
		t.Logf("%-26s recall@10 %.2f  AP %.2f  top: %s", r.name, r.recall, r.ap, strings.Join(r.top, " "))
		if len(r.intrusions) > 0 || len(r.function) > 0 {
			t.Errorf("%s: intrusions %q, function words %q among the top %d", r.name, r.intrusions, r.function, evalTop)
		}
		if r.recall == 0 {
			t.Errorf("%s: none of the words a reader would name (%s) among the top %d", r.name, strings.Join(goldOf(r.name), ", "), evalTop)
		}
	}
	t.Logf("TAG evaluation over %d texts: %s", len(results), m)
	if m.recall < minRecall || m.mAP < minMAP {
		t.Errorf("recall@10 %.3f and MAP %.3f, want at least %.2f and %.2f", m.recall, m.mAP, minRecall, minMAP)
	}
}

// TestTagScoringAlternatives scores the test texts with published keyness
// measures other than TAG's, among the same significant words, and checks
// that TAG's does best: Hardie's Log Ratio (the corpus side smoothed as
// TAG's is) and G² itself, and Kilgarriff's simple maths with the other
// suggested values of k. The figures are in docs/tag.md; -v logs them.
func TestTagScoringAlternatives(t *testing.T) {
	tab := defaultTable(t)
	h := New(tab, Options{})
	top100 := tableTop100(tab)
	simpleMaths := func(k float64) func(float64, float64) float64 {
		return func(x, y float64) float64 { return math.Log2((x*1e6 + k) / (y*1e6 + k)) }
	}
	scorers := []struct {
		name  string
		score func(inText, inCorpus float64) float64
		byG2  bool
	}{
		{"log ratio", func(x, y float64) float64 { return math.Log2(x / y) }, false},
		{"simple maths k=1", simpleMaths(1), false},
		{"simple maths k=10 (TAG)", keyness, false},
		{"simple maths k=100", simpleMaths(100), false},
		{"simple maths k=1000", simpleMaths(1000), false},
		{"G2", keyness, true},
	}
	measures := map[string]evalMeasure{}
	for _, sc := range scorers {
		var results []evalResult
		for _, et := range evalTexts {
			text := evalText(t, et.name, et.text)
			s := h.NewSession()
			terms, tokens := s.tag.collect(s, [][]byte{[]byte(text)})
			kept := keywordsBy(s, terms, tokens, sc.score)
			if sc.byG2 {
				slices.SortStableFunc(kept, func(x, y term) int { return cmp.Compare(y.g2, x.g2) })
			}
			var ranking []string
			for _, k := range kept {
				ranking = append(ranking, strings.ToLower(string(k.word)))
			}
			results = append(results, judge(t, tab, top100, et.name, text, et.gold, ranking))
			s.Close()
		}
		measures[sc.name] = summarize(results)
		t.Logf("%-24s %s", sc.name, measures[sc.name])
	}
	tag := measures["simple maths k=10 (TAG)"]
	for name, m := range measures {
		if m.recall > tag.recall || m.mAP > tag.mAP || m.function < tag.function {
			t.Errorf("%s (%s) does better than TAG's scoring (%s)", name, m, tag)
		}
	}
}

// evalMeasure is the evaluation summed or averaged over the texts.
type evalMeasure struct {
	intrusions, function int
	recall, mAP          float64
}

func (m evalMeasure) String() string {
	return fmt.Sprintf("intrusions@10 %d, function words@10 %d, recall@10 %.3f, MAP %.3f", m.intrusions, m.function, m.recall, m.mAP)
}

func summarize(results []evalResult) evalMeasure {
	var m evalMeasure
	for _, r := range results {
		m.intrusions += len(r.intrusions)
		m.function += len(r.function)
		m.recall += r.recall
		m.mAP += r.ap
	}
	m.recall /= float64(len(results))
	m.mAP /= float64(len(results))
	return m
}

func goldOf(name string) []string {
	for _, et := range evalTexts {
		if et.name == name {
			return et.gold
		}
	}
	return nil
}

// evalText returns text, or the test text named name when text is empty.
func evalText(t *testing.T, name, text string) string {
	t.Helper()
	if text != "" {
		return text
	}
	b, err := os.ReadFile(filepath.Join("..", "testdata", "texts", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// tableTop100 is the table's 100 most frequent words.
func tableTop100(tab *freqfile.Table) map[string]bool {
	top := map[string]bool{}
	for r := uint64(1); r <= 100; r++ {
		w, _, _ := tab.Entry(r)
		top[string(w)] = true
	}
	return top
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
