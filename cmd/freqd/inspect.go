package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/freqd/freqd/shm/freqfile"
)

func init() {
	register("inspect", command{summary: "show a frequency file's header and top words, or look words up", run: runInspect})
}

const inspectUsage = `usage: freqd inspect FILE
       freqd inspect FILE WORD...

With FILE alone, prints the header (words, total count, size, case folding,
checksum and whether the file verifies against it) and the ten most frequent
words. Exits 1 if the file does not verify.

With WORDs, prints "word<TAB>count" for each, 0 for a word the file does not
hold, and exits 1 if any is absent. A case-folded file ignores the case of
the WORDs.
`

// inspectTop is how many of the most frequent words the summary lists.
const inspectTop = 10

func runInspect(args []string) int {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), inspectUsage) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "freqd inspect: no FILE given\nRun 'freqd inspect -h' for usage.")
		return 2
	}
	t, err := freqfile.Open(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(os.Stderr, "freqd inspect: %v\n", err)
		return 1
	}
	defer t.Close()
	if fs.NArg() > 1 {
		return inspectWords(t, fs.Args()[1:])
	}
	return inspectSummary(t, fs.Arg(0))
}

// inspectWords prints each word's count in a form scripts can read.
func inspectWords(t *freqfile.Table, words []string) int {
	code := 0
	w := bufio.NewWriter(os.Stdout)
	for _, word := range words {
		n, ok := t.Lookup([]byte(word))
		if !ok {
			code = 1
		}
		fmt.Fprintf(w, "%s\t%d\n", word, n)
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
	status := "verified"
	if verr != nil {
		status = "DOES NOT VERIFY"
	}
	fmt.Fprintf(w, "checksum\t%#08x, %s\n", t.Checksum(), status)
	w.Flush()

	// The first count is the largest, so it sets the column's width.
	_, first, _ := t.Entry(1)
	width := max(len(groupDigits(first)), len("count"))
	fmt.Printf("\n%4s  %*s  %s\n", "rank", width, "count", "word")
	for rank := uint64(1); rank <= min(inspectTop, t.Len()); rank++ {
		word, count, ok := t.Entry(rank)
		if !ok {
			break // a damaged file; Verify has said so
		}
		fmt.Printf("%4d  %*s  %s\n", rank, width, groupDigits(count), word)
	}
	if verr != nil {
		fmt.Fprintf(os.Stderr, "freqd inspect: %v\nthe file is damaged; rebuild it with 'freqd build'\n", verr)
		return 1
	}
	return 0
}
