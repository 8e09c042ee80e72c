package ingest

import (
	"cmp"
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/claude-insights/insights/store"
)

// Writing is separate from reading: a tree import reads and parses files on
// every core and hands their batches to one writer, which writes them in
// groups of several files per transaction (a transaction per small file
// would spend most of the import committing) while it gathers the next
// group. A single file's import writes each batch at once.

// A sink takes what reading a file produced, in the order it was read.
type sink interface {
	// apply writes a batch that holds n bytes of the file.
	apply(ctx context.Context, b *store.Batch, n int64) error
	// skipFile records a file that could not be read.
	skipFile(ctx context.Context, sk store.Skipped) error
}

// direct writes each batch in a transaction of its own before returning.
type direct struct{ im *Importer }

func (d direct) apply(ctx context.Context, b *store.Batch, _ int64) error {
	if err := d.im.Store.Apply(context.WithoutCancel(ctx), b); err != nil {
		return err
	}
	d.im.written(b.File.Path)
	return nil
}

func (d direct) skipFile(ctx context.Context, sk store.Skipped) error {
	return d.im.Store.SkipFile(ctx, sk)
}

// Limits of one group of batches written together: the writer also writes
// what it holds when nothing new came for groupWait.
const (
	groupBytes   = 4 << 20
	groupBatches = 256
	groupWait    = 100 * time.Millisecond
)

// item is a batch, or a file to record as skipped.
type item struct {
	batch *store.Batch
	n     int64
	skip  *store.Skipped
}

// queue hands items to the writer goroutine.
type queue struct{ ch chan item }

func (q queue) put(ctx context.Context, it item) error {
	select {
	case q.ch <- it:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (q queue) apply(ctx context.Context, b *store.Batch, n int64) error {
	return q.put(ctx, item{batch: b, n: n})
}

func (q queue) skipFile(ctx context.Context, sk store.Skipped) error {
	return q.put(ctx, item{skip: &sk})
}

// workers is how many files a tree import reads at once.
func (im *Importer) workers() int {
	if im.Workers > 0 {
		return im.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// importAll imports files on several workers that feed one writer. It
// stops at the first error of the database or of ctx; what was written by
// then stays, each file up to a line boundary.
func (im *Importer) importAll(ctx context.Context, files []string, known map[string]store.FileState, st *Stats) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	q := queue{ch: make(chan item, 4)}
	written := make(chan error, 1)
	go func() { written <- im.write(ctx, cancel, q.ch) }()
	paths := make(chan string)
	n := im.workers()
	stats := make([]*Stats, n)
	var wg sync.WaitGroup
	for i := range stats {
		stats[i] = &Stats{}
		stats[i].init()
		wg.Add(1)
		go func(st *Stats) {
			defer wg.Done()
			for path := range paths {
				prev, seen := known[path]
				if err := im.importFile(ctx, q, path, prev, seen, st); err != nil {
					cancel(err)
					return
				}
			}
		}(stats[i])
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
	close(q.ch)
	werr := <-written
	for _, s := range stats {
		st.merge(s)
	}
	switch {
	case werr != nil:
		return werr
	case context.Cause(ctx) != nil && !errors.Is(context.Cause(ctx), context.Canceled):
		return context.Cause(ctx) // a worker's error
	}
	return ctx.Err()
}

// step is what the applier does next: write a group of batches, or record
// a file as skipped (after the batches before it).
type step struct {
	group []*store.Batch
	skip  *store.Skipped
}

// write writes the items of ch in groups until ch is closed: one goroutine
// gathers the next group while another writes the last, so that reading
// goes on while the database works. On an error it cancels the import.
// When ctx is cancelled it stops between transactions and drops what it
// holds: those files were not recorded as read that far, so the next
// import reads them again.
func (im *Importer) write(ctx context.Context, cancel context.CancelCauseFunc, ch <-chan item) error {
	steps := make(chan step, 1)
	applied := make(chan error, 1)
	go func() {
		var err error
		for s := range steps {
			if err == nil && ctx.Err() == nil {
				if err = im.applyStep(ctx, s); err != nil {
					cancel(err)
				}
			}
		}
		applied <- err
	}()
	im.gather(ch, steps)
	close(steps)
	return <-applied
}

func (im *Importer) applyStep(ctx context.Context, s step) error {
	if s.skip != nil {
		return im.Store.SkipFile(ctx, *s.skip)
	}
	if err := im.Store.Apply(context.WithoutCancel(ctx), s.group...); err != nil {
		return err
	}
	for _, b := range s.group {
		im.written(b.File.Path)
	}
	return nil
}

// gather groups the items of ch into steps, up to groupBytes of lines or
// groupBatches batches, or what came within groupWait.
func (im *Importer) gather(ch <-chan item, steps chan<- step) {
	var group []*store.Batch
	var size int64
	send := func() {
		if len(group) > 0 {
			steps <- step{group: group}
			group, size = nil, 0
		}
	}
	timer := time.NewTimer(groupWait)
	defer timer.Stop()
	for {
		var it item
		var ok bool
		select {
		case it, ok = <-ch:
		case <-timer.C:
			send()
			timer.Reset(groupWait)
			continue
		}
		switch {
		case !ok:
			send()
			return
		case it.skip != nil:
			send()
			steps <- step{skip: it.skip}
			continue
		}
		if len(group) == 0 {
			timer.Reset(groupWait)
		}
		group = append(group, it.batch)
		size += it.n
		if size >= groupBytes || len(group) >= groupBatches {
			send()
		}
	}
}

// written notes that a batch of path is stored: a problem recorded for the
// file is over, and progress moves on.
func (im *Importer) written(path string) {
	im.mu.Lock()
	delete(im.problems, path)
	im.mu.Unlock()
	if im.Progress != nil {
		done := im.done.Load()
		im.Progress(done, max(im.total, done))
	}
}

// problem records why a file could not be read; it reports false when the
// same problem was recorded already.
func (im *Importer) problem(path, why string) bool {
	im.mu.Lock()
	defer im.mu.Unlock()
	if im.problems[path] == why {
		return false
	}
	if im.problems == nil {
		im.problems = map[string]string{}
	}
	im.problems[path] = why
	return true
}

// merge adds the counts of o to s. The skipped lines kept are the first
// by file and line, as a sequential import would keep them.
func (s *Stats) merge(o *Stats) {
	s.init()
	s.Files += o.Files
	s.FilesRead += o.FilesRead
	s.Bytes += o.Bytes
	s.Lines += o.Lines
	s.Broken += o.Broken
	s.Reread += o.Reread
	s.Gone += o.Gone
	for k, v := range o.Types {
		s.Types[k] += v
	}
	for k, v := range o.Reasons {
		s.Reasons[k] += v
	}
	for k := range o.sessions {
		s.sessions[k] = true
	}
	s.Errors = append(s.Errors, o.Errors...)
	slices.SortStableFunc(s.Errors, func(a, b LineError) int {
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Line, b.Line))
	})
	if len(s.Errors) > maxReportedErrors {
		s.Errors = s.Errors[:maxReportedErrors]
	}
}
