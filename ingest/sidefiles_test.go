package ingest_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claude-insights/insights/store"
)

// TestSideFilesIncremental: the prompt history is read line by line from
// where the last import stopped, broken lines skipped and counted; todo
// lists and plans are read whole when they change; a todo list that is not
// JSON is skipped with a reason and changes nothing stored.
func TestSideFilesIncremental(t *testing.T) {
	eachDriver(t, func(t *testing.T, open func(testing.TB) store.Driver) {
		ctx := context.Background()
		db := open(t)
		// A Claude directory that is itself under a folder named projects.
		dir := filepath.Join(t.TempDir(), "projects", "claude")
		history := filepath.Join(dir, "history.jsonl")
		todos := filepath.Join(dir, "todos", "s1-agent-s1.json")
		plan := filepath.Join(dir, "plans", "calm-plan.md")
		writeFile(t, filepath.Join(dir, "projects", "-src-app", "s1.jsonl"), userLine(1, "hello"))
		writeFile(t, history, `{"display":"one","pastedContents":{},"timestamp":1770714000000,"project":"/src/app","sessionId":"s1"}`+"\n"+
			`{"display":`+"\n"+
			`{"display":"two","timestamp":1770714060000,"project":"/src/app"}`+"\n")
		writeFile(t, todos, `[{"content":"a","status":"pending","activeForm":"A-ing"}]`)
		writeFile(t, plan, "# Calm\n")
		im := newImporter(db)
		st, err := im.ImportTree(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		if st.Broken != 1 || st.Types["history"] != 2 || st.Types["todos"] != 1 || st.Types["plan"] != 1 {
			t.Errorf("first import: broken %d, types %v", st.Broken, st.Types)
		}
		prompts := func() string {
			ps, err := db.Prompts(ctx, store.PromptQuery{})
			if err != nil {
				t.Fatal(err)
			}
			var texts []string
			for _, p := range ps {
				texts = append(texts, p.Text+"@"+p.SessionID)
			}
			return strings.Join(texts, " ")
		}
		if got := prompts(); got != "two@ one@s1" {
			t.Errorf("prompts = %q", got)
		}

		appendFile(t, history, `{"display":"three","timestamp":1770714120000,"project":"/src/app","sessionId":"s1"}`+"\n")
		writeFile(t, todos, `[{"content":"a","status":"completed","activeForm":"A-ing"},{"content":"b","status":"pending"}]`)
		writeFile(t, plan, "# Calm\n\nMore.\n")
		if st, err = im.ImportTree(ctx, dir); err != nil {
			t.Fatal(err)
		}
		if st.Broken != 0 || st.Types["history"] != 1 || st.FilesRead != 3 {
			t.Errorf("second import: broken %d, types %v, %d files read; want only what changed", st.Broken, st.Types, st.FilesRead)
		}
		if got := prompts(); got != "three@s1 two@ one@s1" {
			t.Errorf("prompts = %q", got)
		}
		ls, err := db.Todos(ctx, "s1")
		if err != nil || len(ls) != 1 || len(ls[0].Items) != 2 || ls[0].Items[0].Status != "completed" {
			t.Errorf("todos = %+v, %v", ls, err)
		}
		ps, err := db.Plans(ctx)
		if err != nil || len(ps) != 1 || ps[0].Markdown != "# Calm\n\nMore.\n" || ps[0].Slug != "calm-plan" {
			t.Errorf("plans = %+v, %v", ps, err)
		}

		// A broken todo list is reported; the stored list stays.
		writeFile(t, todos, `[{"content":"a",`)
		if st, err = im.ImportTree(ctx, dir); err != nil {
			t.Fatal(err)
		}
		if st.Broken != 1 || st.Reasons["not JSON"] != 1 {
			t.Errorf("broken todo list: broken %d, reasons %v", st.Broken, st.Reasons)
		}
		if ls, err := db.Todos(ctx, "s1"); err != nil || len(ls) != 1 || len(ls[0].Items) != 2 {
			t.Errorf("todos after a broken rewrite = %+v, %v", ls, err)
		}
		// Nothing changed: nothing is read.
		if st, err = im.ImportTree(ctx, dir); err != nil || st.FilesRead != 0 || st.Broken != 0 {
			t.Errorf("import of an unchanged tree read %d files, %d broken, err %v", st.FilesRead, st.Broken, err)
		}
	})
}
