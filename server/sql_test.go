package server_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/claude-insights/insights/server"
	"github.com/claude-insights/insights/store"
	"github.com/claude-insights/insights/store/sqlite"
)

const replayURL = "http://replay.test:8002"

// newExplorer serves the SQL explorer over a database imported from the
// fixtures (the hostile tree too); it returns the database's path.
func newExplorer(t testing.TB, opts store.ExploreLimits) (*httptest.Server, string) {
	t.Helper()
	db, ex := explorerDB(t, opts, trees...)
	return serveExplorer(t, ex, replayURL), db.Path()
}

// explorerDB imports trees into a new SQLite database and opens the
// explorer over it.
func explorerDB(t testing.TB, opts store.ExploreLimits, dirs ...string) (*sqlite.DB, *sqlite.Explorer) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "insights.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	importTrees(t, db, dirs...)
	ex, err := sqlite.OpenExplorer(ctx, db.Path(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ex.Close() })
	return db, ex
}

// serveExplorer serves the explorer's pages, its session ids linking to
// the replay UI at replay.
func serveExplorer(t testing.TB, ex store.Explorer, replay string) *httptest.Server {
	t.Helper()
	srv, err := server.NewExplorer(ex, server.ExplorerOptions{ReplayURL: replay, DBPath: "insights.db"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts
}

type sqlJSON struct {
	Columns   []string
	Rows      [][]any
	Truncated bool
	Count     *int64
	Next      string
	NextURL   string `json:"nextUrl"`
	Error     string
}

func getSQLJSON(t *testing.T, ts *httptest.Server, path string, want int) sqlJSON {
	t.Helper()
	code, body, h := get(t, ts, path)
	if code != want || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Fatalf("GET %s: %d %s, want %d JSON\n%s", path, code, h.Get("Content-Type"), want, body)
	}
	var v sqlJSON
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return v
}

func getCSV(t *testing.T, ts *httptest.Server, path string) [][]string {
	t.Helper()
	code, body, h := get(t, ts, path)
	if code != 200 || h.Get("Content-Type") != "text/csv; charset=utf-8" ||
		!strings.HasPrefix(h.Get("Content-Disposition"), "attachment; filename=") {
		t.Fatalf("GET %s: %d %v\n%s", path, code, h, body)
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return recs
}

func TestExplorerIndex(t *testing.T) {
	ts, _ := newExplorer(t, store.ExploreLimits{})
	body := must200(t, ts, "/")
	inert(t, "/", body)
	for _, want := range []string{`href="/tables/sessions"`, `href="/tables/messages"`, `href="/tables/tool_calls"`,
		`href="/query"`, replayURL + "/sessions", "Read-only"} {
		if !strings.Contains(body, want) {
			t.Errorf("the index lacks %s", want)
		}
	}
	for _, q := range sqlite.CannedQueries {
		if !strings.Contains(body, `href="/queries/`+q.Name+`"`) || !strings.Contains(body, q.Title) {
			t.Errorf("the index lacks the canned query %s", q.Name)
		}
	}
	if strings.Contains(body, "messages_fts_") || strings.Contains(body, "sqlite_") {
		t.Errorf("the index lists internal tables")
	}
	var idx struct {
		Tables []struct {
			Name string
			Rows int64
		}
		Queries []struct{ Name, SQL string }
	}
	_, js, _ := get(t, ts, "/?format=json")
	if err := json.Unmarshal([]byte(js), &idx); err != nil || len(idx.Queries) != len(sqlite.CannedQueries) {
		t.Fatalf("index JSON: %v %s", err, js)
	}
	for _, tb := range idx.Tables {
		if tb.Name == "sessions" && tb.Rows != 5 {
			t.Errorf("sessions: %d rows, want 5", tb.Rows)
		}
	}
}

// Every canned query answers as a page, as JSON and as CSV, with the same
// rows, and its session ids link into the replay UI.
func TestExplorerCannedQueries(t *testing.T) {
	ts, _ := newExplorer(t, store.ExploreLimits{})
	linked := 0
	for _, q := range sqlite.CannedQueries {
		path := "/queries/" + q.Name
		body := must200(t, ts, path)
		inert(t, path, body)
		if !strings.Contains(body, q.Title) || !strings.Contains(body, "Edit this SQL") {
			t.Errorf("%s: no title or edit link", path)
		}
		js := getSQLJSON(t, ts, path+"?format=json", 200)
		recs := getCSV(t, ts, path+"?format=csv")
		if strings.Join(recs[0], ",") != strings.Join(js.Columns, ",") || len(recs)-1 != len(js.Rows) {
			t.Errorf("%s: CSV %d rows %v, JSON %d rows %v", q.Name, len(recs)-1, recs[0], len(js.Rows), js.Columns)
		}
		if got := strings.Count(body, "<tr>") - 1; len(js.Rows) > 0 && got != len(js.Rows) {
			t.Errorf("%s: the page has %d rows, JSON %d", q.Name, got, len(js.Rows))
		}
		for i, c := range js.Columns {
			if c != "session_id" && !strings.HasSuffix(c, "_session_id") {
				continue
			}
			for _, row := range js.Rows {
				href := fmt.Sprintf(`href="%s/sessions/%s"`, replayURL, row[i])
				if !strings.Contains(body, href) {
					t.Errorf("%s: no link %s", q.Name, href)
				}
				linked++
			}
		}
	}
	if linked < 10 {
		t.Errorf("%d rows link into the replay, want many", linked)
	}
	// Parameters: given, kept in the form and the links.
	path := "/queries/tokens-by-day?since=2026-02-11&until=2026-02-20"
	body := must200(t, ts, path)
	if !strings.Contains(body, `name="since" value="2026-02-11"`) || !strings.Contains(body, "format=csv&amp;since=2026-02-11&amp;until=2026-02-20") {
		t.Errorf("%s: the parameter is not kept", path)
	}
	js := getSQLJSON(t, ts, path+"&format=json", 200)
	if len(js.Rows) != 1 || js.Rows[0][0] != "2026-02-11" || js.Rows[0][6] != 0.143211 {
		t.Errorf("%s: %v", path, js.Rows)
	}
	if code, _, _ := get(t, ts, "/queries/nope"); code != 404 {
		t.Errorf("an unknown canned query: %d", code)
	}
}

func TestExplorerTablePages(t *testing.T) {
	ts, _ := newExplorer(t, store.ExploreLimits{})
	// Sorted, two rows a page, followed to the end.
	path := "/tables/sessions?_sort_desc=cost&_size=2&format=json"
	var ids []string
	for pages := 0; path != ""; pages++ {
		js := getSQLJSON(t, ts, path, 200)
		if *js.Count != 5 || js.Columns[0] != "id" {
			t.Fatalf("%s: count %v, columns %v", path, *js.Count, js.Columns)
		}
		for _, r := range js.Rows {
			ids = append(ids, r[0].(string))
		}
		path = js.NextURL
		if pages > 5 {
			t.Fatal("no end")
		}
	}
	want := []string{"5f0c2a7e-3b1d-4c8e-9a21-7d4e6b8f1c03", "8b3e1d94-6c2a-4f7b-b815-2e9a0c7d5f46", "c41a7e2b-9d05-4b3f-8e6c-1f2d3a4b5c68"}
	if len(ids) != 5 || strings.Join(ids[:3], " ") != strings.Join(want, " ") {
		t.Errorf("sessions by cost: %v", ids)
	}
	// The page: sort links, next link, session ids into the replay.
	body := must200(t, ts, "/tables/sessions?_sort_desc=cost&_size=2")
	inert(t, "/tables/sessions", body)
	for _, want := range []string{
		`href="?_size=2&amp;_sort=cost"`, // sorted descending: the next click sorts ascending
		`href="?_size=2&amp;_sort=title"`,
		`rel="next" href="/tables/sessions?_next=`,
		`href="` + replayURL + `/sessions/5f0c2a7e-3b1d-4c8e-9a21-7d4e6b8f1c03"`,
		"5 rows",
		`1770714000000<time class="when">2026-02-10 09:00:00</time>`, // first_at, shown as a time too
	} {
		if !strings.Contains(body, want) {
			t.Errorf("sessions page lacks %s", want)
		}
	}
	// A later page leads back to the first.
	u, _ := url.Parse(getSQLJSON(t, ts, "/tables/sessions?_sort_desc=cost&_size=2&format=json", 200).NextURL)
	u.RawQuery = strings.Replace(u.RawQuery, "&format=json", "", 1)
	if body := must200(t, ts, u.String()); !strings.Contains(body, `rel="first" href="/tables/sessions?_size=2&amp;_sort_desc=cost"`) {
		t.Errorf("%s: no link to the first page", u)
	}
	// Filters.
	for path, count := range map[string]int64{
		"/tables/sessions?project=/src/app":                 2,
		"/tables/sessions?title__contains=CONFIG":           1,
		"/tables/messages?seq__gt=40&agent_id__isnull=1":    -1,
		"/tables/tool_calls?name__in=Bash,Edit&is_error=1":  1,
		"/tables/sessions?first_at__gte=1770800000000":      -1,
		"/tables/file_changes?path__endswith=.py":           3,
		"/tables/sessions?project__not=/src/app&messages=2": 1,
	} {
		js := getSQLJSON(t, ts, path+"&format=json", 200)
		if count >= 0 && *js.Count != count || int64(len(js.Rows)) != *js.Count {
			t.Errorf("%s: count %d, %d rows; want %d", path, *js.Count, len(js.Rows), count)
		}
	}
	// The filter form leads to the canonical link.
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(ts.URL + "/tables/sessions?_sort=title&_filter_column=project&_filter_op=startswith&_filter_value=/src/t")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != "/tables/sessions?_sort=title&project__startswith=%2Fsrc%2Ft" {
		t.Errorf("filter form: %d %s", res.StatusCode, loc)
	}
	body = must200(t, ts, "/tables/sessions?_sort=title&project__startswith=/src/t")
	if !strings.Contains(body, "1 row match") || !strings.Contains(body, `title="Remove this filter"`) {
		t.Errorf("filtered page: no count or no removable filter")
	}
	// CSV holds every row the filters keep, not one page.
	recs := getCSV(t, ts, "/tables/messages?_size=5&format=csv")
	js := getSQLJSON(t, ts, "/tables/messages?_size=5&format=json", 200)
	if len(js.Rows) != 5 || int64(len(recs)-1) != *js.Count {
		t.Errorf("messages CSV: %d rows, table %d", len(recs)-1, *js.Count)
	}
}

func TestExplorerQuery(t *testing.T) {
	ts, path := newExplorer(t, store.ExploreLimits{Timeout: 300 * time.Millisecond, StreamTimeout: 300 * time.Millisecond, MaxRows: 50})
	q := func(sql string, extra ...string) string {
		v := url.Values{"sql": {sql}}
		for i := 0; i+1 < len(extra); i += 2 {
			v.Set(extra[i], extra[i+1])
		}
		return "/query?" + v.Encode()
	}
	// An empty form.
	body := must200(t, ts, "/query")
	inert(t, "/query", body)
	if !strings.Contains(body, `<textarea name="sql"`) || !strings.Contains(body, `<details class="schema" open>`) ||
		!strings.Contains(body, `<a href="/tables/tool_calls">tool_calls</a> <span class="dim">id, session_id,`) {
		t.Error("/query has no textarea, or no tables and columns beside it")
	}
	// Parameters become fields.
	sql := "SELECT id, title FROM sessions WHERE project = :project ORDER BY id"
	body = must200(t, ts, q(sql, "project", "/src/tools"))
	if !strings.Contains(body, `name="project" value="/src/tools"`) || !strings.Contains(body, "Refactor the parser") ||
		strings.Contains(body, "Fix off-by-one") {
		t.Errorf("a query with a parameter:\n%s", body)
	}
	// The row limit is shown when hit.
	js := getSQLJSON(t, ts, q("SELECT * FROM messages", "format", "json"), 200)
	if len(js.Rows) != 50 || !js.Truncated {
		t.Errorf("row limit: %d rows, truncated %v", len(js.Rows), js.Truncated)
	}
	if body := must200(t, ts, q("SELECT * FROM messages")); !strings.Contains(body, "Showing the first 50 rows") {
		t.Error("the page does not say the row limit was hit")
	}
	if recs := getCSV(t, ts, q("SELECT * FROM messages", "format", "csv")); len(recs)-1 <= 50 {
		t.Errorf("the CSV has %d rows: the row limit applied", len(recs)-1)
	}
	// Refusals and mistakes: 400 with the message, the query kept to mend.
	before := countSessions(t, path)
	for sql, msg := range map[string]string{
		"DELETE FROM sessions":             "only reading is allowed",
		"DROP TABLE messages":              "only reading is allowed",
		"ATTACH DATABASE '/tmp/x.db' AS x": "only reading is allowed",
		"PRAGMA query_only = 0":            "only reading is allowed",
		"SELECT load_extension('x')":       "only reading is allowed",
		"SELECT 1; DELETE FROM sessions":   "one statement at a time",
		"SELEC 1":                          "syntax error",
		"SELECT nope FROM sessions":        "no such column",
		"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c": "stopped after",
	} {
		start := time.Now()
		code, body, _ := get(t, ts, q(sql))
		if code != 400 || !strings.Contains(body, msg) || !strings.Contains(body, `role="alert"`) {
			t.Errorf("%s: %d, want 400 with %q\n%s", sql, code, msg, body)
		}
		if !strings.Contains(body, ">"+htmlEscape(sql)+"</textarea>") {
			t.Errorf("%s: the form does not keep the query", sql)
		}
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("%s: took %s", sql, took)
		}
		if js := getSQLJSON(t, ts, q(sql, "format", "json"), 400); !strings.Contains(js.Error, msg) {
			t.Errorf("%s JSON: %q", sql, js.Error)
		}
		if code, body, _ := get(t, ts, q(sql, "format", "csv")); code != 400 || !strings.Contains(body, msg) {
			t.Errorf("%s CSV: %d %s", sql, code, body)
		}
	}
	if after := countSessions(t, path); after != before {
		t.Errorf("sessions: %d, were %d", after, before)
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "+", "&#43;").Replace(s)
}

func countSessions(t *testing.T, path string) int64 {
	t.Helper()
	ex, err := sqlite.OpenExplorer(context.Background(), path, store.ExploreLimits{})
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Close()
	res, err := ex.Query(context.Background(), "SELECT count(*) FROM sessions", nil)
	if err != nil {
		t.Fatal(err)
	}
	return res.Rows[0][0].(int64)
}

func TestExplorerBadRequests(t *testing.T) {
	ts, _ := newExplorer(t, store.ExploreLimits{})
	for path, want := range map[string]int{
		"/tables/nope":                            404,
		"/tables/sqlite_schema":                   404,
		"/tables/sessions?nope=1":                 400,
		"/tables/sessions?title__nope=1":          400, // an unknown operator is a column named so
		"/tables/sessions?_sort=nope":             400,
		"/tables/sessions?_sort=id&_sort_desc=id": 400,
		"/tables/sessions?_next=garbage":          400,
		"/tables/sessions?_size=-1":               400,
		"/tables/sessions?_size=100000":           400,
		"/tables/sessions?_bogus=1":               400,
		"/tables/sessions?format=xml":             400,
		"/query?sql=&format=json":                 400,
		"/query?sql=SELECT+1&format=pdf":          400,
		"/?format=csv":                            400,
		"/queries/nope?format=json":               404,
		"/nope":                                   404,
	} {
		code, body, _ := get(t, ts, path)
		if code != want {
			t.Errorf("%s: %d, want %d\n%s", path, code, want, body)
		}
		if code >= 400 && !regexp.MustCompile(`(?i)want|no |not|only|sort|page`).MatchString(body) {
			t.Errorf("%s: no message: %s", path, body)
		}
	}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		req, _ := http.NewRequest(m, ts.URL+"/query?sql=SELECT+1", nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s /query: %d", m, res.StatusCode)
		}
	}
}

// A CSV download cut off by its time limit breaks off: the client sees a
// failed download, never a file that looks complete.
func TestExplorerCSVCutOff(t *testing.T) {
	ts, _ := newExplorer(t, store.ExploreLimits{StreamTimeout: 300 * time.Millisecond})
	v := url.Values{"sql": {"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c"}, "format": {"csv"}}
	res, err := http.Get(ts.URL + "/query?" + v.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	n, err := io.Copy(io.Discard, res.Body)
	if res.StatusCode != 200 || err == nil || n == 0 {
		t.Errorf("a download cut off: status %d, %d bytes, error %v; want 200, some rows, then an error", res.StatusCode, n, err)
	}
}
