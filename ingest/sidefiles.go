package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/claude-insights/insights/store"
)

// fileKind is what a file under the Claude directory holds.
type fileKind int

const (
	kindTranscript fileKind = iota
	kindHistory             // history.jsonl: the prompt history, one line per prompt
	kindTodos               // todos/<session>-agent-<agent>.json: a TodoWrite list
	kindPlan                // plans/<slug>.md: a plan
)

// maxSideFile caps the size of a todo list or plan read whole.
const maxSideFile = 16 << 20

// kindOf tells what a file holds from its name: Claude Code names
// transcripts <session id>.jsonl or agent-<id>.jsonl, never history.jsonl,
// and writes no .json or .md files among them.
func kindOf(path string) fileKind {
	dir, base := filepath.Base(filepath.Dir(path)), filepath.Base(path)
	switch {
	case dir == "todos" && strings.HasSuffix(base, ".json"):
		return kindTodos
	case dir == "plans" && strings.HasSuffix(base, ".md"):
		return kindPlan
	case base == "history.jsonl":
		return kindHistory
	}
	return kindTranscript
}

// sideFiles lists the files beside the transcripts of a Claude directory:
// the prompt history, todo lists and plans.
func sideFiles(dir string) []string {
	var files []string
	if fi, err := os.Stat(filepath.Join(dir, "history.jsonl")); err == nil && fi.Mode().IsRegular() {
		files = append(files, filepath.Join(dir, "history.jsonl"))
	}
	for _, pattern := range []string{"todos/*.json", "plans/*.md"} {
		m, _ := filepath.Glob(filepath.Join(dir, pattern))
		files = append(files, m...)
	}
	return files
}

// historyLine mirrors a line of history.jsonl.
type historyLine struct {
	Display   *string         `json:"display"`
	Pasted    json.RawMessage `json:"pastedContents"`
	Timestamp *int64          `json:"timestamp"`
	Project   string          `json:"project"`
	SessionID string          `json:"sessionId"`
}

// parsePrompt reads one line of the prompt history.
func parsePrompt(b []byte) (store.Prompt, error) {
	b = trimLine(b)
	if len(b) == 0 {
		return store.Prompt{}, ErrBlank
	}
	if !utf8.Valid(b) {
		return store.Prompt{}, ErrNotUTF8
	}
	var h historyLine
	if err := json.Unmarshal(b, &h); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return store.Prompt{}, fmt.Errorf("%w: %s is %s, want %s", ErrBadField, fieldName(te), te.Value, te.Type)
		}
		return store.Prompt{}, fmt.Errorf("%w: %v", ErrNotJSON, err)
	}
	if h.Display == nil {
		return store.Prompt{}, fmt.Errorf("%w: display", ErrMissingField)
	}
	sum := sha256.Sum256(b)
	p := store.Prompt{Key: hex.EncodeToString(sum[:16]), Project: h.Project, SessionID: h.SessionID, Text: *h.Display}
	if h.Timestamp != nil {
		p.At = time.UnixMilli(*h.Timestamp).UTC()
	}
	if pasted := cleanJSON(h.Pasted); len(pasted) > 0 && string(pasted) != "{}" {
		p.Pasted = pasted
	}
	for _, s := range []*string{&p.Project, &p.SessionID, &p.Text} {
		replaceNULIn(s)
	}
	return p, nil
}

// importWhole imports a file that is read whole each time it changes: a
// todo list or a plan. A file that cannot be read or understood is recorded
// as skipped.
func (im *Importer) importWhole(ctx context.Context, out sink, path string, kind fileKind, prev store.FileState, seen bool, st *Stats) error {
	fi, changed, err := im.changed(ctx, out, path, prev, seen, st)
	if err != nil || !changed {
		return err
	}
	if fi.Size() > maxSideFile {
		return im.skipFile(ctx, out, path, fmt.Errorf("%w: %d bytes", ErrTooLong, fi.Size()), st)
	}
	data, err := readAll(path)
	if err != nil {
		return im.skipFile(ctx, out, path, fmt.Errorf("%w: %v", ErrUnreadable, unwrapPath(err)), st)
	}
	b := &store.Batch{}
	name := filepath.Base(path)
	switch kind {
	case kindTodos:
		list, err := parseTodos(name, data)
		if err != nil {
			return im.skipFile(ctx, out, path, err, st)
		}
		b.TodoLists = []store.TodoList{list}
		st.Types["todos"]++
	case kindPlan:
		text := strings.ToValidUTF8(string(data), "\uFFFD")
		replaceNULIn(&text)
		b.Plans = []store.Plan{{Slug: strings.TrimSuffix(name, ".md"), Path: path, Markdown: text, ModTime: fi.ModTime().UTC()}}
		st.Types["plan"]++
	}
	dev, ino := fileID(fi)
	b.File = store.FileState{Path: path, Size: fi.Size(), Offset: int64(len(data)), ModTime: fi.ModTime().UTC(),
		Dev: dev, Inode: ino, ImportedAt: im.now()}
	st.FilesRead++
	st.Bytes += int64(len(data))
	im.done.Add(int64(len(data)))
	return out.apply(ctx, b, int64(len(data)))
}

func readAll(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxSideFile))
}

// parseTodos reads a todo list; its file is named
// <session>-agent-<agent>.json.
func parseTodos(name string, data []byte) (store.TodoList, error) {
	sid, agent, ok := strings.Cut(strings.TrimSuffix(name, ".json"), "-agent-")
	if !ok || sid == "" {
		return store.TodoList{}, fmt.Errorf("%w: a todo list's name is <session>-agent-<agent>.json", ErrMissingField)
	}
	data = trimLine(data)
	if !utf8.Valid(data) {
		return store.TodoList{}, ErrNotUTF8
	}
	var items []struct {
		Content    string `json:"content"`
		Status     string `json:"status"`
		ActiveForm string `json:"activeForm"`
	}
	if err := json.Unmarshal(data, &items); err != nil {
		return store.TodoList{}, fmt.Errorf("%w: %v", ErrNotJSON, err)
	}
	list := store.TodoList{SessionID: sid, AgentID: agent}
	for _, it := range items {
		t := store.Todo{Content: it.Content, Status: it.Status, ActiveForm: it.ActiveForm}
		for _, s := range []*string{&t.Content, &t.Status, &t.ActiveForm} {
			replaceNULIn(s)
		}
		list.Items = append(list.Items, t)
	}
	return list, nil
}
