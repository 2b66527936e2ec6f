package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/freqd/freqd/data"
	"github.com/freqd/freqd/ingest"
	"github.com/freqd/freqd/shm/freqfile"
)

func init() {
	register(&command{name: "build", summary: "build a frequency file from word lists, n-grams, Parquet or text", raw: runBuild})
}

// defaultBuildOutput is where `freqd build` writes without -o: a name that
// says what the file is, in the current directory, like `go build` does.
const defaultBuildOutput = "words.freq"

// exitInterrupted is the shell's code for a process ended by SIGINT.
const exitInterrupted = 130

const buildUsage = `usage: freqd build [-o FILE] [--format auto|tsv|csv|space|ngram|text] [--header auto|yes|no]
                   [--columns WORD,COUNT] [--keep-case] [--min-count N] [--ngram-tags skip|strip|keep]
                   [--memory-limit SIZE] [--tmp-dir DIR] INPUT...
       freqd build [-o FILE] [--keep-case] --default

Counts the words of the inputs, summing the counts of a word that appears
more than once, and writes them as a frequency file for 'freqd serve'.

Inputs are files, directories (read recursively as Spark, Hadoop, DuckDB and
ClickHouse write them: _SUCCESS, names starting with _ or ., *.crc and empty
files are skipped) and "-" for standard input. gzip, zstd and bzip2 are
decompressed and Parquet files read by content, whatever their names; other
binary files are refused. The format of each input is detected from its
first lines (a file's extension only breaks a tie): word<TAB>count, CSV
(RFC 4180), "word count" or "count word" (uniq -c), Google Books n-grams,
or running text. A header line is recognised and skipped, and its names
choose the word and count columns; TSV backslash escapes (\t, \\, \N) are
undone. Phrases ("new york<TAB>12", n-gram files) are keys like words.

Words are case-folded ("I" and "i" become "i") unless --keep-case is given.
A count of zero, a negative count, or one above 9223372036854775807 (the
largest integer a Redis client reads) is an error naming the file and line;
with --min-count, lines whose count is below 1 are skipped.

Google Books 2012 and 2020 files hold an untagged line for every n-gram
("run") and tagged ones ("run_VERB") whose counts it already includes: by
default (--ngram-tags skip) the tagged lines are skipped so each n-gram is
counted once; 'strip' removes the tags and adds the counts (right for files
of tagged lines only), 'keep' keeps "run_verb" as a key of its own. Lines of
bare tags (_NOUN_) and sentence markers (_START_) are never counted.

Memory stays under --memory-limit: past it, counts go to sorted runs in
--tmp-dir that are merged at the end. The output is replaced atomically, and
temporary files have no name: an interrupted or killed build leaves neither
a partial output nor temporary files.

examples:
  freqd build -o words.freq counts.tsv more.tsv.zst
  freqd build -o spark.freq /data/wordcount-output/
  freqd build -o en2.freq --min-count 40 googlebooks-eng-all-2gram-20120701-ny.gz

flags:
`

func runBuild(args []string) int {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), buildUsage)
		fs.PrintDefaults()
	}
	out := fs.String("o", defaultBuildOutput, "write the frequency file to `FILE`")
	formatName := fs.String("format", "auto", "input format: auto (detected per input), tsv, csv, space, ngram or text")
	headerName := fs.String("header", "auto", "whether word lists start with a header line: auto, yes or no")
	columns := fs.String("columns", "", "the word and count columns, `WORD,COUNT`: header names or numbers from 1 (default: guessed)")
	keepCase := fs.Bool("keep-case", false, "count words that differ only in case apart")
	minCount := fs.Uint64("min-count", 0, "drop words whose total count is below `N`, and skip lines whose count is below 1")
	tagsName := fs.String("ngram-tags", "skip", "Google Books part-of-speech tags: skip tagged lines, strip the tags, or keep them")
	memLimit := fs.String("memory-limit", "1GiB", "memory the build may hold: `SIZE` in bytes, or with KiB, MiB, GiB (or kB, MB, GB)")
	tmpDir := fs.String("tmp-dir", "", "directory for temporary files `DIR` (default: the output's directory)")
	useDefault := fs.Bool("default", false, "build from the embedded SUBTLEX-US list instead of INPUTs")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	format, err := ingest.ParseFormat(*formatName)
	if err != nil {
		return buildUsageError(err.Error())
	}
	header, err := ingest.ParseHeaderMode(*headerName)
	if err != nil {
		return buildUsageError(err.Error())
	}
	tags, err := ingest.ParseTagRule(*tagsName)
	if err != nil {
		return buildUsageError(err.Error())
	}
	limit, err := parseSize(*memLimit)
	if err != nil {
		return buildUsageError("--memory-limit: " + err.Error())
	}
	if limit < 64<<20 {
		return buildUsageError("--memory-limit " + *memLimit + ": a build needs at least 64MiB")
	}
	var cols []string
	if *columns != "" {
		cols = strings.Split(*columns, ",")
		if len(cols) != 2 || cols[0] == "" || cols[1] == "" {
			return buildUsageError("--columns " + *columns + ": want WORD,COUNT (two names or numbers from 1)")
		}
	}
	inputs := fs.Args()
	switch {
	case *useDefault && (len(inputs) > 0 || format != ingest.Auto):
		return buildUsageError("--default builds the embedded list; it takes no INPUT and no --format")
	case !*useDefault && len(inputs) == 0:
		return buildUsageError("no INPUT given; name word-list files or directories, \"-\" for standard input, or use --default")
	case *out == "":
		return buildUsageError("-o needs a file name")
	}
	if *tmpDir == "" {
		*tmpDir = filepath.Dir(*out)
	}
	if fi, err := os.Stat(*tmpDir); err != nil || !fi.IsDir() {
		msg := "not a directory"
		if err != nil {
			msg = err.Error()
		}
		fmt.Fprintf(os.Stderr, "freqd build: temporary directory %s: %s\n%s\n", *tmpDir, msg, nothingWritten(*out))
		return 1
	}

	start := time.Now()
	// The Go heap is held to the limit; the counting tables and the
	// writer's windows are sized within it.
	debug.SetMemoryLimit(limit * 9 / 10)
	opts := ingest.Options{Format: format, KeepCase: *keepCase, Header: header, Columns: cols,
		NgramTags: tags, MinCount: *minCount, MemoryLimit: limit, TmpDir: *tmpDir}
	var ins []ingest.Input
	if *useDefault {
		opts.Format = ingest.TSV
	} else if ins, err = ingest.ExpandInputs(inputs); err != nil {
		fmt.Fprintf(os.Stderr, "freqd build: %v\n%s\n", err, nothingWritten(*out))
		return 1
	}
	c := ingest.New(opts)
	size := int64(len(data.SubtlexUS))
	if !*useDefault {
		size = inputsSize(ins)
	}
	progress := startBuildProgress(c, size)
	phase := watchBuildInterrupts(progress, *out)
	// The watcher handles interrupts, even in a read blocked on a silent
	// pipe, so the reads need no cancellation of their own.
	ctx := context.Background()
	if *useDefault {
		err = c.AddReader(ctx, "SUBTLEX-US (embedded)", bytes.NewReader(data.SubtlexUS))
	} else {
		err = c.AddInputs(ctx, ins)
	}
	if err != nil {
		progress.stop()
		fmt.Fprintf(os.Stderr, "freqd build: %v\n%s\n", err, nothingWritten(*out))
		return 1
	}
	meta := freqfile.Metadata{"built": time.Now().UTC().Format(time.RFC3339)}
	if *useDefault {
		meta["source"] = "SUBTLEX-US (embedded)"
	} else {
		meta["source"] = sourceMeta(inputs)
	}
	st, err := c.WriteFile(*out, freqfile.BuildOptions{FoldCase: !*keepCase, Meta: meta}, func() bool {
		return phase.CompareAndSwap(buildWorking, buildCommitting)
	})
	progress.stop()
	if err != nil {
		if errors.Is(err, ingest.ErrNoWords) {
			msg := "the inputs hold no words"
			if st.Dropped > 0 {
				msg = fmt.Sprintf("no word reaches --min-count %d (%s dropped)", *minCount, ingest.Plural(st.Dropped, "word"))
			}
			fmt.Fprintf(os.Stderr, "freqd build: %s\n%s\n", msg, nothingWritten(*out))
			return 1
		}
		if phase.Load() == buildInterrupted {
			select {} // the watcher is exiting
		}
		fmt.Fprintf(os.Stderr, "freqd build: %v\n%s\n", err, nothingWritten(*out))
		return 1
	}
	fmt.Fprintf(os.Stderr, "freqd build: wrote %s: %s\n", *out, buildSummary(st, *out, *minCount, time.Since(start)))
	return 0
}

// buildSummary says what a build wrote: "3 words, total count 176, 1.2 kB,
// in 12ms", and what it dropped or spilled.
func buildSummary(st ingest.Stats, out string, minCount uint64, took time.Duration) string {
	var size int64
	if fi, err := os.Stat(out); err == nil {
		size = fi.Size()
	}
	noun := ingest.KeyNoun(st)
	s := fmt.Sprintf("%s, total count %s, %s, in %s", ingest.Plural(st.Words, noun), groupDigits(st.Total), humanBytes(size), took.Round(time.Millisecond))
	switch {
	case st.MaxTokens > 1 && st.MinTokens == st.MaxTokens:
		s += fmt.Sprintf(" (%d words each)", st.MaxTokens)
	case st.MaxTokens > 1:
		s += fmt.Sprintf(" (%d to %d words each)", st.MinTokens, st.MaxTokens)
	}
	if st.Dropped > 0 {
		s += fmt.Sprintf("; %s below --min-count %d dropped", ingest.Plural(st.Dropped, noun), minCount)
	}
	if st.SkippedLines > 0 {
		s += fmt.Sprintf("; %s with a count below 1 skipped", ingest.Plural(st.SkippedLines, "line"))
	}
	if st.Spills > 0 {
		s += fmt.Sprintf("; %s to disk, %s of temporary files at most", ingest.Plural(uint64(st.Spills), "spill"), humanBytes(st.TempBytes))
	}
	return s
}

// sourceMeta is what a table records as its source: the inputs as given,
// shortened to stay a small metadata entry.
func sourceMeta(inputs []string) string {
	s := strings.Join(inputs, " ")
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == 0 {
			return ' '
		}
		return r
	}, s)
	if len(s) > 1024 {
		s = s[:1024] + "..."
	}
	return s
}

func buildUsageError(msg string) int {
	fmt.Fprintf(os.Stderr, "freqd build: %s\nRun 'freqd build -h' for usage.\n", msg)
	return 2
}

// nothingWritten reassures the user about the output after a failed build.
func nothingWritten(out string) string {
	if _, err := os.Stat(out); err == nil {
		return "nothing written; " + out + " is unchanged"
	}
	return "nothing written"
}

// inputsSize is the total size of the inputs for the progress bar, or -1
// when one has no size known in advance (standard input, a pipe).
func inputsSize(ins []ingest.Input) int64 {
	var total int64
	for _, in := range ins {
		if in.Size < 0 {
			return -1
		}
		total += in.Size
	}
	return total
}

// The phases of a build, as far as an interrupt is concerned.
const (
	buildWorking = iota
	buildCommitting
	buildInterrupted
)

// watchBuildInterrupts handles SIGINT and SIGTERM for a build. Until the
// output is complete, everything the build has written is an unnamed file
// that the kernel frees at exit, so an interrupt exits at once, even from
// inside a read that would block forever on a silent pipe. Once the main
// goroutine moves the phase to buildCommitting, the complete file is being
// given its name, which must finish; later interrupts are noted.
func watchBuildInterrupts(progress *buildProgress, out string) *atomic.Int32 {
	var phase atomic.Int32
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		for range sigs {
			if phase.CompareAndSwap(buildWorking, buildInterrupted) {
				progress.stop()
				fmt.Fprintf(os.Stderr, "freqd build: interrupted\n%s\n", nothingWritten(out))
				os.Exit(exitInterrupted)
			}
			fmt.Fprintf(os.Stderr, "\nfreqd build: interrupt ignored: %s is being put in place and will be complete in a moment\n", out)
		}
	}()
	return &phase
}
