package ingest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/claude-insights/insights/pricing"
	"github.com/claude-insights/insights/store"
)

// DefaultBatchLines is how many lines go into one transaction.
const DefaultBatchLines = 2000

// maxReportedErrors caps the broken lines kept in Stats; all are counted.
const maxReportedErrors = 100

// Importer reads transcript files into a store.Driver. Each file is read from
// where the previous import stopped.
type Importer struct {
	Store  store.Driver
	Prices *pricing.Table
	Log    *slog.Logger
	// BatchLines is the number of lines per transaction (DefaultBatchLines if 0).
	BatchLines int
	// Progress, if set, is called after each file of a tree.
	Progress func(done, total int, st *Stats)
}

// LineError is a line that could not be parsed.
type LineError struct {
	Path string
	Line int64 // 1-based
	Err  error
}

func (e LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.Path, e.Line, e.Err) }

// Stats counts what an import read.
type Stats struct {
	Files     int   // files looked at
	FilesRead int   // files with new bytes
	Bytes     int64 // bytes read
	Lines     int64 // lines read, blank ones included
	// Types counts records by type; progress records by "progress/<data.type>".
	Types map[string]int64
	// Broken counts the lines skipped because they could not be parsed;
	// Errors holds the first of them.
	Broken int64
	Errors []LineError
}

func (s *Stats) broken(e LineError) {
	s.Broken++
	if len(s.Errors) < maxReportedErrors {
		s.Errors = append(s.Errors, e)
	}
}

// Transcripts lists the transcript files under a Claude directory: every
// *.jsonl below its projects/ folder, or below dir itself when it has none.
func Transcripts(dir string) ([]string, error) {
	root := filepath.Join(dir, "projects")
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		root = dir
	}
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == root {
				return err
			}
			return nil // an unreadable folder does not stop the others
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), ".jsonl") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list transcripts in %s: %w", dir, err)
	}
	sort.Strings(files)
	return files, nil
}

// ImportTree imports every transcript under a Claude directory.
func (im *Importer) ImportTree(ctx context.Context, dir string) (*Stats, error) {
	files, err := Transcripts(dir)
	if err != nil {
		return nil, err
	}
	st := &Stats{Types: map[string]int64{}}
	for i, path := range files {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		if err := im.ImportFile(ctx, path, st); err != nil {
			return st, err
		}
		if im.Progress != nil {
			im.Progress(i+1, len(files), st)
		}
	}
	return st, nil
}

// ImportFile imports what is new in one transcript file.
func (im *Importer) ImportFile(ctx context.Context, path string, st *Stats) error {
	if st.Types == nil {
		st.Types = map[string]int64{}
	}
	st.Files++
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("import %s: %w", path, err)
	}
	prev, seen, err := im.Store.FileState(ctx, path)
	if err != nil {
		return err
	}
	if seen && fi.Size() == prev.Size && prev.Offset == prev.Size {
		return nil
	}
	state := store.FileState{Path: path}
	if seen && fi.Size() >= prev.Offset {
		state = prev
	}
	state.Size = fi.Size()
	state.ModTime = fi.ModTime().UTC()

	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("import %s: %w", path, err)
	}
	defer f.Close()
	if _, err := f.Seek(state.Offset, io.SeekStart); err != nil {
		return fmt.Errorf("import %s: seek to %d: %w", path, state.Offset, err)
	}
	st.FilesRead++
	return im.readFrom(ctx, bufio.NewReaderSize(f, 256<<10), &state, st)
}

// readFrom consumes complete lines from r, writing a batch every BatchLines
// lines and at the end. The last line counts as complete without its newline
// only when it is valid JSON: a line still being written never is.
func (im *Importer) readFrom(ctx context.Context, r *bufio.Reader, state *store.FileState, st *Stats) error {
	batchLines := im.BatchLines
	if batchLines <= 0 {
		batchLines = DefaultBatchLines
	}
	fallback := strings.TrimSuffix(filepath.Base(state.Path), ".jsonl")
	b := newBatch(im.Prices, fallback)
	pending := 0
	for {
		line, err := r.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read %s at offset %d: %w", state.Path, state.Offset, err)
		}
		eof := err != nil
		if eof && (len(line) == 0 || !json.Valid(bytes.TrimPrefix(line, utf8BOM))) {
			break
		}
		state.Offset += int64(len(line))
		state.Lines++
		st.Lines++
		st.Bytes += int64(len(line))
		pending++
		im.consume(b, line, state, st)
		if pending >= batchLines || eof {
			if err := im.flush(ctx, b, state); err != nil {
				return err
			}
			b = newBatch(im.Prices, fallback)
			pending = 0
		}
		if eof {
			return nil
		}
	}
	return im.flush(ctx, b, state)
}

func (im *Importer) consume(b *batch, line []byte, state *store.FileState, st *Stats) {
	rec, err := Parse(line)
	if errors.Is(err, ErrBlank) {
		return
	}
	if err != nil {
		state.Broken++
		le := LineError{Path: state.Path, Line: state.Lines, Err: err}
		st.broken(le)
		if im.Log != nil {
			im.Log.Debug("skipped broken line", "file", le.Path, "line", le.Line, "err", err)
		}
		return
	}
	kind := rec.Type
	if rec.Type == TypeProgress && rec.Subtype != "" {
		kind += "/" + rec.Subtype
	}
	st.Types[kind]++
	b.add(rec, state.Path, state.Lines)
}

func (im *Importer) flush(ctx context.Context, b *batch, state *store.FileState) error {
	// The file may have grown while it was read.
	state.Size = max(state.Size, state.Offset)
	sb := b.build()
	sb.File = *state
	return im.Store.Apply(ctx, sb)
}
