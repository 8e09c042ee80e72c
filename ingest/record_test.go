package ingest

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/claude-insights/insights/store"
)

func TestParseAssistantUsage(t *testing.T) {
	line := []byte(`{"type":"assistant","uuid":"a1","parentUuid":"u1","sessionId":"s1","timestamp":"2026-02-10T21:11:59.186Z",` +
		`"cwd":"/src/app","gitBranch":"main","version":"2.1.38","requestId":"req_1",` +
		`"message":{"id":"msg_1","model":"claude-opus-4-6","role":"assistant","content":[{"type":"text","text":"hi"},{"type":"tool_use","id":"t1","name":"Read","input":{}},{"type":"text","text":"there"}],` +
		`"usage":{"input_tokens":3,"output_tokens":13,"cache_creation_input_tokens":13835,"cache_read_input_tokens":11515,` +
		`"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":13835}}}}`)
	r, err := Parse(line)
	if err != nil {
		t.Fatal(err)
	}
	want := Usage{Tokens: store.Tokens{Input: 3, Output: 13, CacheWrite1h: 13835, CacheRead: 11515}}
	if r.Usage == nil || *r.Usage != want {
		t.Fatalf("usage = %+v, want %+v", r.Usage, want)
	}
	if r.MessageID != "msg_1" || r.RequestID != "req_1" || r.Model != "claude-opus-4-6" || r.ParentUUID != "u1" {
		t.Errorf("ids = %q %q %q %q", r.MessageID, r.RequestID, r.Model, r.ParentUUID)
	}
	if r.Text != "hi\nthere" {
		t.Errorf("text = %q", r.Text)
	}
	if !r.Timestamp.Equal(time.Date(2026, 2, 10, 21, 11, 59, 186e6, time.UTC)) {
		t.Errorf("timestamp = %v", r.Timestamp)
	}
	if !r.Billable() {
		t.Error("not billable")
	}
}

func TestParseCacheWriteWithoutSplitIsFiveMinutes(t *testing.T) {
	r, err := Parse([]byte(`{"type":"assistant","message":{"model":"m","usage":{"input_tokens":1,"cache_creation_input_tokens":100}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if r.Usage.CacheWrite5m != 100 || r.Usage.CacheWrite1h != 0 {
		t.Errorf("usage = %+v", r.Usage)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		line string
		want error
	}{
		{`42`, ErrNotObject},
		{`"massive error"`, ErrNotObject},
		{`[1]`, ErrNotObject},
		{`{"silly": "this"}`, ErrNoType},
		{`{"type":"user"`, nil},
		{`not json`, nil},
		{``, nil},
		{`{"type":"user","timestamp":"yesterday"}`, nil},
	} {
		_, err := Parse([]byte(tc.line))
		if err == nil {
			t.Errorf("Parse(%q) succeeded", tc.line)
			continue
		}
		if tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("Parse(%q) = %v, want %v", tc.line, err, tc.want)
		}
	}
}

func TestParseBOMAndUnknownType(t *testing.T) {
	r, err := Parse(append([]byte{0xEF, 0xBB, 0xBF}, `{"type":"queue-operation","operation":"enqueue"}`...))
	if err != nil {
		t.Fatal(err)
	}
	if r.Type != "queue-operation" || !bytes.Contains(r.Raw, []byte("enqueue")) {
		t.Errorf("record = %+v", r)
	}
}

// A message of another shape is an error on user and assistant lines, and
// ignored on records of other types.
func TestParseMessageShapes(t *testing.T) {
	for _, tc := range []struct {
		line, want string // want: the error's text, or "" for success
	}{
		{`{"type":"queue-operation","message":"a note"}`, ""},
		{`{"type":"system","subtype":"x","message":{"usage":"none"},"content":"hi"}`, ""},
		{`{"type":"user","message":"a note"}`, "message is not an object"},
		{`{"type":"user","message":["a"]}`, "message is not an object"},
		{`{"type":"assistant","message":{"usage":{"input_tokens":"many"}}}`, "message.usage.input_tokens is string"},
		{`{"type":"assistant","message":{"model":7}}`, "message.model is number"},
		{`{"type":"user","uuid":7,"message":"a note"}`, "uuid is number"},
	} {
		r, err := Parse([]byte(tc.line))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("Parse(%s): %v", tc.line, err)
		case tc.want == "" && r.Type == "":
			t.Errorf("Parse(%s) lost the type", tc.line)
		case tc.want != "" && (!errors.Is(err, ErrBadField) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("Parse(%s) = %v, want ErrBadField saying %q", tc.line, err, tc.want)
		}
	}
}

func TestParseAgentProgressCarriesSubagentReply(t *testing.T) {
	line := `{"type":"progress","sessionId":"parent","timestamp":"2026-02-10T21:58:17.857Z","cwd":"/p",` +
		`"data":{"type":"agent_progress","agentId":"afb","message":{"type":"assistant","timestamp":"2026-02-10T21:58:17.856Z",` +
		`"requestId":"req_9","uuid":"n1","message":{"id":"msg_9","model":"claude-haiku-4-5-20251001","role":"assistant",` +
		`"content":[],"usage":{"input_tokens":2,"output_tokens":3}}}}}`
	r, err := Parse([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	n := r.Nested
	if r.Subtype != "agent_progress" || n == nil {
		t.Fatalf("record = %+v", r)
	}
	if n.SessionID != "parent" || n.AgentID != "afb" || !n.IsSidechain || n.MessageID != "msg_9" || n.RequestID != "req_9" {
		t.Errorf("nested = %+v", n)
	}
	if !n.Billable() || n.Usage.Output != 3 {
		t.Errorf("nested usage = %+v", n.Usage)
	}
}

func TestParseLongLine(t *testing.T) {
	big := strings.Repeat("x", 20<<20)
	r, err := Parse([]byte(`{"type":"user","message":{"role":"user","content":"` + big + `"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Text) != len(big) {
		t.Errorf("text length = %d", len(r.Text))
	}
}
