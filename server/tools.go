package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"

	"github.com/claude-insights/insights/server/render"
	"github.com/claude-insights/insights/store"
)

// toolInput is the part of tool inputs the replay shows specially.
type toolInput struct {
	Command      string       `json:"command"`
	Description  string       `json:"description"`
	FilePath     string       `json:"file_path"`
	NotebookPath string       `json:"notebook_path"`
	Content      string       `json:"content"`
	Pattern      string       `json:"pattern"`
	Path         string       `json:"path"`
	URL          string       `json:"url"`
	Query        string       `json:"query"`
	Prompt       string       `json:"prompt"`
	SubagentType string       `json:"subagent_type"`
	Todos        []store.Todo `json:"todos"`
}

// structured is the part of a tool's structured result (toolUseResult)
// that shows the change it made.
type structured struct {
	Type            string          `json:"type"`
	Content         string          `json:"content"`
	StructuredPatch json.RawMessage `json:"structuredPatch"`
}

func (b *builder) tool(bl block, depth int) *toolView {
	t := &toolView{ID: bl.ID, Name: bl.Name}
	var in toolInput
	json.Unmarshal(bl.Input, &in)
	call := b.calls[bl.ID]
	var st structured
	if call != nil && call.Result != nil && len(call.Result.Structured) > 0 && call.Result.Structured[0] == '{' {
		json.Unmarshal(call.Result.Structured, &st)
	}
	path := in.FilePath
	if path == "" {
		path = in.NotebookPath
	}
	switch bl.Name {
	case "Bash":
		t.Summary = firstLine(in.Description, in.Command)
		t.Input = render.Code("bash", in.Command)
	case "Edit", "MultiEdit", "Write", "NotebookEdit":
		t.Summary = path
		t.Input = b.change(bl, path, in, st)
	case "Read":
		t.Summary = path
	case "Grep", "Glob":
		t.Summary = strings.TrimSpace(in.Pattern + " " + in.Path)
	case "WebFetch":
		t.Summary = in.URL
	case "WebSearch":
		t.Summary = in.Query
	case "Task", "Agent":
		t.Summary = strings.TrimSpace(in.Description + " (" + in.SubagentType + ")")
		t.Summary = strings.TrimSuffix(t.Summary, " ()")
		t.Input = render.Markdown(in.Prompt)
		if id, ok := b.l.agentOf[bl.ID]; ok && depth < maxDepth && len(b.l.agents[id]) > 0 {
			a := b.agent(id, depth+1)
			t.Agent = &a
			b.shown[id] = true
		}
	case "TodoWrite":
		t.Summary = fmt.Sprintf("%d items", len(in.Todos))
		t.Todos = in.Todos
	default:
		t.Input = jsonCode(bl.Input)
	}
	if call != nil && call.Result != nil {
		t.Result = b.result(call)
	}
	return t
}

// change renders what an Edit, MultiEdit or Write did: the diff Claude Code
// recorded, a new file's content, else the call's input.
func (b *builder) change(bl block, path string, in toolInput, st structured) template.HTML {
	if p := bytes.TrimSpace(st.StructuredPatch); len(p) > 2 {
		if h, err := render.Diff(p, path); err == nil {
			return h
		}
	}
	switch {
	case st.Type == "create":
		return render.NewFile(path, st.Content)
	case bl.Name == "Write":
		return render.NewFile(path, in.Content)
	}
	return jsonCode(bl.Input)
}

func (b *builder) result(call *store.ToolCall) *resultView {
	r := call.Result
	v := &resultView{At: r.At, Took: call.Duration(), Size: len(r.Text), IsError: r.IsError, Interrupted: r.Interrupted}
	v.Output, v.Truncated = render.Truncate(r.Text, maxOutput)
	if v.Truncated {
		v.FullHref = "/sessions/" + url.PathEscape(b.d.ID) + "/tools/" + url.PathEscape(call.ID)
	}
	if n := b.l.resultNode[call.ID]; n != nil {
		if n.resultOnly && n.results[0] == call.ID {
			v.Anchor = n.anchor
		}
		for _, bl := range parseBlocks(n.m.Content, "") {
			if bl.Type != "tool_result" || bl.ToolUseID != call.ID {
				continue
			}
			_, images := resultContent(bl.Content)
			for _, img := range images {
				if u, ok := render.Image(img.MediaType, img.Data); ok {
					v.Images = append(v.Images, u)
				}
			}
		}
	}
	return v
}

func (b *builder) agent(id string, depth int) agentView {
	a := agentView{Info: b.agents[id]}
	if a.Info.AgentID == "" {
		a.Info.AgentID = id
	}
	for _, n := range b.l.agents[id] {
		if !n.resultOnly {
			a.Steps = append(a.Steps, b.step(n, depth))
		}
	}
	return a
}

// jsonCode shows a tool input as indented, highlighted JSON.
func jsonCode(raw json.RawMessage) template.HTML {
	if len(raw) == 0 {
		return ""
	}
	var buf bytes.Buffer
	if json.Indent(&buf, canonicalJSON(raw), "", "  ") != nil {
		return render.Code("text", string(raw))
	}
	return render.Code("json", buf.String())
}

func firstLine(ss ...string) string {
	for _, s := range ss {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			return s[:i] + " …"
		}
		return s
	}
	return ""
}

type toolData struct {
	Session store.Session
	Call    store.ToolCall
	Input   template.HTML
}

// toolPage shows one tool call's whole output.
func (s *Server) toolPage(r *http.Request) (page, error) {
	v := mux.Vars(r)
	if err := checkID(v["id"]); err != nil {
		return page{}, err
	}
	sess, err := s.session(r, v["id"])
	if err != nil {
		return page{}, err
	}
	calls, err := s.db.ToolCalls(r.Context(), sess.ID)
	if err != nil {
		return page{}, err
	}
	for _, c := range calls {
		if c.ID == v["tool"] {
			return page{Template: "tool", Title: c.Name + " output", Data: toolData{Session: sess, Call: c, Input: jsonCode(c.Input)}}, nil
		}
	}
	return page{}, notFound("no tool call %s in session %s", v["tool"], sess.ID)
}
