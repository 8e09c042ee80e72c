package ingest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/claude-insights/insights/pricing"
	"github.com/claude-insights/insights/store"
)

// DefaultBatchLines is how many lines go into one transaction.
const DefaultBatchLines = 2000

// DefaultBatchBytes caps the bytes of the lines of one transaction, so that
// a batch of huge lines stays far below what a database takes in one
// statement (PostgreSQL: 1 GiB) and memory stays bounded.
const DefaultBatchBytes = 32 << 20

// DefaultMaxLineBytes is the longest line imported; longer ones are skipped
// without being held in memory.
const DefaultMaxLineBytes = 64 << 20

// headSize is how many leading bytes of a file identify its content.
const headSize = 4096

// maxReportedErrors caps the skipped lines kept in Stats; all are counted.
const maxReportedErrors = 100

// maxDetail caps the length of the detail kept for a skipped line.
const maxDetail = 300

// Importer reads transcript files into a store.Driver. Each file is read from
// where the previous import stopped.
type Importer struct {
	Store  store.Driver
	Prices *pricing.Table
	Log    *slog.Logger
	// BatchLines is the number of lines per transaction (DefaultBatchLines if 0).
	BatchLines int
	// BatchBytes ends a transaction early when its lines reach this many
	// bytes (DefaultBatchBytes if 0).
	BatchBytes int64
	// MaxLineBytes is the longest line imported (DefaultMaxLineBytes if 0).
	MaxLineBytes int
	// Workers is how many files a tree import reads and parses at once
	// (GOMAXPROCS if 0); one writer writes what they read.
	Workers int
	// Progress, if set, is called as batches are written: done of total
	// bytes that a tree import found new. It is called from one goroutine
	// at a time.
	Progress func(done, total int64)
	// Now is the clock (time.Now if nil).
	Now func() time.Time

	done  atomic.Int64 // bytes read by the current tree import
	total int64        // bytes it found new
	// problems holds the files this importer found unreadable, with why,
	// so that rescans report each problem once, not every time.
	mu       sync.Mutex
	problems map[string]string
}

// LineError is a line (Line ≥ 1) or a whole file (Line 0) that was skipped.
type LineError struct {
	Path string
	Line int64
	Err  error
}

func (e LineError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %v", e.Path, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v", e.Path, e.Line, e.Err)
}

// Reason is why the line was skipped.
func (e LineError) Reason() string { return Reason(e.Err) }

// Stats counts what an import read.
type Stats struct {
	Files     int   // files looked at
	FilesRead int   // files with new bytes
	Bytes     int64 // bytes read
	Lines     int64 // lines read, blank ones included
	// Types counts records by type; progress records by "progress/<data.type>".
	Types map[string]int64
	// Broken counts the lines and files skipped, Reasons the same by reason;
	// Errors holds the first of them.
	Broken  int64
	Reasons map[string]int64
	Errors  []LineError
	// Reread counts files read again from the start because they were
	// replaced; Gone, tracked files found deleted.
	Reread   int
	Gone     int
	sessions map[string]bool
}

// Sessions is the number of sessions the import added to or changed.
func (s *Stats) Sessions() int { return len(s.sessions) }

// SessionIDs returns the ids of the sessions the import added to or
// changed, sorted.
func (s *Stats) SessionIDs() []string {
	ids := make([]string, 0, len(s.sessions))
	for id := range s.sessions {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (s *Stats) init() {
	if s.Types == nil {
		s.Types = map[string]int64{}
	}
	if s.Reasons == nil {
		s.Reasons = map[string]int64{}
	}
	if s.sessions == nil {
		s.sessions = map[string]bool{}
	}
}

func (s *Stats) broken(e LineError) {
	s.Broken++
	s.Reasons[e.Reason()]++
	if len(s.Errors) < maxReportedErrors {
		s.Errors = append(s.Errors, e)
	}
}

// Transcripts lists the transcript files under a Claude directory: every
// *.jsonl below its projects/ folder, or below dir itself when it has none.
// Folders that cannot be read are returned as problems; they do not stop the
// others.
func Transcripts(dir string) (files []string, problems []LineError, err error) {
	root := transcriptRoot(dir)
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == root {
				return err
			}
			problems = append(problems, LineError{Path: path, Err: fmt.Errorf("%w: %v", ErrUnreadable, unwrapPath(err))})
			return nil
		}
		if strings.HasSuffix(d.Name(), ".jsonl") {
			if d.IsDir() {
				// Reported, and walked like any folder.
				problems = append(problems, LineError{Path: path, Err: fmt.Errorf("%w: a folder", ErrNotFile)})
			} else {
				files = append(files, path)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("list transcripts in %s: %w", dir, err)
	}
	sort.Strings(files)
	return files, problems, nil
}

// absolute makes a path absolute, so that a file is tracked under one name
// whatever the directory insights runs in.
func absolute(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

func transcriptRoot(dir string) string {
	root := filepath.Join(dir, "projects")
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return dir
	}
	return root
}

// unwrapPath drops the path an fs error repeats, since reports name it already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// ImportTree imports every transcript under a Claude directory and marks
// tracked files under it that were deleted as gone.
func (im *Importer) ImportTree(ctx context.Context, dir string) (*Stats, error) {
	st := &Stats{}
	st.init()
	dir = absolute(dir)
	files, problems, err := Transcripts(dir)
	if err != nil {
		return st, err
	}
	for _, f := range sideFiles(dir) {
		if !slices.Contains(files, f) {
			files = append(files, f)
		}
	}
	for _, p := range problems {
		if err := im.skipFile(ctx, direct{im}, p.Path, p.Err, st); err != nil {
			return st, err
		}
	}
	tracked, err := im.Store.Files(ctx)
	if err != nil {
		return st, err
	}
	known := make(map[string]store.FileState, len(tracked))
	for _, f := range tracked {
		known[f.Path] = f
	}
	im.done.Store(0)
	im.total = 0
	for _, path := range files {
		if fi, err := os.Stat(path); err == nil {
			if prev, ok := known[path]; !ok || !unchanged(prev, fi) {
				im.total += max(0, fi.Size()-prev.Offset)
			}
		}
	}
	if err := im.importAll(ctx, files, known, st); err != nil {
		return st, err
	}
	return st, im.markGone(ctx, dir, files, tracked, st)
}

// markGone records tracked files below root that no longer exist.
func (im *Importer) markGone(ctx context.Context, root string, files []string, tracked []store.FileState, st *Stats) error {
	present := make(map[string]bool, len(files))
	for _, f := range files {
		present[f] = true
	}
	prefix := filepath.Clean(root) + string(filepath.Separator)
	var gone []string
	for _, f := range tracked {
		if present[f.Path] || !f.GoneAt.IsZero() || !strings.HasPrefix(f.Path, prefix) {
			continue
		}
		if _, err := os.Lstat(f.Path); errors.Is(err, fs.ErrNotExist) {
			gone = append(gone, f.Path)
		}
	}
	if len(gone) == 0 {
		return nil
	}
	st.Gone += len(gone)
	return im.Store.MarkGone(ctx, gone, im.now())
}

// ImportFile imports what is new in one transcript file. A file that cannot
// be read is recorded as skipped, not returned as an error: errors are those
// of the database or of ctx.
func (im *Importer) ImportFile(ctx context.Context, path string, st *Stats) error {
	path = absolute(path)
	prev, seen, err := im.Store.FileState(ctx, path)
	if err != nil {
		return err
	}
	return im.importFile(ctx, direct{im}, path, prev, seen, st)
}

// importFile imports one file given its state as last stored.
func (im *Importer) importFile(ctx context.Context, out sink, path string, prev store.FileState, seen bool, st *Stats) error {
	st.init()
	kind := kindOf(path)
	if kind == kindTodos || kind == kindPlan {
		return im.importWhole(ctx, out, path, kind, prev, seen, st)
	}
	if _, changed, err := im.changed(ctx, out, path, prev, seen, st); err != nil || !changed {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return im.skipFile(ctx, out, path, fmt.Errorf("%w: %v", ErrUnreadable, unwrapPath(err)), st)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return im.skipFile(ctx, out, path, fmt.Errorf("%w: %v", ErrUnreadable, unwrapPath(err)), st)
	}
	state, reset := resume(f, path, prev, seen, fi)
	state.ModTime = fi.ModTime().UTC()
	if _, err := f.Seek(state.Offset, io.SeekStart); err != nil {
		return im.skipFile(ctx, out, path, fmt.Errorf("%w: seek to %d: %v", ErrUnreadable, state.Offset, err), st)
	}
	st.FilesRead++
	if reset {
		st.Reread++
		if im.Log != nil {
			im.Log.Info("file replaced: reading it again from the start", "file", path)
		}
	}
	fr := &fileRead{im: im, out: out, head: f, state: state, flushed: state.Offset, size: fi.Size(), reset: reset, st: st, kind: kind}
	r := readers.Get().(*bufio.Reader)
	defer readers.Put(r)
	r.Reset(f)
	return fr.run(ctx, r)
}

// changed counts a file looked at and tells whether it has something new to
// read: not when it was deleted since it was listed (a later scan marks it
// gone) or is exactly as last read. A file that cannot be stat'ed or is not
// regular is recorded as skipped.
func (im *Importer) changed(ctx context.Context, out sink, path string, prev store.FileState, seen bool, st *Stats) (fs.FileInfo, bool, error) {
	st.Files++
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, false, nil
	case err != nil:
		return nil, false, im.skipFile(ctx, out, path, fmt.Errorf("%w: %v", ErrUnreadable, unwrapPath(err)), st)
	case !fi.Mode().IsRegular():
		return nil, false, im.skipFile(ctx, out, path, fmt.Errorf("%w: %s", ErrNotFile, fi.Mode().Type()), st)
	}
	return fi, !seen || !unchanged(prev, fi), nil
}

// unchanged reports whether a file is exactly as it was when last read.
func unchanged(prev store.FileState, fi fs.FileInfo) bool {
	dev, ino := fileID(fi)
	return prev.GoneAt.IsZero() && prev.Dev == dev && prev.Inode == ino &&
		prev.Size == fi.Size() && prev.ModTime.UnixMilli() == fi.ModTime().UnixMilli()
}

// resume decides where to continue reading a file: after the last line
// consumed, or from the start when the path now names another file, the file
// shrank below what was read, or its first bytes changed.
func resume(f *os.File, path string, prev store.FileState, seen bool, fi fs.FileInfo) (store.FileState, bool) {
	dev, ino := fileID(fi)
	fresh := store.FileState{Path: path, Dev: dev, Inode: ino}
	switch {
	case !seen:
		return fresh, false
	case prev.Inode != 0 && (prev.Dev != dev || prev.Inode != ino),
		fi.Size() < prev.Offset,
		prev.HeadLen > 0 && headHash(f, prev.HeadLen) != prev.HeadHash:
		return fresh, true
	}
	prev.Dev, prev.Inode = dev, ino
	return prev, false
}

// headHash is the hex SHA-256 of the first n bytes of f, or "" if they
// cannot be read.
func headHash(f io.ReaderAt, n int64) string {
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, 0); err != nil {
		return ""
	}
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:])
}

// skipFile counts and records a file that could not be read, unless this
// importer already did so for the same reason.
func (im *Importer) skipFile(ctx context.Context, out sink, path string, err error, st *Stats) error {
	le := LineError{Path: path, Err: err}
	if !im.problem(path, err.Error()) {
		return nil
	}
	st.broken(le)
	if im.Log != nil {
		im.Log.Warn("skipped file", "file", path, "err", err)
	}
	return out.skipFile(ctx, store.Skipped{Path: path, Reason: le.Reason(), Detail: detail(err), At: im.now()})
}

func (im *Importer) now() time.Time {
	if im.Now != nil {
		return im.Now()
	}
	return time.Now()
}

func detail(err error) string {
	s := err.Error()
	if len(s) > maxDetail {
		s = s[:maxDetail] + "…"
	}
	return s
}

// readers are the buffered readers of files, reused from file to file: a
// tree import opens thousands.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 256<<10) }}

// maxKeptLine is the longest line buffer a file's read keeps for the next
// line; longer lines get a buffer of their own.
const maxKeptLine = 1 << 20

// fileRead is the import of the new part of one file.
type fileRead struct {
	im  *Importer
	out sink
	// head reads the file's first bytes, which identify it; nil for an
	// upload, whose identity the client gives.
	head  io.ReaderAt
	state store.FileState
	// flushed is the offset up to which lines were handed to out.
	flushed int64
	size    int64 // the file's size when it was opened
	reset   bool  // the first batch says the file is read again from the start
	st      *Stats
	b       *batch
	kind    fileKind // a transcript or the prompt history
	whole   bool     // all lines go in one batch
}

// run consumes complete lines, writing a batch every BatchLines lines (or
// BatchBytes bytes) and at the end. The last line counts as complete
// without its newline only when it is valid JSON: a line still being
// written never is.
func (fr *fileRead) run(ctx context.Context, r *bufio.Reader) error {
	im := fr.im
	batchLines := im.BatchLines
	if batchLines <= 0 {
		batchLines = DefaultBatchLines
	}
	batchBytes := im.BatchBytes
	if batchBytes <= 0 {
		batchBytes = DefaultBatchBytes
	}
	if fr.whole {
		batchLines, batchBytes = math.MaxInt, math.MaxInt64
	}
	limit := im.MaxLineBytes
	if limit <= 0 {
		limit = DefaultMaxLineBytes
	}
	fallback := strings.TrimSuffix(filepath.Base(fr.state.Path), ".jsonl")
	fr.b = newBatch(im.Prices, fallback, map[string][]string{})
	pending, pendingBytes := 0, int64(0)
	var buf []byte
	for {
		line, n, complete, err := readLine(r, limit, buf[:0])
		if err != nil {
			return fr.failed(ctx, err)
		}
		if !complete && !finished(line, n) {
			break // an incomplete last line waits for its newline
		}
		fr.state.Offset += n
		fr.state.Lines++
		fr.st.Lines++
		fr.st.Bytes += n
		im.done.Add(n)
		pending++
		pendingBytes += n
		if line == nil {
			fr.skip(fmt.Errorf("%w: %d bytes", ErrTooLong, n))
		} else {
			fr.consume(line) // keeps no reference to line's bytes
			if cap(line) <= maxKeptLine {
				buf = line
			}
		}
		if pending >= batchLines || pendingBytes >= batchBytes {
			if err := fr.flush(ctx, false); err != nil {
				return err
			}
			pending, pendingBytes = 0, 0
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if !complete {
			break
		}
	}
	// Even with nothing consumed, the file's new size and time are recorded,
	// so that the next import finds it unchanged.
	return fr.flush(ctx, true)
}

// failed records a read error in the middle of a file: what was read so far
// is kept, the rest waits for the next import.
func (fr *fileRead) failed(ctx context.Context, err error) error {
	if ferr := fr.flush(ctx, false); ferr != nil {
		return ferr
	}
	return fr.im.skipFile(ctx, fr.out, fr.state.Path, fmt.Errorf("%w: at offset %d: %v", ErrUnreadable, fr.state.Offset, unwrapPath(err)), fr.st)
}

// finished reports whether a last line without a newline is complete all
// the same: valid JSON, or bytes no transcript holds (NUL: a binary file),
// which no newline will ever make valid.
func finished(line []byte, n int64) bool {
	if n == 0 || line == nil {
		return false
	}
	return bytes.IndexByte(line, 0) >= 0 || json.Valid(bytes.TrimPrefix(line, utf8BOM))
}

// readLine reads one line with its newline, appended to buf. n is the
// number of bytes it spans; a line longer than limit is discarded and
// returned as nil. complete is false at the end of the file, where the line
// has no newline (yet).
func readLine(r *bufio.Reader, limit int, buf []byte) (line []byte, n int64, complete bool, err error) {
	line = buf
	tooLong := false
	for {
		chunk, err := r.ReadSlice('\n')
		n += int64(len(chunk))
		if !tooLong {
			if len(line)+len(chunk) > limit {
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		switch {
		case err == nil:
			return line, n, true, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if tooLong {
				return nil, n, false, nil
			}
			return line, n, false, nil
		default:
			return nil, 0, false, err
		}
	}
}

func (fr *fileRead) consume(line []byte) {
	if fr.kind == kindHistory {
		fr.consumePrompt(line)
		return
	}
	rec, err := Parse(line)
	if errors.Is(err, ErrBlank) {
		return
	}
	if err != nil {
		fr.skip(err)
		return
	}
	kind := rec.Type
	if rec.Type == TypeProgress && rec.Subtype != "" {
		kind += "/" + rec.Subtype
	}
	fr.st.Types[kind]++
	fr.b.add(rec, fr.state.Path, fr.state.Lines)
}

// consumePrompt reads one line of the prompt history.
func (fr *fileRead) consumePrompt(line []byte) {
	p, err := parsePrompt(line)
	if errors.Is(err, ErrBlank) {
		return
	}
	if err != nil {
		fr.skip(err)
		return
	}
	fr.st.Types["history"]++
	fr.b.prompts = append(fr.b.prompts, p)
}

// skip counts the current line as skipped.
func (fr *fileRead) skip(err error) {
	fr.state.Broken++
	le := LineError{Path: fr.state.Path, Line: fr.state.Lines, Err: err}
	fr.st.broken(le)
	fr.b.skipped = append(fr.b.skipped, store.Skipped{Path: le.Path, Line: le.Line, Reason: le.Reason(),
		Detail: detail(err), At: fr.im.now()})
	if fr.im.Log != nil {
		fr.im.Log.Debug("skipped line", "file", le.Path, "line", le.Line, "err", err)
	}
}

// flush writes the batch with the file's new state. It finishes even when
// ctx is cancelled, so that an interrupted import stops between
// transactions, never inside one. Size records how much of the file was
// examined: the whole of it only once the end was reached (an incomplete
// last line included), so that a file whose import was cut short never
// looks unchanged.
func (fr *fileRead) flush(ctx context.Context, atEnd bool) error {
	s := &fr.state
	s.Size = s.Offset
	if atEnd {
		s.Size = max(fr.size, s.Offset) // the file may have grown while it was read
	}
	if n := min(s.Offset, headSize); n != s.HeadLen && fr.head != nil {
		s.HeadLen, s.HeadHash = n, headHash(fr.head, n)
	}
	s.ImportedAt = fr.im.now()
	sb := fr.b.build()
	sb.File = *s
	sb.Reset = fr.reset
	for _, ss := range sb.Sessions {
		fr.st.sessions[ss.ID] = true
	}
	if err := fr.out.apply(ctx, sb, s.Offset-fr.flushed); err != nil {
		return err
	}
	fr.flushed = s.Offset
	fr.reset = false
	fr.b = newBatch(fr.im.Prices, fr.b.fallback, fr.b.removing)
	return nil
}
