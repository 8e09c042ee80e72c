package server_test

import (
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

type searchAnswer struct {
	Query  string      `json:"query"`
	Total  int64       `json:"total"`
	Limit  int         `json:"limit"`
	Offset int         `json:"offset"`
	Hits   []searchHit `json:"hits"`
}

type searchHit struct {
	UUID      string `json:"uuid"`
	SessionID string `json:"sessionId"`
	Seq       int64  `json:"seq"`
	AgentID   string `json:"agentId"`
	Role      string `json:"role"`
	Type      string `json:"type"`
	Timestamp string `json:"timestamp"`
	Project   string `json:"project"`
	Title     string `json:"title"`
	URL       string `json:"url"`
	Snippet   []struct {
		Text  string `json:"text"`
		Match bool   `json:"match"`
	} `json:"snippet"`
}

func searchJSON(t *testing.T, body string) searchAnswer {
	t.Helper()
	var a searchAnswer
	if err := json.Unmarshal([]byte(body), &a); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return a
}

func TestSearchPage(t *testing.T) {
	ts := newServer(t)
	code, body, _ := get(t, ts, "/search?q="+url.QueryEscape("config"))
	if code != 200 {
		t.Fatalf("GET /search?q=config: %d\n%s", code, body)
	}
	inert(t, "search config", body)
	for _, want := range []string{
		`<mark>config</mark>`,
		`href="/sessions/` + sessApp + `#m-12"`, // the best hit: a Bash call running the config tests
		`Hits 1–15 of 15`,
		`value="config"`, // the query stays in the box
	} {
		if !strings.Contains(body, want) {
			t.Errorf("search page lacks %s", want)
		}
	}
	if n := strings.Count(body, `class="hit"`); n != 15 {
		t.Errorf("%d hits shown, want 15", n)
	}

	// A hit in a subagent links to the message inside its agent's thread.
	_, body, _ = get(t, ts, "/search?q=callers")
	if !regexp.MustCompile(`href="/sessions/` + sessApp + `#m-a1b2c3-\d+"`).MatchString(body) {
		t.Errorf("a hit in subagent a1b2c3 does not link into its thread:\n%s", body)
	}

	// The header's search box is on every page.
	for _, p := range []string{"/sessions", "/sessions/" + sessApp, "/search", "/no/such/page"} {
		_, body, _ := get(t, ts, p)
		if !strings.Contains(body, `id="search-box"`) || !strings.Contains(body, `src="/static/app.js"`) {
			t.Errorf("%s has no search box", p)
		}
	}
}

func TestSearchQueries(t *testing.T) {
	ts := newServer(t)
	for _, tc := range []struct {
		q, filters string
		total      int64
	}{
		{`"the test"`, "", 1},                       // a phrase
		{`"test the"`, "", 0},                       // not in that order
		{"confi*", "", 17},                          // a prefix: config and configuration
		{"confi", "", 0},                            // words are whole
		{"config -loader", "", 14},                  // an excluded word
		{"config", "&role=user", 9},                 // filters (tool results are the user's)
		{"config", "&tool=Bash", 2},                 // the call and its result
		{"config", "&role=assistant&tool=Bash", 1},  //
		{"config", "&project=other", 0},             //
		{"config", "&since=2026-02-11", 5},          //
		{"config", "&until=2026-02-09", 0},          //
		{"config", "&session=" + sessApp, 15},       //
		{"the", "&project=tools&role=assistant", 4}, //
	} {
		code, body, _ := get(t, ts, "/api/search?q="+url.QueryEscape(tc.q)+tc.filters)
		if code != 200 {
			t.Errorf("search %s%s: %d %s", tc.q, tc.filters, code, body)
			continue
		}
		a := searchJSON(t, body)
		if a.Total != tc.total {
			t.Errorf("search %s%s: %d hits, want %d", tc.q, tc.filters, a.Total, tc.total)
		}
		for _, h := range a.Hits {
			want := "/sessions/" + h.SessionID + "#m-"
			if h.AgentID != "" {
				want += h.AgentID + "-"
			}
			if !strings.HasPrefix(h.URL, want) || !strings.HasSuffix(h.URL, "-"+itoa64(h.Seq)) && !strings.HasSuffix(h.URL, "m-"+itoa64(h.Seq)) {
				t.Errorf("hit %s#%d links to %s", h.SessionID, h.Seq, h.URL)
			}
		}
	}
	// Pages of hits: the API pages by limit and offset, the page by offset.
	all := searchJSON(t, must200(t, ts, "/api/search?q=config&limit=200"))
	var paged []string
	for off := 0; off < 15; off += 4 {
		a := searchJSON(t, must200(t, ts, "/api/search?q=config&limit=4&offset="+itoa64(int64(off))))
		if a.Total != 15 || a.Limit != 4 || a.Offset != off {
			t.Errorf("offset %d: total %d limit %d offset %d", off, a.Total, a.Limit, a.Offset)
		}
		for _, h := range a.Hits {
			paged = append(paged, h.UUID)
		}
	}
	var whole []string
	for _, h := range all.Hits {
		whole = append(whole, h.UUID)
	}
	if strings.Join(paged, ",") != strings.Join(whole, ",") {
		t.Errorf("pages of 4 give %v,\nthe whole list %v", paged, whole)
	}
	body := must200(t, ts, "/search?q=the&offset=20")
	if !strings.Contains(body, "Hits 21–28 of 28") || !strings.Contains(body, `rel="prev" href="/search?offset=0&amp;q=the"`) ||
		strings.Contains(body, `rel="next"`) {
		t.Errorf("the second page of 28 hits is not 21–28 with a link back")
	}
	body = must200(t, ts, "/search?q=the")
	if !strings.Contains(body, `rel="next" href="/search?offset=20&amp;q=the"`) || strings.Contains(body, `rel="prev"`) {
		t.Errorf("the first page of 28 hits has no link to the next")
	}
}

func TestSearchBadInput(t *testing.T) {
	ts := newServer(t)
	for _, tc := range []struct {
		path string
		code int
		msg  string
	}{
		{"/search?q=" + url.QueryEscape(`"unclosed`), 400, "a quote is not closed"},
		{"/search?q=" + url.QueryEscape(`-only`), 400, "only excluded terms"},
		{"/search?q=" + url.QueryEscape(`*`), 400, "a * must follow a word"},
		{"/search?q=x&role=robot", 400, "role=&#34;robot&#34;"},
		{"/search?q=x&since=yesterday", 400, "want a date"},
		{"/search?q=x&since=2026-02-10&until=2026-02-01", 400, "is after"},
		{"/search?q=config&offset=-1", 400, "offset"},
		{"/search?q=config&offset=500", 404, "the search has 15 hits"},
		{"/api/search", 400, "say what to search for"},
		{"/api/search?q=" + url.QueryEscape(`"unclosed`), 400, "a quote is not closed"},
		{"/api/search?q=x&limit=1000", 400, "at most 200"},
		{"/api/search?q=x&role=robot", 400, "want user, assistant, system"},
	} {
		code, body, _ := get(t, ts, tc.path)
		if code != tc.code || !strings.Contains(body, tc.msg) {
			t.Errorf("GET %s: %d, want %d with %q\n%s", tc.path, code, tc.code, tc.msg, body)
		}
	}
	// The form stays, with the query, so that it can be mended.
	_, body, _ := get(t, ts, "/search?q="+url.QueryEscape(`"unclosed`))
	if !strings.Contains(body, `value="&#34;unclosed"`) || !strings.Contains(body, `role="alert"`) {
		t.Errorf("a malformed query's page lacks the form or the message:\n%s", body)
	}
	// An empty query is the form and how to search.
	body = must200(t, ts, "/search")
	if !strings.Contains(body, "Search every message") {
		t.Errorf("/search without a query lacks its help")
	}
}

// Hits in a transcript's hostile text are shown as text.
func TestSearchHitsAreInert(t *testing.T) {
	ts := newServer(t)
	for _, q := range []string{"script", "alert", "onerror", "javascript", "iframe"} {
		body := must200(t, ts, "/search?q="+q)
		inert(t, "search "+q, body)
		if !strings.Contains(body, `class="hit"`) {
			t.Errorf("search %s found nothing in the hostile fixture", q)
		}
	}
}

func must200(t *testing.T, ts *httptest.Server, path string) string {
	t.Helper()
	code, body, _ := get(t, ts, path)
	if code != 200 {
		t.Fatalf("GET %s: %d\n%s", path, code, body)
	}
	return body
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// Both drivers find the same hits with the same snippets and links; only
// the ranking of equally good hits may differ (BM25 against ts_rank).
func TestSearchSameOnBothDrivers(t *testing.T) {
	lite, pg := openSQLite(t), openPostgres(t)
	importTrees(t, lite, trees...)
	importTrees(t, pg, trees...)
	a, b := serve(t, lite), serve(t, pg)
	for _, q := range []string{"q=config", "q=callers", "q=the&role=assistant", `q="the+test"`, "q=confi*&tool=Bash",
		"q=config+-loader&project=app", "q=script", "q=the&since=2026-02-11&until=2026-02-12"} {
		path := "/api/search?limit=200&" + q
		x, y := searchJSON(t, must200(t, a, path)), searchJSON(t, must200(t, b, path))
		if x.Total == 0 {
			t.Errorf("%s finds nothing", path)
		}
		byUUID := func(s *searchAnswer) string {
			slices.SortFunc(s.Hits, func(p, q searchHit) int { return strings.Compare(p.UUID, q.UUID) })
			j, _ := json.Marshal(s)
			return string(j)
		}
		if sx, sy := byUUID(&x), byUUID(&y); sx != sy {
			t.Errorf("GET %s: SQLite and PostgreSQL differ from byte %d:\n%s\n%s", path, firstDiff(sx, sy), sx, sy)
		}
	}
}

// Every hit's link names an element of its replay (or a message the replay
// maps to another of its pages): prompts, replies, tool results shown with
// their calls, subagents' messages.
func TestSearchHitsLandOnTheirMessage(t *testing.T) {
	ts := newServer(t)
	checked := 0
	for _, q := range []string{"config", "the", "callers", "script", "Bash", "error", "test*"} {
		a := searchJSON(t, must200(t, ts, "/api/search?limit=200&q="+url.QueryEscape(q)))
		for _, h := range a.Hits {
			path, id, _ := strings.Cut(h.URL, "#")
			page := must200(t, ts, path)
			if !strings.Contains(page, `id="`+id+`"`) && !strings.Contains(page, `"`+id+`":`) {
				t.Errorf("%s: the replay has no message %s", h.URL, id)
			}
			checked++
		}
	}
	if checked < 50 {
		t.Errorf("only %d hits checked", checked)
	}
}
