package ingest

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// readParquet reads the word and count columns of a Parquet file (as
// Spark, DuckDB, ClickHouse, Arrow and pandas write them) into blocks of
// rows. The columns are those named by Options.Columns, else found by
// name (word, token, ngram... and count, n, freq...), else the first
// string column and the first integer column.
func (p *pipeline) readParquet(name string, f *os.File, size int64) error {
	pf, err := parquet.OpenFile(f, size, parquet.SkipBloomFilters(true))
	if err != nil {
		return fmt.Errorf("%s: starts like Parquet but cannot be read as Parquet: %w", name, err)
	}
	wordCol, countCol, err := parquetColumns(pf.Schema(), p.c.opts.Columns)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	src := &inputInfo{name: name, layout: layout{format: Parquet}}
	row := 1
	for _, rg := range pf.RowGroups() {
		chunks := rg.ColumnChunks()
		words := newColumnValues(chunks[wordCol.ColumnIndex])
		counts := newColumnValues(chunks[countCol.ColumnIndex])
		for {
			b := p.newBlock(src)
			b.line = row
			for len(b.data) < blockSize-4096 && len(b.lens) < 1<<16 {
				w, werr := words.next()
				c, cerr := counts.next()
				if werr == io.EOF && cerr == io.EOF {
					break
				}
				if werr == io.EOF || cerr == io.EOF {
					return fmt.Errorf("%s: the word and count columns have different lengths", name)
				}
				if werr != nil {
					return fmt.Errorf("%s: %w", name, werr)
				}
				if cerr != nil {
					return fmt.Errorf("%s: %w", name, cerr)
				}
				if w.IsNull() {
					return &LineError{File: name, Line: row + len(b.lens), row: true, Err: errors.New("word is NULL; filter NULL words out before the build")}
				}
				n, err := parquetCount(c)
				if err != nil {
					return &LineError{File: name, Line: row + len(b.lens), row: true, Err: err}
				}
				b.data = append(b.data, w.ByteArray()...)
				b.lens = append(b.lens, uint32(len(w.ByteArray())))
				b.counts = append(b.counts, n)
			}
			if len(b.lens) == 0 {
				break
			}
			row += len(b.lens)
			if err := p.send(b); err != nil {
				words.close()
				counts.close()
				if err == errStop {
					return nil
				}
				return err
			}
		}
		words.close()
		counts.close()
	}
	return nil
}

// parquetCount reads a count value: an integer, or a float with no
// fraction (some engines sum counts into doubles).
func parquetCount(v parquet.Value) (int64, error) {
	switch v.Kind() {
	case parquet.Int32:
		return int64(v.Int32()), nil
	case parquet.Int64:
		return v.Int64(), nil
	case parquet.Float, parquet.Double:
		d := v.Double()
		if v.Kind() == parquet.Float {
			d = float64(v.Float())
		}
		if d != math.Trunc(d) || d > MaxCount || d < math.MinInt64 {
			return 0, fmt.Errorf("count %v is not a whole number", d)
		}
		return int64(d), nil
	}
	if v.IsNull() {
		return 0, errors.New("count is NULL")
	}
	return 0, fmt.Errorf("count has type %s, not an integer", v.Kind())
}

// parquetColumns picks the word and count columns of a schema.
func parquetColumns(s *parquet.Schema, named []string) (word, count parquet.LeafColumn, err error) {
	type col struct {
		leaf parquet.LeafColumn
		name string
	}
	var strs, ints, all []col
	for _, path := range s.Columns() {
		leaf, ok := s.Lookup(path...)
		if !ok || leaf.MaxRepetitionLevel > 0 {
			continue
		}
		c := col{leaf, strings.ToLower(strings.Join(path, "."))}
		all = append(all, c)
		switch leaf.Node.Type().Kind() {
		case parquet.ByteArray, parquet.FixedLenByteArray:
			strs = append(strs, c)
		case parquet.Int32, parquet.Int64, parquet.Float, parquet.Double:
			ints = append(ints, c)
		}
	}
	names := make([]string, len(all))
	for i, c := range all {
		names[i] = c.name
	}
	if len(named) == 2 {
		var idx [2]int
		for i, n := range named {
			idx[i] = -1
			if k, err := strconv.Atoi(n); err == nil && k >= 1 && k <= len(all) {
				idx[i] = k - 1
				continue
			}
			for j, c := range all {
				if strings.EqualFold(c.name, n) {
					idx[i] = j
				}
			}
			if idx[i] < 0 {
				return word, count, fmt.Errorf("--columns: no column named %q; the file has %s", n, strings.Join(names, ", "))
			}
		}
		return all[idx[0]].leaf, all[idx[1]].leaf, nil
	}
	if w, c, ok := columnsByName(names); ok {
		wk := all[w].leaf.Node.Type().Kind()
		if wk == parquet.ByteArray || wk == parquet.FixedLenByteArray {
			return all[w].leaf, all[c].leaf, nil
		}
	}
	if len(strs) == 0 || len(ints) == 0 {
		return word, count, fmt.Errorf("cannot tell the word and count columns among %s; name them with --columns WORD,COUNT", strings.Join(names, ", "))
	}
	return strs[0].leaf, ints[0].leaf, nil
}

// columnValues reads one column chunk's values in order, page by page.
type columnValues struct {
	pages parquet.Pages
	page  parquet.Page
	vr    parquet.ValueReader
	buf   []parquet.Value
	i, n  int
}

func newColumnValues(c parquet.ColumnChunk) *columnValues {
	return &columnValues{pages: c.Pages(), buf: make([]parquet.Value, 1024)}
}

func (cv *columnValues) next() (parquet.Value, error) {
	for cv.i == cv.n {
		if cv.vr == nil {
			if cv.page != nil {
				// Values read from a page point into it until it is released.
				parquet.Release(cv.page)
				cv.page = nil
			}
			page, err := cv.pages.ReadPage()
			if err != nil {
				return parquet.Value{}, err
			}
			cv.page = page
			cv.vr = page.Values()
		}
		n, err := cv.vr.ReadValues(cv.buf)
		cv.i, cv.n = 0, n
		if err == io.EOF {
			cv.vr = nil
			if n == 0 {
				continue
			}
		} else if err != nil {
			return parquet.Value{}, err
		}
	}
	v := cv.buf[cv.i]
	cv.i++
	return v, nil
}

func (cv *columnValues) close() { cv.pages.Close() }
