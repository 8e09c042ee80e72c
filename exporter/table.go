package exporter

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"

	"github.com/xitongsys/parquet-go/parquet"
	"github.com/xitongsys/parquet-go/writer"
)

// Memory per file stays about the size of one row group, whatever the
// number of rows: the writer keeps a row group's compressed pages until it
// is full. Pages of 64 KiB compress better than the default 8 KiB and keep
// the per-page index the writer holds until the end small.
const (
	rowGroupBytes = 8 << 20
	pageBytes     = 64 << 10
)

// table is one Parquet file being written under a temporary name in its
// date's directory, hashed and counted as it goes.
type table struct {
	name    string // sessions.parquet
	tmp     string // its temporary path
	file    *os.File
	buf     *bufio.Writer
	sum     hash.Hash
	counted countingWriter
	pw      *writer.ParquetWriter
	rows    int64
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func newTable(dir, name string, schema any, codec parquet.CompressionCodec) (*table, error) {
	f, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", name, err)
	}
	t := &table{name: name, tmp: f.Name(), file: f, sum: sha256.New()}
	if err := f.Chmod(0o644); err != nil { // CreateTemp's 0600 would keep other readers out
		t.abort()
		return nil, fmt.Errorf("create %s: %w", name, err)
	}
	t.buf = bufio.NewWriterSize(f, 256<<10)
	t.counted.w = io.MultiWriter(t.buf, t.sum)
	pw, err := writer.NewParquetWriterFromWriter(&t.counted, schema, 1)
	if err != nil {
		t.abort()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	pw.RowGroupSize, pw.PageSize, pw.CompressionType = rowGroupBytes, pageBytes, codec
	t.pw = pw
	return t, nil
}

func (t *table) write(row any) error {
	if err := t.pw.Write(row); err != nil {
		return fmt.Errorf("write %s: %w", t.name, err)
	}
	t.rows++
	return nil
}

// finish writes the footer and syncs the temporary file; it stays under its
// temporary name until commit.
func (t *table) finish() (File, error) {
	if err := t.pw.WriteStop(); err != nil {
		return File{}, fmt.Errorf("finish %s: %w", t.name, err)
	}
	if err := t.buf.Flush(); err != nil {
		return File{}, fmt.Errorf("write %s: %w", t.name, err)
	}
	if err := t.file.Sync(); err != nil {
		return File{}, fmt.Errorf("sync %s: %w", t.name, err)
	}
	if err := t.file.Close(); err != nil {
		return File{}, fmt.Errorf("close %s: %w", t.name, err)
	}
	t.file = nil
	return File{Name: t.name, Rows: t.rows, Bytes: t.counted.n, SHA256: hex.EncodeToString(t.sum.Sum(nil))}, nil
}

// commit renames the finished file to its name.
func (t *table) commit(dir string) error {
	if err := os.Rename(t.tmp, filepath.Join(dir, t.name)); err != nil {
		return fmt.Errorf("rename %s: %w", t.name, err)
	}
	return nil
}

// abort removes the temporary file.
func (t *table) abort() {
	if t.file != nil {
		t.file.Close()
		t.file = nil
	}
	os.Remove(t.tmp)
}
