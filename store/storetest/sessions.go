package storetest

import (
	"context"
	"strings"
	"testing"

	"github.com/claude-insights/insights/store"
)

func listIDs(t *testing.T, db store.Driver, q store.SessionQuery) (string, int64) {
	t.Helper()
	l, err := db.Sessions(context.Background(), q)
	if err != nil {
		t.Fatalf("Sessions(%+v): %v", q, err)
	}
	ids := make([]string, len(l.Sessions))
	for i, s := range l.Sessions {
		ids[i] = s.ID
	}
	return strings.Join(ids, " "), l.Total
}

// sessionListFixture stores four sessions that differ in every way a list
// filters or sorts by.
func sessionListFixture(t *testing.T, db store.Driver) {
	a := session("a", at(9, 0), at(9, 30)) // 30 min, opus, tag go, a tool error
	b := session("b", at(10, 0), at(10, 5))
	b.Project, b.GitBranch = "/src/web", "feature/Login"
	c := session("c", at(11, 0), at(13, 0)) // the longest, an API error
	d := session("d", at(8, 0), at(8, 1))
	d.Project = "/other/app"
	apply(t, db, &store.Batch{
		Sessions: []store.Session{a, b, c, d},
		Messages: []store.Message{
			{UUID: "a1", SessionID: "a", Seq: 1, Type: "user", Role: "user", Text: "Fix the <parser>", IsPrompt: true, Timestamp: at(9, 0)},
			{UUID: "a2", SessionID: "a", Seq: 2, Type: "assistant", Role: "assistant", Timestamp: at(9, 1)},
			{UUID: "b1", SessionID: "b", Seq: 1, Type: "user", Role: "user", Text: "Add a login page", IsPrompt: true, Timestamp: at(10, 0)},
			{UUID: "c1", SessionID: "c", Seq: 1, Type: "user", Role: "user", Text: "Refactor", IsPrompt: true, Timestamp: at(11, 0)},
			{UUID: "c2", SessionID: "c", Seq: 2, Type: "assistant", Role: "assistant", IsAPIError: true, Model: "<synthetic>", Timestamp: at(11, 1)},
			{UUID: "c3", SessionID: "c", Seq: 3, Type: "user", Role: "user", Text: "again", IsPrompt: true, Timestamp: at(13, 0)},
		},
		Usage: []store.Usage{reply("ua", "a", at(9, 1), 500), reply("ub", "b", at(10, 1), 50),
			func() store.Usage { u := reply("ub2", "b", at(10, 2), 5); u.Model = "claude-haiku-4-5"; return u }(),
			reply("uc", "c", at(11, 2), 5000)},
		ToolUses:    []store.ToolUse{use("t1", "a", at(9, 1), "Bash", `{"command":"make"}`)},
		ToolResults: []store.ToolResult{func() store.ToolResult { r := result("t1", "a", at(9, 2), "fail"); r.IsError = true; return r }()},
		Tags:        []store.Tag{{SessionID: "a", Tag: "lang:go"}, {SessionID: "b", Tag: "lang:go"}, {SessionID: "b", Tag: "web"}},
	})
}

func testSessionList(t *testing.T, db store.Driver) {
	if ids, total := listIDs(t, db, store.SessionQuery{}); ids != "" || total != 0 {
		t.Errorf("empty database lists %q (%d)", ids, total)
	}
	sessionListFixture(t, db)
	for _, tc := range []struct {
		name  string
		q     store.SessionQuery
		want  string
		total int64
	}{
		{"newest first", store.SessionQuery{Desc: true}, "c b a d", 4},
		{"oldest first", store.SessionQuery{}, "d a b c", 4},
		{"page", store.SessionQuery{Desc: true, Limit: 2, Offset: 1}, "b a", 4},
		{"past the end", store.SessionQuery{Limit: 2, Offset: 9}, "", 4},
		{"duration", store.SessionQuery{Sort: store.SortDuration, Desc: true}, "c a b d", 4},
		{"messages", store.SessionQuery{Sort: store.SortMessages, Desc: true}, "c a b d", 4},
		{"tools", store.SessionQuery{Sort: store.SortTools, Desc: true}, "a b c d", 4},
		{"tokens", store.SessionQuery{Sort: store.SortTokens}, "d a b c", 4},
		{"cost", store.SessionQuery{Sort: store.SortCost, Desc: true}, "c a b d", 4},
		{"project", store.SessionQuery{Sort: store.SortProject}, "d c a b", 4},
		{"project suffix", store.SessionQuery{Project: "app", Desc: true}, "c a d", 3},
		{"project exact", store.SessionQuery{Project: "/src/app"}, "a c", 2},
		{"since", store.SessionQuery{Since: at(9, 30)}, "a b c", 3},
		{"until", store.SessionQuery{Until: at(10, 0)}, "d a", 2},
		{"model", store.SessionQuery{Model: "claude-haiku-4-5"}, "b", 1},
		{"tag", store.SessionQuery{Tag: "lang:go"}, "a b", 2},
		{"errors", store.SessionQuery{HasErrors: true}, "a c", 2},
		{"text in title, any case", store.SessionQuery{Text: "LOGIN"}, "b", 1},
		{"text in branch", store.SessionQuery{Text: "feature/"}, "b", 1},
		{"text is a LIKE wildcard", store.SessionQuery{Text: "%"}, "", 0},
		{"id prefix or title", store.SessionQuery{Text: "d"}, "d b", 2},
		{"all filters", store.SessionQuery{Project: "app", Tag: "lang:go", HasErrors: true, Model: "claude-opus-4-6"}, "a", 1},
	} {
		if ids, total := listIDs(t, db, tc.q); ids != tc.want || total != tc.total {
			t.Errorf("%s: got %q (total %d), want %q (total %d)", tc.name, ids, total, tc.want, tc.total)
		}
	}
	l, err := db.Sessions(context.Background(), store.SessionQuery{Text: "b"})
	if err != nil || len(l.Sessions) != 1 {
		t.Fatalf("Sessions(b) = %+v, %v", l, err)
	}
	s := l.Sessions[0]
	if got := strings.Join(s.Tags, " "); got != "lang:go web" {
		t.Errorf("tags of b = %q", got)
	}
	if got := strings.Join(s.Models, " "); got != "claude-haiku-4-5 claude-opus-4-6" {
		t.Errorf("models of b = %q", got)
	}
	if s.Title != "Add a login page" || s.Messages != 1 || s.Output != 55 || !s.FirstAt.Equal(at(10, 0)) {
		t.Errorf("listed b = %+v", s.Session)
	}
	if _, err := db.Sessions(context.Background(), store.SessionQuery{Sort: "id; DROP TABLE sessions"}); err == nil {
		t.Error("an unknown sort order was accepted")
	}
}

func testFacets(t *testing.T, db store.Driver) {
	sessionListFixture(t, db)
	f, err := db.Facets(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	str := func(fs []store.Facet) string {
		var b strings.Builder
		for _, v := range fs {
			b.WriteString(v.Value + "=" + string(rune('0'+v.Sessions)) + " ")
		}
		return strings.TrimSpace(b.String())
	}
	for _, c := range []struct{ name, got, want string }{
		{"projects", str(f.Projects), "/src/app=2 /other/app=1 /src/web=1"},
		{"models", str(f.Models), "claude-opus-4-6=3 claude-haiku-4-5=1"},
		{"tags", str(f.Tags), "lang:go=2 web=1"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
}
