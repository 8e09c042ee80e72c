package ingest

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rjeczalik/notify"
)

// Watch defaults.
const (
	DefaultRescan   = 30 * time.Second
	DefaultDebounce = 100 * time.Millisecond
)

// WatchOptions tunes Watch.
type WatchOptions struct {
	// Rescan is how often the whole tree is checked (only stat'ed when
	// nothing changed), as a safety net for events the system dropped.
	Rescan time.Duration
	// Debounce is how long events are gathered before they are imported.
	Debounce time.Duration
	// OnImport, if set, is called after each import that read something.
	OnImport func(*Stats)
}

// Watch imports the tree under dir, then keeps importing what changes in it
// until ctx is done. Events are hints: a changed file is imported from where
// it was left, a new folder is walked, and the whole tree is rescanned every
// opt.Rescan. When dir cannot be watched (it may not exist yet), Watch
// relies on the rescans and tries to watch again at each. Once the first
// import succeeded, a failed import (the database unreachable for a while)
// is logged and tried again, first after a second, then less often, up to
// every opt.Rescan.
func (im *Importer) Watch(ctx context.Context, dir string, opt WatchOptions) error {
	if opt.Rescan <= 0 {
		opt.Rescan = DefaultRescan
	}
	if opt.Debounce <= 0 {
		opt.Debounce = DefaultDebounce
	}
	w := &watcher{im: im, dir: absolute(dir), opt: opt, events: make(chan notify.EventInfo, 8192)}
	defer w.stop()
	w.start()
	if err := w.rescan(ctx); err != nil {
		return err
	}
	ticker := time.NewTicker(opt.Rescan)
	defer ticker.Stop()
	pending := map[string]bool{}
	var flush, retry <-chan time.Time
	failures := 0
	// failed notes an import that could not be written (the database may be
	// restarting): nothing of it was recorded, so a rescan soon, then less
	// and less often, picks it up again.
	failed := func(err error) {
		failures++
		wait := min(time.Second<<min(failures-1, 10), opt.Rescan)
		if im.Log != nil {
			im.Log.Error("import failed; trying again", "err", err, "in", wait, "failures", failures)
		}
		retry = time.After(wait)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-w.events:
			pending[w.local(ev.Path())] = true
			if flush == nil {
				flush = time.After(opt.Debounce)
			}
		case <-flush:
			flush = nil
			err := w.importPaths(ctx, pending)
			pending = map[string]bool{}
			if err != nil && ctx.Err() == nil {
				failed(err)
			}
		case <-retry:
			retry = nil
			if err := w.rescan(ctx); err != nil && ctx.Err() == nil {
				failed(err)
			} else if err == nil {
				failures = 0
			}
		case <-ticker.C:
			w.start()
			if err := w.rescan(ctx); err != nil && ctx.Err() == nil {
				failed(err)
			} else if err == nil {
				failures = 0
			}
		}
	}
}

type watcher struct {
	im       *Importer
	dir      string
	resolved string // dir with symbolic links resolved, as events name it
	opt      WatchOptions
	events   chan notify.EventInfo
	watching bool
}

// start watches the tree, unless it is watched already or does not exist.
func (w *watcher) start() {
	if w.watching {
		return
	}
	if err := notify.Watch(filepath.Join(w.dir, "..."), w.events, notify.All); err != nil {
		if w.im.Log != nil && !errors.Is(err, fs.ErrNotExist) {
			w.im.Log.Warn("cannot watch the Claude directory; checking it every rescan instead", "dir", w.dir, "err", err)
		}
		return
	}
	w.watching = true
	w.resolved = w.dir
	if r, err := filepath.EvalSymlinks(w.dir); err == nil {
		w.resolved = r
	}
}

func (w *watcher) stop() {
	if w.watching {
		notify.Stop(w.events)
	}
}

// local names an event's path under dir as given, not as resolved.
func (w *watcher) local(p string) string {
	if w.resolved != w.dir {
		if rest, ok := strings.CutPrefix(p, w.resolved); ok {
			return w.dir + rest
		}
	}
	return p
}

func (w *watcher) rescan(ctx context.Context) error {
	st, err := w.im.ImportTree(ctx, w.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	w.report(st)
	return nil
}

// importPaths imports the files that events named: changed transcripts,
// prompt history, todo lists and plans, and every such file under new
// folders (their own events may have been lost).
func (w *watcher) importPaths(ctx context.Context, paths map[string]bool) error {
	root := transcriptRoot(w.dir)
	st := &Stats{}
	st.init()
	var gone []string
	for p := range paths {
		if w.isSideFile(p) {
			if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
				gone = append(gone, p)
			} else if err := w.im.ImportFile(ctx, p, st); err != nil {
				return err
			}
			continue
		}
		if d := filepath.Base(p); filepath.Dir(p) == w.dir && (d == "todos" || d == "plans") {
			for _, f := range sideFiles(w.dir) {
				if filepath.Dir(f) == p {
					if err := w.im.ImportFile(ctx, f, st); err != nil {
						return err
					}
				}
			}
			continue
		}
		if p != root && !strings.HasPrefix(p, root+string(filepath.Separator)) {
			continue
		}
		fi, err := os.Stat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if strings.HasSuffix(p, ".jsonl") {
				gone = append(gone, p)
			}
		case err == nil && fi.IsDir():
			files, problems, err := Transcripts(p)
			if err != nil {
				continue // removed again meanwhile
			}
			for _, pr := range problems {
				if err := w.im.skipFile(ctx, direct{w.im}, pr.Path, pr.Err, st); err != nil {
					return err
				}
			}
			for _, f := range files {
				if err := w.im.ImportFile(ctx, f, st); err != nil {
					return err
				}
			}
		case strings.HasSuffix(p, ".jsonl"):
			if err := w.im.ImportFile(ctx, p, st); err != nil {
				return err
			}
		}
	}
	if len(gone) > 0 {
		if err := w.im.Store.MarkGone(ctx, gone, w.im.now()); err != nil {
			return err
		}
	}
	w.report(st)
	return nil
}

// isSideFile reports whether p names the prompt history, a todo list or a
// plan of the watched directory.
func (w *watcher) isSideFile(p string) bool {
	parent := filepath.Dir(p)
	switch kindOf(p) {
	case kindHistory:
		return parent == w.dir
	case kindTodos, kindPlan:
		return filepath.Dir(parent) == w.dir
	}
	return false
}

func (w *watcher) report(st *Stats) {
	if st.Lines == 0 && st.Broken == 0 {
		return
	}
	if w.im.Log != nil {
		w.im.Log.Info("imported", "files", st.FilesRead, "lines", st.Lines, "sessions", st.Sessions(), "skipped", st.Broken)
	}
	if w.opt.OnImport != nil {
		w.opt.OnImport(st)
	}
}
