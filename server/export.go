package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/claude-insights/insights/server/render"
	"github.com/claude-insights/insights/store"
)

// maxExportOutput is how much of a tool's output the Markdown export keeps.
const maxExportOutput = 2 << 10

func gone(format string, a ...any) error {
	return &httpError{Status: http.StatusGone, Msg: fmt.Sprintf(format, a...)}
}

// fail answers a request with the error page of err.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.html(func(*http.Request) (page, error) { return page{}, err }).ServeHTTP(w, r)
}

// attachment sets the headers of a download named after a session.
func attachment(w http.ResponseWriter, contentType, id, ext string) {
	name := strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, id)
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": "session-" + name + ext}))
	w.Header().Set("Cache-Control", "no-store")
}

func (s *Server) exportSession(r *http.Request) (store.Session, error) {
	id := mux.Vars(r)["id"]
	if err := checkID(id); err != nil {
		return store.Session{}, err
	}
	return s.session(r, id)
}

// exportMarkdown is GET /sessions/{id}.md: the session as a Markdown
// document, made from the database alone.
func (s *Server) exportMarkdown(w http.ResponseWriter, r *http.Request) {
	ss, err := s.exportSession(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b bytes.Buffer
	if err := s.writeMarkdown(r.Context(), &b, ss); err != nil {
		s.fail(w, r, err)
		return
	}
	attachment(w, "text/markdown; charset=utf-8", ss.ID, ".md")
	w.Write(b.Bytes())
}

// mdWriter writes the Markdown export of one session.
type mdWriter struct {
	w      *bytes.Buffer
	s      *Server
	id     string
	l      *layout
	calls  map[string]*store.ToolCall
	agents map[string]store.SubagentInfo
	shown  map[string]bool // subagents written under their calls
}

func (s *Server) writeMarkdown(ctx context.Context, b *bytes.Buffer, ss store.Session) error {
	ms, err := s.db.Messages(ctx, ss.ID)
	if err != nil {
		return err
	}
	calls, err := s.db.ToolCalls(ctx, ss.ID)
	if err != nil {
		return err
	}
	agents, err := s.db.Subagents(ctx, ss.ID)
	if err != nil {
		return err
	}
	m := &mdWriter{w: b, s: s, id: ss.ID, l: newLayout(ms, agents), calls: map[string]*store.ToolCall{},
		agents: map[string]store.SubagentInfo{}, shown: map[string]bool{}}
	for i := range calls {
		m.calls[calls[i].ID] = &calls[i]
	}
	for _, a := range agents {
		m.agents[a.AgentID] = a
	}
	m.header(ss)
	for _, n := range m.l.main {
		m.message(n, 0)
	}
	for _, id := range m.l.agentOrder {
		if !m.shown[id] {
			m.agent(id, 0)
		}
	}
	return nil
}

func (m *mdWriter) header(ss store.Session) {
	title := ss.Title
	if title == "" {
		title = "Session " + ss.ID
	}
	fmt.Fprintf(m.w, "# %s\n\n", oneLine(title))
	field := func(name, v string) {
		if v != "" {
			fmt.Fprintf(m.w, "- **%s:** %s\n", name, v)
		}
	}
	field("Session", "`"+ss.ID+"`")
	field("Project", ss.Project)
	field("Branch", ss.GitBranch)
	field("Started", m.when(ss.FirstAt))
	field("Ended", m.when(ss.LastAt))
	field("Duration", humanDuration(duration(ss)))
	field("Messages", fmt.Sprint(ss.Messages))
	field("Tool calls", fmt.Sprint(ss.ToolCalls))
	field("Tokens", fmt.Sprint(ss.Tokens.Total()))
	field("Cost", fmt.Sprintf("$%.2f", ss.Cost))
	field("Claude Code", ss.Version)
	field("Plan", ss.Slug)
	m.w.WriteString("\n---\n\n")
}

func (m *mdWriter) when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(m.s.opts.Location).Format("2006-01-02 15:04:05 MST")
}

// heading is the level of a message's heading: subagents sit one level
// below the thread that started them.
func heading(depth int) string { return strings.Repeat("#", min(2+depth, 6)) }

func (m *mdWriter) message(n *node, depth int) {
	if n.resultOnly {
		return // its results follow their calls
	}
	kind, label := stepKind(n.m)
	if n.m.AgentID != "" {
		label = "Subagent · " + label
	}
	fmt.Fprintf(m.w, "%s %s", heading(depth), label)
	if at := m.when(n.m.Timestamp); at != "" {
		fmt.Fprintf(m.w, " · %s", at)
	}
	if n.m.Model != "" {
		fmt.Fprintf(m.w, " · %s", n.m.Model)
	}
	m.w.WriteString("\n\n")
	if kind == "compact" {
		m.w.WriteString("*Conversation compacted.*\n\n")
		return
	}
	for _, bl := range parseBlocks(n.m.Content, n.m.Text) {
		m.block(bl, kind, depth)
	}
}

func (m *mdWriter) block(bl block, kind string, depth int) {
	switch bl.Type {
	case "text":
		if strings.TrimSpace(bl.Text) == "" {
			return
		}
		if kind == "assistant" || kind == "summary" || kind == "prompt" || kind == "user" {
			m.w.WriteString(strings.TrimSpace(bl.Text) + "\n\n")
			return
		}
		m.w.WriteString(fence("", bl.Text))
	case "thinking":
		if t := strings.TrimSpace(bl.Thinking); t != "" {
			m.w.WriteString("> *Thinking:*\n>\n" + quote(t) + "\n")
		}
	case "redacted_thinking":
		m.w.WriteString("> *Thinking redacted.*\n\n")
	case "image":
		m.w.WriteString("*[image]*\n\n")
	case "tool_use":
		m.tool(bl, depth)
	case "tool_result":
		text, _ := resultContent(bl.Content)
		m.w.WriteString("**Result** of a call not in this session")
		if bl.IsError {
			m.w.WriteString(" (error)")
		}
		m.w.WriteString(":\n\n")
		m.output(text, "")
	}
}

func (m *mdWriter) tool(bl block, depth int) {
	fmt.Fprintf(m.w, "**Tool call: %s** (`%s`)\n\n", oneLine(bl.Name), bl.ID)
	if len(bl.Input) > 0 {
		var in bytes.Buffer
		if json.Indent(&in, canonicalJSON(bl.Input), "", "  ") != nil {
			in.Reset()
			in.Write(bl.Input)
		}
		m.w.WriteString(fence("json", in.String()))
	}
	c := m.calls[bl.ID]
	switch {
	case c == nil || c.Result == nil:
		m.w.WriteString("*No result.*\n\n")
	default:
		m.w.WriteString("**Result**")
		if c.Result.IsError {
			m.w.WriteString(" (error)")
		}
		if c.Result.Interrupted {
			m.w.WriteString(" (interrupted)")
		}
		m.w.WriteString(":\n\n")
		m.output(c.Result.Text, "/sessions/"+url.PathEscape(m.id)+"/tools/"+url.PathEscape(c.ID))
	}
	if id, ok := m.l.agentOf[bl.ID]; ok && !m.shown[id] && depth < maxDepth {
		m.agent(id, depth+1)
	}
}

// output writes a tool's output, cut after maxExportOutput bytes with a note
// saying how much was left out and where the whole is.
func (m *mdWriter) output(text, href string) {
	if strings.TrimSpace(text) == "" {
		m.w.WriteString("*(no output)*\n\n")
		return
	}
	head, cut := render.Truncate(text, maxExportOutput)
	m.w.WriteString(fence("", head))
	if cut {
		fmt.Fprintf(m.w, "*… %s more of %s", humanBytes(len(text)-len(head)), humanBytes(len(text)))
		if href != "" {
			fmt.Fprintf(m.w, "; the whole output: <%s>", href)
		}
		m.w.WriteString(".*\n\n")
	}
}

func (m *mdWriter) agent(id string, depth int) {
	m.shown[id] = true
	a := m.agents[id]
	name := "Subagent " + id
	if a.Type != "" {
		name = "Subagent " + a.Type
	}
	if a.Description != "" {
		name += ": " + a.Description
	}
	fmt.Fprintf(m.w, "%s %s\n\n", heading(depth), oneLine(name))
	if len(m.l.agents[id]) == 0 {
		m.w.WriteString("> The subagent's own transcript was not imported.\n\n")
		return
	}
	fmt.Fprintf(m.w, "> Start of the subagent's transcript (%d messages).\n\n", len(m.l.agents[id]))
	for _, n := range m.l.agents[id] {
		m.message(n, depth)
	}
	fmt.Fprintf(m.w, "> End of subagent %s.\n\n", oneLine(id))
}

// fence wraps text in a code fence longer than any run of backticks in it.
func fence(lang, text string) string {
	longest, run := 0, 0
	for _, c := range text {
		if c == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	f := strings.Repeat("`", max(3, longest+1))
	return f + lang + "\n" + strings.TrimRight(text, "\n") + "\n" + f + "\n\n"
}

func quote(text string) string {
	var b strings.Builder
	for line := range strings.Lines(text) {
		b.WriteString("> " + strings.TrimRight(line, "\n") + "\n")
	}
	return b.String()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// exportJSONL is GET /sessions/{id}.jsonl: the session's lines as Claude
// Code wrote them, read again from its transcript files, the session's own
// file first, then other files holding its records, then its subagents'.
func (s *Server) exportJSONL(w http.ResponseWriter, r *http.Request) {
	ss, err := s.exportSession(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	paths, err := s.db.SessionFiles(r.Context(), ss.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	md := "/sessions/" + url.PathEscape(ss.ID) + ".md"
	if len(paths) == 0 {
		s.fail(w, r, gone("no transcript file of session %s is known; the Markdown export (%s) still works from the database", ss.ID, md))
		return
	}
	orderFiles(ss.ID, paths)
	files := make([]*os.File, 0, len(paths))
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for _, p := range paths {
		f, err := os.Open(p)
		if errors.Is(err, fs.ErrNotExist) {
			s.fail(w, r, gone("the transcript file %s is gone; the Markdown export (%s) still works from the database", p, md))
			return
		}
		if err != nil {
			s.fail(w, r, fmt.Errorf("open transcript %s: %w", p, err))
			return
		}
		files = append(files, f)
	}
	attachment(w, "application/x-ndjson; charset=utf-8", ss.ID, ".jsonl")
	bw := bufio.NewWriterSize(w, 64<<10)
	for i, f := range files {
		if err := copyLines(bw, f, ss.ID, ownedFile(ss.ID, paths[i])); err != nil {
			// The answer has begun: all that is left is to stop it short.
			s.log.Error("export transcript", "path", paths[i], "session", ss.ID, "err", err)
			return
		}
	}
	if err := bw.Flush(); err != nil {
		s.log.Debug("export transcript", "session", ss.ID, "err", err)
	}
}

// ownedFile reports whether a file is the session's own: its transcript or
// a subagent's. Every line of such a file belongs to the session unless it
// names another one; other files (a session resumed from this one) lend only
// the lines that name it.
func ownedFile(id, path string) bool {
	base := filepath.Base(path)
	return base == id+".jsonl" || isSubagentFile(path)
}

func isSubagentFile(path string) bool { return strings.HasPrefix(filepath.Base(path), "agent-") }

// orderFiles puts the session's own transcript first, then other
// transcripts, then subagents' files, each group by path.
func orderFiles(id string, paths []string) {
	rank := func(p string) int {
		switch {
		case filepath.Base(p) == id+".jsonl":
			return 0
		case isSubagentFile(p):
			return 2
		}
		return 1
	}
	slices.SortStableFunc(paths, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
}

// copyLines copies the complete lines of a file that belong to a session,
// byte for byte. A last line without its newline is still being written and
// is left out, as the importer leaves it.
func copyLines(w io.Writer, f io.Reader, id string, owned bool) error {
	br := bufio.NewReaderSize(f, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if keepLine(line, id, owned) {
			if _, err := w.Write(line); err != nil {
				return err
			}
		}
	}
}

func keepLine(line []byte, id string, owned bool) bool {
	var rec struct {
		SessionID *string `json:"sessionId"`
	}
	if json.Unmarshal(line, &rec) != nil || rec.SessionID == nil {
		return owned
	}
	return *rec.SessionID == id
}
