package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/claude-insights/insights/store"
)

// recordTests are the contract cases of the whole record: tool calls, file
// changes, subagents, titles and search.
var recordTests = []struct {
	name string
	fn   func(t *testing.T, db store.Driver)
}{
	{"MessageFieldsRoundTrip", testMessageFieldsRoundTrip},
	{"ToolCallsEitherOrder", testToolCallsEitherOrder},
	{"ToolCallCopiesAnyOrder", testToolCallCopiesAnyOrder},
	{"FileChanges", testFileChanges},
	{"Subagents", testSubagents},
	{"Titles", testTitles},
	{"SessionCounts", testSessionCounts},
	{"Search", testSearch},
	{"SearchFilters", testSearchFilters},
	{"SearchPages", testSearchPages},
	{"SearchBadQuery", testSearchBadQuery},
	{"Commits", testCommits},
	{"Tags", testTags},
	{"Plans", testPlans},
	{"Todos", testTodos},
	{"Prompts", testPrompts},
	{"Replies", testReplies},
	{"RepliesBetween", testRepliesBetween},
}

// jsonEqual reports whether two JSON texts hold the same value (a database
// may store JSON in its own layout).
func jsonEqual(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func messages(t *testing.T, db store.Driver, sid string) []store.Message {
	t.Helper()
	ms, err := db.Messages(context.Background(), sid)
	if err != nil {
		t.Fatalf("Messages(%s): %v", sid, err)
	}
	return ms
}

func toolCalls(t *testing.T, db store.Driver, sid string) []store.ToolCall {
	t.Helper()
	cs, err := db.ToolCalls(context.Background(), sid)
	if err != nil {
		t.Fatalf("ToolCalls(%s): %v", sid, err)
	}
	return cs
}

func getSession(t *testing.T, db store.Driver, id string) store.Session {
	t.Helper()
	s, err := db.Session(context.Background(), id)
	if err != nil {
		t.Fatalf("Session(%s): %v", id, err)
	}
	return s
}

func testMessageFieldsRoundTrip(t *testing.T, db store.Driver) {
	content := json.RawMessage(`[{"type":"text","text":"héllo"},{"type":"tool_use","id":"t1","name":"Bash","input":{"command":"ls"}}]`)
	m := store.Message{UUID: "m1", SessionID: "s1", Seq: 3, ParentUUID: "m0", Type: "assistant", Role: "assistant",
		Timestamp: at(9, 0), Text: "héllo", Model: "claude-opus-4-6", MessageID: "msg_1", Content: content,
		Search: "héllo ls"}
	b := store.Batch{Sessions: []store.Session{session("s1", at(9, 0), at(9, 1))}, Messages: []store.Message{m,
		{UUID: "m2", SessionID: "s1", Seq: 4, Type: "system", Role: "system", Subtype: "compact_boundary",
			LogicalParentUUID: "m1", CompactTrigger: "auto", CompactPreTokens: 155_000, Timestamp: at(9, 1),
			Text: "Conversation compacted"},
		{UUID: "m3", SessionID: "s1", Seq: 5, Type: "user", Role: "user", IsPrompt: true, Timestamp: at(9, 1),
			Text: "go on", Content: json.RawMessage(`"go on"`)},
		{UUID: "a1", SessionID: "s1", Seq: 1, Type: "user", Role: "user", AgentID: "ag", IsSidechain: true, Timestamp: at(9, 0)},
	}}
	apply(t, db, &b)
	got := messages(t, db, "s1")
	var uuids []string
	for _, g := range got {
		uuids = append(uuids, g.UUID)
	}
	if want := []string{"m1", "m2", "m3", "a1"}; !reflect.DeepEqual(uuids, want) {
		t.Fatalf("Messages order = %v, want %v (main thread by line, then subagents)", uuids, want)
	}
	for i, want := range b.Messages[:3] {
		g := got[i]
		if !jsonEqual(g.Content, want.Content) {
			t.Errorf("%s content = %s, want %s", want.UUID, g.Content, want.Content)
		}
		g.Content, want.Content, want.Search = nil, nil, ""
		if !reflect.DeepEqual(g, want) {
			t.Errorf("message read back = %+v\nwant %+v", g, want)
		}
	}
	// Reading the file again with changed content replaces the stored copy.
	m.Text, m.Content = "hello again", json.RawMessage(`"hello again"`)
	m.Search = m.Text
	apply(t, db, &store.Batch{Messages: []store.Message{m}})
	if got := messages(t, db, "s1"); got[0].Text != "hello again" || !jsonEqual(got[0].Content, m.Content) {
		t.Errorf("after a re-read, message = %q %s; want the new text", got[0].Text, got[0].Content)
	}
	if res := search(t, db, store.SearchQuery{Text: "again"}); res.Total != 1 {
		t.Errorf("search for the new text found %d, want 1", res.Total)
	}
	if res := search(t, db, store.SearchQuery{Text: "héllo"}); res.Total != 0 {
		t.Errorf("search for the replaced text found %d, want 0", res.Total)
	}
}

func use(id, sid string, ts time.Time, name, input string) store.ToolUse {
	return store.ToolUse{ID: id, SessionID: sid, MessageUUID: "m-" + id, MessageID: "msg-" + id, Seq: 1, Name: name,
		Input: json.RawMessage(input), At: ts}
}

func result(id, sid string, ts time.Time, text string) store.ToolResult {
	return store.ToolResult{ToolUseID: id, SessionID: sid, MessageUUID: "r-" + id, Text: text, At: ts}
}

func testToolCallsEitherOrder(t *testing.T, db store.Driver) {
	s := []store.Session{session("s1", at(9, 0), at(9, 5))}
	// t1: use, then its result in a later batch (another file even).
	apply(t, db, &store.Batch{Sessions: s, ToolUses: []store.ToolUse{use("t1", "s1", at(9, 0), "Bash", `{"command":"go test ./..."}`)}})
	r1 := result("t1", "s1", at(9, 2), "ok")
	r1.Structured = json.RawMessage(`{"stdout":"ok","stderr":"","interrupted":false}`)
	// t2: the result first, then the use.
	r2 := result("t2", "s1", at(9, 4), "no such file")
	r2.IsError = true
	r2.Structured = json.RawMessage(`"Error: no such file"`)
	apply(t, db, &store.Batch{File: store.FileState{Path: "/c/other.jsonl"}, Sessions: s, ToolResults: []store.ToolResult{r1, r2}})
	apply(t, db, &store.Batch{Sessions: s, ToolUses: []store.ToolUse{
		use("t2", "s1", at(9, 3), "Read", `{"file_path":"/x"}`),
		use("t3", "s1", at(9, 5), "Bash", `{"command":"sleep 100"}`),
	}})
	cs := toolCalls(t, db, "s1")
	if len(cs) != 3 {
		t.Fatalf("ToolCalls = %d calls, want 3: %+v", len(cs), cs)
	}
	byID := map[string]store.ToolCall{}
	for _, c := range cs {
		byID[c.ID] = c
	}
	if ids := cs[0].ID + cs[1].ID + cs[2].ID; ids != "t1t2t3" {
		t.Errorf("order = %s, want t1t2t3 (by call time)", ids)
	}
	c1, c2, c3 := byID["t1"], byID["t2"], byID["t3"]
	if c1.Name != "Bash" || !jsonEqual(c1.Input, json.RawMessage(`{"command":"go test ./..."}`)) || c1.Result == nil ||
		c1.Result.Text != "ok" || c1.Result.IsError || !jsonEqual(c1.Result.Structured, r1.Structured) ||
		c1.Duration() != 2*time.Minute || c1.Interrupted() || c1.MessageID != "msg-t1" || c1.MessageUUID != "m-t1" {
		t.Errorf("t1 = %+v result %+v", c1, c1.Result)
	}
	if c2.Name != "Read" || c2.Result == nil || !c2.Result.IsError || !jsonEqual(c2.Result.Structured, r2.Structured) ||
		c2.Result.MessageUUID != "r-t2" || c2.Duration() != time.Minute {
		t.Errorf("t2 (result first) = %+v result %+v", c2, c2.Result)
	}
	if c3.Result != nil || !c3.Interrupted() || c3.Duration() != 0 {
		t.Errorf("t3 (no result) = %+v result %+v; want interrupted", c3, c3.Result)
	}
	if s := getSession(t, db, "s1"); s.ToolCalls != 3 || s.ToolErrors != 1 {
		t.Errorf("session counts %d calls, %d errors; want 3, 1", s.ToolCalls, s.ToolErrors)
	}
}

func testToolCallCopiesAnyOrder(t *testing.T, db store.Driver) {
	// Each copy sits at another line of its file; the smallest session's is kept.
	for i, sid := range []string{"s9", "s2", "s5"} {
		u := use("t1", sid, at(9, 0), "Bash", `{}`)
		u.Seq = int64(10 + i)
		r := result("t1", sid, at(9, 1), "ok")
		r.MessageUUID = "r-" + sid
		apply(t, db, &store.Batch{File: store.FileState{Path: "/c/" + sid + ".jsonl"},
			Sessions:    []store.Session{session(sid, at(9, 0), at(9, 0))},
			ToolUses:    []store.ToolUse{u},
			ToolResults: []store.ToolResult{r},
			FileChanges: []store.FileChange{{ToolUseID: "t1", SessionID: sid, Path: "/a", Operation: store.OpEdit, Added: int64(i), At: at(9, 1)}}})
	}
	if got := toolCalls(t, db, "s2"); len(got) != 1 || got[0].Seq != 11 || got[0].Result == nil || got[0].Result.MessageUUID != "r-s2" {
		t.Errorf("kept tool call = %+v; want s2's copy (line 11, result r-s2)", got)
	}
	if got, err := db.FileChanges(context.Background(), "s2"); err != nil || len(got) != 1 || got[0].Added != 1 {
		t.Errorf("kept file change = %+v, %v; want s2's copy", got, err)
	}
	for sid, want := range map[string]int{"s2": 1, "s5": 0, "s9": 0} {
		if got := toolCalls(t, db, sid); len(got) != want {
			t.Errorf("session %s has %d tool calls, want %d (copies go to the smallest session id)", sid, len(got), want)
		}
		if got := getSession(t, db, sid).ToolCalls; got != int64(want) {
			t.Errorf("session %s counts %d tool calls, want %d", sid, got, want)
		}
	}
}

func testFileChanges(t *testing.T, db store.Driver) {
	ctx := context.Background()
	b := &store.Batch{Sessions: []store.Session{session("s1", at(9, 0), at(9, 5))}, FileChanges: []store.FileChange{
		{ToolUseID: "t2", SessionID: "s1", Path: "/src/b.go", Operation: store.OpCreate, Added: 12, At: at(9, 3)},
		{ToolUseID: "t1", SessionID: "s1", Path: "/src/a.go", Operation: store.OpEdit, Added: 1, Removed: 2, At: at(9, 1)},
	}}
	apply(t, db, b)
	apply(t, db, b)
	got, err := db.FileChanges(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	want := []store.FileChange{b.FileChanges[1], b.FileChanges[0]}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FileChanges = %+v\nwant %+v (oldest first, once)", got, want)
	}
	if got, err := db.FileChanges(ctx, "nope"); err != nil || len(got) != 0 {
		t.Errorf("FileChanges of an unknown session = %v, %v", got, err)
	}
}

func testSubagents(t *testing.T, db store.Driver) {
	ctx := context.Background()
	s := []store.Session{session("s1", at(9, 0), at(9, 9))}
	// The subagent's own file arrives first: its messages and usage.
	apply(t, db, &store.Batch{File: store.FileState{Path: "/c/s1/subagents/agent-ag1.jsonl"}, Sessions: s,
		Subagents: []store.Subagent{{SessionID: "s1", AgentID: "ag1", Path: "/c/s1/subagents/agent-ag1.jsonl"}},
		Messages: []store.Message{
			{UUID: "a1", SessionID: "s1", Seq: 1, Type: "user", Role: "user", AgentID: "ag1", IsSidechain: true, Timestamp: at(9, 1)},
			{UUID: "a2", SessionID: "s1", Seq: 2, Type: "assistant", Role: "assistant", AgentID: "ag1", IsSidechain: true, Timestamp: at(9, 2)},
		},
		Usage: []store.Usage{{Key: "k1", SessionID: "s1", AgentID: "ag1", Model: "m", Timestamp: at(9, 2),
			Tokens: store.Tokens{Input: 10, Output: 20}, Cost: 0.5, Priced: true}}})
	// Then the parent's file: the Task call, and its result naming the agent.
	apply(t, db, &store.Batch{Sessions: s,
		ToolUses:    []store.ToolUse{use("task1", "s1", at(9, 0), "Task", `{"description":"Find callers","prompt":"…","subagent_type":"Explore"}`)},
		ToolResults: []store.ToolResult{result("task1", "s1", at(9, 3), "done")},
		Subagents:   []store.Subagent{{SessionID: "s1", AgentID: "ag1", ToolUseID: "task1"}, {SessionID: "s1", AgentID: "gone", ToolUseID: "task2"}},
	})
	got, err := db.Subagents(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("Subagents = %+v, want 2", got)
	}
	a := got[0]
	if a.AgentID != "ag1" || a.ToolUseID != "task1" || a.Path != "/c/s1/subagents/agent-ag1.jsonl" || a.Type != "Explore" ||
		a.Description != "Find callers" || a.Messages != 2 || !a.FirstAt.Equal(at(9, 1)) || !a.LastAt.Equal(at(9, 2)) ||
		a.Input != 10 || a.Output != 20 || a.Cost != 0.5 {
		t.Errorf("subagent ag1 = %+v", a)
	}
	if b := got[1]; b.AgentID != "gone" || b.ToolUseID != "task2" || b.Path != "" || b.Messages != 0 {
		t.Errorf("subagent without a file = %+v", b)
	}
	if n := getSession(t, db, "s1").Subagents; n != 2 {
		t.Errorf("session counts %d subagents, want 2", n)
	}
}

func testTitles(t *testing.T, db store.Driver) {
	prompt := func(uuid, sid string, seq int64, text string) store.Message {
		return store.Message{UUID: uuid, SessionID: sid, Seq: seq, Type: "user", Role: "user", IsPrompt: true,
			Timestamp: at(9, int(seq)), Text: text}
	}
	// A session without a summary is titled by its first prompt.
	apply(t, db, &store.Batch{File: store.FileState{Path: "/c/a.jsonl"}, Sessions: []store.Session{session("a", at(9, 0), at(9, 9))},
		Messages: []store.Message{
			{UUID: "a0", SessionID: "a", Seq: 1, Type: "user", Role: "user", IsMeta: true, Timestamp: at(9, 0), Text: "caveat"},
			prompt("a2", "a", 2, "Fix the loader"), prompt("a3", "a", 3, "and the tests")}})
	if got := getSession(t, db, "a").Title; got != "Fix the loader" {
		t.Errorf("title = %q, want the first prompt", got)
	}
	// A summary in another session's file, before its leaf arrives.
	apply(t, db, &store.Batch{File: store.FileState{Path: "/c/z.jsonl"}, Summaries: []store.Summary{{LeafUUID: "b3", Text: "Loader fix"}}})
	apply(t, db, &store.Batch{File: store.FileState{Path: "/c/b.jsonl"}, Sessions: []store.Session{session("b", at(9, 0), at(9, 9))},
		Messages: []store.Message{prompt("b2", "b", 2, "first"), prompt("b3", "b", 3, "second")}})
	if got := getSession(t, db, "b").Title; got != "Loader fix" {
		t.Errorf("title = %q, want the summary that arrived before its leaf", got)
	}
	// A summary after its leaf; of two summaries the later leaf's wins.
	apply(t, db, &store.Batch{File: store.FileState{Path: "/c/z.jsonl"}, Summaries: []store.Summary{
		{LeafUUID: "a3", Text: "Loader and tests"}, {LeafUUID: "a2", Text: "Loader"}}})
	if got := getSession(t, db, "a").Title; got != "Loader and tests" {
		t.Errorf("title = %q, want the summary of the latest leaf", got)
	}
}

func testSessionCounts(t *testing.T, db store.Driver) {
	s := session("s1", at(9, 0), at(9, 9))
	s.Slug = "brave-little-plan"
	apply(t, db, &store.Batch{Sessions: []store.Session{s}, Messages: []store.Message{
		{UUID: "c1", SessionID: "s1", Seq: 1, Type: "system", Role: "system", Subtype: "compact_boundary", Timestamp: at(9, 1)},
		{UUID: "c2", SessionID: "s1", Seq: 2, Type: "system", Role: "system", Subtype: "compact_boundary", Timestamp: at(9, 2)},
		{UUID: "c3", SessionID: "s1", Seq: 3, Type: "system", Role: "system", Subtype: "api_error", Timestamp: at(9, 3)},
	}})
	got := getSession(t, db, "s1")
	if got.Slug != "brave-little-plan" || got.Compactions != 2 || got.Messages != 3 {
		t.Errorf("session = %+v; want slug, 2 compactions, 3 messages", got)
	}
}

func search(t *testing.T, db store.Driver, q store.SearchQuery) store.SearchResult {
	t.Helper()
	res, err := db.Search(context.Background(), q)
	if err != nil {
		t.Fatalf("Search(%q): %v", q.Text, err)
	}
	return res
}

func hitIDs(res store.SearchResult) string {
	var ids []string
	for _, h := range res.Hits {
		ids = append(ids, h.UUID)
	}
	return strings.Join(ids, ",")
}

// searchCorpus stores messages for the search cases.
func searchCorpus(t *testing.T, db store.Driver) {
	msg := func(uuid, sid, role string, m int, text string) store.Message {
		ts := at(9, m)
		if sid == "other" {
			ts = at(10, m)
		}
		return store.Message{UUID: uuid, SessionID: sid, Seq: int64(m), Type: role, Role: role, Timestamp: ts,
			Text: text, Search: text}
	}
	app := session("app", at(9, 0), at(9, 30))
	app.Project = "/src/app"
	other := session("other", at(10, 0), at(10, 30))
	other.Project = "/src/other"
	apply(t, db, &store.Batch{File: store.FileState{Path: "/c/app.jsonl"}, Sessions: []store.Session{app}, Messages: []store.Message{
		msg("m1", "app", "user", 1, "Fix the off-by-one in config/load.go"),
		msg("m2", "app", "assistant", 2, "The loop bound skips the last key; loading works now."),
		msg("m3", "app", "user", 3, "Now run the TESTS please"),
		msg("m4", "app", "assistant", 4, "Tests pass: ok github.com/example/app/config"),
		{UUID: "m5", SessionID: "app", Seq: 5, Type: "user", Role: "user", AgentID: "ag", IsSidechain: true, Timestamp: at(9, 5), Text: "",
			Search: "panic: runtime error in loader"},
	}, ToolUses: []store.ToolUse{{ID: "t1", SessionID: "app", MessageUUID: "m4", Name: "Bash", At: at(9, 4)}}})
	apply(t, db, &store.Batch{File: store.FileState{Path: "/c/other.jsonl"}, Sessions: []store.Session{other}, Messages: []store.Message{
		msg("o1", "other", "user", 1, "What does the config loader do?"),
		msg("o2", "other", "assistant", 2, "It reads every key of the config file. Config, config, config."),
	}})
}

func testSearch(t *testing.T, db store.Driver) {
	searchCorpus(t, db)
	for _, tc := range []struct{ q, want string }{
		{"loop", "m2"},
		{"LOOP Bound", "m2"},
		{"tests", "m3,m4"},
		{`"config load go"`, "m1"},
		{`"config/load.go"`, "m1"},
		{`"load config"`, ""},
		{"load*", "m1,m2,m5,o1"},
		{"config -loader", "m1,m4,o2"},
		{`config -"config loader"`, "m1,m4,o2"},
		{"runtime panic", "m5"},
		{"nothingmatches", ""},
	} {
		res := search(t, db, store.SearchQuery{Text: tc.q})
		got := strings.Split(hitIDs(res), ",")
		want := strings.Split(tc.want, ",")
		if !sameSet(got, want) || res.Total != int64(len(res.Hits)) {
			t.Errorf("search %q = %v (total %d), want %v", tc.q, got, res.Total, want)
		}
	}
	// Words are runs of letters and digits, on every driver alike.
	odd := "The value of x² grows; naïve café-au-lait, ÉCOLE 2e"
	apply(t, db, &store.Batch{Messages: []store.Message{{UUID: "w1", SessionID: "words", Seq: 1, Type: "user", Role: "user",
		Timestamp: at(11, 0), Text: odd, Search: odd}}})
	for _, q := range []string{"x²", "naïve", `"naïve café au lait"`, "école", "2e", "caf*"} {
		if res := search(t, db, store.SearchQuery{Text: q, SessionID: "words"}); res.Total != 1 {
			t.Errorf("search %q found %d, want 1", q, res.Total)
		}
	}
	for _, q := range []string{"x", "naive", "cafe", "au-lait-x"} {
		if res := search(t, db, store.SearchQuery{Text: q, SessionID: "words"}); res.Total != 0 {
			t.Errorf("search %q found %d, want 0", q, res.Total)
		}
	}
	// Ranking: the message saying "config" four times comes first.
	if res := search(t, db, store.SearchQuery{Text: "config"}); len(res.Hits) == 0 || res.Hits[0].UUID != "o2" {
		t.Errorf("search config ranks %s first, want o2", hitIDs(res))
	}
	res := search(t, db, store.SearchQuery{Text: "bound"})
	if len(res.Hits) != 1 {
		t.Fatalf("search bound = %s", hitIDs(res))
	}
	h := res.Hits[0]
	if res := search(t, db, store.SearchQuery{Text: "runtime"}); len(res.Hits) != 1 || res.Hits[0].AgentID != "ag" {
		t.Errorf("search runtime = %+v, want m5 of agent ag", res.Hits)
	}
	if h.SessionID != "app" || h.Seq != 2 || h.AgentID != "" || h.Role != "assistant" || h.Project != "/src/app" || !h.Timestamp.Equal(at(9, 2)) {
		t.Errorf("hit = %+v", h)
	}
	var marked []string
	for _, f := range h.Snippet {
		if f.Match {
			marked = append(marked, f.Text)
		}
	}
	if !reflect.DeepEqual(marked, []string{"bound"}) || !strings.Contains(snippetText(h.Snippet), "The loop bound skips") {
		t.Errorf("snippet = %+v; want the passage with bound marked", h.Snippet)
	}
}

func snippetText(fs []store.Fragment) string {
	var b bytes.Buffer
	for _, f := range fs {
		b.WriteString(f.Text)
	}
	return b.String()
}

func sameSet(a, b []string) bool {
	m := map[string]int{}
	for _, x := range a {
		if x != "" {
			m[x]++
		}
	}
	for _, x := range b {
		if x != "" {
			m[x]--
		}
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

func testSearchFilters(t *testing.T, db store.Driver) {
	searchCorpus(t, db)
	for _, tc := range []struct {
		name string
		q    store.SearchQuery
		want string
	}{
		{"project", store.SearchQuery{Text: "config", Project: "other"}, "o1,o2"},
		{"project path", store.SearchQuery{Text: "config", Project: "/src/app"}, "m1,m4"},
		{"session", store.SearchQuery{Text: "config", SessionID: "app"}, "m1,m4"},
		{"role", store.SearchQuery{Text: "config", Role: "user"}, "m1,o1"},
		{"tool", store.SearchQuery{Text: "tests", Tool: "Bash"}, "m4"},
		{"since", store.SearchQuery{Text: "config", Since: at(9, 30)}, "o1,o2"},
		{"until", store.SearchQuery{Text: "config", Until: at(9, 4)}, "m1"},
	} {
		got := strings.Split(hitIDs(search(t, db, tc.q)), ",")
		if !sameSet(got, strings.Split(tc.want, ",")) {
			t.Errorf("%s: hits %v, want %s", tc.name, got, tc.want)
		}
	}
}

func testSearchPages(t *testing.T, db store.Driver) {
	var ms []store.Message
	for i := range 45 {
		text := fmt.Sprintf("needle number %d", i)
		ms = append(ms, store.Message{UUID: fmt.Sprintf("n%02d", i), SessionID: "s", Seq: int64(i), Type: "user",
			Role: "user", Timestamp: at(9, 0).Add(time.Duration(i) * time.Second), Text: text, Search: text})
	}
	apply(t, db, &store.Batch{Sessions: []store.Session{session("s", at(9, 0), at(9, 1))}, Messages: ms})
	seen := map[string]bool{}
	for off := 0; off < 60; off += 20 {
		res := search(t, db, store.SearchQuery{Text: "needle", Limit: 20, Offset: off})
		if res.Total != 45 {
			t.Errorf("offset %d: total %d, want 45", off, res.Total)
		}
		if want := min(20, 45-off); len(res.Hits) != want {
			t.Errorf("offset %d: %d hits, want %d", off, len(res.Hits), want)
		}
		for _, h := range res.Hits {
			if seen[h.UUID] {
				t.Errorf("hit %s on two pages", h.UUID)
			}
			seen[h.UUID] = true
		}
	}
	if len(seen) != 45 {
		t.Errorf("pages held %d distinct hits, want 45", len(seen))
	}
	if res := search(t, db, store.SearchQuery{Text: "needle"}); len(res.Hits) != 20 {
		t.Errorf("default page holds %d hits, want 20", len(res.Hits))
	}
	// With a filter too, and past the last page, the total is all hits.
	for _, q := range []store.SearchQuery{
		{Text: "needle", Role: "user", Limit: 20, Offset: 40},
		{Text: "needle", Role: "user", Limit: 20, Offset: 100},
		{Text: "needle", Limit: 20, Offset: 100},
	} {
		res := search(t, db, q)
		if res.Total != 45 || len(res.Hits) != max(0, min(20, 45-q.Offset)) {
			t.Errorf("%+v: total %d, %d hits; want 45 in all", q, res.Total, len(res.Hits))
		}
	}
}

func testSearchBadQuery(t *testing.T, db store.Driver) {
	searchCorpus(t, db)
	for _, q := range []string{`"unclosed`, "", "   ", "-config", "*", `-"a b"`} {
		_, err := db.Search(context.Background(), store.SearchQuery{Text: q})
		if !store.IsQueryError(err) {
			t.Errorf("Search(%q) error = %v, want a QueryError", q, err)
		}
	}
	// Characters that mean something to FTS5 or tsquery are only words here.
	for _, q := range []string{"config AND OR NOT", "config:*", "(config", "config & !x", "NEAR(config", "'config'", `config\`} {
		if _, err := db.Search(context.Background(), store.SearchQuery{Text: q}); err != nil {
			t.Errorf("Search(%q): %v", q, err)
		}
	}
}

func testCommits(t *testing.T, db store.Driver) {
	ctx := context.Background()
	for _, sid := range []string{"s9", "s2"} {
		apply(t, db, &store.Batch{File: store.FileState{Path: "/c/" + sid + ".jsonl"},
			Sessions: []store.Session{session(sid, at(9, 0), at(9, 0))},
			Commits: []store.Commit{
				{ToolUseID: "t2", SessionID: sid, Hash: "bbb2222", Branch: "main", Subject: "Second", At: at(9, 5)},
				{ToolUseID: "t1", SessionID: sid, Hash: "aaa1111", Branch: "main", Subject: "First", At: at(9, 1)},
			}})
	}
	got, err := db.Commits(ctx, "s2")
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Commit{
		{ToolUseID: "t1", SessionID: "s2", Hash: "aaa1111", Branch: "main", Subject: "First", At: at(9, 1)},
		{ToolUseID: "t2", SessionID: "s2", Hash: "bbb2222", Branch: "main", Subject: "Second", At: at(9, 5)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Commits(s2) = %+v\nwant %+v", got, want)
	}
	if got, err := db.Commits(ctx, "s9"); err != nil || len(got) != 0 {
		t.Errorf("Commits(s9) = %+v, %v; copies belong to the smallest session", got, err)
	}
}

func tags(t *testing.T, db store.Driver, sid string) string {
	t.Helper()
	ts, err := db.Tags(context.Background(), sid)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(ts, " ")
}

func testTags(t *testing.T, db store.Driver) {
	apply(t, db, &store.Batch{Sessions: []store.Session{session("s1", at(9, 0), at(9, 10))},
		Tags: []store.Tag{{SessionID: "s1", Tag: "tool:Bash"}, {SessionID: "s1", Tag: "lang:go"}, {SessionID: "s1", Tag: "Zeta"}}})
	apply(t, db, &store.Batch{Sessions: []store.Session{session("s1", at(9, 0), at(9, 20))},
		Tags: []store.Tag{{SessionID: "s1", Tag: "tool:Bash"}, {SessionID: "s1", Tag: "errors"}}})
	if got, want := tags(t, db, "s1"), "Zeta errors lang:go tool:Bash"; got != want {
		t.Errorf("tags = %q, want %q (sorted by bytes, each once)", got, want)
	}
	// A session that grows long is tagged so.
	apply(t, db, &store.Batch{Sessions: []store.Session{session("s1", at(9, 0), at(9, 0).Add(store.LongDuration))}})
	if got := tags(t, db, "s1"); !strings.Contains(got, store.TagLong) {
		t.Errorf("tags after %s = %q; want %s", store.LongDuration, got, store.TagLong)
	}
	var ms []store.Message
	for i := range store.LongMessages {
		ms = append(ms, store.Message{UUID: fmt.Sprintf("m%d", i), SessionID: "s2", Seq: int64(i), Type: "user", Timestamp: at(9, 0)})
	}
	apply(t, db, &store.Batch{Sessions: []store.Session{session("s2", at(9, 0), at(9, 1))}, Messages: ms[:len(ms)-1]})
	if got := tags(t, db, "s2"); got != "" {
		t.Errorf("tags of a session with %d messages = %q", len(ms)-1, got)
	}
	apply(t, db, &store.Batch{Messages: ms[len(ms)-1:]})
	if got := tags(t, db, "s2"); got != store.TagLong {
		t.Errorf("tags of a session with %d messages = %q, want %s", len(ms), got, store.TagLong)
	}
}

func testPlans(t *testing.T, db store.Driver) {
	ctx := context.Background()
	a, b := session("a", at(9, 0), at(9, 5)), session("b", at(8, 0), at(8, 5))
	a.Slug, b.Slug = "brave-plan", "brave-plan"
	apply(t, db, &store.Batch{Sessions: []store.Session{a, b, session("c", at(9, 0), at(9, 0))}})
	p1 := store.Plan{Slug: "brave-plan", Path: "/c/plans/brave-plan.md", Markdown: "# Plan\n\n1. do it", ModTime: at(10, 0)}
	p2 := store.Plan{Slug: "old-plan", Path: "/c/plans/old-plan.md", Markdown: "# Old", ModTime: at(7, 0)}
	apply(t, db, &store.Batch{File: store.FileState{Path: p1.Path}, Plans: []store.Plan{p1}})
	apply(t, db, &store.Batch{File: store.FileState{Path: p2.Path}, Plans: []store.Plan{p2}})
	p1.Markdown += "\n2. test it"
	apply(t, db, &store.Batch{File: store.FileState{Path: p1.Path}, Plans: []store.Plan{p1}})
	got, err := db.Plans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.PlanInfo{{Plan: p1, Sessions: []string{"b", "a"}}, {Plan: p2}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Plans = %+v\nwant %+v", got, want)
	}
}

func testTodos(t *testing.T, db store.Driver) {
	ctx := context.Background()
	list := store.TodoList{SessionID: "s1", AgentID: "s1", Items: []store.Todo{
		{Content: "Fix the loop", Status: "completed", ActiveForm: "Fixing the loop"},
		{Content: "Check YAML", Status: "in_progress", ActiveForm: "Checking YAML"},
		{Content: "Add a test", Status: "pending", ActiveForm: "Adding a test"},
	}}
	sub := store.TodoList{SessionID: "s1", AgentID: "ag", Items: []store.Todo{{Content: "Search", Status: "pending"}}}
	apply(t, db, &store.Batch{TodoLists: []store.TodoList{list, sub}})
	// The list is written again with one item fewer: the stored one follows.
	list.Items = list.Items[:2]
	list.Items[1].Status = "completed"
	apply(t, db, &store.Batch{TodoLists: []store.TodoList{list}})
	got, err := db.Todos(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	if want := []store.TodoList{sub, list}; !reflect.DeepEqual(got, want) {
		t.Errorf("Todos = %+v\nwant %+v", got, want)
	}
}

func testPrompts(t *testing.T, db store.Driver) {
	ctx := context.Background()
	ps := []store.Prompt{
		{Key: "k1", At: at(9, 0), Project: "/src/app", SessionID: "s1", Text: "Fix the loader", Pasted: json.RawMessage(`{"1":{"id":1,"type":"text","content":"log"}}`)},
		{Key: "k2", At: at(9, 5), Project: "/src/app", SessionID: "s1", Text: "Now the tests"},
		{Key: "k3", At: at(10, 0), Project: "/src/other", Text: "What is this?"},
	}
	apply(t, db, &store.Batch{Prompts: ps})
	apply(t, db, &store.Batch{Prompts: ps[:1]})
	query := func(q store.PromptQuery) string {
		got, err := db.Prompts(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, p := range got {
			keys = append(keys, p.Key)
		}
		return strings.Join(keys, ",")
	}
	for _, tc := range []struct {
		q    store.PromptQuery
		want string
	}{
		{store.PromptQuery{}, "k3,k2,k1"},
		{store.PromptQuery{SessionID: "s1"}, "k2,k1"},
		{store.PromptQuery{Project: "app"}, "k2,k1"},
		{store.PromptQuery{Project: "/src/other"}, "k3"},
		{store.PromptQuery{Limit: 1, Offset: 1}, "k2"},
	} {
		if got := query(tc.q); got != tc.want {
			t.Errorf("Prompts(%+v) = %s, want %s", tc.q, got, tc.want)
		}
	}
	got, err := db.Prompts(ctx, store.PromptQuery{SessionID: "s1", Limit: 1, Offset: 1})
	if err != nil || len(got) != 1 {
		t.Fatalf("Prompts = %+v, %v", got, err)
	}
	p := got[0]
	if !jsonEqual(p.Pasted, ps[0].Pasted) {
		t.Errorf("pasted = %s, want %s", p.Pasted, ps[0].Pasted)
	}
	p.Pasted = ps[0].Pasted
	if !reflect.DeepEqual(p, ps[0]) {
		t.Errorf("prompt = %+v\nwant %+v", p, ps[0])
	}
}

func testReplies(t *testing.T, db store.Driver) {
	want := []store.Usage{
		{Key: "m1:r1", MessageID: "m1", RequestID: "r1", SessionID: "s1", Model: "claude-opus-4-6", Timestamp: at(9, 0),
			Tokens: store.Tokens{Input: 1, Output: 2, CacheWrite5m: 3, CacheWrite1h: 4, CacheRead: 5}, Cost: 0.25, Priced: true},
		{Key: "m2:r2", MessageID: "m2", RequestID: "r2", SessionID: "s1", AgentID: "ag", Model: "mystery", Timestamp: at(9, 1),
			Tokens: store.Tokens{Output: 7}},
	}
	apply(t, db, &store.Batch{Sessions: []store.Session{session("s1", at(9, 0), at(9, 1))}, Usage: []store.Usage{want[1], want[0]}})
	got, err := db.Replies(context.Background(), "s1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Replies = %+v\nwant %+v", got, want)
	}
}

func testRepliesBetween(t *testing.T, db store.Driver) {
	apply(t, db, &store.Batch{
		Sessions: []store.Session{
			{ID: "s1", Project: "/src/app", FirstAt: at(1, 0), LastAt: at(24, 0)},
			{ID: "s2", Project: "/src/a_p", FirstAt: at(5, 0), LastAt: at(5, 0)},
			{ID: "s3", Project: "/src/myapp", FirstAt: at(5, 0), LastAt: at(5, 0)},
		},
		// Out of order, and two at the same instant (then by key).
		Usage: []store.Usage{
			reply("e", "s1", at(24, 0), 16),
			reply("c", "s2", at(5, 0), 4),
			reply("a", "s1", at(1, 0), 1),
			reply("d", "s3", at(5, 0), 8),
			reply("b", "s1", at(23, 59), 2),
		},
	})
	for _, tc := range []struct {
		name         string
		since, until time.Time
		project      string
		want         string
	}{
		{"all", time.Time{}, time.Time{}, "", "a c d b e"},
		{"since inclusive", at(5, 0), time.Time{}, "", "c d b e"},
		{"until exclusive", time.Time{}, at(24, 0), "", "a c d b"},
		{"both", at(1, 1), at(23, 59), "", "c d"},
		{"exact project", time.Time{}, time.Time{}, "/src/app", "a b e"},
		{"project suffix", at(2, 0), time.Time{}, "app", "b e"},
		{"underscore is literal", time.Time{}, time.Time{}, "a_p", "c"},
		{"unknown project", time.Time{}, time.Time{}, "nope", ""},
		{"empty range", at(6, 0), at(6, 0), "", ""},
	} {
		us, err := db.RepliesBetween(context.Background(), tc.since, tc.until, tc.project)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		keys := make([]string, len(us))
		for i, u := range us {
			keys[i] = u.Key
		}
		if got := strings.Join(keys, " "); got != tc.want {
			t.Errorf("%s: replies %q, want %q", tc.name, got, tc.want)
		}
	}
	us, err := db.RepliesBetween(context.Background(), at(1, 0), at(1, 1), "")
	if err != nil {
		t.Fatal(err)
	}
	if want := reply("a", "s1", at(1, 0), 1); len(us) != 1 || !reflect.DeepEqual(us[0], want) {
		t.Errorf("RepliesBetween = %+v\nwant %+v", us, want)
	}
}
