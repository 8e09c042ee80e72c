package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/claude-insights/insights/store"
)

// inert checks that an HTML page can run nothing of what it shows: no
// script but the page's own, no frames, no event handlers, no inline styles,
// no javascript: or other non-web links, images only as web or raster data
// URLs.
// The scripts the UI loads, and where its forms go: its own files and pages.
var (
	ownScript = regexp.MustCompile(`^/static/[a-z]+\.js$`)
	ownForm   = regexp.MustCompile(`^/[a-z]+(/[a-z0-9_-]+)?$`)
)

func inert(t *testing.T, name, page string) {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(page))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		attr := map[string]string{}
		for _, a := range tok.Attr {
			k := strings.ToLower(a.Key)
			attr[k] = a.Val
			v := strings.ToLower(strings.TrimSpace(a.Val))
			switch {
			case strings.HasPrefix(k, "on"):
				t.Errorf("%s: <%s> has an event handler %s=%q", name, tok.Data, a.Key, a.Val)
			case k == "style" || k == "srcdoc":
				t.Errorf("%s: <%s> has %s=%q", name, tok.Data, a.Key, a.Val)
			case k == "href" || k == "src" || k == "action" || k == "formaction" || k == "xlink:href":
				if i := strings.IndexAny(v, ":/?#"); i >= 0 && v[i] == ':' {
					scheme := v[:i]
					ok := scheme == "http" || scheme == "https" || scheme == "mailto" ||
						(tok.Data == "img" && k == "src" && regexp.MustCompile(`^data:image/(png|jpeg|gif|webp);base64,[a-z0-9+/=]+$`).MatchString(v))
					if !ok {
						t.Errorf("%s: <%s %s=%q> leads to the %s: scheme", name, tok.Data, a.Key, a.Val, scheme)
					}
				}
			}
		}
		switch tok.Data {
		case "script":
			if !ownScript.MatchString(attr["src"]) && !(attr["type"] == "application/json" && attr["id"] == "anchor-pages") {
				t.Errorf("%s: a script element %v", name, tok.Attr)
			}
		case "iframe", "frame", "object", "embed", "base", "form", "link":
			if tok.Data == "form" && ownForm.MatchString(attr["action"]) || tok.Data == "link" && strings.HasPrefix(attr["href"], "/static/") {
				continue
			}
			t.Errorf("%s: a <%s> element %v", name, tok.Data, tok.Attr)
		case "meta":
			if attr["http-equiv"] != "" {
				t.Errorf("%s: <meta http-equiv> %v", name, tok.Attr)
			}
		}
	}
}

func TestSessionsList(t *testing.T) {
	ts := newServer(t)
	code, body, h := get(t, ts, "/sessions")
	if code != 200 {
		t.Fatalf("GET /sessions: %d\n%s", code, body)
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	for _, want := range []string{
		`href="/sessions/` + sessApp + `"`, "Fix off-by-one in config loader", // a title from a summary
		`href="/sessions/` + sessTools + `"`, "Refactor the parser and add tests for it", // from the first prompt
		`href="/sessions/` + sessXSS + `"`, "/src/tools", "feature/x", `class="badge err"`, "lang:python",
		`sort=cost`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the list lacks %q", want)
		}
	}
	if n := strings.Count(body, `<tr class="session">`); n != 5 {
		t.Errorf("the list shows %d sessions, want 5", n)
	}
	if code, body, _ := get(t, ts, "/"); code != 200 || !strings.Contains(body, sessApp) {
		t.Errorf("GET / = %d, without the list", code)
	}
	// Filters narrow the list and are kept in the form.
	code, body, _ = get(t, ts, "/sessions?project=%2Fsrc%2Fapp&errors=1")
	if code != 200 || strings.Count(body, `<tr class="session">`) != 1 || !strings.Contains(body, sessApp) {
		t.Errorf("project=app&errors=1: %d, %d rows", code, strings.Count(body, `<tr class="session">`))
	}
	if !strings.Contains(body, `name="errors" value="1" checked`) || !strings.Contains(body, `<option value="/src/app" selected>`) {
		t.Error("the form does not show the filters in use")
	}
	code, body, _ = get(t, ts, "/sessions?q=nothing-matches-this")
	if code != 200 || !strings.Contains(body, "No session matches these filters") {
		t.Errorf("a filter matching nothing: %d, no empty state", code)
	}
}

func TestEmptyList(t *testing.T) {
	ts := serve(t, openSQLite(t))
	code, body, _ := get(t, ts, "/sessions")
	for _, want := range []string{"No sessions yet", "/home/me/.claude/projects", "insights import"} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("empty list (%d) lacks %q", code, want)
		}
	}
	if code, body, _ := get(t, ts, "/api/sessions"); code != 200 || !strings.Contains(body, `"sessions":[]`) {
		t.Errorf("empty /api/sessions = %d %s", code, body)
	}
}

type apiList struct {
	Total    int64 `json:"total"`
	Sessions []struct {
		ID        string   `json:"id"`
		Title     string   `json:"title"`
		Messages  int64    `json:"messages"`
		Tags      []string `json:"tags"`
		ToolCalls int64    `json:"toolCalls"`
		Tokens    struct {
			Total int64 `json:"total"`
		} `json:"tokens"`
	} `json:"sessions"`
}

func TestAPISessions(t *testing.T) {
	ts := newServer(t)
	ids := func(q string) (string, int64) {
		t.Helper()
		code, body, h := get(t, ts, "/api/sessions?"+q)
		if code != 200 || h.Get("Content-Type") != "application/json" {
			t.Fatalf("/api/sessions?%s: %d %s", q, code, body)
		}
		var l apiList
		if err := json.Unmarshal([]byte(body), &l); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range l.Sessions {
			out = append(out, s.ID[:4])
		}
		return strings.Join(out, " "), l.Total
	}
	for _, tc := range []struct {
		q, want string
		total   int64
	}{
		{"", "0bad d7e8 c41a 8b3e 5f0c", 5},
		{"order=asc", "5f0c 8b3e c41a d7e8 0bad", 5},
		{"limit=2&offset=1", "d7e8 c41a", 5},
		{"project=app", "8b3e 5f0c", 2},
		{"errors=1", "d7e8 5f0c", 2},
		{"tag=lang:python", "d7e8", 1},
		{"q=parser", "d7e8", 1},
		{"sort=messages&order=desc&limit=1", "5f0c", 5},
		{"since=2026-02-12&until=2026-02-12", "d7e8", 1},
		{"model=claude-haiku-4-5-20251001", "5f0c", 1},
	} {
		if got, total := ids(tc.q); got != tc.want || total != tc.total {
			t.Errorf("?%s: %q (total %d), want %q (total %d)", tc.q, got, total, tc.want, tc.total)
		}
	}

	code, body, _ := get(t, ts, "/api/sessions/"+sessApp)
	var d struct {
		ID          string            `json:"id"`
		Todos       []json.RawMessage `json:"todos"`
		Subagents   []json.RawMessage `json:"subagentList"`
		FileChanges []struct {
			Path string `json:"path"`
		} `json:"fileChanges"`
	}
	if err := json.Unmarshal([]byte(body), &d); code != 200 || err != nil {
		t.Fatalf("/api/sessions/%s: %d %v", sessApp, code, err)
	}
	if d.ID != sessApp || len(d.Todos) != 3 || len(d.Subagents) != 2 || len(d.FileChanges) == 0 || d.FileChanges[0].Path != "/src/app/config/load.go" {
		t.Errorf("session detail = %s", body)
	}

	var ms struct {
		Total    int `json:"total"`
		Messages []struct {
			Seq     int64           `json:"seq"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	code, body, _ = get(t, ts, "/api/sessions/"+sessApp+"/messages?offset=1&limit=2")
	if err := json.Unmarshal([]byte(body), &ms); code != 200 || err != nil || ms.Total != 42 || len(ms.Messages) != 2 || ms.Messages[0].Seq != 5 || len(ms.Messages[0].Content) == 0 {
		t.Errorf("messages page: %d %v %s", code, err, body[:min(len(body), 300)])
	}
}

func TestReplay(t *testing.T) {
	ts := newServer(t)
	code, body, _ := get(t, ts, "/sessions/"+sessApp)
	if code != 200 {
		t.Fatalf("replay: %d\n%s", code, body)
	}
	for _, want := range []string{
		`<h1>Fix off-by-one in config loader</h1>`,
		`id="m-3"`,                     // the first prompt, by its line
		`<details class="thinking">`,   // thinking folded
		`<table class="diff chroma">`,  // the Edit as a diff
		`<details class="subagent"`,    // the subagent nested under its call
		`class="todo completed"`,       // the session's todos
		`<span class="tool-name">Edit`, // a tool call with its name
		`class="result step k-result"`, // the result, a step of its own
		`<svg class="timeline"`,
		`class="step k-error"`,                                 // an API error
		`Conversation compacted (manual, 45.2k tokens before)`, // a compaction boundary
		`<script src="/static/replay.js"></script>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the replay lacks %q", want)
		}
	}
	// Every message has its place: its own step, or its result's.
	if got := strings.Count(body, `id="m-`); got != 42 {
		t.Errorf("%d messages have an anchor, want 42", got)
	}
	inert(t, "replay of "+sessApp, body)

	_, body, _ = get(t, ts, "/sessions/"+sessTools)
	for _, want := range []string{`<details class="tool failed"`, "mcp__github",
		`<a href="?page=1#m-8"><code>3f2a1b9</code></a> Refactor parser`, // the commit it made, linked to its call
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the replay of %s lacks %q", sessTools, want)
		}
	}
	if n := strings.Count(body, `<details class="subagent"`); n != 2 {
		t.Errorf("%s shows %d subagents, want 2", sessTools, n)
	}
}

// Transcript content is shown as text: every payload of the fixture is on
// the page, escaped, and nothing on the page can run it.
func TestTranscriptContentIsInert(t *testing.T) {
	ts := newServer(t)
	pages := map[string]string{}
	for _, p := range []string{"/sessions", "/sessions/" + sessXSS, "/sessions?q=" + url.QueryEscape("<script>"),
		"/sessions/" + sessXSS + "/tools/toolu_xss_bash", "/sessions/%3Cscript%3Ealert(1)%3C%2Fscript%3E"} {
		code, body, _ := get(t, ts, p)
		if code >= 500 {
			t.Fatalf("GET %s: %d", p, code)
		}
		pages[p] = body
		inert(t, p, body)
	}
	replay := pages["/sessions/"+sessXSS]
	for _, want := range []string{
		`&lt;script&gt;alert(&#39;prompt&#39;)&lt;/script&gt;`, // the prompt, as typed
		`&lt;/pre&gt;&lt;script&gt;alert(&#39;out&#39;)`,       // tool output
		`&#39;diff&#39;`, // a diff line
		`&lt;script&gt;alert(&#39;todo&#39;)&lt;/script&gt;`, // a todo
		`<a href="https://example.com" rel="nofollow noopener noreferrer">ok</a>`,
		`Links: click ref`, // javascript: links keep their text
		`src="data:image/png;base64,iVBORw0KGgo`,
	} {
		if !strings.Contains(replay, want) {
			t.Errorf("the replay does not show %q", want)
		}
	}
	if strings.Contains(replay, "image/svg") && strings.Contains(replay, `src="data:image/svg`) {
		t.Error("an SVG image is shown")
	}
	if n := strings.Count(replay, "<img "); n != 1 {
		t.Errorf("%d images on the replay, want the one PNG", n)
	}
}

func TestBadRequests(t *testing.T) {
	ts := newServer(t)
	for _, tc := range []struct {
		path string
		code int
	}{
		{"/sessions/no-such-session", 404},
		{"/sessions/" + sessApp + "?page=2", 404},
		{"/sessions/" + sessApp + "?page=x", 400},
		{"/sessions/" + sessApp + "?page=-1", 400},
		{"/sessions/" + sessApp + "/tools/nope", 404},
		{"/sessions/%00", 400},
		{"/sessions/" + strings.Repeat("a", 300), 400},
		{"/sessions?page=99", 404},
		{"/sessions?page=99999999999999999999", 400},
		{"/sessions?sort=bogus", 400},
		{"/sessions?order=up", 400},
		{"/sessions?since=yesterday", 400},
		{"/sessions?since=2026-03-01&until=2026-02-01", 400},
		{"/sessions?errors=maybe", 400},
		{"/nowhere", 404},
		{"/api/sessions?limit=-5", 400},
		{"/api/sessions?limit=100000", 400},
		{"/api/sessions?offset=x", 400},
		{"/api/sessions?sort=id%3Bdrop", 400},
		{"/api/sessions/nope", 404},
		{"/api/sessions/nope/messages", 404},
		{"/api/sessions/" + sessApp + "/messages?limit=x", 400},
	} {
		code, body, h := get(t, ts, tc.path)
		if code != tc.code {
			t.Errorf("GET %s = %d, want %d\n%s", tc.path, code, tc.code, body[:min(200, len(body))])
		}
		if strings.HasPrefix(tc.path, "/api/") {
			var e struct{ Error string }
			if json.Unmarshal([]byte(body), &e) != nil || e.Error == "" || h.Get("Content-Type") != "application/json" {
				t.Errorf("GET %s: not a JSON error: %s", tc.path, body)
			}
		} else if !strings.Contains(body, `<p class="message">`) {
			t.Errorf("GET %s: no message on the error page", tc.path)
		}
	}
	res, err := httpPost(ts.URL + "/sessions")
	if err != nil || res != 405 {
		t.Errorf("POST /sessions = %d, %v; want 405", res, err)
	}
}

// Both drivers serve the same pages and the same JSON.
func TestDriversServeTheSame(t *testing.T) {
	lite, pg := openSQLite(t), openPostgres(t)
	importTrees(t, lite, trees...)
	importTrees(t, pg, trees...)
	a, b := serve(t, lite), serve(t, pg)
	paths := []string{"/api/sessions", "/api/sessions?sort=tokens&project=app", "/sessions", "/sessions?errors=1&sort=cost"}
	for _, id := range []string{sessApp, sessTools, sessXSS, "c41a7e2b-9d05-4b3f-8e6c-1f2d3a4b5c68", "8b3e1d94-6c2a-4f7b-b815-2e9a0c7d5f46"} {
		paths = append(paths, "/sessions/"+id, "/api/sessions/"+id, "/api/sessions/"+id+"/messages")
	}
	for _, p := range paths {
		ca, ba, _ := get(t, a, p)
		cb, bb, _ := get(t, b, p)
		if ca != 200 || ca != cb || ba != bb {
			t.Errorf("GET %s: SQLite %d, PostgreSQL %d; bodies differ from byte %d", p, ca, cb, firstDiff(ba, bb))
		}
	}
}

func firstDiff(a, b string) int {
	for i := 0; i < min(len(a), len(b)); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// A long session is shown a page at a time; a link to a message on another
// page finds it there.
func TestReplayPages(t *testing.T) {
	db := openSQLite(t)
	const n = 600 // calls, each with its result: 1,200 messages
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	b := &store.Batch{File: store.FileState{Path: "/claude/projects/p/long.jsonl"},
		Sessions: []store.Session{{ID: "long", Project: "/src/long", FirstAt: start, LastAt: start.Add(2 * n * time.Second)}}}
	for i := range n {
		at := start.Add(time.Duration(2*i) * time.Second)
		id := fmt.Sprintf("toolu_%d", i)
		b.Messages = append(b.Messages,
			store.Message{UUID: fmt.Sprintf("a%d", i), SessionID: "long", Seq: int64(2*i + 1), Type: "assistant", Role: "assistant", Timestamp: at,
				Content: json.RawMessage(`[{"type":"tool_use","id":"` + id + `","name":"Bash","input":{"command":"echo ` + id + `"}}]`)},
			store.Message{UUID: fmt.Sprintf("u%d", i), SessionID: "long", Seq: int64(2*i + 2), Type: "user", Role: "user", Timestamp: at.Add(time.Second),
				Content: json.RawMessage(`[{"type":"tool_result","tool_use_id":"` + id + `","content":"out ` + id + `"}]`)})
		b.ToolUses = append(b.ToolUses, store.ToolUse{ID: id, SessionID: "long", MessageUUID: fmt.Sprintf("a%d", i), Seq: int64(2*i + 1), Name: "Bash",
			Input: json.RawMessage(`{"command":"echo ` + id + `"}`), At: at})
		b.ToolResults = append(b.ToolResults, store.ToolResult{ToolUseID: id, SessionID: "long", MessageUUID: fmt.Sprintf("u%d", i), Text: "out " + id, At: at.Add(time.Second)})
	}
	if err := db.Apply(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	ts := serve(t, db)
	// 250 messages a page: the result on line 250 (call 124) shows with its
	// call on page 1; the call on line 251 opens page 2.
	code, p1, _ := get(t, ts, "/sessions/long")
	if code != 200 || !strings.Contains(p1, `id="m-250"`) || strings.Contains(p1, `id="m-251"`) || !strings.Contains(p1, "page 1 of 5") {
		t.Errorf("page 1 (%d): m-250 %v, m-251 %v", code, strings.Contains(p1, `id="m-250"`), strings.Contains(p1, `id="m-251"`))
	}
	code, p5, _ := get(t, ts, "/sessions/long?page=5")
	if code != 200 || !strings.Contains(p5, `id="m-1200"`) || !strings.Contains(p5, `rel="prev" href="?page=4"`) {
		t.Errorf("page 5: %d", code)
	}
	var pages map[string]int
	m := regexp.MustCompile(`(?s)<script type="application/json" id="anchor-pages">(.*?)</script>`).FindStringSubmatch(p1)
	if m == nil || json.Unmarshal([]byte(m[1]), &pages) != nil || pages["m-1"] != 1 || pages["m-251"] != 2 || pages["m-1200"] != 5 || len(pages) != 2*n {
		t.Errorf("anchor pages: %v", m)
	}
	if code, _, _ := get(t, ts, "/sessions/long?page=6"); code != 404 {
		t.Errorf("page 6 = %d, want 404", code)
	}
}

// A long output is cut in the replay, with a link to the whole of it.
func TestLongOutput(t *testing.T) {
	db := openSQLite(t)
	at := time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)
	out := strings.Repeat("line of output <b>\n", 1000) + "THE END"
	content, _ := json.Marshal([]map[string]any{{"type": "tool_result", "tool_use_id": "t1", "content": out}})
	if err := db.Apply(context.Background(), &store.Batch{File: store.FileState{Path: "/claude/projects/p/o.jsonl"},
		Sessions: []store.Session{{ID: "out", FirstAt: at, LastAt: at.Add(time.Second)}},
		Messages: []store.Message{
			{UUID: "a", SessionID: "out", Seq: 1, Type: "assistant", Role: "assistant", Timestamp: at,
				Content: json.RawMessage(`[{"type":"tool_use","id":"t1","name":"Bash","input":{"command":"yes"}}]`)},
			{UUID: "u", SessionID: "out", Seq: 2, Type: "user", Role: "user", Timestamp: at.Add(time.Second), Content: content}},
		ToolUses:    []store.ToolUse{{ID: "t1", SessionID: "out", MessageUUID: "a", Seq: 1, Name: "Bash", Input: json.RawMessage(`{"command":"yes"}`), At: at}},
		ToolResults: []store.ToolResult{{ToolUseID: "t1", SessionID: "out", MessageUUID: "u", Text: out, At: at.Add(time.Second)}},
	}); err != nil {
		t.Fatal(err)
	}
	ts := serve(t, db)
	_, replay, _ := get(t, ts, "/sessions/out")
	if strings.Contains(replay, "THE END") || !strings.Contains(replay, `<a class="show-all" href="/sessions/out/tools/t1">Show all (18.6 KB)</a>`) {
		t.Errorf("the replay shows the whole output, or no link to it")
	}
	code, full, _ := get(t, ts, "/sessions/out/tools/t1")
	if code != 200 || !strings.Contains(full, "THE END") || strings.Count(full, "line of output &lt;b&gt;") != 1000 {
		t.Errorf("the tool page (%d) does not show the whole output, escaped", code)
	}
}
