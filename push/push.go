package push

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/claude-insights/insights/ingest"
	"github.com/claude-insights/insights/redact"
	"github.com/claude-insights/insights/store"
)

// DefaultRangeBytes is how many bytes of a file one upload covers at most.
const DefaultRangeBytes = 1 << 20

// DefaultWorkers is how many files a push sends at once.
const DefaultWorkers = 4

// maxLineBytes is the longest rewritten line sent; a longer one is sent as
// a blank line and counted, since no server takes it.
const maxLineBytes = 16 << 20

// Pusher sends what a team server lacks of the transcripts under a Claude
// directory.
type Pusher struct {
	Client   *Client
	Redactor *redact.Redactor
	// Cap, when set, lowers the share level below the server's for the
	// user.
	Cap   store.ShareLevel
	State *State
	// Dir is the Claude directory; files are named relative to it.
	Dir string
	Log *slog.Logger
	// RangeBytes caps the bytes of a file one upload covers
	// (DefaultRangeBytes if 0).
	RangeBytes int64
	// Backoff bounds the waits between retries: from MinWait, doubling,
	// up to MaxWait, each drawn at random below its bound.
	MinWait, MaxWait time.Duration
	// GiveUp, when not zero, is how long a push keeps retrying a server
	// that does not answer; zero retries until ctx ends.
	GiveUp time.Duration
	// Workers is how many files are pushed at once (DefaultWorkers if 0).
	Workers int
	// DryRun reads and rewrites what would be sent, and sends nothing.
	DryRun bool
	// Progress, if set, is called as files are read with the bytes done
	// and the bytes to do.
	Progress func(done, total int64)

	rw   *Rewriter
	user string // the key's user, as the server names them
}

// Summary is what one push sent, or would send.
type Summary struct {
	Files      int        `json:"files"`      // files with lines sent
	Bytes      int64      `json:"bytes"`      // of the files' lines
	Sent       int64      `json:"sent"`       // of the rewritten lines
	Known      int64      `json:"known"`      // of lines the server had already
	Lines      int64      `json:"lines"`      // lines read
	Sessions   int        `json:"sessions"`   // sessions with lines sent
	Unsent     int64      `json:"unsent"`     // lines not sent: not JSON objects, or too long
	Requests   int        `json:"requests"`   // uploads made
	Retries    int        `json:"retries"`    // uploads sent again after a failure
	Conflicts  int        `json:"conflicts"`  // answers that the server had more or less
	Redactions Redactions `json:"redactions"` // by kind
	// Level is the share level the lines were reduced to; Assumed, that
	// the server did not say (a dry run without it).
	Level    store.ShareLevel `json:"shareLevel"`
	Assumed  bool             `json:"assumed,omitempty"`
	sessions map[string]bool
}

func (s *Summary) init() {
	if s.sessions == nil {
		s.sessions, s.Redactions = map[string]bool{}, Redactions{}
	}
}

// serverKey names the server and the user in the state: by the user's
// name, so that a rotated key finds what the old one sent.
func (p *Pusher) serverKey() string { return p.Client.URL + " " + p.user }

// Push sends what the server lacks of every transcript, Workers files at
// a time, and saves the state as it goes.
func (p *Pusher) Push(ctx context.Context) (*Summary, error) {
	sum := &Summary{}
	sum.init()
	defer func() { sum.Sessions = len(sum.sessions) }()
	var giveUp time.Time
	if p.GiveUp > 0 {
		giveUp = time.Now().Add(p.GiveUp)
	}
	if err := p.shareLevel(ctx, sum, giveUp); err != nil {
		return sum, err
	}
	p.rw = &Rewriter{Level: sum.Level, Redactor: p.Redactor}
	files, problems, err := ingest.Transcripts(p.Dir)
	if err != nil {
		return sum, err
	}
	for _, pr := range problems {
		p.Log.Warn("not pushed", "file", pr.Path, "err", pr.Err)
	}
	todo := p.todo(files)

	// Several files at once: the server writes concurrent uploads in one
	// transaction, so a lone client would mostly wait.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	paths := make(chan string)
	var (
		mu       sync.Mutex // guards sum, lastSave
		lastSave = time.Now()
		wg       sync.WaitGroup
	)
	workers := p.Workers
	if workers <= 0 {
		workers = DefaultWorkers
	}
	for range workers {
		wg.Go(func() {
			for path := range paths {
				own := &Summary{}
				own.init()
				err := p.pushFile(ctx, path, own, giveUp)
				mu.Lock()
				sum.merge(own)
				if p.Progress != nil {
					p.Progress(sum.Bytes, todo)
				}
				if err == nil && time.Since(lastSave) > time.Second {
					err = p.save()
					lastSave = time.Now()
				}
				mu.Unlock()
				if err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for _, path := range files {
		select {
		case paths <- path:
		case <-ctx.Done():
			break feed
		}
	}
	close(paths)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		if serr := p.save(); serr != nil {
			p.Log.Warn("push state not saved", "err", serr)
		}
		return sum, err
	}
	return sum, p.save()
}

// merge adds what o counted to s.
func (s *Summary) merge(o *Summary) {
	s.Files += o.Files
	s.Bytes += o.Bytes
	s.Sent += o.Sent
	s.Known += o.Known
	s.Lines += o.Lines
	s.Unsent += o.Unsent
	s.Requests += o.Requests
	s.Retries += o.Retries
	s.Conflicts += o.Conflicts
	s.Redactions.Add(o.Redactions)
	for id := range o.sessions {
		s.sessions[id] = true
	}
}

// todo is about how many bytes of files are not acknowledged yet.
func (p *Pusher) todo(files []string) int64 {
	server := p.serverKey()
	var n int64
	for _, path := range files {
		fi, err := os.Stat(path)
		if err != nil {
			continue
		}
		rel, _ := filepath.Rel(p.Dir, path)
		if st := p.State.Get(server, filepath.ToSlash(rel)); fi.Size() > st.Offset {
			n += fi.Size() - st.Offset
		} else if fi.Size() < st.Offset {
			n += fi.Size()
		}
	}
	return n
}

// shareLevel asks the server at which level the user shares, and lowers
// it to Cap. A dry run that cannot reach the server assumes Cap, or full.
func (p *Pusher) shareLevel(ctx context.Context, sum *Summary, giveUp time.Time) error {
	var me Me
	err := p.retry(ctx, "ask the server who the key is", giveUp, sum, func() (err error) {
		me, err = p.Client.Me(ctx)
		if p.DryRun && retryable(err) {
			sum.Assumed = true
			return nil
		}
		return err
	})
	if err != nil {
		return err
	}
	sum.Level, p.user = me.Share, me.Name
	if sum.Assumed {
		sum.Level, p.user = store.ShareFull, p.State.OnlyUser(p.Client.URL)
	}
	if p.Cap != "" && rank(p.Cap) < rank(sum.Level) {
		sum.Level = p.Cap
	}
	return nil
}

func rank(l store.ShareLevel) int {
	switch l {
	case store.ShareNone:
		return 0
	case store.ShareMetadata:
		return 1
	}
	return 2
}

func (p *Pusher) save() error {
	if p.DryRun {
		return nil
	}
	return p.State.Save()
}

// pushFile sends what the server lacks of one file, in ranges of whole
// lines.
func (p *Pusher) pushFile(ctx context.Context, path string, sum *Summary, giveUp time.Time) error {
	rel, err := filepath.Rel(p.Dir, path)
	if err != nil {
		return err
	}
	rel = filepath.ToSlash(rel)
	if rel == "history.jsonl" {
		return nil // prompts, not a transcript: they stay here
	}
	f, err := os.Open(path)
	if err != nil {
		p.Log.Warn("not pushed", "file", path, "err", err)
		return nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("push %s: %w", path, err)
	}
	server := p.serverKey()
	st := p.State.Get(server, rel)
	if st.ID != "" && fi.Size() == st.Offset {
		return nil // nothing new
	}
	if st.ID == "" || fi.Size() < st.Offset || !sameHead(f, st) {
		old := st
		var ok bool
		if st, ok = identify(f, rel); !ok {
			return nil // no whole first line yet
		}
		if old.ID == st.ID {
			// Rewritten shorter with the same first line: a new file all
			// the same.
			st = renamed(st, rel)
		}
	}
	r := bufio.NewReaderSize(io.NewSectionReader(f, 0, fi.Size()), 256<<10)
	limit := p.RangeBytes
	if limit <= 0 {
		limit = DefaultRangeBytes
	}
	sent := false
	for st.Offset < fi.Size() {
		rg, err := p.readRange(r, f, st.Offset, fi.Size(), limit)
		if err != nil {
			return fmt.Errorf("push %s: %w", path, err)
		}
		if rg.end == st.Offset {
			break // an unfinished last line waits
		}
		next := rg.end
		if !p.DryRun {
			next, err = p.upload(ctx, st, rel, rg, sum, giveUp)
			var refused *RefusedError
			if errors.As(err, &refused) && refused.Status == http.StatusRequestEntityTooLarge {
				if rg.lines > 1 {
					// The server takes less: send smaller ranges, each
					// without at least the last line of this one.
					limit = max(1, min((rg.end-st.Offset)/2, rg.last-st.Offset))
					continue
				}
				// One line larger than the server takes: it goes as a
				// blank line, so that the rest of the file is sent.
				p.Log.Warn("line not sent: larger than the server takes", "file", rel, "offset", st.Offset, "bytes", len(rg.body))
				rg = span{end: rg.end, body: []byte("\n"), lines: 1, unsent: 1}
				next, err = p.upload(ctx, st, rel, rg, sum, giveUp)
			}
			if err != nil {
				return fmt.Errorf("push %s: %w", rel, err)
			}
		}
		if !sent {
			sum.Files, sent = sum.Files+1, true
		}
		sum.add(rg, st.Offset)
		if next > fi.Size() {
			p.Log.Warn("the server has more of this file than there is: it will be sent as a new file", "file", rel, "server", next, "size", fi.Size())
			st = renamed(st, rel)
		} else {
			st.Offset = next
		}
		if !p.DryRun {
			p.State.Set(server, rel, st)
		}
	}
	return nil
}

// span is a range of a file's whole lines, rewritten.
type span struct {
	end    int64
	last   int64 // where the last line starts
	body   []byte
	lines  int64
	unsent int64
	found  Redactions
	// sessions the lines belong to
	sessions map[string]bool
}

// add counts a range sent from off.
func (s *Summary) add(rg span, off int64) {
	s.Bytes += rg.end - off
	s.Sent += int64(len(rg.body))
	s.Lines += rg.lines
	s.Unsent += rg.unsent
	s.Redactions.Add(rg.found)
	for id := range rg.sessions {
		s.sessions[id] = true
	}
}

// readRange reads whole lines from off, up to about limit bytes, and
// rewrites them. A last line without its newline is whole when it is
// valid JSON, as for an import.
func (p *Pusher) readRange(r *bufio.Reader, f *os.File, off, size, limit int64) (span, error) {
	r.Reset(io.NewSectionReader(f, off, size-off))
	rg := span{end: off, found: Redactions{}, sessions: map[string]bool{}}
	for rg.end-off < limit {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) && !json.Valid(line) {
			break // no newline yet: a line still being written
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return rg, err
		}
		rg.lines++
		out, session, rerr := p.rw.Line(line, rg.found)
		switch {
		case rerr != nil:
			rg.unsent++
			p.Log.Warn("line not sent", "file", f.Name(), "offset", rg.end, "err", rerr)
			out = []byte("\n")
		case len(out) > maxLineBytes:
			rg.unsent++
			p.Log.Warn("line not sent: too long", "file", f.Name(), "offset", rg.end, "bytes", len(out))
			out = []byte("\n")
		}
		if session != "" {
			rg.sessions[session] = true
		}
		rg.body = append(rg.body, out...)
		rg.last = rg.end
		rg.end += int64(len(line))
	}
	return rg, nil
}

// upload sends a range until the server answers, and returns where the
// server's copy of the file now ends.
func (p *Pusher) upload(ctx context.Context, st FileState, rel string, rg span, sum *Summary, giveUp time.Time) (int64, error) {
	var next int64
	err := p.retry(ctx, "push "+rel, giveUp, sum, func() error {
		sum.Requests++
		res, err := p.Client.Upload(ctx, st.ID, rel, st.Offset, rg.end, rg.body)
		var conflict *ConflictError
		switch {
		case err == nil:
			if res.Duplicate {
				sum.Known += rg.end - st.Offset
			}
			if res.Skipped > 0 {
				p.Log.Warn("the server skipped lines", "file", rel, "skipped", res.Skipped, "errors", res.Errors)
			}
			next = res.Offset
		case errors.As(err, &conflict):
			sum.Conflicts++
			next = conflict.Offset
		default:
			return err
		}
		return nil
	})
	return next, err
}

// retry runs f until it returns nil or an error not worth retrying,
// waiting longer after each failure, until ctx ends or giveUp passes.
func (p *Pusher) retry(ctx context.Context, what string, giveUp time.Time, sum *Summary, f func() error) error {
	for attempt := 0; ; attempt++ {
		err := f()
		if err == nil || !retryable(err) {
			return err
		}
		if !giveUp.IsZero() && time.Now().After(giveUp) {
			return fmt.Errorf("%s: gave up after %s: %w", what, p.GiveUp, err)
		}
		wait := p.backoff(attempt, err)
		p.Log.Warn("the server is not answering: retrying", "doing", what, "attempt", attempt+1, "in", wait.Round(time.Millisecond), "err", err)
		sum.Retries++
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// backoff is the wait before the retry after attempt: a random duration
// below a bound that doubles from MinWait up to MaxWait ("full jitter"),
// and no less than what the server asked for.
func (p *Pusher) backoff(attempt int, err error) time.Duration {
	lo, hi := p.MinWait, p.MaxWait
	if lo <= 0 {
		lo = 500 * time.Millisecond
	}
	if hi < lo {
		hi = max(lo, 30*time.Second)
	}
	bound := hi
	if attempt < 30 && lo<<attempt < hi {
		bound = lo << attempt
	}
	wait := time.Duration(rand.Int64N(int64(bound))) + lo/2
	var t *TemporaryError
	if errors.As(err, &t) && t.After > wait {
		wait = t.After
	}
	return wait
}

// identify reads the start of f's first line, which identifies the file
// with its path; ok is false while the first line is unfinished.
func identify(f *os.File, rel string) (st FileState, ok bool) {
	r := bufio.NewReaderSize(io.NewSectionReader(f, 0, 1<<62), 4096)
	head, err := r.ReadSlice('\n')
	if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
		return st, false
	}
	return FileState{ID: fileIDOf(rel, head), HeadLen: int64(len(head)), Head: headHash(head)}, true
}

// renamed is st under a new id: the server's copy under the old one is of
// another file.
func renamed(st FileState, rel string) FileState {
	return FileState{ID: fileIDOf(rel, fmt.Appendf(nil, "%s rewritten %d", st.ID, time.Now().UnixNano())),
		HeadLen: st.HeadLen, Head: st.Head}
}

// sameHead reports whether the bytes that identify the file are the ones
// st was made from.
func sameHead(f *os.File, st FileState) bool {
	b := make([]byte, st.HeadLen)
	if _, err := f.ReadAt(b, 0); err != nil || st.HeadLen == 0 {
		return false
	}
	return headHash(b) == st.Head
}

func headHash(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:16])
}

func fileIDOf(rel string, head []byte) string {
	h := sha256.New()
	h.Write([]byte(rel))
	h.Write([]byte{0})
	h.Write(head)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Sorted lists the kinds of rs, most found first.
func (rs Redactions) Sorted() []string {
	kinds := make([]string, 0, len(rs))
	for k := range rs {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool {
		if rs[kinds[i]] != rs[kinds[j]] {
			return rs[kinds[i]] > rs[kinds[j]]
		}
		return kinds[i] < kinds[j]
	})
	return kinds
}

// Run pushes at once, then delay after each wake (so that a burst of lines
// goes in one pass) and every interval, until ctx ends. Only a refusal
// stops it: its error says why.
func (p *Pusher) Run(ctx context.Context, wake <-chan struct{}, delay, every time.Duration) error {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		sum, err := p.Push(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			var refused *RefusedError
			if errors.As(err, &refused) {
				return err
			}
			p.Log.Error("push failed", "err", err)
		case sum.Files > 0:
			p.Log.Info("pushed", "files", sum.Files, "lines", sum.Lines,
				"sessions", sum.Sessions, "redactions", sum.Redactions.Total(), "share", sum.Level)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-wake:
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(delay):
			}
		}
	}
}
