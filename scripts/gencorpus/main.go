// Command gencorpus writes the synthetic inputs of the build benchmarks in
// docs/benchmarks.md, so that no large input is ever stored: the same
// flags give the same bytes.
//
//	go run ./scripts/gencorpus words -n 10000000 -parts 4 -out /tmp/zipf10m
//	go run ./scripts/gencorpus words -n 100000000 | freqd build -o big.freq -
//	go run ./scripts/gencorpus text -bytes 1000000000 > /tmp/text1g.txt
//
// words writes n distinct words (8 letters on average for 10 million),
// each once with a Zipf count (10^9 / rank, at least 1), "word<TAB>count"
// lines in no particular order, as a word count from Spark or Hadoop: to
// standard output, or split into -parts part files in -out with a _SUCCESS
// marker. text writes running prose over a Zipf vocabulary of 1 million
// words, with punctuation, capitals and line breaks.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gencorpus words [-n N] [-parts P -out DIR] | text [-bytes B]")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "words":
		fs := flag.NewFlagSet("words", flag.ExitOnError)
		n := fs.Int64("n", 10_000_000, "distinct words")
		parts := fs.Int("parts", 1, "part files (with -out)")
		out := fs.String("out", "", "directory for part files; standard output if empty")
		header := fs.Bool("header", false, "start each file with a word<TAB>count header")
		fs.Parse(os.Args[2:])
		check(words(*n, *parts, *out, *header))
	case "text":
		fs := flag.NewFlagSet("text", flag.ExitOnError)
		size := fs.Int64("bytes", 1_000_000_000, "bytes of text")
		fs.Parse(os.Args[2:])
		w := bufio.NewWriterSize(os.Stdout, 1<<20)
		check(text(w, *size))
		check(w.Flush())
	default:
		fmt.Fprintf(os.Stderr, "gencorpus: unknown mode %q\n", os.Args[1])
		os.Exit(2)
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "gencorpus:", err)
		os.Exit(1)
	}
}

// word appends the word of number k < n: k in base 26 with as many
// letters as n needs (which makes every word distinct), then 0 to 5
// random letters.
func word(b []byte, r *rand.Rand, k, n int64) []byte {
	for v := n - 1; v > 0; v /= 26 {
		b = append(b, byte('a'+k%26))
		k /= 26
	}
	for j := r.IntN(6); j > 0; j-- {
		b = append(b, byte('a'+r.IntN(26)))
	}
	return b
}

// words writes, for i = 1..n, word (i * step2) mod n with the count of
// rank (i * step) mod n: permutations, so the lines come in no order of
// word or count.
func words(n int64, parts int, dir string, header bool) error {
	step, step2 := coprime(2654435761, n), coprime(40503, n)
	outs := []io.Writer{os.Stdout}
	var bufs []*bufio.Writer
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		outs = nil
		for p := range parts {
			f, err := os.Create(filepath.Join(dir, fmt.Sprintf("part-%05d", p)))
			if err != nil {
				return err
			}
			defer f.Close()
			outs = append(outs, f)
		}
		if err := os.WriteFile(filepath.Join(dir, "_SUCCESS"), nil, 0o644); err != nil {
			return err
		}
	}
	for _, o := range outs {
		bw := bufio.NewWriterSize(o, 1<<20)
		bufs = append(bufs, bw)
		if header {
			bw.WriteString("word\tcount\n")
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	var line []byte
	for i := int64(1); i <= n; i++ {
		rank := (i*step)%n + 1
		line = word(line[:0], r, (i*step2)%n, n)
		line = append(line, '\t')
		line = strconv.AppendInt(line, max(1_000_000_000/rank, 1), 10)
		line = append(line, '\n')
		if _, err := bufs[(i-1)*int64(len(bufs))/n].Write(line); err != nil {
			return err
		}
	}
	for _, bw := range bufs {
		if err := bw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// coprime returns the first number from s (mod n) that shares no factor
// with n: multiplying by it permutes 0..n-1.
func coprime(s, n int64) int64 {
	s %= n
	for gcd(s, n) != 1 {
		s++
	}
	return s
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// text writes size bytes of prose: words drawn from a Zipf distribution
// over a vocabulary of a million words, sentences of 5 to 24 words with a
// capital and a full stop, commas, and a line break every 70-odd columns.
func text(w *bufio.Writer, size int64) error {
	r := rand.New(rand.NewPCG(3, 4))
	const vocab = 1_000_000
	zipf := rand.NewZipf(rand.New(rand.NewPCG(5, 6)), 1.07, 2, vocab-1)
	lex := make([][]byte, vocab)
	for i := range lex {
		lex[i] = word(nil, r, int64(i)*7919%vocab, vocab)
	}
	var written, col int64
	for written < size {
		n := 5 + r.IntN(20)
		for k := range n {
			wd := lex[zipf.Uint64()]
			if col > 70 {
				w.WriteByte('\n')
				written++
				col = 0
			} else if k > 0 {
				w.WriteByte(' ')
				written++
				col++
			}
			if k == 0 {
				w.WriteByte(wd[0] - 'a' + 'A')
				w.Write(wd[1:])
			} else {
				w.Write(wd)
			}
			written += int64(len(wd))
			col += int64(len(wd))
			if k < n-1 && r.IntN(8) == 0 {
				w.WriteByte(',')
				written++
				col++
			}
		}
		w.WriteString(". ")
		written += 2
		col += 2
	}
	return nil
}
