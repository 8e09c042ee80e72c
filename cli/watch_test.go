package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claude-insights/insights/config"
	"github.com/claude-insights/insights/store"
)

// copyTree copies testdata's Claude directory, so that a test may change it.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "claude")
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// startDaemon runs the daemon in the background until the test ends.
func startDaemon(t *testing.T, args ...string) (done <-chan error, stop func()) {
	t.Helper()
	return startDaemonLogs(t, &lockedBuffer{}, args...)
}

// startDaemonLogs is startDaemon with its logs written to logs.
func startDaemonLogs(t *testing.T, logs *lockedBuffer, args ...string) (done <-chan error, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan error, 1)
	exited := make(chan struct{})
	go func() {
		app := New("test")
		app.Writer, app.ErrWriter = io.Discard, logs
		ch <- app.RunContext(ctx, append([]string{"insights", "--log-level", "debug"}, args...))
		close(exited)
	}()
	// stop may be called more than once; done keeps the daemon's error.
	stop = func() {
		cancel()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Error("daemon did not stop when cancelled")
		}
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("daemon log:\n%s", logs.String())
		}
	})
	return ch, stop
}

// lockedBuffer collects what a goroutine writes while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor polls cond until it holds or the deadline passes, and returns how
// long it took.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

// messageCount is the number of messages of a session, or -1 if it is not there.
func messageCount(t *testing.T, dbPath, session string) int64 {
	t.Helper()
	db, err := openDB(context.Background(), config.Config{DB: dbPath, DBConnections: 1})
	if err != nil {
		return -1
	}
	defer db.Close()
	s, err := db.Session(context.Background(), session)
	if err != nil {
		return -1
	}
	return s.Messages
}

// appendLine appends a line to a transcript, as Claude Code does.
func appendLine(t *testing.T, path, line string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(line); err != nil {
		t.Fatal(err)
	}
}

// filesTracked is the number of transcript files in the database, or -1.
func filesTracked(t *testing.T, dbPath string) int64 {
	t.Helper()
	db, err := openDB(context.Background(), config.Config{DB: dbPath, DBConnections: 1})
	if err != nil {
		return -1
	}
	defer db.Close()
	st, err := db.Status(context.Background(), 0)
	if err != nil {
		return -1
	}
	return st.Files
}

func TestDaemonWatchesAppendsAndNewFolders(t *testing.T) {
	eachDriver(t, testDaemonWatchesAppendsAndNewFolders)
}

func testDaemonWatchesAppendsAndNewFolders(t *testing.T, dbPath string) {
	isolate(t)
	claude := copyTree(t, testdataDir)
	const main = "5f0c2a7e-3b1d-4c8e-9a21-7d4e6b8f1c03"
	done, _ := startDaemon(t, "--db", dbPath, "--claude-dir", claude)
	// Every file's batch commits on its own: wait for the last one.
	waitFor(t, 20*time.Second, "first import", func() bool { return filesTracked(t, dbPath) == testdataFiles })
	before := messageCount(t, dbPath, main)

	line := `{"type":"user","uuid":"watch-1","sessionId":"` + main + `","timestamp":"2026-02-11T12:00:00.000Z","message":{"role":"user","content":"appended"}}` + "\n"
	appendLine(t, filepath.Join(claude, "projects", "-src-app", main+".jsonl"), line)
	took := waitFor(t, time.Second, "appended line in the database", func() bool { return messageCount(t, dbPath, main) == before+1 })
	t.Logf("appended line imported after %s", took)

	// A new project folder, made with its file in one go (mkdir -p burst).
	newFile := filepath.Join(claude, "projects", "-src-new", "deep", "new-session.jsonl")
	if err := os.MkdirAll(filepath.Dir(newFile), 0o755); err != nil {
		t.Fatal(err)
	}
	newLine := strings.ReplaceAll(line, main, "new-session")
	newLine = strings.Replace(newLine, "watch-1", "watch-2", 1)
	if err := os.WriteFile(newFile, []byte(newLine), 0o644); err != nil {
		t.Fatal(err)
	}
	took = waitFor(t, time.Second, "new folder's session in the database", func() bool { return messageCount(t, dbPath, "new-session") == 1 })
	t.Logf("new folder imported after %s", took)

	select {
	case err := <-done:
		t.Fatalf("daemon exited: %v", err)
	default:
	}
}

func TestSecondDaemonRefused(t *testing.T) {
	isolate(t)
	dbPath := filepath.Join(t.TempDir(), "insights.db")
	startDaemon(t, "--db", dbPath, "--claude-dir", testdataDir)
	waitFor(t, 20*time.Second, "first import", func() bool { return imported(t, dbPath) })
	_, err := run(t, "--db", dbPath, "--claude-dir", testdataDir)
	if err == nil || !strings.Contains(err.Error(), "already running") || !strings.Contains(err.Error(), dbPath) {
		t.Errorf("second daemon: %v; want a refusal naming the database", err)
	}
	// Commands other than the daemon still work beside it.
	if out, err := run(t, "--db", dbPath, "--claude-dir", testdataDir, "status"); err != nil || !strings.Contains(out, "Sessions:     ") || !strings.Contains(out, dbPath) {
		t.Errorf("status beside the daemon: %v\n%s", err, out)
	}
}

func TestStatus(t *testing.T) {
	eachDriver(t, func(t *testing.T, dbPath string) {
		isolate(t)
		claude := copyTree(t, testdataDir)
		if out, err := run(t, "--db", dbPath, "--claude-dir", claude, "status"); err != nil || !strings.Contains(out, "Last import:  never") {
			t.Errorf("status of a new database: %v\n%s", err, out)
		}
		if _, err := run(t, "--db", dbPath, "import", claude); err != nil {
			t.Fatal(err)
		}
		other := filepath.Join(claude, "projects", "-src-other", "c41a7e2b-9d05-4b3f-8e6c-1f2d3a4b5c68.jsonl")
		if err := os.Remove(other); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(claude, "settings.json"), []byte(`{"cleanupPeriodDays": 7}`), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := run(t, "--db", dbPath, "import", claude); err != nil {
			t.Fatal(err)
		}
		out, err := run(t, "--db", dbPath, "--claude-dir", claude, "status")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{
			fmt.Sprintf("Files:        %d tracked, 1 deleted since imported", testdataFiles),
			"Sessions:     4, of which 1 live only in the database",
			"5f0c2a7e-3b1d-4c8e-9a21-7d4e6b8f1c03.jsonl:16  not JSON: invalid character",
			"Warning:      Claude Code deletes transcripts after 7 days",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("status lacks %q:\n%s", want, out)
			}
		}
		// Without cleanupPeriodDays there is nothing to warn about.
		if err := os.Remove(filepath.Join(claude, "settings.json")); err != nil {
			t.Fatal(err)
		}
		if out, _ := run(t, "--db", dbPath, "--claude-dir", claude, "status"); strings.Contains(out, "Warning") {
			t.Errorf("status warns without cleanupPeriodDays:\n%s", out)
		}
		if _, err := run(t, "--db", dbPath, "status", "--skipped", "-1"); err == nil {
			t.Error("status --skipped -1 succeeded")
		}
	})
}

// withDB runs fn on the database, or returns false when it cannot be opened.
func withDB(t *testing.T, dbPath string, fn func(store.Driver) bool) bool {
	t.Helper()
	db, err := openDB(context.Background(), config.Config{DB: dbPath, DBConnections: 1})
	if err != nil {
		return false
	}
	defer db.Close()
	return fn(db)
}

// TestDaemonWatchesSideFiles: the prompt history, todo lists and plans are
// imported as they change, like transcripts.
func TestDaemonWatchesSideFiles(t *testing.T) {
	eachDriver(t, func(t *testing.T, dbPath string) {
		isolate(t)
		claude := copyTree(t, testdataDir)
		const main = "5f0c2a7e-3b1d-4c8e-9a21-7d4e6b8f1c03"
		startDaemon(t, "--db", dbPath, "--claude-dir", claude)
		waitFor(t, 20*time.Second, "first import", func() bool { return filesTracked(t, dbPath) == testdataFiles })
		ctx := context.Background()

		appendLine(t, filepath.Join(claude, "history.jsonl"),
			`{"display":"watched prompt","pastedContents":{},"timestamp":1770800000000,"project":"/src/app","sessionId":"`+main+`"}`+"\n")
		waitFor(t, 5*time.Second, "appended prompt", func() bool {
			return withDB(t, dbPath, func(db store.Driver) bool {
				ps, err := db.Prompts(ctx, store.PromptQuery{SessionID: main, Limit: 1})
				return err == nil && len(ps) == 1 && ps[0].Text == "watched prompt"
			})
		})

		todos := filepath.Join(claude, "todos", main+"-agent-"+main+".json")
		if err := os.WriteFile(todos, []byte(`[{"content":"Only this","status":"completed","activeForm":"Doing only this"}]`), 0o644); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "rewritten todo list", func() bool {
			return withDB(t, dbPath, func(db store.Driver) bool {
				ls, err := db.Todos(ctx, main)
				return err == nil && len(ls) == 1 && len(ls[0].Items) == 1 && ls[0].Items[0].Content == "Only this"
			})
		})

		if err := os.WriteFile(filepath.Join(claude, "plans", "new-plan.md"), []byte("# New plan\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "new plan", func() bool {
			return withDB(t, dbPath, func(db store.Driver) bool {
				ps, err := db.Plans(ctx)
				return err == nil && slices.ContainsFunc(ps, func(p store.PlanInfo) bool { return p.Slug == "new-plan" })
			})
		})
	})
}

// The daemon serves the replay UI and the SQL explorer while it imports.
func TestDaemonServesUI(t *testing.T) {
	isolate(t)
	addr, sqlAddr := freeAddr(t), freeAddr(t)
	startDaemon(t, "--db", filepath.Join(t.TempDir(), "insights.db"), "--claude-dir", testdataDir, "--ui-addr", addr, "--sql-addr", sqlAddr)
	var body string
	waitFor(t, 20*time.Second, "the UI to list the sessions", func() bool {
		res, err := http.Get("http://" + addr + "/api/sessions")
		if err != nil {
			return false
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		body = string(b)
		return res.StatusCode == 200 && strings.Contains(body, `"total":4`)
	})
	res, err := http.Get("http://" + addr + "/sessions/5f0c2a7e-3b1d-4c8e-9a21-7d4e6b8f1c03")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("replay page: %d, CSP %q", res.StatusCode, res.Header.Get("Content-Security-Policy"))
	}
	// The explorer reads the same database and links into the UI.
	waitFor(t, 20*time.Second, "the explorer to list the sessions", func() bool {
		res, err := http.Get("http://" + sqlAddr + "/tables/sessions")
		if err != nil {
			return false
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode == 200 && strings.Contains(string(b), `href="http://`+addr+`/sessions/5f0c2a7e-3b1d-4c8e-9a21-7d4e6b8f1c03"`)
	})
	// A second daemon on another database cannot take the same address.
	_, err = run(t, "--db", filepath.Join(t.TempDir(), "other.db"), "--claude-dir", testdataDir, "--ui-addr", addr)
	if err == nil || !strings.Contains(err.Error(), "ui_addr") {
		t.Errorf("a second UI on %s: %v; want an error naming ui_addr", addr, err)
	}
	_, err = run(t, "--db", filepath.Join(t.TempDir(), "other.db"), "--claude-dir", testdataDir, "--sql-addr", sqlAddr)
	if err == nil || !strings.Contains(err.Error(), "sql_addr") {
		t.Errorf("a second explorer on %s: %v; want an error naming sql_addr", sqlAddr, err)
	}
}
