package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const sessMissing = "99999999-0000-4000-8000-000000000000" // named by the history, never imported

// historyTree writes a Claude directory whose history.jsonl holds 60
// numbered prompts of /src/bulk, a minute apart, and a few of /src/app with
// wildcards, one naming a stored session and one a session never imported.
func historyTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var b bytes.Buffer
	line := func(text, project, session string, at time.Time) {
		rec := map[string]any{"display": text, "pastedContents": map[string]any{}, "timestamp": at.UnixMilli(), "project": project}
		if session != "" {
			rec["sessionId"] = session
		}
		j, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(append(j, '\n'))
	}
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := range 60 {
		line(fmt.Sprintf("bulk prompt number %02d", i), "/src/bulk", "", start.Add(time.Duration(i)*time.Minute))
	}
	late := start.Add(2 * time.Hour)
	line("Make the loader 100% faster", "/src/app", sessApp, late)
	line("rename load_config to LoadConfig", "/src/app", sessMissing, late.Add(time.Minute))
	line("Is 1000 faster than 100?", "/src/app", "", late.Add(2*time.Minute))
	if err := os.WriteFile(filepath.Join(dir, "history.jsonl"), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

type promptList struct {
	Total   int64
	Limit   int
	Offset  int
	Prompts []struct {
		Text, Project, SessionID string
		SessionStored            bool
		At                       time.Time
	}
}

func (l promptList) texts() string {
	var ts []string
	for _, p := range l.Prompts {
		ts = append(ts, p.Text)
	}
	return strings.Join(ts, " | ")
}

func TestHistorySearch(t *testing.T) {
	db := openSQLite(t)
	importTrees(t, db, append(trees, historyTree(t))...)
	ts := serve(t, db)
	api := func(params string) promptList {
		t.Helper()
		code, body, _ := get(t, ts, "/api/history?"+params)
		if code != 200 {
			t.Fatalf("/api/history?%s: %d %s", params, code, body)
		}
		var l promptList
		decode(t, body, &l)
		return l
	}
	for _, tc := range []struct {
		q, project string
		want       string
		total      int64
	}{
		{"LOADER", "", "Make the loader 100% faster", 1},
		{"100%", "", "Make the loader 100% faster", 1},
		{"0%", "", "Make the loader 100% faster", 1},
		{"%", "", "Make the loader 100% faster", 1},
		{"d_c", "", "rename load_config to LoadConfig", 1},
		{"_", "", "rename load_config to LoadConfig", 1},
		{"faster", "", "Is 1000 faster than 100? | Make the loader 100% faster", 2},
		{"faster", "app", "Is 1000 faster than 100? | Make the loader 100% faster", 2},
		{"faster", "/src/bulk", "", 0},
		{"no prompt says this", "", "", 0},
		{"number 07", "bulk", "bulk prompt number 07", 1},
		{"<script>", "", "<script>alert('history')</script> and <img src=x onerror=alert(1)>", 1},
	} {
		v := url.Values{"q": {tc.q}}
		if tc.project != "" {
			v.Set("project", tc.project)
		}
		if l := api(v.Encode()); l.texts() != tc.want || l.Total != tc.total {
			t.Errorf("q=%q project=%q: %q (total %d), want %q (%d)", tc.q, tc.project, l.texts(), l.Total, tc.want, tc.total)
		}
	}

	l := api("project=bulk&limit=3&offset=2")
	if l.Total != 60 || l.Limit != 3 || l.Offset != 2 || l.texts() != "bulk prompt number 57 | bulk prompt number 56 | bulk prompt number 55" {
		t.Errorf("a page of /src/bulk: %+v", l)
	}
	l = api("q=load")
	if len(l.Prompts) != 3 || l.Prompts[0].SessionID != sessMissing || l.Prompts[0].SessionStored ||
		l.Prompts[1].SessionID != sessApp || !l.Prompts[1].SessionStored {
		t.Errorf("sessions of the prompts: %+v", l)
	}
	if l := api("session=" + sessApp); l.Total != 2 {
		t.Errorf("the prompts of one session: %+v", l)
	}

	// The page: newest first, each prompt linked to its session when stored.
	code, body, _ := get(t, ts, "/history?q=load")
	if code != 200 {
		t.Fatalf("GET /history?q=load: %d\n%s", code, body)
	}
	for _, want := range []string{
		`href="/sessions/` + sessApp + `"`, "session not imported", "Make the loader 100% faster",
		`value="load"`, `href="/history"`, `<span class="count">3</span>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/history?q=load lacks %q", want)
		}
	}
	if strings.Contains(body, `href="/sessions/`+sessMissing+`"`) {
		t.Error("a prompt links to a session that was never imported")
	}
	if i, j := strings.Index(body, "rename load_config"), strings.Index(body, "Make the loader"); i < 0 || j < i {
		t.Error("the history is not newest first")
	}
	_, body, _ = get(t, ts, "/history?q=no+prompt+says+this")
	if !strings.Contains(body, "No prompt matches") {
		t.Error("a search finding nothing has no empty state")
	}
	_, body, _ = get(t, ts, "/history?project=bulk")
	if n := strings.Count(body, `<li class="prompt">`); n != 50 || !strings.Contains(body, "number 59") || !strings.Contains(body, `href="?page=2&amp;project=bulk"`) {
		t.Errorf("page 1 of /src/bulk shows %d prompts", n)
	}
	code, body, _ = get(t, ts, "/history?project=bulk&page=2")
	if n := strings.Count(body, `<li class="prompt">`); code != 200 || n != 10 || !strings.Contains(body, "number 00") || strings.Contains(body, "number 10<") {
		t.Errorf("page 2 of /src/bulk: %d, %d prompts", code, n)
	}

	// Hostile prompts are shown as text.
	_, body, _ = get(t, ts, "/history?q=script")
	// inert allows only the sessions list's form; the history's own form
	// submits to this server just the same.
	inert(t, "/history", strings.Replace(body, `action="/history"`, `action="/sessions"`, 1))
	if !strings.Contains(body, "&lt;script&gt;alert(&#39;history&#39;)&lt;/script&gt;") {
		t.Error("the hostile prompt is not shown escaped")
	}

	for path, want := range map[string]int{
		"/history?page=x": 400, "/history?page=-1": 400, "/history?project=bulk&page=3": 404,
		"/api/history?limit=x": 400, "/api/history?limit=501": 400, "/api/history?offset=-3": 400,
		"/api/history?q=" + strings.Repeat("a", 501): 400, "/api/history?q=%ff": 400, "/api/history?q=a%00b": 400,
		"/api/history?session=%00": 400,
	} {
		if code, body, _ := get(t, ts, path); code != want {
			t.Errorf("GET %s = %d, want %d\n%s", path, code, want, body)
		}
	}
}

func TestEmptyHistory(t *testing.T) {
	ts := serve(t, openSQLite(t))
	code, body, _ := get(t, ts, "/history")
	if code != 200 || !strings.Contains(body, "No prompts yet") || !strings.Contains(body, "/home/me/.claude/history.jsonl") {
		t.Errorf("empty history: %d\n%s", code, body)
	}
	if _, body, _ := get(t, ts, "/api/history"); !strings.Contains(body, `"total":0`) || !strings.Contains(body, `"prompts":[]`) {
		t.Errorf("empty /api/history: %s", body)
	}
}
