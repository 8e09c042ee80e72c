// Package ingest reads Claude Code transcripts: it parses lines into typed
// records and imports files into a store.Driver.
package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/claude-insights/insights/store"
)

// Record types the parser understands; any other type is kept as Other.
const (
	TypeUser      = "user"
	TypeAssistant = "assistant"
	TypeSystem    = "system"
	TypeSummary   = "summary"
	TypeProgress  = "progress"
)

// SyntheticModel marks a message Claude Code made up itself; it is never billed.
const SyntheticModel = "<synthetic>"

// Record is one parsed transcript line.
//
// No string field holds a NUL character: an escaped \u0000 becomes U+FFFD.
type Record struct {
	Type       string
	UUID       string
	ParentUUID string
	SessionID  string
	Timestamp  time.Time
	CWD        string
	GitBranch  string
	Version    string
	Slug       string
	AgentID    string

	IsSidechain      bool
	IsMeta           bool
	IsCompactSummary bool
	IsAPIError       bool

	// Subtype is the system record's subtype, or the progress record's data.type.
	Subtype string

	// Role, Model, MessageID and Text come from the API message of user and
	// assistant records.
	Role      string
	Model     string
	MessageID string
	RequestID string
	Text      string
	Usage     *Usage

	// LogicalParentUUID links a compaction boundary to the message before it;
	// CompactTrigger and CompactPreTokens come from its compactMetadata.
	LogicalParentUUID string
	CompactTrigger    string
	CompactPreTokens  int64
	// ParentToolUseID is the tool call a progress record reports on (for
	// agent_progress, the Task/Agent call that started the subagent).
	ParentToolUseID string

	// Content is the message's content (system records: their content) as
	// JSON, for replay; nil when absent.
	Content json.RawMessage
	// ToolUses and ToolResults are the tool_use and tool_result blocks of
	// the content; ToolUseResult is the structured result beside them.
	ToolUses      []ToolUseBlock
	ToolResults   []ToolResultBlock
	ToolUseResult json.RawMessage
	// IsPrompt marks a prompt the user typed: a user message of plain text,
	// not injected (isMeta), not a compact summary, not a subagent's, not a command's output
	// (text starting with "<"), not an interruption notice.
	IsPrompt bool

	// Summary and LeafUUID are set on summary records.
	Summary  string
	LeafUUID string

	// Nested is the subagent's transcript line that an agent_progress record
	// carries, parsed like a line of its own.
	Nested *Record

	// Raw is the whole line; kept for record types without a typed form.
	Raw json.RawMessage
}

// Usage is the token usage an assistant line reports.
type Usage struct {
	store.Tokens
	// Speed is "fast" for the fast mode of a model, else empty.
	Speed string
}

// Billable reports whether the record's usage counts towards tokens and cost.
func (r *Record) Billable() bool {
	return r.Type == TypeAssistant && r.Usage != nil && r.Model != SyntheticModel
}

// ErrBlank is returned for lines holding only white space (or a BOM); they
// are skipped, not counted as broken.
var ErrBlank = errors.New("blank line")

// Why a line or a file was skipped. Each error Parse or the importer returns
// wraps one of them; its text is the reason reported to the user.
var (
	ErrNotJSON      = errors.New("not JSON")
	ErrNotUTF8      = errors.New("not UTF-8")
	ErrBinary       = errors.New("binary data")
	ErrNotObject    = errors.New("not a JSON object")
	ErrNoType       = errors.New("no type")
	ErrBadField     = errors.New("field of the wrong type")
	ErrMissingField = errors.New("missing field")
	ErrTooLong      = errors.New("line too long")
	ErrUnreadable   = errors.New("unreadable")
	ErrNotFile      = errors.New("not a regular file")
)

var reasons = []error{ErrNotJSON, ErrNotUTF8, ErrBinary, ErrNotObject, ErrNoType, ErrBadField,
	ErrMissingField, ErrTooLong, ErrNotFile, ErrUnreadable}

// Reason names why err made a line or a file be skipped.
func Reason(err error) string {
	for _, r := range reasons {
		if errors.Is(err, r) {
			return r.Error()
		}
	}
	return ErrUnreadable.Error()
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// line mirrors the JSON of a transcript line; only the fields we use. The
// API message is decoded in the same pass as the line, so that its bytes are
// scanned once (it is most of a long line).
type line struct {
	lineFields
	Message *apiMessage `json:"message"`
}

// lineAnyMessage reads a line whose message is not an API message: a record
// of another type may carry a "message" of its own shape.
type lineAnyMessage struct {
	lineFields
	Message json.RawMessage `json:"message"`
}

// lineFields are the fields of a transcript line but its message.
type lineFields struct {
	Type             string          `json:"type"`
	UUID             string          `json:"uuid"`
	ParentUUID       *string         `json:"parentUuid"`
	SessionID        string          `json:"sessionId"`
	Timestamp        string          `json:"timestamp"`
	CWD              string          `json:"cwd"`
	GitBranch        string          `json:"gitBranch"`
	Version          string          `json:"version"`
	Slug             string          `json:"slug"`
	AgentID          string          `json:"agentId"`
	IsSidechain      bool            `json:"isSidechain"`
	IsMeta           bool            `json:"isMeta"`
	IsCompactSummary bool            `json:"isCompactSummary"`
	IsAPIError       bool            `json:"isApiErrorMessage"`
	Subtype          string          `json:"subtype"`
	Content          json.RawMessage `json:"content"`
	RequestID        string          `json:"requestId"`
	Summary          string          `json:"summary"`
	LeafUUID         string          `json:"leafUuid"`
	LogicalParent    string          `json:"logicalParentUuid"`
	ParentToolUseID  string          `json:"parentToolUseID"`
	ToolUseResult    json.RawMessage `json:"toolUseResult"`
	CompactMetadata  *struct {
		Trigger   string `json:"trigger"`
		PreTokens int64  `json:"preTokens"`
	} `json:"compactMetadata"`
	Data *progressData `json:"data"`
}

type apiMessage struct {
	ID      string          `json:"id"`
	Role    string          `json:"role"`
	Model   string          `json:"model"`
	Content json.RawMessage `json:"content"`
	Usage   *apiUsage       `json:"usage"`
}

type apiUsage struct {
	InputTokens              int64 `json:"input_tokens"`
	OutputTokens             int64 `json:"output_tokens"`
	CacheCreationInputTokens int64 `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int64 `json:"cache_read_input_tokens"`
	CacheCreation            *struct {
		Ephemeral5m int64 `json:"ephemeral_5m_input_tokens"`
		Ephemeral1h int64 `json:"ephemeral_1h_input_tokens"`
	} `json:"cache_creation"`
	Speed string `json:"speed"`
}

type progressData struct {
	Type    string          `json:"type"`
	AgentID string          `json:"agentId"`
	Message json.RawMessage `json:"message"`
}

// Parse turns one transcript line into a Record. It is a pure function of its
// input: blank lines and lines that are not JSON objects with a type are errors,
// which callers count and skip.
func Parse(b []byte) (*Record, error) {
	b = trimLine(b)
	if len(b) == 0 {
		return nil, ErrBlank
	}
	if bytes.IndexByte(b, 0) >= 0 {
		return nil, ErrBinary
	}
	if !utf8.Valid(b) {
		return nil, ErrNotUTF8
	}
	if b[0] != '{' {
		if json.Valid(b) {
			return nil, ErrNotObject
		}
		return nil, ErrNotJSON
	}
	var l line
	if err := decodeLine(b, &l); err != nil {
		return nil, err
	}
	if l.Type == "" {
		return nil, ErrNoType
	}
	r, err := fromLine(&l)
	if err != nil {
		return nil, err
	}
	r.Raw = json.RawMessage(b)
	r.replaceNUL()
	return r, nil
}

// trimLine drops a line's BOM and surrounding white space.
func trimLine(b []byte) []byte {
	return bytes.TrimSpace(bytes.TrimPrefix(b, utf8BOM))
}

// replaceNUL replaces the NUL characters that JSON escapes (\u0000) put in
// strings with U+FFFD: PostgreSQL's text cannot hold them, and both
// databases must hold the same.
func (r *Record) replaceNUL() {
	for _, f := range []*string{&r.Type, &r.UUID, &r.ParentUUID, &r.SessionID, &r.CWD, &r.GitBranch, &r.Version,
		&r.Slug, &r.AgentID, &r.Subtype, &r.Role, &r.Model, &r.MessageID, &r.RequestID, &r.Text, &r.Summary, &r.LeafUUID,
		&r.LogicalParentUUID, &r.ParentToolUseID, &r.CompactTrigger} {
		replaceNULIn(f)
	}
	for i := range r.ToolUses {
		replaceNULIn(&r.ToolUses[i].ID)
		replaceNULIn(&r.ToolUses[i].Name)
	}
	for i := range r.ToolResults {
		replaceNULIn(&r.ToolResults[i].ToolUseID)
		replaceNULIn(&r.ToolResults[i].Text)
	}
	if r.Nested != nil {
		r.Nested.replaceNUL()
	}
}

func replaceNULIn(s *string) {
	if strings.IndexByte(*s, 0) >= 0 {
		*s = strings.ReplaceAll(*s, "\x00", "\uFFFD")
	}
}

func fromLine(l *line) (*Record, error) {
	r := &Record{
		Type:              l.Type,
		UUID:              l.UUID,
		SessionID:         l.SessionID,
		CWD:               l.CWD,
		GitBranch:         l.GitBranch,
		Version:           l.Version,
		Slug:              l.Slug,
		AgentID:           l.AgentID,
		IsSidechain:       l.IsSidechain,
		IsMeta:            l.IsMeta,
		IsCompactSummary:  l.IsCompactSummary,
		IsAPIError:        l.IsAPIError,
		Subtype:           l.Subtype,
		RequestID:         l.RequestID,
		Summary:           l.Summary,
		LeafUUID:          l.LeafUUID,
		LogicalParentUUID: l.LogicalParent,
		ParentToolUseID:   l.ParentToolUseID,
	}
	if l.ParentUUID != nil {
		r.ParentUUID = *l.ParentUUID
	}
	if l.Timestamp != "" {
		ts, err := time.Parse(time.RFC3339Nano, l.Timestamp)
		if err != nil {
			return nil, fmt.Errorf("%w: timestamp %q is not a time", ErrBadField, l.Timestamp)
		}
		r.Timestamp = ts.UTC()
	}
	switch l.Type {
	case TypeUser, TypeAssistant:
		m := l.Message
		if m == nil {
			return nil, fmt.Errorf("%w: message", ErrMissingField)
		}
		r.Role = m.Role
		r.Model = m.Model
		r.MessageID = m.ID
		c := parseContent(m.Content)
		r.Text, r.ToolUses, r.ToolResults = c.text, c.uses, c.results
		r.Content = cleanJSON(m.Content)
		r.IsPrompt = l.Type == TypeUser && !l.IsMeta && !l.IsCompactSummary && !l.IsSidechain && len(c.results) == 0 &&
			isTyped(c.text)
		if m.Usage != nil && l.Type == TypeAssistant {
			r.Usage = m.Usage.normalize()
		}
		if r.Role == "" {
			r.Role = l.Type
		}
		r.ToolUseResult = cleanJSON(l.ToolUseResult)
	case TypeSystem:
		r.Text = parseContent(l.Content).text
		r.Content = cleanJSON(l.Content)
		if cm := l.CompactMetadata; cm != nil {
			r.CompactTrigger, r.CompactPreTokens = cm.Trigger, cm.PreTokens
		}
	case TypeProgress:
		if l.Data != nil {
			r.Subtype = l.Data.Type
			if l.Data.Type == "agent_progress" && len(l.Data.Message) > 0 {
				r.Nested = nestedRecord(l, l.Data)
			}
		}
	}
	return r, nil
}

// nestedRecord parses the subagent line inside an agent_progress record. It
// inherits what the inner line lacks (session, time, place) from the carrier,
// because its replies belong to the session of the record that carries them.
func nestedRecord(outer *line, d *progressData) *Record {
	var in line
	if err := decodeLine(d.Message, &in); err != nil || in.Type == "" {
		return nil
	}
	in.SessionID = outer.SessionID
	if in.Timestamp == "" {
		in.Timestamp = outer.Timestamp
	}
	if in.CWD == "" {
		in.CWD = outer.CWD
	}
	if in.GitBranch == "" {
		in.GitBranch = outer.GitBranch
	}
	if in.Version == "" {
		in.Version = outer.Version
	}
	if in.AgentID == "" {
		in.AgentID = d.AgentID
	}
	in.IsSidechain = true
	r, err := fromLine(&in)
	if err != nil {
		return nil
	}
	return r
}

// decodeLine decodes a transcript line. A message that is not an API
// message is an error on user and assistant lines, and ignored on others.
func decodeLine(b []byte, l *line) error {
	err := json.Unmarshal(b, l)
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case !errors.As(err, &te):
		return fmt.Errorf("%w: %v", ErrNotJSON, err)
	case te.Field == "message" || strings.HasPrefix(te.Field, "message."):
		var other lineAnyMessage
		if json.Unmarshal(b, &other) == nil && other.Type != TypeUser && other.Type != TypeAssistant {
			*l = line{lineFields: other.lineFields}
			return nil
		}
		if te.Field == "message" {
			return fmt.Errorf("%w: message is not an object", ErrBadField)
		}
	}
	return fmt.Errorf("%w: %s is %s, want %s", ErrBadField, fieldName(te), te.Value, te.Type)
}

func (u *apiUsage) normalize() *Usage {
	out := &Usage{Speed: u.Speed}
	out.Input, out.Output, out.CacheRead = u.InputTokens, u.OutputTokens, u.CacheReadInputTokens
	total := u.CacheCreationInputTokens
	if cc := u.CacheCreation; cc != nil && cc.Ephemeral5m+cc.Ephemeral1h > 0 {
		out.CacheWrite1h = cc.Ephemeral1h
		out.CacheWrite5m = cc.Ephemeral5m
		// Whatever the split leaves out of the total is priced as 5-minute writes.
		if rest := total - cc.Ephemeral5m - cc.Ephemeral1h; rest > 0 {
			out.CacheWrite5m += rest
		}
	} else {
		out.CacheWrite5m = total
	}
	return out
}

// isTyped reports whether a user message's text is something the user
// typed: not empty, not the output of a command (wrapped in tags such as
// <command-name> or <local-command-stdout>), not an interruption notice.
func isTyped(text string) bool {
	t := strings.TrimSpace(text)
	return t != "" && !strings.HasPrefix(t, "<") && !strings.HasPrefix(t, interruptedPrefix)
}

// fieldName is the dotted JSON path of the field a type error is about.
func fieldName(te *json.UnmarshalTypeError) string {
	if te.Field == "" {
		return "a field"
	}
	return te.Field
}
