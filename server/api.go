package server

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/claude-insights/insights/store"
)

// The JSON API speaks in these shapes (documented in the README); they are
// kept apart from the store's types so that the API does not change when the
// store does.

type apiTokens struct {
	Input        int64 `json:"input"`
	Output       int64 `json:"output"`
	CacheWrite5m int64 `json:"cacheWrite5m"`
	CacheWrite1h int64 `json:"cacheWrite1h"`
	CacheRead    int64 `json:"cacheRead"`
	Total        int64 `json:"total"`
}

func toAPITokens(t store.Tokens) apiTokens {
	return apiTokens{t.Input, t.Output, t.CacheWrite5m, t.CacheWrite1h, t.CacheRead, t.Total()}
}

type apiSession struct {
	ID          string     `json:"id"`
	Title       string     `json:"title"`
	Project     string     `json:"project"`
	GitBranch   string     `json:"gitBranch"`
	Version     string     `json:"version"`
	Slug        string     `json:"slug,omitempty"`
	FirstAt     *time.Time `json:"firstAt"`
	LastAt      *time.Time `json:"lastAt"`
	DurationSec int64      `json:"durationSeconds"`
	Messages    int64      `json:"messages"`
	ToolCalls   int64      `json:"toolCalls"`
	ToolErrors  int64      `json:"toolErrors"`
	Compactions int64      `json:"compactions"`
	Subagents   int64      `json:"subagents"`
	Tokens      apiTokens  `json:"tokens"`
	Cost        float64    `json:"cost"`
	Tags        []string   `json:"tags"`
	Models      []string   `json:"models,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func toAPISession(s store.Session, tags, models []string) apiSession {
	if tags == nil {
		tags = []string{}
	}
	return apiSession{
		ID: s.ID, Title: s.Title, Project: s.Project, GitBranch: s.GitBranch, Version: s.Version, Slug: s.Slug,
		FirstAt: timePtr(s.FirstAt), LastAt: timePtr(s.LastAt), DurationSec: int64(duration(s).Seconds()),
		Messages: s.Messages, ToolCalls: s.ToolCalls, ToolErrors: s.ToolErrors, Compactions: s.Compactions,
		Subagents: s.Subagents, Tokens: toAPITokens(s.Tokens), Cost: s.Cost, Tags: tags, Models: models,
	}
}

func duration(s store.Session) time.Duration {
	if s.FirstAt.IsZero() || s.LastAt.IsZero() {
		return 0
	}
	return s.LastAt.Sub(s.FirstAt)
}

type apiSessionList struct {
	Total    int64        `json:"total"`
	Limit    int          `json:"limit"`
	Offset   int          `json:"offset"`
	Sessions []apiSession `json:"sessions"`
}

type apiSubagent struct {
	AgentID     string     `json:"agentId"`
	ToolUseID   string     `json:"toolUseId,omitempty"`
	Type        string     `json:"type,omitempty"`
	Description string     `json:"description,omitempty"`
	Messages    int64      `json:"messages"`
	FirstAt     *time.Time `json:"firstAt"`
	LastAt      *time.Time `json:"lastAt"`
	Tokens      apiTokens  `json:"tokens"`
	Cost        float64    `json:"cost"`
}

type apiTodo struct {
	AgentID    string `json:"agentId"`
	Content    string `json:"content"`
	Status     string `json:"status"`
	ActiveForm string `json:"activeForm,omitempty"`
}

type apiCommit struct {
	Hash    string     `json:"hash"`
	Branch  string     `json:"branch,omitempty"`
	Subject string     `json:"subject"`
	At      *time.Time `json:"at"`
}

type apiFileChange struct {
	Path      string     `json:"path"`
	Operation string     `json:"operation"`
	Added     int64      `json:"linesAdded"`
	Removed   int64      `json:"linesRemoved"`
	At        *time.Time `json:"at"`
	ToolUseID string     `json:"toolUseId"`
}

type apiSessionDetail struct {
	apiSession
	Subagents   []apiSubagent   `json:"subagentList"`
	Todos       []apiTodo       `json:"todos"`
	Commits     []apiCommit     `json:"commits"`
	FileChanges []apiFileChange `json:"fileChanges"`
}

// apiSession is GET /api/sessions/{id}.
func (s *Server) apiSession(r *http.Request) (any, error) {
	d, err := s.loadDetail(r, mux.Vars(r)["id"])
	if err != nil {
		return nil, err
	}
	out := apiSessionDetail{apiSession: toAPISession(d.Session, d.Tags, nil),
		Subagents: []apiSubagent{}, Todos: []apiTodo{}, Commits: []apiCommit{}, FileChanges: []apiFileChange{}}
	for _, a := range d.Subagents {
		out.Subagents = append(out.Subagents, apiSubagent{AgentID: a.AgentID, ToolUseID: a.ToolUseID, Type: a.Type,
			Description: a.Description, Messages: a.Messages, FirstAt: timePtr(a.FirstAt), LastAt: timePtr(a.LastAt),
			Tokens: toAPITokens(a.Tokens), Cost: a.Cost})
	}
	for _, l := range d.Todos {
		for _, it := range l.Items {
			out.Todos = append(out.Todos, apiTodo{AgentID: l.AgentID, Content: it.Content, Status: it.Status, ActiveForm: it.ActiveForm})
		}
	}
	for _, c := range d.Commits {
		out.Commits = append(out.Commits, apiCommit{Hash: c.Hash, Branch: c.Branch, Subject: c.Subject, At: timePtr(c.At)})
	}
	for _, f := range d.Files {
		out.FileChanges = append(out.FileChanges, apiFileChange{Path: f.Path, Operation: f.Operation, Added: f.Added,
			Removed: f.Removed, At: timePtr(f.At), ToolUseID: f.ToolUseID})
	}
	return out, nil
}

type apiMessage struct {
	UUID        string          `json:"uuid"`
	Seq         int64           `json:"seq"`
	ParentUUID  string          `json:"parentUuid,omitempty"`
	Type        string          `json:"type"`
	Role        string          `json:"role,omitempty"`
	Subtype     string          `json:"subtype,omitempty"`
	Timestamp   *time.Time      `json:"timestamp"`
	Model       string          `json:"model,omitempty"`
	AgentID     string          `json:"agentId,omitempty"`
	MessageID   string          `json:"messageId,omitempty"`
	Text        string          `json:"text"`
	Content     json.RawMessage `json:"content,omitempty"`
	IsPrompt    bool            `json:"isPrompt"`
	IsSidechain bool            `json:"isSidechain"`
	IsMeta      bool            `json:"isMeta"`
	IsCompact   bool            `json:"isCompactSummary"`
	IsAPIError  bool            `json:"isApiError"`
}

type apiMessages struct {
	Total    int          `json:"total"`
	Limit    int          `json:"limit"`
	Offset   int          `json:"offset"`
	Messages []apiMessage `json:"messages"`
}

// apiMessages is GET /api/sessions/{id}/messages: the session's messages,
// the main thread's then each subagent's, with limit (default 500, at most
// 5,000) and offset.
func (s *Server) apiMessages(r *http.Request) (any, error) {
	id := mux.Vars(r)["id"]
	limit, offset, err := pageParams(r, 500, 5000)
	if err != nil {
		return nil, err
	}
	if _, err := s.session(r, id); err != nil {
		return nil, err
	}
	ms, err := s.db.Messages(r.Context(), id)
	if err != nil {
		return nil, err
	}
	out := apiMessages{Total: len(ms), Limit: max(limit, 1), Offset: offset, Messages: []apiMessage{}}
	for _, m := range ms[min(offset, len(ms)):min(offset+out.Limit, len(ms))] {
		out.Messages = append(out.Messages, apiMessage{UUID: m.UUID, Seq: m.Seq, ParentUUID: m.ParentUUID, Type: m.Type,
			Role: m.Role, Subtype: m.Subtype, Timestamp: timePtr(m.Timestamp), Model: m.Model, AgentID: m.AgentID,
			MessageID: m.MessageID, Text: m.Text, Content: canonicalJSON(m.Content), IsPrompt: m.IsPrompt, IsSidechain: m.IsSidechain,
			IsMeta: m.IsMeta, IsCompact: m.IsCompactSummary, IsAPIError: m.IsAPIError})
	}
	return out, nil
}
