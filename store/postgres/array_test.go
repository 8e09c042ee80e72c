package postgres_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/claude-insights/insights/store"
)

// Text with everything an array literal must escape comes back as it was
// written: message text and content, tool inputs and results.
func TestLargeColumnsKeepEveryCharacter(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	texts := []string{"", `"`, `\`, `\"`, `a,b`, `{x}`, "NULL", " spaced ", "line\nnext\ttab", `C:\path\"q"`, "日本語 ✓"}
	b := &store.Batch{File: store.FileState{Path: "/c/a.jsonl"}, Sessions: []store.Session{{ID: "s1"}}}
	for i, text := range texts {
		id := string(rune('a' + i))
		content := []byte(`{"k":` + quoteJSON(text) + `}`)
		b.Messages = append(b.Messages, store.Message{UUID: id, SessionID: "s1", Seq: int64(i + 1), Type: "user", Text: text, Content: content})
		b.ToolUses = append(b.ToolUses, store.ToolUse{ID: "t" + id, SessionID: "s1", Seq: int64(i + 1), Name: "Bash", Input: content})
		b.ToolResults = append(b.ToolResults, store.ToolResult{ToolUseID: "t" + id, SessionID: "s1", Text: text, Structured: content})
	}
	if err := db.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	ms, err := db.Messages(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := db.ToolCalls(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	var gotText, gotResult []string
	for _, m := range ms {
		gotText = append(gotText, m.Text)
	}
	for _, c := range cs {
		gotResult = append(gotResult, c.Result.Text)
	}
	if !slices.Equal(gotText, texts) || !slices.Equal(gotResult, texts) {
		t.Errorf("texts came back as\n%q\n%q\nwant\n%q", gotText, gotResult, texts)
	}
	for i, m := range ms {
		want := `{"k": ` + quoteJSON(texts[i]) + `}` // jsonb's own layout
		if string(m.Content) != want || string(cs[i].Input) != want || string(cs[i].Result.Structured) != want {
			t.Errorf("content %s, input %s, result %s; want %s", m.Content, cs[i].Input, cs[i].Result.Structured, want)
		}
	}
}

func quoteJSON(s string) string {
	b, _ := json.Marshal(s) // the texts hold nothing jsonb writes otherwise
	return string(b)
}
