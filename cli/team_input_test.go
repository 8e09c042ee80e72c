package cli

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/claude-insights/insights/config"
	"github.com/claude-insights/insights/store"
)

// Bad requests get a 4xx with a message saying what was wrong, never a
// 500; a broken line is skipped and counted, and the rest of its upload
// lands.
func TestTeamBadInput(t *testing.T) {
	isolate(t)
	ts := startTeam(t, teamDSN(t), func(c *config.Team) { c.MaxUploadMB = 1 })
	_, key := ts.newUser(t, "ann", false, store.ShareFull)
	good := sessionLines("s1", "hello")
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	zw.Write(bytes.Repeat([]byte(" "), 3<<20))
	zw.Close()
	big := bytes.Repeat(append(bytes.Repeat([]byte("x"), 1023), '\n'), 1100)

	cases := []struct {
		name, method, query string
		body                []byte
		header              []string
		code                int
		msg                 string
	}{
		{"no offset", "POST", "/api/v1/uploads?file=f&path=projects/a.jsonl", good, nil, 400, "offset="},
		{"negative offset", "POST", "/api/v1/uploads?file=f&path=projects/a.jsonl&offset=-1", good, nil, 400, "offset="},
		{"no file id", "POST", "/api/v1/uploads?path=projects/a.jsonl&offset=0", good, nil, 400, "file="},
		{"file id with a slash", "POST", "/api/v1/uploads?file=a/b&path=projects/a.jsonl&offset=0", good, nil, 400, "file="},
		{"no path", "POST", "/api/v1/uploads?file=f&offset=0", good, nil, 400, "path="},
		{"path out of the directory", "POST", "/api/v1/uploads?file=f&path=../a.jsonl&offset=0", good, nil, 400, "path="},
		{"absolute path", "POST", "/api/v1/uploads?file=f&path=/etc/a.jsonl&offset=0", good, nil, 400, "path="},
		{"not a transcript", "POST", "/api/v1/uploads?file=f&path=projects/a.txt&offset=0", good, nil, 400, "only transcripts"},
		{"not gzip", "POST", "/api/v1/uploads?file=f&path=projects/a.jsonl&offset=0", good, []string{"Content-Encoding", "gzip"}, 400, "not gzip"},
		{"unknown encoding", "POST", "/api/v1/uploads?file=f&path=projects/a.jsonl&offset=0", good, []string{"Content-Encoding", "br"}, 415, "send gzip"},
		{"too large", "POST", "/api/v1/uploads?file=f&path=projects/a.jsonl&offset=0", big, nil, 413, "at most 1 MiB"},
		{"too large once decompressed", "POST", "/api/v1/uploads?file=f&path=projects/a.jsonl&offset=0", bomb.Bytes(), []string{"Content-Encoding", "gzip"}, 413, "decompressed"},
		{"bad end", "POST", "/api/v1/uploads?file=f&path=projects/a.jsonl&offset=0&end=x", good, nil, 400, "end="},
		{"end before offset", "POST", "/api/v1/uploads?file=f&path=projects/a.jsonl&offset=10&end=10", good, nil, 400, "want more than offset"},
		{"end with a cut line", "POST", "/api/v1/uploads?file=f&path=projects/a.jsonl&offset=0&end=50", []byte(`{"type":"user"`), nil, 400, "end with a newline"},
		{"uploads read", "GET", "/api/v1/uploads", nil, nil, 405, "not allowed"},
		{"sessions written", "POST", "/api/v1/sessions", nil, nil, 405, "not allowed"},
		{"no such route", "GET", "/api/v1/nothing", nil, nil, 404, "openapi.json"},
		{"no such session", "GET", "/api/v1/sessions/nope", nil, nil, 404, "no session nope"},
		{"bad limit", "GET", "/api/v1/sessions?limit=lots", nil, nil, 400, "limit="},
		{"limit too large", "GET", "/api/v1/sessions/s1/messages?limit=99999", nil, nil, 400, "at most"},
		{"bad sort", "GET", "/api/v1/sessions?sort=mood", nil, nil, 400, "sort"},
		{"search without words", "GET", "/api/v1/search", nil, nil, 400, "q:"},
		{"search that cannot be read", "GET", "/api/v1/search?q=%22open", nil, nil, 400, ""},
		{"bad period", "GET", "/api/v1/usage?period=decade", nil, nil, 400, "period="},
		{"bad zone", "GET", "/api/v1/usage?tz=Mars/Olympus", nil, nil, 400, "tz="},
		{"bad day", "GET", "/api/v1/team/stats?since=yesterday", nil, nil, 400, "since="},
		{"days reversed", "GET", "/api/v1/team/stats?since=2026-02-01&until=2026-01-01", nil, nil, 400, "before"},
		{"not a bearer", "GET", "/api/v1/me", nil, []string{"Authorization", "Basic YTpi"}, 401, "Bearer"},
	}
	for _, c := range cases {
		req, err := http.NewRequest(c.method, ts.URL+c.query, bytes.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+key)
		for i := 0; i+1 < len(c.header); i += 2 {
			req.Header.Set(c.header[i], c.header[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != c.code || !strings.Contains(string(b), `"error":`) || !strings.Contains(string(b), c.msg) {
			t.Errorf("%s: %d %s, want %d with %q", c.name, res.StatusCode, b, c.code, c.msg)
		}
	}

	// A broken line among good ones: skipped, counted, the rest lands.
	body := append(append([]byte(nil), good[:bytes.IndexByte(good, '\n')+1]...), []byte("{not json\n")...)
	body = append(body, good[bytes.IndexByte(good, '\n')+1:]...)
	u := &uploader{base: ts.URL, key: key}
	code, ans, err := u.send("f", "projects/a.jsonl", 0, body)
	if err != nil || code != 200 || ans.Skipped != 1 || ans.Lines != 3 || ans.Offset != int64(len(body)) ||
		len(ans.Errors) != 1 || !strings.Contains(ans.Errors[0], "line 2") {
		t.Fatalf("an upload with a broken line: %d %+v %v", code, ans, err)
	}
	var s struct{ Messages int64 }
	if call(t, "GET", ts.URL+"/api/v1/sessions/s1", key, nil, &s); s.Messages != 2 {
		t.Errorf("messages around the broken line = %d, want 2", s.Messages)
	}
	// An unfinished last line waits for the rest of it.
	more := sessionLines("s2", "later")
	code, ans, _ = u.send("f", "projects/a.jsonl", int64(len(body)), more[:len(more)-20])
	cut := int64(len(body) + bytes.IndexByte(more, '\n') + 1)
	if code != 200 || ans.Offset != cut || ans.Lines != 1 {
		t.Errorf("a range ending inside a line: %d %+v, want offset %d", code, ans, cut)
	}

	// The metrics count what happened.
	res, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{
		`insights_http_requests_total{code="413",method="POST",route="/api/v1/uploads"} 2`,
		`insights_http_requests_total{code="404",method="GET",route="/api/v1/sessions/{id}"} 1`,
		`insights_uploads_total{result="stored"} 2`,
		`insights_uploads_total{result="rejected"} 15`,
		`insights_upload_skipped_lines_total 1`,
		`insights_http_request_duration_seconds_bucket{route="/api/v1/me",le="+Inf"} 1`,
		`insights_http_server_errors_total 0`,
	} {
		if !strings.Contains(string(m), want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// Readiness follows the database; health, the process.
	if code := call(t, "GET", ts.URL+"/readyz", "", nil, nil); code != 200 {
		t.Errorf("readyz = %d", code)
	}
	ts.DB.Close()
	if code := call(t, "GET", ts.URL+"/readyz", "", nil, nil); code != http.StatusServiceUnavailable {
		t.Errorf("readyz without a database = %d, want 503", code)
	}
	if code := call(t, "GET", ts.URL+"/healthz", "", nil, nil); code != 200 {
		t.Errorf("healthz without a database = %d, want 200", code)
	}
}

// Past a key's rate limit, requests get 429 with Retry-After; another
// key is not slowed.
func TestTeamRateLimit(t *testing.T) {
	isolate(t)
	ts := startTeam(t, teamDSN(t), func(c *config.Team) { c.RateLimit, c.RateBurst = 0.5, 3 })
	_, ann := ts.newUser(t, "ann", false, store.ShareFull)
	_, bob := ts.newUser(t, "bob", false, store.ShareFull)
	for i := range 3 {
		if code := call(t, "GET", ts.URL+"/api/v1/me", ann, nil, nil); code != 200 {
			t.Fatalf("request %d: %d", i+1, code)
		}
	}
	res, err := http.NewRequest("GET", ts.URL+"/api/v1/me", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Header.Set("Authorization", "Bearer "+ann)
	r, err := http.DefaultClient.Do(res)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" || !strings.Contains(string(b), "too many requests") {
		t.Errorf("4th request: %d, Retry-After %q, %s", r.StatusCode, r.Header.Get("Retry-After"), b)
	}
	if code := call(t, "GET", ts.URL+"/api/v1/me", bob, nil, nil); code != 200 {
		t.Errorf("bob after ann's limit: %d", code)
	}
}
