package server

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/claude-insights/insights/server/render"
	"github.com/claude-insights/insights/store"
)

// detail is a session with what is known about it besides its messages.
type detail struct {
	store.Session
	Tags      []string
	Subagents []store.SubagentInfo
	Todos     []store.TodoList
	Commits   []store.Commit
	Files     []store.FileChange
	// Owner is the team member who uploaded the session (team mode only).
	Owner *store.User
}

// checkID refuses what cannot be a session id before it reaches the store.
func checkID(id string) error {
	if id == "" || len(id) > 200 || !utf8.ValidString(id) || strings.ContainsFunc(id, func(r rune) bool { return r < ' ' || r == '/' }) {
		return badRequest("%q is not a session id", id)
	}
	return nil
}

func (s *Server) loadDetail(r *http.Request, id string) (detail, error) {
	var d detail
	if err := checkID(id); err != nil {
		return d, err
	}
	ctx := r.Context()
	var err error
	if d.Session, err = s.session(r, id); err != nil {
		return d, err
	}
	if d.Tags, err = s.db.Tags(ctx, id); err != nil {
		return d, err
	}
	if d.Subagents, err = s.db.Subagents(ctx, id); err != nil {
		return d, err
	}
	if d.Todos, err = s.db.Todos(ctx, id); err != nil {
		return d, err
	}
	if d.Commits, err = s.db.Commits(ctx, id); err != nil {
		return d, err
	}
	if d.Files, err = s.db.FileChanges(ctx, id); err != nil {
		return d, err
	}
	if s.owner != nil && d.UserID != 0 {
		u, err := s.owner(ctx, d.UserID)
		if err != nil {
			return d, err
		}
		d.Owner = &u
	}
	return d, nil
}

// replayData is what the replay page shows.
type replayData struct {
	detail
	Steps    []step
	Orphans  []agentView // subagents no call on the page started
	Timeline []mark
	Page     int
	Pages    int
	// LastSeq is the line of the main thread's last message, which a live
	// replay asks for the steps after.
	LastSeq int64
	// CallLinks leads from a tool_use id to its call in the replay.
	CallLinks map[string]string
	// AnchorPages gives the page of every message, for links to messages
	// on other pages (only when there are several).
	AnchorPages map[string]int
	// HasPlan says the plan of the session's slug is stored.
	HasPlan bool
}

func (s *Server) replayPage(r *http.Request) (page, error) {
	d, err := s.loadDetail(r, mux.Vars(r)["id"])
	if err != nil {
		return page{}, err
	}
	n, err := pageNumber(r)
	if err != nil {
		return page{}, err
	}
	data, err := s.replay(r.Context(), d, n)
	if err != nil {
		return page{}, err
	}
	if d.Slug != "" {
		_, err := s.db.Plan(r.Context(), d.Slug)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return page{}, err
		}
		data.HasPlan = err == nil
	}
	title := d.Title
	if title == "" {
		title = "Session " + d.ID
	}
	return page{Template: "replay", Title: title, Data: data}, nil
}

// replay lays out a session and renders one page of it.
func (s *Server) replay(ctx context.Context, d detail, pageN int) (*replayData, error) {
	b, err := s.newBuilder(ctx, d)
	if err != nil {
		return nil, err
	}
	l := b.l
	if pageN > l.pages {
		return nil, notFound("page %d: this session has %d pages", pageN, l.pages)
	}
	data := &replayData{detail: d, Page: pageN, Pages: l.pages, Timeline: l.timeline(b.calls),
		CallLinks: map[string]string{}}
	if l.pages > 1 {
		data.AnchorPages = map[string]int{}
		for _, n := range l.nodes {
			data.AnchorPages[n.anchor] = n.page
		}
	}
	for id, n := range l.callNode {
		data.CallLinks[id] = fmt.Sprintf("?page=%d#%s", n.page, n.anchor)
	}
	for _, n := range l.main {
		data.LastSeq = max(data.LastSeq, n.m.Seq)
		if n.page == pageN && !n.resultOnly {
			data.Steps = append(data.Steps, b.step(n, 0))
		}
	}
	if pageN == l.pages {
		for _, id := range l.agentOrder {
			if !b.shown[id] {
				data.Orphans = append(data.Orphans, b.agent(id, 0))
			}
		}
	}
	return data, nil
}

// newBuilder reads what a session's replay shows and lays it out.
func (s *Server) newBuilder(ctx context.Context, d detail) (*builder, error) {
	ms, err := s.db.Messages(ctx, d.ID)
	if err != nil {
		return nil, err
	}
	calls, err := s.db.ToolCalls(ctx, d.ID)
	if err != nil {
		return nil, err
	}
	replies, err := s.db.Replies(ctx, d.ID)
	if err != nil {
		return nil, err
	}
	l := newLayout(ms, d.Subagents)
	b := &builder{s: s, d: d, l: l, calls: map[string]*store.ToolCall{}, usage: map[string]store.Usage{},
		shownUsage: map[string]bool{}, shown: map[string]bool{}, agents: map[string]store.SubagentInfo{}}
	for i := range calls {
		b.calls[calls[i].ID] = &calls[i]
	}
	for _, u := range replies {
		if u.MessageID != "" {
			b.usage[u.MessageID] = u
		}
	}
	for _, a := range d.Subagents {
		b.agents[a.AgentID] = a
	}
	return b, nil
}

// builder renders the steps of a page.
type builder struct {
	s          *Server
	d          detail
	l          *layout
	calls      map[string]*store.ToolCall
	usage      map[string]store.Usage // by API message id
	shownUsage map[string]bool
	agents     map[string]store.SubagentInfo
	shown      map[string]bool // agents rendered under their calls
}

// step is one message of the replay.
type step struct {
	Anchor string
	X      int    // where it falls on the timeline
	Kind   string // prompt, user, command, meta, summary, assistant, system, compact, error
	Label  string
	At     time.Time
	Model  string
	Usage  *store.Usage
	Blocks []view
	Note   string // what a marker says: compaction, API error
}

// view is one block of a step, rendered.
type view struct {
	Kind  string // markdown, plain, thinking, tool, image, result
	HTML  template.HTML
	Text  string
	Image template.URL
	Tool  *toolView
}

// toolView is a tool call with its input and its result.
type toolView struct {
	ID      string
	Name    string
	Summary string
	Input   template.HTML
	Todos   []store.Todo
	Result  *resultView
	Agent   *agentView
}

// resultView is the result of a tool call.
type resultView struct {
	Anchor      string // the anchor of the message carrying it
	At          time.Time
	Took        time.Duration
	Output      string
	Truncated   bool
	Size        int
	FullHref    string
	Diff        template.HTML
	Images      []template.URL
	IsError     bool
	Interrupted bool
}

// agentView is a subagent's transcript, nested under the call that started it.
type agentView struct {
	Info  store.SubagentInfo
	Steps []step
}

// maxDepth bounds the nesting of subagents.
const maxDepth = 3

func (b *builder) step(n *node, depth int) step {
	m := n.m
	st := step{Anchor: n.anchor, X: b.l.x(m.Timestamp), At: m.Timestamp, Model: m.Model}
	st.Kind, st.Label = stepKind(m)
	if m.MessageID != "" && !b.shownUsage[m.MessageID] {
		if u, ok := b.usage[m.MessageID]; ok {
			b.shownUsage[m.MessageID] = true
			st.Usage = &u
		}
	}
	switch st.Kind {
	case "compact":
		st.Note = "Conversation compacted"
		if m.CompactTrigger != "" {
			st.Note += " (" + m.CompactTrigger
			if m.CompactPreTokens > 0 {
				st.Note += fmt.Sprintf(", %s tokens before", tokens(m.CompactPreTokens))
			}
			st.Note += ")"
		}
		return st // its text says no more than the note
	case "error":
		st.Note = "API error"
	}
	for _, bl := range parseBlocks(m.Content, m.Text) {
		if v, ok := b.block(n, bl, st.Kind, depth); ok {
			st.Blocks = append(st.Blocks, v)
		}
	}
	return st
}

// stepKind says what a message is and how the replay labels it.
func stepKind(m store.Message) (kind, label string) {
	switch {
	case m.IsAPIError || m.Subtype == "api_error":
		return "error", "API error"
	case m.Subtype == "compact_boundary":
		return "compact", "Compaction"
	case m.Type == "system":
		return "system", "System"
	case m.Type == "assistant":
		return "assistant", "Assistant"
	case m.IsCompactSummary:
		return "summary", "Summary of the conversation before"
	case m.IsMeta:
		return "meta", "Injected context"
	case m.IsPrompt:
		return "prompt", "User"
	case isCommand(m.Text):
		return "command", "Command"
	}
	return "user", "User"
}

func isCommand(text string) bool {
	t := strings.TrimSpace(text)
	for _, p := range []string{"<command-name>", "<command-message>", "<local-command-stdout>", "<local-command-stderr>", "<bash-input>", "<bash-stdout>"} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

func (b *builder) block(n *node, bl block, kind string, depth int) (view, bool) {
	switch bl.Type {
	case "text":
		if strings.TrimSpace(bl.Text) == "" {
			return view{}, false
		}
		if kind == "assistant" || kind == "summary" {
			return view{Kind: "markdown", HTML: render.Markdown(bl.Text)}, true
		}
		return view{Kind: "plain", Text: bl.Text}, true
	case "thinking":
		if strings.TrimSpace(bl.Thinking) == "" {
			return view{}, false
		}
		return view{Kind: "thinking", HTML: render.Markdown(bl.Thinking)}, true
	case "redacted_thinking":
		return view{Kind: "thinking", Text: "(thinking redacted)"}, true
	case "image":
		if bl.Source != nil {
			if u, ok := render.Image(bl.Source.MediaType, bl.Source.Data); ok {
				return view{Kind: "image", Image: u}, true
			}
		}
		return view{Kind: "plain", Text: "(an image that cannot be shown)"}, true
	case "tool_use":
		return view{Kind: "tool", Tool: b.tool(bl, depth)}, true
	case "tool_result":
		if n.resultOnly {
			return view{}, false
		}
		// A result whose call is not in this session's records.
		text, _ := resultContent(bl.Content)
		out, cut := render.Truncate(text, maxOutput)
		return view{Kind: "result", Tool: &toolView{ID: bl.ToolUseID, Name: "result",
			Result: &resultView{Output: out, Truncated: cut, Size: len(text), IsError: bl.IsError}}}, true
	}
	return view{}, false
}

// maxOutput is how much of a tool's output a replay shows before "show all".
const maxOutput = 4 << 10
