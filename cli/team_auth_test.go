package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/claude-insights/insights/store"
)

// sessionLines is a small transcript of one session.
func sessionLines(session, word string) []byte {
	var b bytes.Buffer
	for i, role := range []string{"user", "assistant"} {
		fmt.Fprintf(&b, `{"type":%q,"uuid":"%s-%d","sessionId":%q,"cwd":"/src/%s","timestamp":"2026-03-0%dT10:00:00Z","message":{"role":%q,"model":"claude-sonnet-4-5","id":"msg-%s-%d","content":[{"type":"text","text":"%s number %d"}],"usage":{"input_tokens":10,"output_tokens":20}},"requestId":"req-%s-%d"}`+"\n",
			role, session, i, session, word, i+1, role, session, i, word, i, session, i)
	}
	return b.Bytes()
}

// Every route answers each kind of caller as it should: no key, an
// unknown key and a revoked key get 401; a member reads their own sessions
// and the team's aggregates, not another member's sessions; an admin reads
// everything. Every route is in the OpenAPI document, and only those.
func TestTeamAuthorizationMatrix(t *testing.T) {
	isolate(t)
	ts := startTeam(t, teamDSN(t), nil)
	ann, annKey := ts.newUser(t, "ann", false, store.ShareFull)
	_, bobKey := ts.newUser(t, "bob", false, store.ShareFull)
	_, rootKey := ts.newUser(t, "root", true, store.ShareFull)
	_, cyKey := ts.newUser(t, "cy", false, store.ShareFull)
	if _, err := ts.DB.Revoke(context.Background(), "cy"); err != nil {
		t.Fatal(err)
	}
	wrongKey, _, _ := store.NewAPIKey()

	up := &uploader{base: ts.URL, key: annKey}
	if code, ans, err := up.send("f1", "projects/-src-a/ann-1.jsonl", 0, sessionLines("ann-1", "zebra")); err != nil || code != 200 {
		t.Fatalf("ann's upload: %d %+v %v", code, ans, err)
	}
	up.key = bobKey
	if code, ans, err := up.send("f1", "projects/-src-b/bob-1.jsonl", 0, sessionLines("bob-1", "yak")); err != nil || code != 200 {
		t.Fatalf("bob's upload: %d %+v %v", code, ans, err)
	}

	type caller struct{ name, key string }
	callers := []caller{{"no key", ""}, {"wrong key", wrongKey}, {"revoked key", cyKey},
		{"member", annKey}, {"other member", bobKey}, {"admin", rootKey}}
	const ok, unauth, forbid = 200, 401, 403
	open := []int{ok, ok, ok, ok, ok, ok}
	member := []int{unauth, unauth, unauth, ok, ok, ok}
	own := []int{unauth, unauth, unauth, ok, forbid, ok}
	admin := []int{unauth, unauth, unauth, forbid, forbid, ok}
	// An upload naming ann's session is refused to anyone else.
	ownUpload := []int{unauth, unauth, unauth, ok, forbid, forbid}
	n := 0
	cases := []struct {
		method, route, path string
		body                func() []byte
		want                []int
	}{
		{"GET", "/healthz", "/healthz", nil, open},
		{"GET", "/readyz", "/readyz", nil, open},
		{"GET", "/metrics", "/metrics", nil, open},
		{"GET", "/api/v1/openapi.json", "/api/v1/openapi.json", nil, open},
		{"POST", "/api/v1/uploads", "", func() []byte { n++; return sessionLines(fmt.Sprintf("new-%d", n), "new") }, member},
		{"POST", "/api/v1/uploads", "", func() []byte { return sessionLines("ann-1", "zebra") }, ownUpload},
		{"GET", "/api/v1/sessions", "/api/v1/sessions", nil, member},
		{"GET", "/api/v1/sessions/{id}", "/api/v1/sessions/ann-1", nil, own},
		{"GET", "/api/v1/sessions/{id}/messages", "/api/v1/sessions/ann-1/messages", nil, own},
		{"GET", "/api/v1/search", "/api/v1/search?q=zebra", nil, member},
		{"GET", "/api/v1/usage", "/api/v1/usage", nil, member},
		{"GET", "/api/v1/me", "/api/v1/me", nil, member},
		{"GET", "/api/v1/team/stats", "/api/v1/team/stats", nil, member},
		{"GET", "/api/v1/users", "/api/v1/users", nil, admin},
	}
	routes := map[string]bool{}
	for _, c := range cases {
		routes[c.route] = true
		for i, who := range callers {
			var code int
			if c.body != nil {
				u := &uploader{base: ts.URL, key: who.key}
				var ans uploadAnswer
				var err error
				code, ans, err = u.send(fmt.Sprintf("f-%s-%d", strings.ReplaceAll(who.name, " ", "-"), n), fmt.Sprintf("projects/-x/%d.jsonl", n), 0, c.body())
				if err != nil {
					t.Fatal(err)
				}
				if code >= 400 && ans.Error == "" {
					t.Errorf("%s %s as %s: %d without a message", c.method, c.route, who.name, code)
				}
			} else {
				code = call(t, c.method, ts.URL+c.path, who.key, nil, nil)
			}
			if code != c.want[i] {
				t.Errorf("%s %s as %s: %d, want %d", c.method, c.path, who.name, code, c.want[i])
			}
		}
	}

	var doc struct {
		Servers []struct{ URL string }    `json:"servers"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	call(t, "GET", ts.URL+"/api/v1/openapi.json", "", nil, &doc)
	if len(doc.Servers) != 1 || doc.Servers[0].URL != ts.URL {
		t.Errorf("OpenAPI servers = %+v, want %s", doc.Servers, ts.URL)
	}
	var documented, served []string
	for p, ops := range doc.Paths {
		for m := range ops {
			documented = append(documented, strings.ToUpper(m)+" "+p)
		}
	}
	for _, c := range cases {
		if !slices.Contains(served, c.method+" "+c.route) {
			served = append(served, c.method+" "+c.route)
		}
	}
	slices.Sort(documented)
	slices.Sort(served)
	if !slices.Equal(documented, served) {
		t.Errorf("OpenAPI paths\n%v\nroutes tested\n%v", documented, served)
	}

	// What each reads: a member only their own sessions and words.
	var list struct {
		Total    int64 `json:"total"`
		Sessions []struct {
			ID string `json:"id"`
		} `json:"sessions"`
	}
	call(t, "GET", ts.URL+"/api/v1/sessions", annKey, nil, &list)
	for _, s := range list.Sessions {
		if !strings.HasPrefix(s.ID, "ann-") && !strings.HasPrefix(s.ID, "new-") {
			t.Errorf("ann lists %s", s.ID)
		}
	}
	var all struct{ Total int64 }
	call(t, "GET", ts.URL+"/api/v1/sessions", rootKey, nil, &all)
	if all.Total <= list.Total || list.Total == 0 {
		t.Errorf("ann lists %d sessions, the admin %d", list.Total, all.Total)
	}
	var hits struct{ Total int64 }
	if call(t, "GET", ts.URL+"/api/v1/search?q=zebra", bobKey, nil, &hits); hits.Total != 0 {
		t.Errorf("bob finds %d of ann's messages", hits.Total)
	}
	if call(t, "GET", ts.URL+"/api/v1/search?q=zebra", rootKey, nil, &hits); hits.Total != 2 {
		t.Errorf("the admin finds %d of ann's messages, want 2", hits.Total)
	}
	var me struct {
		Name, Role, ShareLevel, KeyPrefix string
	}
	if call(t, "GET", ts.URL+"/api/v1/me", annKey, nil, &me); me.Name != "ann" || me.Role != "member" ||
		me.ShareLevel != "full" || me.KeyPrefix != ann.KeyPrefix {
		t.Errorf("ann's /me = %+v", me)
	}
	var usage struct {
		Totals struct {
			Input int64 `json:"inputTokens"`
		} `json:"totals"`
	}
	call(t, "GET", ts.URL+"/api/v1/usage", bobKey, nil, &usage)
	if usage.Totals.Input != 20 {
		t.Errorf("bob's usage: %d input tokens, want his 20", usage.Totals.Input)
	}
	var stats struct {
		Totals struct {
			Users int `json:"activeUsers"`
		} `json:"totals"`
		Users []json.RawMessage `json:"users"`
	}
	if call(t, "GET", ts.URL+"/api/v1/team/stats", bobKey, nil, &stats); stats.Totals.Users != 3 || stats.Users != nil {
		t.Errorf("bob's team stats: %d users, per-user list %v", stats.Totals.Users, stats.Users)
	}
	if call(t, "GET", ts.URL+"/api/v1/team/stats", rootKey, nil, &stats); len(stats.Users) != 3 {
		t.Errorf("the admin's team stats list %d users, want 3", len(stats.Users))
	}
	res, err := http.Get(ts.URL + "/api/v1/me")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Header.Get("WWW-Authenticate") == "" {
		t.Error("a 401 without WWW-Authenticate")
	}
}

// The server keeps of each user's uploads what their share level says:
// none keeps usage numbers only, metadata no message text, full
// everything; usage and the aggregates count the same for all three.
func TestTeamShareLevels(t *testing.T) {
	isolate(t)
	ts := startTeam(t, teamDSN(t), nil)
	_, root := ts.newUser(t, "root", true, store.ShareFull)
	for _, level := range []store.ShareLevel{store.ShareNone, store.ShareMetadata, store.ShareFull} {
		u, key := ts.newUser(t, "u-"+string(level), false, level)
		id := "s-" + string(level)
		up := &uploader{base: ts.URL, key: key}
		if code, ans, err := up.send("f", "projects/-src-secret/"+id+".jsonl", 0, sessionLines(id, "platypus")); err != nil || code != 200 {
			t.Fatalf("%s: %d %+v %v", level, code, ans, err)
		}
		s, err := ts.DB.Session(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		ms, err := ts.DB.Messages(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		var text string
		for _, m := range ms {
			text += m.Text + string(m.Content)
		}
		var hits struct{ Total int64 }
		call(t, "GET", ts.URL+"/api/v1/search?q=platypus&session="+id, root, nil, &hits)
		var usage struct {
			Totals struct {
				Output int64 `json:"outputTokens"`
			} `json:"totals"`
		}
		call(t, "GET", ts.URL+"/api/v1/usage", key, nil, &usage)
		days, _ := dailyStatDays(t, ts.DB, u.ID)
		got := fmt.Sprintf("messages %d, text %t, project %q, hits %d, output %d, days %d", len(ms),
			strings.Contains(text, "platypus"), s.Project, hits.Total, usage.Totals.Output, len(days))
		want := map[store.ShareLevel]string{
			store.ShareNone:     `messages 0, text false, project "", hits 0, output 20, days 1`,
			store.ShareMetadata: `messages 2, text false, project "/src/platypus", hits 0, output 20, days 1`,
			store.ShareFull:     `messages 2, text true, project "/src/platypus", hits 2, output 20, days 1`,
		}[level]
		if got != want {
			t.Errorf("%s keeps %s\nwant %s", level, got, want)
		}
	}
}

// user= narrows what an admin reads to one user; a member may name only
// themselves.
func TestTeamUserParameter(t *testing.T) {
	isolate(t)
	ts := startTeam(t, teamDSN(t), nil)
	_, ann := ts.newUser(t, "ann", false, store.ShareFull)
	_, bob := ts.newUser(t, "bob", false, store.ShareFull)
	_, root := ts.newUser(t, "root", true, store.ShareFull)
	for _, u := range []struct{ key, session string }{{ann, "a1"}, {ann, "a2"}, {bob, "b1"}} {
		up := &uploader{base: ts.URL, key: u.key}
		if code, _, err := up.send(u.session, "projects/-p/"+u.session+".jsonl", 0, sessionLines(u.session, "w")); err != nil || code != 200 {
			t.Fatalf("upload %s: %d %v", u.session, code, err)
		}
	}
	type answer struct {
		Total  int64 `json:"total"`
		Totals struct {
			Sessions int64 `json:"sessions"`
		} `json:"totals"`
	}
	for _, c := range []struct {
		key, query string
		code       int
		total      int64
	}{
		{root, "/api/v1/sessions", 200, 3},
		{root, "/api/v1/sessions?user=ann", 200, 2},
		{root, "/api/v1/sessions?user=bob", 200, 1},
		{root, "/api/v1/sessions?user=zed", 404, 0},
		{ann, "/api/v1/sessions?user=ann", 200, 2},
		{ann, "/api/v1/sessions?user=bob", 403, 0},
		{root, "/api/v1/search?q=w&user=bob", 200, 2},
		// Each session is active on two days, and the totals add up days.
		{ann, "/api/v1/team/stats", 200, 6},
		{ann, "/api/v1/team/stats?user=ann", 200, 4},
		{root, "/api/v1/team/stats?user=bob", 200, 2},
		{bob, "/api/v1/team/stats?user=ann", 403, 0},
	} {
		var a answer
		code := call(t, "GET", ts.URL+c.query, c.key, nil, &a)
		got := a.Total + a.Totals.Sessions
		if code != c.code || got != c.total {
			t.Errorf("%s: %d with %d, want %d with %d", c.query, code, got, c.code, c.total)
		}
	}
}
