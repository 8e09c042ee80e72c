package storetest

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/claude-insights/insights/store"
)

// historyTests are the contract cases of what the plans, history and export
// pages read: one plan, prompts found by text and counted, a session's files.
var historyTests = []struct {
	name string
	fn   func(t *testing.T, db store.Driver)
}{
	{"Plan", testPlan},
	{"PromptText", testPromptText},
	{"SessionFiles", testSessionFiles},
}

func testPlan(t *testing.T, db store.Driver) {
	ctx := context.Background()
	a, b := session("a", at(9, 0), at(9, 5)), session("b", at(8, 0), at(8, 5))
	a.Slug, b.Slug = "brave-plan", "brave-plan"
	apply(t, db, &store.Batch{Sessions: []store.Session{a, b}})
	p := store.Plan{Slug: "brave-plan", Path: "/c/plans/brave-plan.md", Markdown: "# Plan", ModTime: at(10, 0)}
	lone := store.Plan{Slug: "lone-plan", Path: "/c/plans/lone-plan.md", Markdown: "no heading"}
	apply(t, db, &store.Batch{File: store.FileState{Path: p.Path}, Plans: []store.Plan{p}})
	apply(t, db, &store.Batch{File: store.FileState{Path: lone.Path}, Plans: []store.Plan{lone}})
	for _, want := range []store.PlanInfo{{Plan: p, Sessions: []string{"b", "a"}}, {Plan: lone}} {
		got, err := db.Plan(ctx, want.Slug)
		if err != nil {
			t.Fatalf("Plan(%s): %v", want.Slug, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Plan(%s) = %+v\nwant %+v", want.Slug, got, want)
		}
	}
	if _, err := db.Plan(ctx, "brave"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Plan of an unknown slug: %v, want ErrNotFound", err)
	}
}

func testPromptText(t *testing.T, db store.Driver) {
	ctx := context.Background()
	apply(t, db, &store.Batch{Prompts: []store.Prompt{
		{Key: "k1", At: at(9, 0), Project: "/src/app", SessionID: "s1", Text: "Fix the Loader in config"},
		{Key: "k2", At: at(9, 5), Project: "/src/app", SessionID: "s1", Text: "Make it 100% faster"},
		{Key: "k3", At: at(10, 0), Project: "/src/other", Text: "rename load_config and LOADER"},
		{Key: "k4", At: at(10, 5), Project: "/src/other", Text: `a \ backslash and Éclair`},
		{Key: "k5", At: at(11, 0), Project: "/src/app", Text: "1000 faster"},
	}})
	for _, tc := range []struct {
		q    store.PromptQuery
		want string
	}{
		{store.PromptQuery{Text: "loader"}, "k3,k1"},
		{store.PromptQuery{Text: "LOADER", Project: "app"}, "k1"},
		{store.PromptQuery{Text: "100%"}, "k2"},
		{store.PromptQuery{Text: "0%"}, "k2"},
		{store.PromptQuery{Text: "load_config"}, "k3"},
		{store.PromptQuery{Text: "d_c"}, "k3"},
		{store.PromptQuery{Text: "_"}, "k3"},
		{store.PromptQuery{Text: "%"}, "k2"},
		{store.PromptQuery{Text: `\`}, "k4"},
		{store.PromptQuery{Text: "éclair"}, ""}, // only ASCII case is ignored
		{store.PromptQuery{Text: "Éclair"}, "k4"},
		{store.PromptQuery{Text: "nothing like it"}, ""},
		{store.PromptQuery{Text: "faster", Limit: 1}, "k5"},
		{store.PromptQuery{Text: "faster", Limit: 1, Offset: 1}, "k2"},
		{store.PromptQuery{Text: "faster", SessionID: "s1"}, "k2"},
	} {
		got, err := db.Prompts(ctx, tc.q)
		if err != nil {
			t.Fatalf("Prompts(%+v): %v", tc.q, err)
		}
		var keys []string
		for _, p := range got {
			keys = append(keys, p.Key)
		}
		if s := strings.Join(keys, ","); s != tc.want {
			t.Errorf("Prompts(%+v) = %q, want %q", tc.q, s, tc.want)
		}
	}
	for _, tc := range []struct {
		q    store.PromptQuery
		want int64
	}{
		{store.PromptQuery{}, 5},
		{store.PromptQuery{Limit: 1, Offset: 3}, 5},
		{store.PromptQuery{Text: "faster", Limit: 1}, 2},
		{store.PromptQuery{Project: "other"}, 2},
		{store.PromptQuery{Text: "%", Project: "other"}, 0},
	} {
		if n, err := db.CountPrompts(ctx, tc.q); err != nil || n != tc.want {
			t.Errorf("CountPrompts(%+v) = %d, %v; want %d", tc.q, n, err, tc.want)
		}
	}
}

func testSessionFiles(t *testing.T, db store.Driver) {
	ctx := context.Background()
	main := "/c/projects/p/s1.jsonl"
	sub := "/c/projects/p/s1/subagents/agent-a.jsonl"
	apply(t, db, &store.Batch{File: store.FileState{Path: sub}, Sessions: []store.Session{session("s1", at(9, 0), at(9, 1))}})
	apply(t, db, &store.Batch{File: store.FileState{Path: main}, Sessions: []store.Session{session("s1", at(9, 0), at(9, 5))}})
	apply(t, db, &store.Batch{File: store.FileState{Path: main}, Sessions: []store.Session{session("s1", at(9, 0), at(9, 6))}})
	apply(t, db, &store.Batch{File: store.FileState{Path: "/c/projects/p/s2.jsonl"}, Sessions: []store.Session{session("s2", at(9, 0), at(9, 1))}})
	got, err := db.SessionFiles(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{main, sub}; !reflect.DeepEqual(got, want) {
		t.Errorf("SessionFiles(s1) = %q, want %q", got, want)
	}
	if got, err := db.SessionFiles(ctx, "nobody"); err != nil || len(got) != 0 {
		t.Errorf("SessionFiles of an unknown session = %q, %v", got, err)
	}
}
