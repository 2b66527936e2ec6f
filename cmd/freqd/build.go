package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/freqd/freqd/data"
	"github.com/freqd/freqd/ingest"
	"github.com/freqd/freqd/shm/freqfile"
)

func init() {
	register("build", command{summary: "build a frequency file from word lists, n-grams or text", run: runBuild})
}

// defaultBuildOutput is where `freqd build` writes without -o: a name that
// says what the file is, in the current directory, like `go build` does.
const defaultBuildOutput = "words.freq"

// exitInterrupted is the shell's code for a process ended by SIGINT.
const exitInterrupted = 130

const buildUsage = `usage: freqd build [-o FILE] [--format auto|tsv|csv|space|ngram|text] [--keep-case] INPUT...
       freqd build [-o FILE] [--keep-case] --default

Counts the words of the inputs, summing the counts of a word that appears
more than once, and writes them as a frequency file for 'freqd serve'.
INPUT "-" is standard input; gzip-compressed inputs are read as they are.
Words are case-folded ("I" and "i" become "i") unless --keep-case is given.

The output is replaced atomically: a failed or interrupted build leaves an
existing file as it was. An interrupt stops the build while it reads the
inputs; once the output is being written, the write completes.

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
	keepCase := fs.Bool("keep-case", false, "count words that differ only in case apart")
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
	inputs := fs.Args()
	switch {
	case *useDefault && (len(inputs) > 0 || format != ingest.Auto):
		return buildUsageError("--default builds the embedded list; it takes no INPUT and no --format")
	case !*useDefault && len(inputs) == 0:
		return buildUsageError("no INPUT given; name word-list files, \"-\" for standard input, or use --default")
	case *out == "":
		return buildUsageError("-o needs a file name")
	}

	start := time.Now()
	opts := ingest.Options{Format: format, KeepCase: *keepCase}
	size := inputsSize(inputs)
	if *useDefault {
		opts.Format, size = ingest.TSV, int64(len(data.SubtlexUS))
	}
	c := ingest.New(opts)
	progress := startBuildProgress(c, size)
	phase := watchBuildInterrupts(progress, *out)
	// The watcher handles interrupts, even in a read blocked on a silent
	// pipe, so the reads need no cancellation of their own.
	ctx := context.Background()
	if *useDefault {
		err = c.AddReader(ctx, "SUBTLEX-US (embedded)", bytes.NewReader(data.SubtlexUS))
	}
	for _, in := range inputs {
		if err = c.AddFile(ctx, in); err != nil {
			break
		}
	}
	if err != nil {
		progress.stop()
		fmt.Fprintf(os.Stderr, "freqd build: %v\n%s\n", err, nothingWritten(*out))
		return 1
	}
	if c.Len() == 0 {
		progress.stop()
		fmt.Fprintf(os.Stderr, "freqd build: the inputs hold no words\n%s\n", nothingWritten(*out))
		return 1
	}
	if !phase.CompareAndSwap(buildReading, buildWriting) {
		select {} // interrupted: the watcher is exiting
	}

	progress.writing()
	words, total := c.Len(), c.Total()
	err = freqfile.WriteFile(*out, c.Entries(), freqfile.BuildOptions{FoldCase: !*keepCase})
	progress.stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "freqd build: %v\n", err)
		return 1
	}
	size = 0
	if fi, err := os.Stat(*out); err == nil {
		size = fi.Size()
	}
	fmt.Fprintf(os.Stderr, "freqd build: wrote %s: %s words, total count %s, %s, in %s\n",
		*out, groupDigits(uint64(words)), groupDigits(total), humanBytes(size), time.Since(start).Round(time.Millisecond))
	return 0
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
func inputsSize(inputs []string) int64 {
	var total int64
	for _, in := range inputs {
		fi, err := os.Stat(in)
		if in == "-" || err != nil || !fi.Mode().IsRegular() {
			return -1
		}
		total += fi.Size()
	}
	return total
}

// The phases of a build, as far as an interrupt is concerned.
const (
	buildReading = iota
	buildWriting
	buildInterrupted
)

// watchBuildInterrupts handles SIGINT and SIGTERM for a build. While the
// inputs are read nothing has been written, so an interrupt exits at once,
// even from inside a read that would block forever on a silent pipe. Once
// the main goroutine moves the phase to buildWriting, freqfile.WriteFile owns a
// temporary file that only it can remove, so later interrupts are noted and
// the write is left to finish; it is the build's commit point.
func watchBuildInterrupts(progress *buildProgress, out string) *atomic.Int32 {
	var phase atomic.Int32
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		for range sigs {
			if phase.CompareAndSwap(buildReading, buildInterrupted) {
				progress.stop()
				fmt.Fprintf(os.Stderr, "freqd build: interrupted while reading\n%s\n", nothingWritten(out))
				os.Exit(exitInterrupted)
			}
			fmt.Fprintf(os.Stderr, "\nfreqd build: interrupt ignored: %s is being written and will be complete in a moment\n", out)
		}
	}()
	return &phase
}
