package ingest

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"
)

// readBufSize is the read buffer of an input, and so the longest line of a
// word list and the sample that format detection sees.
const readBufSize = 64 << 10

// An Input is one file to read: named on the command line, or found in a
// directory that was.
type Input struct {
	Path string // "-" for standard input
	Size int64  // -1 when not known in advance (standard input, a pipe)
}

// Name is how messages name the input: "stdin" for "-".
func (in Input) Name() string { return displayName(in.Path) }

// displayName is how an input is named in messages: "stdin" for "-".
func displayName(name string) string {
	if name == "-" {
		return "stdin"
	}
	return name
}

// ExpandInputs turns the names given to a build into the files to read. A
// directory is read recursively, in name order, as Spark, Hadoop, DuckDB
// and ClickHouse write their output: files and directories whose names
// start with "_" or "." (_SUCCESS, _temporary, .part-0.crc, .spark-staging)
// are bookkeeping and skipped, as are checksum files (*.crc) and empty
// files. A file named explicitly is always read.
func ExpandInputs(names []string) ([]Input, error) {
	var out []Input
	for _, name := range names {
		if name == "-" {
			out = append(out, Input{Path: "-", Size: -1})
			continue
		}
		fi, err := os.Stat(name)
		if err != nil {
			// The operator gave the name: say it once, without the
			// system call that failed on it.
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, fmt.Errorf("input %s: %w", name, err)
		}
		if !fi.IsDir() {
			size := fi.Size()
			if !fi.Mode().IsRegular() {
				size = -1
			}
			out = append(out, Input{Path: name, Size: size})
			continue
		}
		found := 0
		err = filepath.WalkDir(name, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if path == name {
				return nil
			}
			base := d.Name()
			if strings.HasPrefix(base, "_") || strings.HasPrefix(base, ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() || strings.HasSuffix(base, ".crc") {
				return nil
			}
			fi, err := os.Stat(path) // follows a symbolic link to a file
			if err != nil {
				return err
			}
			if fi.IsDir() || fi.Size() == 0 {
				return nil
			}
			out = append(out, Input{Path: path, Size: fi.Size()})
			found++
			return nil
		})
		if err != nil {
			return nil, err
		}
		if found == 0 {
			return nil, fmt.Errorf("%s: the directory holds no input files (names starting with _ or ., *.crc files and empty files are skipped)", name)
		}
	}
	return out, nil
}

// magic is a signature at the start of a file.
type magic struct {
	at   int
	sig  string
	what string
	// action: compression this package reads, or why the file is refused.
	codec codec
	hint  string
}

type codec int

const (
	refuse codec = iota
	gzipCodec
	zstdCodec
	bzip2Codec
	parquetFile
)

// magics are the signatures an input is recognised by, whatever its name.
// Those without a codec are refused: tokenizing compressed or binary bytes
// builds a table of garbage.
var magics = []magic{
	{0, "\x1f\x8b", "gzip-compressed", gzipCodec, ""},
	{0, "\x28\xb5\x2f\xfd", "zstd-compressed", zstdCodec, ""},
	{0, "PAR1", "Parquet", parquetFile, ""},
	{0, "\xfd7zXZ\x00", "xz-compressed", refuse, "decompress it first (xz -d), or recompress it with gzip or zstd"},
	{0, "\x04\x22\x4d\x18", "lz4-compressed", refuse, "decompress it first (lz4 -d), or recompress it with gzip or zstd"},
	{0, "\x02\x21\x4c\x18", "lz4-compressed (legacy)", refuse, "decompress it first (lz4 -d)"},
	{0, "\xff\x06\x00\x00sNaPpY", "Snappy-compressed", refuse, "decompress it first, or write the output with gzip or zstd"},
	{0, "\x1f\x9d", "compress(1)-compressed", refuse, "decompress it first (uncompress)"},
	{0, "\x5d\x00\x00", "lzma-compressed", refuse, "decompress it first (unlzma)"},
	{0, "PK\x03\x04", "a zip archive", refuse, "extract the word lists from it first"},
	{0, "7z\xbc\xaf\x27\x1c", "a 7-Zip archive", refuse, "extract the word lists from it first"},
	{257, "ustar", "a tar archive", refuse, "extract the word lists from it first"},
	{0, "ORC", "an ORC file", refuse, "export the table as Parquet, CSV or TSV"},
	{0, "Obj\x01", "an Avro file", refuse, "export the table as Parquet, CSV or TSV"},
	{0, "ARROW1", "an Arrow IPC file", refuse, "export the table as Parquet, CSV or TSV"},
	{0, "SQLite format 3\x00", "an SQLite database", refuse, "export the table as CSV or TSV"},
	{8, "DUCK", "a DuckDB database", refuse, "export the table with COPY ... TO 'words.parquet'"},
	{0, "\x7fELF", "an ELF executable", refuse, ""},
	{0, "MZ", "a Windows executable", refuse, ""},
	{0, "\xca\xfe\xba\xbe", "a Java class or Mach-O file", refuse, ""},
	{0, "\xcf\xfa\xed\xfe", "a Mach-O executable", refuse, ""},
	{0, "\x00asm", "a WebAssembly module", refuse, ""},
	{0, "\x89PNG\r\n\x1a\n", "a PNG image", refuse, ""},
	{0, "\xff\xd8\xff", "a JPEG image", refuse, ""},
	{0, "GIF8", "a GIF image", refuse, ""},
	{0, "%PDF-", "a PDF document", refuse, "extract its text first (pdftotext)"},
	{0, "\xff\xfe", "UTF-16 text", refuse, "convert it to UTF-8 first (iconv -f UTF-16 -t UTF-8)"},
	{0, "\xfe\xff", "UTF-16 text", refuse, "convert it to UTF-8 first (iconv -f UTF-16 -t UTF-8)"},
}

// sniff recognises b, the start of an input, by its magic bytes. bzip2 has
// a short magic ("BZh" and a digit) that text can start with, so the block
// signature after it is checked too.
func sniff(b []byte) (magic, bool) {
	if len(b) >= 10 && string(b[:3]) == "BZh" && b[3] >= '1' && b[3] <= '9' &&
		(string(b[4:10]) == "\x31\x41\x59\x26\x53\x59" || string(b[4:10]) == "\x17\x72\x45\x38\x50\x90") {
		return magic{what: "bzip2-compressed", codec: bzip2Codec}, true
	}
	for _, m := range magics {
		if len(b) >= m.at+len(m.sig) && string(b[m.at:m.at+len(m.sig)]) == m.sig {
			// Two-letter and three-letter signatures start some text too.
			if len(m.sig) <= 3 && m.codec == refuse && textLike(b) {
				continue
			}
			return m, true
		}
	}
	return magic{}, false
}

// textLike reports whether a sample reads as text: no NUL byte, almost no
// control characters, and mostly valid UTF-8.
func textLike(b []byte) bool { return binaryReason(b) == "" }

// binaryReason says why a sample is not text, or "" if it is. A NUL byte
// never occurs in text; control characters other than whitespace and
// escape are rare; and text in another encoding than UTF-8 has too many
// invalid sequences to be tokenized into anything but fragments.
func binaryReason(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return fmt.Sprintf("a NUL byte at offset %d", i)
	}
	controls, invalid := 0, 0
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' && c != 0x1b || c == 0x7f {
				controls++
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			if !utf8.FullRune(b[i:]) && len(b)-i < utf8.UTFMax {
				break // a sequence cut by the end of the sample
			}
			invalid++
		}
		i += n
	}
	switch {
	case controls*100 > len(b):
		return fmt.Sprintf("%d control characters in its first %d bytes", controls, len(b))
	case invalid*10 > len(b):
		return fmt.Sprintf("%d%% of its first %d bytes are not UTF-8", invalid*100/len(b), len(b))
	}
	return ""
}

// opened is an input ready to read: its content, decompressed, or a
// Parquet file.
type opened struct {
	r       *bufio.Reader
	parquet *os.File // set for a Parquet file, read by column instead
	size    int64
	desc    string // "zstd-compressed " and the like, for messages
	closers []io.Closer
}

func (o *opened) Close() {
	for i := len(o.closers) - 1; i >= 0; i-- {
		o.closers[i].Close()
	}
}

// openInput opens in for reading, counting the raw bytes read in read and
// stopping between reads when ctx is done. Compression is undone by magic
// number, layer by layer; Parquet is recognised; anything else that is not
// text is refused with what it was recognised as.
func openInput(ctx context.Context, in Input, read *atomic.Int64) (*opened, error) {
	if in.Path == "-" {
		return openContent(ctx, in.Name(), os.Stdin, nil, -1, read)
	}
	f, err := os.Open(in.Path)
	if err != nil {
		return nil, err
	}
	o, err := openContent(ctx, in.Name(), f, f, in.Size, read)
	if err != nil {
		f.Close()
		return nil, err
	}
	o.closers = append([]io.Closer{f}, o.closers...)
	return o, nil
}

// openContent is openInput for the content of raw, which is file (if not
// nil) of the given size.
func openContent(ctx context.Context, name string, raw io.Reader, file *os.File, size int64, read *atomic.Int64) (*opened, error) {
	o := &opened{parquet: file, size: size}
	br := bufio.NewReaderSize(&source{ctx: ctx, r: raw, read: read}, readBufSize)
	for depth := 0; ; depth++ {
		head, err := br.Peek(512)
		if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) && len(head) == 0 {
			o.Close()
			return nil, readError(ctx, name, err)
		}
		m, ok := sniff(head)
		if !ok {
			break
		}
		switch m.codec {
		case refuse:
			o.Close()
			msg := fmt.Sprintf("%s: is %s%s, not a word list or text; nothing was read", name, o.desc, m.what)
			if m.hint != "" {
				msg += "; " + m.hint
			}
			return nil, errors.New(msg)
		case parquetFile:
			if depth > 0 || o.parquet == nil || size < 0 {
				o.Close()
				return nil, fmt.Errorf("%s: is %sParquet, which must be read from a file of its own: decompress it to a file first", name, o.desc)
			}
			o.r = nil
			return o, nil
		}
		if depth == 3 {
			o.Close()
			return nil, fmt.Errorf("%s: is compressed more than three times over; decompress it first", name)
		}
		var dec io.Reader
		switch m.codec {
		case gzipCodec:
			zr, err := gzip.NewReader(br)
			if err != nil {
				o.Close()
				return nil, fmt.Errorf("%s: starts like gzip but is not a valid gzip stream: %w", name, err)
			}
			o.closers = append(o.closers, zr)
			dec = zr
		case zstdCodec:
			zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
			if err != nil {
				o.Close()
				return nil, fmt.Errorf("%s: starts like zstd but is not a valid zstd stream: %w", name, err)
			}
			o.closers = append(o.closers, zr.IOReadCloser())
			dec = zr
		case bzip2Codec:
			dec = bzip2.NewReader(br)
		}
		o.desc += m.what + " "
		br = bufio.NewReaderSize(compressedErrors{dec, m.what}, readBufSize)
	}
	o.parquet = nil
	o.r = br
	sample, err := br.Peek(readBufSize)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) && len(sample) < readBufSize {
		o.Close()
		return nil, readError(ctx, name, err)
	}
	if why := binaryReason(sample); why != "" {
		o.Close()
		return nil, fmt.Errorf("%s: is %sbinary data (%s), not a word list or text; nothing was read. If it is text in another encoding, convert it to UTF-8 first (iconv)", name, o.desc, why)
	}
	return o, nil
}

// compressedErrors says in words what a corrupt or truncated compressed
// stream means, the usual fault of a partial download or copy.
type compressedErrors struct {
	r    io.Reader
	what string
}

func (c compressedErrors) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF {
		if err == io.ErrUnexpectedEOF {
			err = errors.New("compressed data ends early; the file is truncated")
		} else {
			err = fmt.Errorf("%s data is corrupt: %w", strings.TrimSuffix(c.what, "-compressed"), err)
		}
	}
	return n, err
}

// source is an input's raw bytes as they are read: it counts them for
// progress reports and stops the read when ctx is done, between blocks.
type source struct {
	ctx  context.Context
	r    io.Reader
	read *atomic.Int64
}

func (s *source) Read(p []byte) (int, error) {
	if err := s.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := s.r.Read(p)
	s.read.Add(int64(n))
	return n, err
}

// readError names the input in an I/O error; ctx's own error and the line
// errors that already name it pass unchanged.
func readError(ctx context.Context, name string, err error) error {
	var le *LineError
	if err == nil || errors.As(err, &le) || (ctx.Err() != nil && errors.Is(err, ctx.Err())) {
		return err
	}
	return fmt.Errorf("read %s: %w", name, err)
}
