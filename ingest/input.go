package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
)

// readBufSize is the read buffer of an input, and so the longest line of a
// word list and the sample that format detection sees.
const readBufSize = 64 << 10

// gzipMagic starts every gzip stream; inputs are recognised by it rather than
// by a ".gz" name, so a compressed stdin or a misnamed file reads the same.
var gzipMagic = []byte{0x1f, 0x8b}

// displayName is how an input is named in messages: "stdin" for "-".
func displayName(name string) string {
	if name == "-" {
		return "stdin"
	}
	return name
}

// openInput opens the named input, "-" meaning standard input.
func openInput(name string) (io.ReadCloser, error) {
	if name == "-" {
		return io.NopCloser(os.Stdin), nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err // "open NAME: reason" says it all
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("open %s: is a directory; name the word-list files inside it", name)
	}
	return f, nil
}

// decompressed returns a buffered reader of r's content, gunzipped when it
// starts with the gzip magic.
func decompressed(r io.Reader, name string) (*bufio.Reader, error) {
	br := bufio.NewReaderSize(r, readBufSize)
	magic, _ := br.Peek(len(gzipMagic))
	if !bytes.Equal(magic, gzipMagic) {
		return br, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("%s: starts like gzip but is not a valid gzip stream: %w", name, err)
	}
	return bufio.NewReaderSize(gzipErrors{zr}, readBufSize), nil
}

// gzipErrors says in words what a truncated compressed stream means, the
// usual fault of a partial download.
type gzipErrors struct{ r io.Reader }

func (g gzipErrors) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if err == io.ErrUnexpectedEOF {
		err = errors.New("compressed data ends early; the file is truncated")
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
