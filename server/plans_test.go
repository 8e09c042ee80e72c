package server_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const sessResumed = "8b3e1d94-6c2a-4f7b-b815-2e9a0c7d5f46" // shares the plan some-slug with sessApp

// decode reads a JSON answer into v.
func decode(t *testing.T, body string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
}

func TestPlansList(t *testing.T) {
	ts := newServer(t)
	code, body, _ := get(t, ts, "/plans")
	if code != 200 {
		t.Fatalf("GET /plans: %d\n%s", code, body)
	}
	inert(t, "/plans", body)
	for _, want := range []string{
		`href="/plans/some-slug"`, "Plan: fix the config loader", "/src/app", `<td class="num">2</td>`,
		`href="/plans/xss-plan"`, "Plan &lt;script&gt;alert(&#39;plan&#39;)&lt;/script&gt; of the hostile tree",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the plans list lacks %q", want)
		}
	}
	if n := strings.Count(body, `<tr class="plan">`); n != 2 {
		t.Errorf("the list shows %d plans, want 2", n)
	}
	// Newest first: the fixtures' plans were written in that order.
	var list struct {
		Total int
		Plans []struct {
			Slug, Title, Project, Markdown string
			ModifiedAt                     time.Time
			Sessions                       []struct{ ID, Title, Project string }
		}
	}
	_, body, _ = get(t, ts, "/api/plans")
	decode(t, body, &list)
	if list.Total != 2 || len(list.Plans) != 2 {
		t.Fatalf("/api/plans = %s", body)
	}
	if list.Plans[0].ModifiedAt.Before(list.Plans[1].ModifiedAt) {
		t.Errorf("plans not newest first: %s", body)
	}
	for _, p := range list.Plans {
		if p.Slug != "some-slug" {
			continue
		}
		if p.Title != "Plan: fix the config loader" || p.Project != "/src/app" || !strings.Contains(p.Markdown, "len(keys)-1") ||
			len(p.Sessions) != 2 || p.Sessions[0].ID != sessResumed && p.Sessions[0].ID != sessApp {
			t.Errorf("some-slug in /api/plans = %+v", p)
		}
	}

	ts = serve(t, openSQLite(t))
	if code, body, _ := get(t, ts, "/plans"); code != 200 || !strings.Contains(body, "No plans yet") {
		t.Errorf("empty plans list: %d\n%s", code, body)
	}
	if code, body, _ := get(t, ts, "/api/plans"); code != 200 || !strings.Contains(body, `"plans":[]`) {
		t.Errorf("empty /api/plans: %d %s", code, body)
	}
}

func TestPlansPages(t *testing.T) {
	dir := t.TempDir()
	plans := filepath.Join(dir, "plans")
	if err := os.MkdirAll(plans, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 55 {
		p := filepath.Join(plans, fmt.Sprintf("plan-%02d.md", i))
		if err := os.WriteFile(p, fmt.Appendf(nil, "Intro\n\n## Plan number %d\n", i), 0o644); err != nil {
			t.Fatal(err)
		}
		mod := time.Date(2026, 2, 1, 0, i, 0, 0, time.UTC)
		if err := os.Chtimes(p, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	// A plan without a heading outside its code is named by its slug.
	bare := filepath.Join(plans, "bare.md")
	if err := os.WriteFile(bare, []byte("Just text.\n\n```\n# not a heading\n```\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(bare, old, old); err != nil {
		t.Fatal(err)
	}
	db := openSQLite(t)
	importTrees(t, db, dir)
	ts := serve(t, db)
	_, body, _ := get(t, ts, "/plans/bare")
	if !strings.Contains(body, "<h1>bare</h1>") || !strings.Contains(body, "# not a heading") || strings.Contains(body, "<h1>not a heading") {
		t.Errorf("a plan without a heading:\n%s", body)
	}
	_, body, _ = get(t, ts, "/plans")
	if n := strings.Count(body, `<tr class="plan">`); n != 50 || !strings.Contains(body, "Plan number 54") || !strings.Contains(body, `href="?page=2"`) {
		t.Errorf("page 1 shows %d plans", n)
	}
	code, body, _ := get(t, ts, "/plans?page=2")
	if n := strings.Count(body, `<tr class="plan">`); code != 200 || n != 6 || !strings.Contains(body, "Plan number 0<") || !strings.Contains(body, `href="/plans/bare">bare</a>`) {
		t.Errorf("page 2: %d, %d plans", code, n)
	}
	var list struct {
		Total int
		Plans []struct{ Slug string }
	}
	_, body, _ = get(t, ts, "/api/plans?limit=2&offset=1")
	decode(t, body, &list)
	if list.Total != 56 || len(list.Plans) != 2 || list.Plans[0].Slug != "plan-53" {
		t.Errorf("/api/plans?limit=2&offset=1 = %s", body)
	}
	for path, want := range map[string]int{"/plans?page=3": 404, "/plans?page=x": 400, "/api/plans?limit=-1": 400, "/api/plans?limit=501": 400} {
		if code, _, _ := get(t, ts, path); code != want {
			t.Errorf("GET %s = %d, want %d", path, code, want)
		}
	}
}

func TestPlanView(t *testing.T) {
	ts := newServer(t)
	code, body, _ := get(t, ts, "/plans/some-slug")
	if code != 200 {
		t.Fatalf("GET /plans/some-slug: %d\n%s", code, body)
	}
	inert(t, "/plans/some-slug", body)
	for _, want := range []string{
		"<h1>Plan: fix the config loader</h1>", "<ol>", "<code>config/load.go</code>",
		`href="/sessions/` + sessApp + `"`, `href="/sessions/` + sessResumed + `"`, "Fix off-by-one in config loader",
		"/src/app", "some-slug.md",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the plan page lacks %q", want)
		}
	}

	code, body, _ = get(t, ts, "/plans/xss-plan")
	if code != 200 {
		t.Fatalf("GET /plans/xss-plan: %d", code)
	}
	inert(t, "/plans/xss-plan", body)
	for _, bad := range []string{"<script>alert", "<img src=x", "javascript:"} {
		if strings.Contains(body, bad) {
			t.Errorf("the hostile plan's page holds %q", bad)
		}
	}
	for _, want := range []string{`href="https://example.com/docs"`, "&lt;b&gt;code&lt;/b&gt;", "No imported session carries"} {
		if !strings.Contains(body, want) {
			t.Errorf("the hostile plan's page lacks %q", want)
		}
	}

	var p struct {
		Slug, Title, Markdown string
		Sessions              []struct{ ID string }
	}
	_, body, _ = get(t, ts, "/api/plans/some-slug")
	decode(t, body, &p)
	if p.Slug != "some-slug" || len(p.Sessions) != 2 || !strings.HasPrefix(p.Markdown, "# Plan: fix") {
		t.Errorf("/api/plans/some-slug = %s", body)
	}

	// A replay links to the plan of its slug, to its todos and to its exports.
	_, body, _ = get(t, ts, "/sessions/"+sessApp)
	for _, want := range []string{`href="/plans/some-slug"`, `href="/sessions/` + sessApp + `/todos"`,
		`href="/sessions/` + sessApp + `.md"`, `href="/sessions/` + sessApp + `.jsonl"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the replay lacks %q", want)
		}
	}
	if _, body, _ = get(t, ts, "/sessions/"+sessXSS); strings.Contains(body, `class="plan-link"`) {
		t.Error("a session without a slug links to a plan")
	}

	for path, want := range map[string]int{
		"/plans/no-such-plan": 404, "/api/plans/no-such-plan": 404, "/plans/%00": 400, "/api/plans/" + strings.Repeat("a", 300): 400,
	} {
		if code, body, _ := get(t, ts, path); code != want {
			t.Errorf("GET %s = %d, want %d\n%s", path, code, want, body)
		}
	}
}

func TestTodos(t *testing.T) {
	ts := newServer(t)
	code, body, _ := get(t, ts, "/sessions/"+sessApp+"/todos")
	if code != 200 {
		t.Fatalf("GET todos: %d\n%s", code, body)
	}
	inert(t, "todos", body)
	for _, want := range []string{
		"Main thread", "1 of 3 done",
		`<li class="todo completed"><span class="mark" title="completed">✓</span> Fix loop bound in config/load.go`,
		`<li class="todo in_progress"><span class="mark" title="in_progress">◐</span> Check the YAML loader for the same bug`,
		`<li class="todo pending"><span class="mark" title="pending">○</span> Add a regression test`,
		`href="/sessions/` + sessApp + `"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the todos page lacks %q", want)
		}
	}
	_, body, _ = get(t, ts, "/sessions/"+sessTools+"/todos")
	if !strings.Contains(body, "No todo lists") {
		t.Error("a session without todos has no empty state")
	}
	_, body, _ = get(t, ts, "/sessions/"+sessXSS+"/todos")
	inert(t, "todos of the hostile session", body)

	var out struct {
		SessionID string
		Lists     []struct {
			AgentID string
			Main    bool
			Items   []struct{ Content, Status, ActiveForm string }
		}
	}
	_, body, _ = get(t, ts, "/api/sessions/"+sessApp+"/todos")
	decode(t, body, &out)
	if out.SessionID != sessApp || len(out.Lists) != 1 || !out.Lists[0].Main || len(out.Lists[0].Items) != 3 ||
		out.Lists[0].Items[1].Status != "in_progress" || out.Lists[0].Items[1].ActiveForm != "Checking the YAML loader" {
		t.Errorf("/api/sessions/{id}/todos = %s", body)
	}
	if _, body, _ := get(t, ts, "/api/sessions/"+sessTools+"/todos"); !strings.Contains(body, `"lists":[]`) {
		t.Errorf("todos of a session without: %s", body)
	}
	for path, want := range map[string]int{
		"/sessions/no-such-session/todos": 404, "/api/sessions/no-such-session/todos": 404, "/api/sessions/%00/todos": 400,
	} {
		if code, _, _ := get(t, ts, path); code != want {
			t.Errorf("GET %s = %d, want %d", path, code, want)
		}
	}
}
