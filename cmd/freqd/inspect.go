package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/freqd/freqd/cluster"
	"github.com/freqd/freqd/shm/freqfile"
	"github.com/freqd/freqd/word"
)

func init() {
	register(&command{
		name:     "inspect",
		summary:  "show a frequency file's header and top words, or look words up",
		synopsis: []string{"inspect FILE", "inspect FILE WORD..."},
		about: `With FILE alone, prints the header (words, total count, size, case folding,
checksum and whether the file verifies against it) and the ten most frequent
words. Exits 1 if the file does not verify.

With WORDs, prints each WORD and its count, separated by a tab, 0 for a word
the file does not hold, and exits 1 if any is absent. WORDs are normalized
by the file's rules, as a server serving it normalizes queries: on a
case-folded file their case does not matter, and on a file that counts
contractions by their parts (as SUBTLEX-US does) "don't" counts as its
rarest part.`,
		args: argsFiles,
		examples: []example{
			{line: "freqd inspect words.freq"},
			{line: "freqd inspect words.freq the zzqxj"},
		},
		setup: inspectFlags,
	})
}

// inspectTop is how many of the most frequent words the summary lists.
const inspectTop = 10

func inspectFlags(fs *flag.FlagSet) func([]string) int {
	c := commands["inspect"]
	return func(args []string) int {
		if len(args) == 0 {
			return c.usageError("no FILE given, e.g. freqd inspect words.freq")
		}
		return runInspect(args)
	}
}

func runInspect(args []string) int {
	t, err := freqfile.Open(args[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "freqd inspect: %s\n", tableFileError(args[0], err))
		return exitFail
	}
	defer t.Close()
	if len(args) > 1 {
		return inspectWords(t, args[1:])
	}
	return inspectSummary(t, args[0])
}

// inspectWords prints each word's count in a form scripts can read.
func inspectWords(t *freqfile.Table, words []string) int {
	code := 0
	w := bufio.NewWriter(os.Stdout)
	rules := t.Rules()
	for _, query := range words {
		n, ok := t.Lookup([]byte(query))
		if rules.SplitContractions && word.HasApostrophe([]byte(query)) {
			n, _, ok = word.Contraction(rules.AppendNormal(nil, []byte(query)), t.LookupNormal)
		}
		if !ok {
			code = 1
		}
		fmt.Fprintf(w, "%s\t%d\n", query, n)
	}
	w.Flush()
	return code
}

func inspectSummary(t *freqfile.Table, name string) int {
	verr := t.Verify()
	w := tabwriter.NewWriter(os.Stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintf(w, "file\t%s\n", name)
	fmt.Fprintf(w, "words\t%s\n", groupDigits(t.Len()))
	fmt.Fprintf(w, "total count\t%s\n", groupDigits(t.Total()))
	fmt.Fprintf(w, "size\t%s (%s bytes)\n", humanBytes(t.Size()), groupDigits(uint64(t.Size())))
	if t.FoldsCase() {
		fmt.Fprintf(w, "case\tfolded: lookups ignore case\n")
	} else {
		fmt.Fprintf(w, "case\tkept: lookups are case-sensitive\n")
	}
	// The rules the build normalized words by, which lookups apply too.
	for i, line := range t.Rules().Describe() {
		label := ""
		if i == 0 {
			label = "rules"
		}
		fmt.Fprintf(w, "%s\t%s\n", label, line)
	}
	if v, ok := t.Meta("normalize.unicode-version"); ok && v != word.UnicodeVersion {
		fmt.Fprintf(w, "\tbuilt with Unicode %s, this freqd has %s: they differ only on characters one of them lacks\n", v, word.UnicodeVersion)
	}
	status := "verified"
	if verr != nil {
		status = "DOES NOT VERIFY"
	}
	fmt.Fprintf(w, "checksum\t%#08x, %s\n", t.Checksum(), status)
	fmt.Fprintf(w, "table id\t%08x (what INFO's table_id shows: the same for tables that answer alike)\n", t.ID())
	if info, ok, err := cluster.ReadShard(t); ok {
		if err != nil {
			fmt.Fprintf(w, "shard\t%v\n", err)
		} else {
			fmt.Fprintf(w, "shard\t%s, of set %s: %s words, total count %s\n", info, info.SetID, groupDigits(info.SetWords), groupDigits(info.SetTotal))
		}
	}
	w.Flush()

	// The first count is the largest, so it sets the column's width.
	_, first, _ := t.Entry(1)
	width := max(len(groupDigits(first)), len("count"))
	fmt.Printf("\n%4s  %*s  %s\n", "rank", width, "count", "word")
	for i := uint64(1); i <= min(inspectTop, t.Len()); i++ {
		word, count, ok := t.Entry(i)
		if !ok {
			break // a damaged file; Verify has said so
		}
		// A shard's ranks are its set's.
		rank, _ := t.Rank(word)
		fmt.Printf("%4d  %*s  %s\n", rank, width, groupDigits(count), word)
	}
	if verr != nil {
		fmt.Fprintf(os.Stderr, "freqd inspect: %v\nthe file is damaged; rebuild it with 'freqd build'\n", verr)
		return 1
	}
	return 0
}
