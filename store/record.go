package store

import (
	"encoding/json"
	"strings"
	"time"
)

// ToolUse is the call half of a tool call: a tool_use block of an assistant
// record.
type ToolUse struct {
	ID          string // the tool_use id
	SessionID   string
	MessageUUID string // the record that carries the call
	MessageID   string // the API message (reply) it belongs to
	AgentID     string // the subagent that made the call; empty on the main thread
	Seq         int64  // line number of the record in its file
	Name        string
	Input       json.RawMessage // the call's input as JSON; nil when absent
	At          time.Time
}

// ToolResult is the result half of a tool call: a tool_result block of a user
// record, matched to its ToolUse by id. It may arrive before its use, in
// another batch or another file.
type ToolResult struct {
	ToolUseID   string
	SessionID   string
	MessageUUID string // the record that carries the result
	Text        string // the result's text content
	// Structured is the record's toolUseResult: the tool's structured
	// result (an object per tool, or a string for errors); nil when absent.
	Structured json.RawMessage
	IsError    bool
	// Interrupted says the result reports that the user stopped the tool.
	Interrupted bool
	At          time.Time
}

// ToolCall is a tool use with its result, as stored. A copy of a call in
// several sessions belongs to the smallest session id, like messages.
type ToolCall struct {
	ToolUse
	// Result is nil while no result came.
	Result *ToolResult
}

// Interrupted reports whether the call never got a result, or its result
// says the user stopped it.
func (c ToolCall) Interrupted() bool { return c.Result == nil || c.Result.Interrupted }

// Duration is the time from the call to its result; zero without one.
func (c ToolCall) Duration() time.Duration {
	if c.Result == nil || c.At.IsZero() || c.Result.At.IsZero() {
		return 0
	}
	return c.Result.At.Sub(c.At)
}

// File change operations.
const (
	OpCreate = "create" // a Write that made a new file
	OpWrite  = "write"  // a Write over an existing file
	OpEdit   = "edit"   // Edit and MultiEdit
	OpDelete = "delete"
)

// FileChange is one file a tool call changed, from the call's
// structuredPatch (or, for a new file, its content).
type FileChange struct {
	ToolUseID string
	SessionID string
	Path      string
	Operation string
	Added     int64 // lines added
	Removed   int64 // lines removed
	At        time.Time
}

// Subagent links a subagent (Task/Agent tool) transcript to the session it
// ran in and the tool call that started it. Either half may be learnt first:
// the link from the call's result or from agent_progress records, the file
// from the subagent's own transcript.
type Subagent struct {
	SessionID string
	AgentID   string
	ToolUseID string // empty when not known (yet)
	Path      string // the subagent's transcript file; empty when not seen
}

// SubagentInfo is a stored subagent with what was learnt about it.
type SubagentInfo struct {
	Subagent
	// Type and Description come from the starting call's input
	// (subagent_type, description); empty without one.
	Type        string
	Description string
	Messages    int64
	FirstAt     time.Time
	LastAt      time.Time
	Tokens
	Cost float64
}

// Summary is a title Claude Code wrote for the conversation ending at a
// message; it may sit in another session's file than the message.
type Summary struct {
	LeafUUID string
	Text     string
}

// Commit is a git commit a session made, read from the output of a Bash
// call that ran git commit.
type Commit struct {
	ToolUseID string
	SessionID string
	Hash      string // abbreviated, as git printed it
	Branch    string
	Subject   string
	At        time.Time
}

// Tag is a label of a session, such as "tool:Bash" or "lang:go".
type Tag struct {
	SessionID string
	Tag       string
}

// Plan is a plan written in plan mode: plans/<slug>.md.
type Plan struct {
	Slug     string
	Path     string
	Markdown string
	ModTime  time.Time
}

// PlanInfo is a stored plan with the sessions that carry its slug.
type PlanInfo struct {
	Plan
	Sessions []string
}

// TodoList is the TodoWrite list of a session's agent (the main thread's
// agent id is the session id): todos/<session>-agent-<agent>.json.
type TodoList struct {
	SessionID string
	AgentID   string
	Items     []Todo
}

// Todo is one item of a TodoList.
type Todo struct {
	Content    string
	Status     string // pending, in_progress or completed
	ActiveForm string
}

// Prompt is one line of the prompt history (history.jsonl).
type Prompt struct {
	// Key identifies the line's content, so that reading the file again
	// adds nothing twice.
	Key       string
	At        time.Time
	Project   string
	SessionID string // empty when the line does not say
	Text      string
	// Pasted is the pastedContents object as JSON; nil when empty.
	Pasted json.RawMessage
}

// PromptQuery selects prompts of the history, newest first.
type PromptQuery struct {
	SessionID string
	Project   string // exactly or by its last path elements
	// Text selects prompts whose text contains it, ignoring ASCII case;
	// % and _ in it are matched literally.
	Text   string
	Limit  int // default 50, at most 500
	Offset int
}

// TagLong marks a long session: at least LongMessages messages, or
// LongDuration or more from its first record to its last. Drivers keep it
// as sessions grow; ingest makes every other tag.
const (
	TagLong      = "long"
	LongMessages = 200
	LongDuration = 3 * time.Hour
)

// PromptPage is the limit and offset of a prompt query, with defaults applied.
func PromptPage(q PromptQuery) (limit, offset int) {
	limit = q.Limit
	if limit <= 0 {
		limit = 50
	}
	return min(limit, 500), max(q.Offset, 0)
}

// MCPServer returns the server of an MCP tool's name, mcp__<server>__<tool>;
// ok is false for other tools.
func MCPServer(tool string) (server string, ok bool) {
	rest, ok := strings.CutPrefix(tool, "mcp__")
	if !ok {
		return "", false
	}
	server, _, ok = strings.Cut(rest, "__")
	return server, ok && server != ""
}

// AgentTodo is a stored item of a todo list with the agent whose it is, as
// drivers read them.
type AgentTodo struct {
	AgentID string
	Todo
}

// GroupTodos gathers a session's items, ordered by agent and position, into
// one list per agent.
func GroupTodos(sessionID string, items []AgentTodo) []TodoList {
	var ls []TodoList
	for _, it := range items {
		if len(ls) == 0 || ls[len(ls)-1].AgentID != it.AgentID {
			ls = append(ls, TodoList{SessionID: sessionID, AgentID: it.AgentID})
		}
		ls[len(ls)-1].Items = append(ls[len(ls)-1].Items, it.Todo)
	}
	return ls
}
