package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/claude-insights/insights/server"
)

// newLive serves the fixtures with a short heartbeat, and returns the server
// too, to notify it.
func newLive(t *testing.T) (*server.Server, *httptest.Server) {
	t.Helper()
	db := openSQLite(t)
	importTrees(t, db, trees...)
	s, err := server.New(db, server.Options{Heartbeat: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	t.Cleanup(s.Close) // first: Close of the test server waits for the streams
	return s, ts
}

// sse is one thing a stream sent: an event (Name, Data), a retry delay, or
// a comment (Comment set).
type sse struct {
	Name, Data, Retry string
	Comment           bool
}

// openStream reads an event stream into a channel, closed when it ends.
func openStream(t *testing.T, url string) (*http.Response, <-chan sse) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan sse, 100)
	go func() {
		defer close(ch)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		var ev sse
		for sc.Scan() {
			line := sc.Text()
			k, v, _ := strings.Cut(line, ":")
			v = strings.TrimPrefix(v, " ")
			switch {
			case line == "":
				if ev.Name != "" || ev.Data != "" {
					ch <- ev
				}
				ev = sse{}
			case k == "":
				ch <- sse{Comment: true}
			case k == "retry":
				ch <- sse{Retry: v}
			case k == "event":
				ev.Name = v
			case k == "data":
				ev.Data += v
			}
		}
	}()
	return res, ch
}

// nextEvent returns the next event of a stream, past comments; false when
// none came within the time or the stream ended.
func nextEvent(ch <-chan sse, within time.Duration) (sse, bool) {
	deadline := time.After(within)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				return ev, false
			}
			if !ev.Comment && ev.Retry == "" {
				return ev, true
			}
		case <-deadline:
			return sse{}, false
		}
	}
}

type changed struct {
	ID       string     `json:"id"`
	Messages int64      `json:"messages"`
	LastAt   *time.Time `json:"lastAt"`
}

func decodeChanged(t *testing.T, ev sse) changed {
	t.Helper()
	var c changed
	if ev.Name != "session" {
		t.Fatalf("event %q, want session", ev.Name)
	}
	if err := json.Unmarshal([]byte(ev.Data), &c); err != nil {
		t.Fatalf("event data %q: %v", ev.Data, err)
	}
	return c
}

func TestLiveSessionEvents(t *testing.T) {
	s, ts := newLive(t)

	res, one := openStream(t, ts.URL+"/api/sessions/"+sessApp+"/events")
	if ct, cc := res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"); res.StatusCode != 200 || ct != "text/event-stream" || cc != "no-store" {
		t.Fatalf("status %d, Content-Type %q, Cache-Control %q", res.StatusCode, ct, cc)
	}
	if !res.Close {
		t.Errorf("Connection %q: a stream's connection is not kept for another request", res.Header.Get("Connection"))
	}
	if ev := <-one; ev.Retry != "1000" {
		t.Errorf("first line %+v, want retry: 1000", ev)
	}
	// The stream starts with the session as it is.
	ev, ok := nextEvent(one, 2*time.Second)
	if !ok {
		t.Fatal("no first event")
	}
	if c := decodeChanged(t, ev); c.ID != sessApp || c.Messages == 0 || c.LastAt == nil {
		t.Errorf("first event %+v, want the session's state", c)
	}

	// Another session's change is not sent; heartbeats are.
	s.Notify(sessTools)
	beats := 0
	for beats < 3 {
		select {
		case ev := <-one:
			if !ev.Comment {
				t.Fatalf("got %+v after another session changed, want heartbeats only", ev)
			}
			beats++
		case <-time.After(2 * time.Second):
			t.Fatalf("%d heartbeats in 2 s, want one every 50 ms", beats)
		}
	}

	_, all := openStream(t, ts.URL+"/api/events")
	<-all // retry
	// Notify never waits for a client, however many changes it is told.
	start := time.Now()
	for range 10000 {
		s.Notify(sessTools, sessApp)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("10000 notifications took %s", took)
	}
	if ev, ok := nextEvent(one, 2*time.Second); !ok || decodeChanged(t, ev).ID != sessApp {
		t.Errorf("after the session changed: %+v, %v; want its event", ev, ok)
	}
	seen := map[string]bool{}
	for len(seen) < 2 {
		ev, ok := nextEvent(all, 2*time.Second)
		if !ok {
			t.Fatalf("the stream of every session sent %v, want both sessions", seen)
		}
		seen[decodeChanged(t, ev).ID] = true
	}
	if !seen[sessApp] || !seen[sessTools] {
		t.Errorf("the stream of every session sent %v", seen)
	}

	// Closing the server ends every stream; a new one ends at once.
	s.Close()
	for name, ch := range map[string]<-chan sse{"session": one, "all": all} {
		deadline := time.After(2 * time.Second)
	drain:
		for {
			select {
			case _, ok := <-ch:
				if !ok {
					break drain
				}
			case <-deadline:
				t.Fatalf("the %s stream did not end when the server closed", name)
			}
		}
	}
	code, body, _ := get(t, ts, "/api/events")
	if code != 200 || strings.TrimSpace(body) != "retry: 1000" {
		t.Errorf("a stream after Close: %d %q, want only the retry line", code, body)
	}
}

func TestLiveEventsUnknownSession(t *testing.T) {
	_, ts := newLive(t)
	code, body, h := get(t, ts, "/api/sessions/no-such-session/events")
	if code != 404 || h.Get("Content-Type") != "application/json" || !strings.Contains(body, `"error"`) {
		t.Errorf("unknown session: %d %s %q", code, h.Get("Content-Type"), body)
	}
}

var (
	lastSeqAttr = regexp.MustCompile(`data-last-seq="(\d+)"`)
	mainStep    = regexp.MustCompile(`<li class="step k-\w+" id="m-(\d+)"`)
)

func stepSeqs(t *testing.T, html string) []int {
	t.Helper()
	var seqs []int
	for _, m := range mainStep.FindAllStringSubmatch(html, -1) {
		n, _ := strconv.Atoi(m[1])
		seqs = append(seqs, n)
	}
	return seqs
}

func TestReplayStepsAfter(t *testing.T) {
	_, ts := newLive(t)
	_, html, _ := get(t, ts, "/sessions/"+sessApp)
	m := lastSeqAttr.FindStringSubmatch(html)
	if m == nil {
		t.Fatal("the replay has no data-last-seq")
	}
	last, _ := strconv.Atoi(m[1])
	all := stepSeqs(t, html)
	if len(all) < 4 || last < all[len(all)-1] {
		t.Fatalf("replay steps %v, last seq %d", all, last)
	}

	steps := func(after string) (string, http.Header) {
		t.Helper()
		code, body, h := get(t, ts, "/sessions/"+sessApp+"/steps?after="+after)
		if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
			t.Fatalf("after=%s: %d %s %s", after, code, h.Get("Content-Type"), body)
		}
		return body, h
	}
	if body, h := steps("0"); !slices.Equal(stepSeqs(t, body), all) || strings.Contains(body, "<html") {
		t.Errorf("after=0 gives steps %v, want the page's %v as a fragment", stepSeqs(t, body), all)
	} else if h.Get("X-Last-Seq") != m[1] {
		t.Errorf("X-Last-Seq = %q, want %s", h.Get("X-Last-Seq"), m[1])
	}
	if body, h := steps(m[1]); strings.TrimSpace(body) != "" || h.Get("X-Last-Seq") != m[1] {
		t.Errorf("after the last line: %q, X-Last-Seq %q; want nothing", body, h.Get("X-Last-Seq"))
	}
	mid := all[len(all)/2]
	body, h := steps(strconv.Itoa(mid))
	replaced := strings.Fields(h.Get("X-Replaced"))
	var later []int
	for _, n := range stepSeqs(t, body) {
		if n <= mid && !slices.Contains(replaced, "m-"+strconv.Itoa(n)) {
			t.Errorf("after=%d gives step %d, not named in X-Replaced %q", mid, n, replaced)
		}
		if n > mid {
			later = append(later, n)
		}
	}
	if want := all[len(all)/2+1:]; !slices.Equal(later, want) {
		t.Errorf("after=%d gives later steps %v, want %v", mid, later, want)
	}
	// The user's text is escaped as on the page.
	if strings.Contains(body, "<script") {
		t.Errorf("a fragment holds a script element")
	}

	// A call whose result came after the line asked from is sent again;
	// once its result is there, it is not.
	const call, result = 7, 8 // the fixture's Edit, then its result
	body, h = steps(strconv.Itoa(call))
	if !slices.Contains(strings.Fields(h.Get("X-Replaced")), "m-7") || !slices.Contains(stepSeqs(t, body), call) ||
		!strings.Contains(body, `id="m-8"`) {
		t.Errorf("after=%d: X-Replaced %q, steps %v; want the call m-7 again, with its result", call, h.Get("X-Replaced"), stepSeqs(t, body))
	}
	if body, h := steps(strconv.Itoa(result)); slices.Contains(strings.Fields(h.Get("X-Replaced")), "m-7") || slices.Contains(stepSeqs(t, body), call) {
		t.Errorf("after=%d: X-Replaced %q; want the call m-7 left alone", result, h.Get("X-Replaced"))
	}

	for _, bad := range []string{"x", "-1", "1.5"} {
		if code, body, _ := get(t, ts, "/sessions/"+sessApp+"/steps?after="+bad); code != 400 || !strings.Contains(body, "after") {
			t.Errorf("after=%s: %d %s, want 400 naming after", bad, code, body)
		}
	}
	if code, _, _ := get(t, ts, "/sessions/no-such-session/steps?after=1"); code != 404 {
		t.Errorf("steps of an unknown session: %d, want 404", code)
	}
}

// writeFresh writes a session whose records are a minute old into a new
// Claude directory, and returns the directory.
func writeFresh(t *testing.T, id string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "claude")
	proj := filepath.Join(dir, "projects", "-src-live")
	if err := os.MkdirAll(proj, 0o755); err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339Nano)
	lines := `{"parentUuid":null,"isSidechain":false,"userType":"external","cwd":"/src/live","sessionId":"` + id + `","version":"2.1.38","gitBranch":"main","type":"user","uuid":"11111111-0000-4000-8000-000000000001","timestamp":"` + at + `","message":{"role":"user","content":"Still being written"}}` + "\n" +
		`{"parentUuid":"11111111-0000-4000-8000-000000000001","isSidechain":false,"userType":"external","cwd":"/src/live","sessionId":"` + id + `","version":"2.1.38","gitBranch":"main","type":"assistant","uuid":"11111111-0000-4000-8000-000000000002","timestamp":"` + at + `","message":{"model":"claude-opus-4-6","id":"msg_live_1","type":"message","role":"assistant","content":[{"type":"text","text":"Working on it."}],"stop_reason":"end_turn","usage":{"input_tokens":5,"output_tokens":10}},"requestId":"req_live_1"}` + "\n"
	if err := os.WriteFile(filepath.Join(proj, id+".jsonl"), []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// The list marks a session written to in the last minutes as live, and
// only that one.
func TestSessionsListLiveMark(t *testing.T) {
	const fresh = "1f1f1f1f-2e2e-4d4d-8c8c-3b3b3b3b3b3b"
	db := openSQLite(t)
	importTrees(t, db, append(trees, writeFresh(t, fresh))...)
	ts := serve(t, db)
	code, body, _ := get(t, ts, "/sessions")
	if code != 200 {
		t.Fatalf("list: %d", code)
	}
	rows := strings.Split(body, `<tr class="session"`)[1:]
	if len(rows) != 6 {
		t.Fatalf("%d rows, want 6", len(rows))
	}
	for _, row := range rows {
		isFresh := strings.Contains(row, `href="/sessions/`+fresh+`"`)
		if marked := strings.Contains(row, `class="badge live"`); marked != isFresh {
			t.Errorf("row marked live: %v, want %v:\n%s", marked, isFresh, row)
		}
	}
	if !strings.Contains(body, `<script src="/static/live.js" defer></script>`) {
		t.Error("the list does not load live.js")
	}
}
