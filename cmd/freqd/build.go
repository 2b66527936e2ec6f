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

	"github.com/freqd/freqd/cluster"
	"github.com/freqd/freqd/data"
	"github.com/freqd/freqd/ingest"
	"github.com/freqd/freqd/shm/freqfile"
)

func init() {
	register(&command{
		name:     "build",
		summary:  "build a frequency file from word lists, n-grams, Parquet or text",
		synopsis: []string{"build [flags] INPUT...", "build [-o FILE] [--keep-case] [--min-count N] --default", "build [flags] --shards N (INPUT... | --default)"},
		about: `Counts the words of the inputs, summing the counts of a word that appears
more than once, and writes them as a frequency file for 'freqd serve'.

Inputs are files, directories (read recursively as Spark, Hadoop, DuckDB and
ClickHouse write them: _SUCCESS, names starting with _ or ., *.crc and empty
files are skipped) and - for standard input. gzip, zstd and bzip2 are
decompressed and Parquet files read by content, whatever their names; other
binary files are refused. The format of each input is detected from its
first lines (a file's extension only breaks a tie): word<TAB>count, CSV
(RFC 4180), "word count" or "count word" (uniq -c), Google Books n-grams,
or running text. A header line is recognised and skipped, and its names
choose the word and count columns; TSV backslash escapes (\t, \\, \N) are
undone. Phrases ("new york<TAB>12", n-gram files) are keys like words.

Words are normalized as lookups normalize queries: Unicode NFC, case folded
("I" and "i" become "i") unless --keep-case is given, ’ read as '. The rules
are recorded in the file ('freqd inspect' shows them). A file whose words
hold no apostrophe answers a contraction such as "don't" from its parts.
Running text in Chinese, Japanese or Thai is counted a character at a time.
A count of zero, a negative count, or one above 9223372036854775807 (the
largest integer a Redis client reads) is an error naming the file and line;
with --min-count, lines whose count is below 1 are skipped.

Google Books 2012 and 2020 files hold an untagged line for every n-gram
("run") and tagged ones ("run_VERB") whose counts it already includes: by
default (--ngram-tags skip) the tagged lines are skipped so each n-gram is
counted once; strip removes the tags and adds the counts (right for files
of tagged lines only), keep keeps "run_verb" as a key of its own. Lines of
bare tags (_NOUN_) and sentence markers (_START_) are never counted.

Memory stays under --memory-limit: past it, counts go to sorted runs in
--tmp-dir that are merged at the end. The output is replaced atomically, and
temporary files have no name: an interrupted or killed build leaves neither
a partial output nor temporary files.

--shards N splits the table into N shards for a Redis Cluster of freqd
servers (docs/scaling.md): each word goes to the shard serving its hash
slot (CRC16 of the word as stored, or of its {tag}, mod 16384; slots are
divided as redis-cli --cluster create divides them), and -o words.freq
becomes words.1-of-N.freq ... words.N-of-N.freq. Every shard keeps the
whole set's ranks, total and id, so RANK and TAG answer as one table would.
--slots FIRST-LAST writes only the shard of those slots, to -o: the words,
ranks and set id of that shard of a build of them all, for building each
shard on the machine that serves it.`,
		groups: []flagGroup{
			{"output:", []string{"o", "keep-case", "min-count", "default"}},
			{"reading the inputs:", []string{"format", "header", "columns", "ngram-tags"}},
			{"resources:", []string{"memory-limit", "tmp-dir"}},
			{"shards:", []string{"shards", "slots"}},
		},
		values: map[string][]string{
			"format":     buildFormats(),
			"header":     {"auto", "yes", "no"},
			"ngram-tags": {"skip", "strip", "keep"},
		},
		args: argsFiles,
		examples: []example{
			{"word<TAB>count lists, compressed or not", "freqd build -o words.freq counts.tsv more.tsv.zst"},
			{"a Spark, Hadoop, DuckDB or ClickHouse output directory", "freqd build -o spark.freq /data/wordcount-output/"},
			{"Google Books 2-grams, the rare ones dropped", "freqd build -o en2.freq --min-count 40 googlebooks-eng-all-2gram-20120701-ny.gz"},
			{"the embedded SUBTLEX-US table, as a file", "freqd build -o subtlex.freq --default"},
			{"the same as three shards, subtlex.1-of-3.freq to subtlex.3-of-3.freq", "freqd build -o subtlex.freq --shards 3 --default"},
		},
		setup: buildFlags,
	})
}

// buildFormats are the names --format takes: every input format but
// Parquet, which is recognised by its content only.
func buildFormats() []string {
	var names []string
	for f := ingest.Auto; ; f++ {
		name := f.String()
		if strings.HasPrefix(name, "format(") {
			return names
		}
		if _, err := ingest.ParseFormat(name); err == nil {
			names = append(names, name)
		}
	}
}

// defaultBuildOutput is where `freqd build` writes without -o: a name that
// says what the file is, in the current directory, like `go build` does.
const defaultBuildOutput = "words.freq"

// exitInterrupted is the shell's code for a process ended by SIGINT.
const exitInterrupted = 130

// minBuildMemory is the least --memory-limit a build runs in: the counting
// tables and the writer's windows need room to be worth having.
const minBuildMemory = 64 << 20

// inputFlags are the flags about reading INPUTs, which --default (the
// embedded list, in a format known in advance) has no use for.
var inputFlags = []string{"format", "header", "columns", "ngram-tags"}

func buildFlags(fs *flag.FlagSet) func([]string) int {
	out := fs.String("o", defaultBuildOutput, "write the frequency file to `FILE`")
	keepCase := fs.Bool("keep-case", false, "count words that differ only in case apart")
	minCount := fs.Uint64("min-count", 0, "drop words whose total count is below N, and skip lines whose count is below 1 (`N`)")
	useDefault := fs.Bool("default", false, "build from the embedded SUBTLEX-US list instead of INPUTs")
	formatName := fs.String("format", "auto", "input format: "+strings.Join(buildFormats(), ", ")+"; auto detects it per input (`FORMAT`)")
	headerName := fs.String("header", "auto", "whether word lists start with a header line (`auto|yes|no`)")
	columns := fs.String("columns", "", "the word and count columns: header names or numbers from 1 (default: guessed) (`WORD,COUNT`)")
	tagsName := fs.String("ngram-tags", "skip", "Google Books part-of-speech tags: skip tagged lines, strip the tags, or keep them (`skip|strip|keep`)")
	memLimit := sizeFlag(1 << 30)
	fs.Var(&memLimit, "memory-limit", "memory the build may hold, e.g. 512MiB or 4GiB; past it, counts spill to --tmp-dir (`SIZE`)")
	tmpDir := fs.String("tmp-dir", "", "directory for temporary files (default: the output's directory) (`DIR`)")
	shards := fs.Int("shards", 0, "split the table into N shards by Redis Cluster hash slot, FILE.1-of-N ... FILE.N-of-N (`N`)")
	slots := fs.String("slots", "", "write only the shard of these hash slots, to FILE; with --shards N, one of its N ranges (`FIRST-LAST`)")

	c := commands["build"]
	return func(inputs []string) int {
		// Flags end at the first INPUT, as for every command; one typed
		// after the INPUTs (freqd build words.tsv -o words.freq) would
		// otherwise be read as a file named -o.
		for _, in := range inputs {
			name, _, _ := strings.Cut(strings.TrimLeft(in, "-"), "=")
			if len(in) > 1 && in[0] == '-' && (fs.Lookup(name) != nil || name == "h" || name == "help") {
				return c.usageError("%s after an INPUT; flags go before the INPUTs: freqd build [flags] INPUT... (a file of that name: ./%s)", in, in)
			}
		}
		format, err := ingest.ParseFormat(*formatName)
		if err != nil {
			return c.usageError("--format %s: want %s; Parquet is recognised by its content", *formatName, strings.Join(buildFormats(), ", "))
		}
		header, err := ingest.ParseHeaderMode(*headerName)
		if err != nil {
			return c.usageError("%v", err)
		}
		tags, err := ingest.ParseTagRule(*tagsName)
		if err != nil {
			return c.usageError("%v", err)
		}
		limit := int64(memLimit)
		if limit < minBuildMemory {
			return c.usageError("--memory-limit %s: a build needs at least %s", memLimit.String(), formatSize(minBuildMemory))
		}
		var cols []string
		if *columns != "" {
			cols = strings.Split(*columns, ",")
			if len(cols) != 2 || cols[0] == "" || cols[1] == "" {
				return c.usageError("--columns %s: want WORD,COUNT, two header names or column numbers from 1", *columns)
			}
		}
		var given []string
		for _, name := range inputFlags {
			if flagSet(fs, name) {
				given = append(given, "--"+name)
			}
		}
		switch {
		case *useDefault && len(inputs) > 0:
			return c.usageError("--default builds the embedded list and takes no INPUT; drop %s, or --default", inputs[0])
		case *useDefault && len(given) > 0:
			them := "it"
			if len(given) > 1 {
				them = "them"
			}
			return c.usageError("--default builds the embedded list, which needs no %s; drop %s", strings.Join(given, ", "), them)
		case !*useDefault && len(inputs) == 0:
			return c.usageError("no INPUT given; name word-list files or directories, - for standard input, or use --default")
		case *out == "":
			return c.usageError("-o needs a file name")
		}
		plan, err := shardPlan(*out, *shards, *slots)
		if err != nil {
			return c.usageError("%v", err)
		}
		return runBuild(buildRun{out: *out, inputs: inputs, useDefault: *useDefault, tmpDir: *tmpDir, limit: limit, shards: plan,
			opts: ingest.Options{Format: format, KeepCase: *keepCase, Header: header, Columns: cols,
				NgramTags: tags, MinCount: *minCount}})
	}
}

// buildRun is a build the command line asked for, its flags checked.
type buildRun struct {
	out        string
	inputs     []string
	useDefault bool
	tmpDir     string
	limit      int64
	opts       ingest.Options      // all but MemoryLimit and TmpDir
	shards     []cluster.ShardFile // the shards to write instead of out; nil for a whole table
}

func runBuild(b buildRun) int {
	if b.tmpDir == "" {
		b.tmpDir = filepath.Dir(b.out)
	}
	if fi, err := os.Stat(b.tmpDir); err != nil || !fi.IsDir() {
		msg := "not a directory"
		if err != nil {
			msg = fileError(err)
		}
		fmt.Fprintf(os.Stderr, "freqd build: temporary directory %s: %s\n%s\n", b.tmpDir, msg, nothingWritten(b.out))
		return exitFail
	}

	start := time.Now()
	// The Go heap is held to the limit; the counting tables and the
	// writer's windows are sized within it.
	debug.SetMemoryLimit(b.limit * 9 / 10)
	opts := b.opts
	opts.MemoryLimit, opts.TmpDir = b.limit, b.tmpDir
	var set *cluster.SetWriter
	if b.shards != nil {
		opts.NewWriter = func(_ string, _ uint64, bo freqfile.BuildOptions, so freqfile.StreamOptions) (ingest.TableWriter, error) {
			var err error
			set, err = cluster.NewSetWriter(b.shards, bo, so)
			return set, err
		}
	}
	var ins []ingest.Input
	var err error
	if b.useDefault {
		opts.Format = ingest.TSV
	} else if ins, err = ingest.ExpandInputs(b.inputs); err != nil {
		fmt.Fprintf(os.Stderr, "freqd build: %v\n%s\n", err, nothingWritten(b.out))
		return exitFail
	}
	c := ingest.New(opts)
	size := int64(len(data.SubtlexUS))
	if !b.useDefault {
		size = inputsSize(ins)
	}
	progress := startBuildProgress(c, size)
	phase := watchBuildInterrupts(progress, b.out)
	// The watcher handles interrupts, even in a read blocked on a silent
	// pipe, so the reads need no cancellation of their own.
	ctx := context.Background()
	if b.useDefault {
		err = c.AddReader(ctx, "SUBTLEX-US (embedded)", bytes.NewReader(data.SubtlexUS))
	} else {
		err = c.AddInputs(ctx, ins)
	}
	if err != nil {
		progress.stop()
		fmt.Fprintf(os.Stderr, "freqd build: %v\n%s\n", err, nothingWritten(b.out))
		return exitFail
	}
	meta := freqfile.Metadata{"built": time.Now().UTC().Format(time.RFC3339)}
	if b.useDefault {
		meta["source"] = "SUBTLEX-US (embedded)"
	} else {
		meta["source"] = sourceMeta(b.inputs)
	}
	// The Counter adds case folding and the rules it normalized words by.
	st, err := c.WriteFile(b.out, freqfile.BuildOptions{Meta: meta}, func() bool {
		return phase.CompareAndSwap(buildWorking, buildCommitting)
	})
	progress.stop()
	if err != nil {
		if errors.Is(err, ingest.ErrNoWords) {
			msg := "the inputs hold no words"
			if st.Dropped > 0 {
				msg = fmt.Sprintf("no word reaches --min-count %d (%s dropped)", opts.MinCount, ingest.Plural(st.Dropped, "word"))
			}
			fmt.Fprintf(os.Stderr, "freqd build: %s\n%s\n", msg, nothingWritten(b.out))
			return exitFail
		}
		if phase.Load() == buildInterrupted {
			select {} // the watcher is exiting
		}
		fmt.Fprintf(os.Stderr, "freqd build: %v\n%s\n", err, nothingWritten(b.out))
		return exitFail
	}
	if set == nil {
		fmt.Fprintf(os.Stderr, "freqd build: wrote %s: %s\n", b.out, buildSummary(st, opts.MinCount, time.Since(start), b.out))
		return exitOK
	}
	var paths []string
	for _, f := range b.shards {
		paths = append(paths, f.Path)
	}
	fmt.Fprintf(os.Stderr, "freqd build: %s; set %s\n", buildSummary(st, opts.MinCount, time.Since(start), paths...), set.SetID())
	for i, f := range b.shards {
		fmt.Fprintf(os.Stderr, "freqd build: wrote %s: slots %s, %s\n", f.Path, f.Slots, ingest.Plural(set.ShardWords(i), ingest.KeyNoun(st)))
	}
	return exitOK
}

// maxShards bounds --shards: each shard being written holds a temporary
// file and its buffer until the end of the build.
const maxShards = 1024

// shardPlan says which shard files a build writes: none for a whole table,
// every shard of --shards N, or the one of --slots.
func shardPlan(out string, n int, slots string) ([]cluster.ShardFile, error) {
	switch {
	case n == 0 && slots == "":
		return nil, nil
	case n < 0 || n > maxShards:
		return nil, fmt.Errorf("--shards %d: want 1 to %d shards", n, maxShards)
	}
	var only cluster.Range
	if slots != "" {
		r, err := cluster.ParseRange(slots)
		if err != nil {
			return nil, fmt.Errorf("--slots: %v", err)
		}
		only = r
		if n == 0 {
			return []cluster.ShardFile{{Slots: r, Path: out}}, nil
		}
	}
	ext := filepath.Ext(out)
	base := strings.TrimSuffix(out, ext)
	var plan []cluster.ShardFile
	for i, r := range cluster.Split(n) {
		f := cluster.ShardFile{Slots: r, Index: i + 1, Count: n, Path: fmt.Sprintf("%s.%d-of-%d%s", base, i+1, n, ext)}
		switch {
		case slots == "":
			plan = append(plan, f)
		case r == only:
			f.Path = out
			return []cluster.ShardFile{f}, nil
		}
	}
	if slots != "" {
		var names []string
		for _, r := range cluster.Split(n) {
			names = append(names, r.String())
		}
		return nil, fmt.Errorf("--slots %s is not one of the %d shards' ranges: %s", slots, n, strings.Join(names, ", "))
	}
	return plan, nil
}

// buildSummary says what a build wrote: "3 words, total count 176, 1.2 kB,
// in 12ms", and what it dropped or spilled; outs are the files written.
func buildSummary(st ingest.Stats, minCount uint64, took time.Duration, outs ...string) string {
	var size int64
	for _, out := range outs {
		if fi, err := os.Stat(out); err == nil {
			size += fi.Size()
		}
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
