package exporter

import (
	"time"

	"github.com/claude-insights/insights/store"
)

// The rows of each file. Timestamps are milliseconds since the Unix epoch,
// typed TIMESTAMP (UTC); dates are days since it, typed DATE; a pointer is a
// nullable column. Columns are named as in the database, snake_case.

type sessionRow struct {
	SessionID    string  `parquet:"name=session_id, type=BYTE_ARRAY, convertedtype=UTF8"`
	User         *string `parquet:"name=user, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY, repetitiontype=OPTIONAL"`
	Project      string  `parquet:"name=project, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY"`
	GitBranch    string  `parquet:"name=git_branch, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY"`
	Version      string  `parquet:"name=claude_version, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY"`
	Slug         string  `parquet:"name=slug, type=BYTE_ARRAY, convertedtype=UTF8"`
	Title        string  `parquet:"name=title, type=BYTE_ARRAY, convertedtype=UTF8"`
	StartedAt    int64   `parquet:"name=started_at, type=INT64, convertedtype=TIMESTAMP_MILLIS, logicaltype=TIMESTAMP, logicaltype.isadjustedtoutc=true, logicaltype.unit=MILLIS"`
	EndedAt      *int64  `parquet:"name=ended_at, type=INT64, convertedtype=TIMESTAMP_MILLIS, logicaltype=TIMESTAMP, logicaltype.isadjustedtoutc=true, logicaltype.unit=MILLIS, repetitiontype=OPTIONAL"`
	Messages     int64   `parquet:"name=messages, type=INT64"`
	ToolCalls    int64   `parquet:"name=tool_calls, type=INT64"`
	ToolErrors   int64   `parquet:"name=tool_errors, type=INT64"`
	Compactions  int64   `parquet:"name=compactions, type=INT64"`
	Subagents    int64   `parquet:"name=subagents, type=INT64"`
	InputTokens  int64   `parquet:"name=input_tokens, type=INT64"`
	OutputTokens int64   `parquet:"name=output_tokens, type=INT64"`
	CacheWrite5m int64   `parquet:"name=cache_write_5m_tokens, type=INT64"`
	CacheWrite1h int64   `parquet:"name=cache_write_1h_tokens, type=INT64"`
	CacheRead    int64   `parquet:"name=cache_read_tokens, type=INT64"`
	Cost         float64 `parquet:"name=cost_usd, type=DOUBLE"`
}

type messageRow struct {
	UUID             string  `parquet:"name=uuid, type=BYTE_ARRAY, convertedtype=UTF8"`
	SessionID        string  `parquet:"name=session_id, type=BYTE_ARRAY, convertedtype=UTF8"`
	User             *string `parquet:"name=user, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY, repetitiontype=OPTIONAL"`
	Timestamp        int64   `parquet:"name=timestamp, type=INT64, convertedtype=TIMESTAMP_MILLIS, logicaltype=TIMESTAMP, logicaltype.isadjustedtoutc=true, logicaltype.unit=MILLIS"`
	Seq              int64   `parquet:"name=seq, type=INT64"`
	ParentUUID       *string `parquet:"name=parent_uuid, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	Type             string  `parquet:"name=type, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY"`
	Role             string  `parquet:"name=role, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY"`
	Subtype          *string `parquet:"name=subtype, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY, repetitiontype=OPTIONAL"`
	Model            *string `parquet:"name=model, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY, repetitiontype=OPTIONAL"`
	AgentID          *string `parquet:"name=agent_id, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	MessageID        *string `parquet:"name=message_id, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	IsPrompt         bool    `parquet:"name=is_prompt, type=BOOLEAN"`
	IsSidechain      bool    `parquet:"name=is_sidechain, type=BOOLEAN"`
	IsMeta           bool    `parquet:"name=is_meta, type=BOOLEAN"`
	IsCompactSummary bool    `parquet:"name=is_compact_summary, type=BOOLEAN"`
	IsAPIError       bool    `parquet:"name=is_api_error, type=BOOLEAN"`
	Text             string  `parquet:"name=text, type=BYTE_ARRAY, convertedtype=UTF8"`
}

type toolCallRow struct {
	ID          string  `parquet:"name=tool_use_id, type=BYTE_ARRAY, convertedtype=UTF8"`
	SessionID   string  `parquet:"name=session_id, type=BYTE_ARRAY, convertedtype=UTF8"`
	User        *string `parquet:"name=user, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY, repetitiontype=OPTIONAL"`
	MessageUUID *string `parquet:"name=message_uuid, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	AgentID     *string `parquet:"name=agent_id, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	Name        string  `parquet:"name=name, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY"`
	StartedAt   int64   `parquet:"name=started_at, type=INT64, convertedtype=TIMESTAMP_MILLIS, logicaltype=TIMESTAMP, logicaltype.isadjustedtoutc=true, logicaltype.unit=MILLIS"`
	FinishedAt  *int64  `parquet:"name=finished_at, type=INT64, convertedtype=TIMESTAMP_MILLIS, logicaltype=TIMESTAMP, logicaltype.isadjustedtoutc=true, logicaltype.unit=MILLIS, repetitiontype=OPTIONAL"`
	DurationMs  *int64  `parquet:"name=duration_ms, type=INT64, repetitiontype=OPTIONAL"`
	HasResult   bool    `parquet:"name=has_result, type=BOOLEAN"`
	IsError     bool    `parquet:"name=is_error, type=BOOLEAN"`
	Interrupted bool    `parquet:"name=interrupted, type=BOOLEAN"`
	Input       *string `parquet:"name=input, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	Result      *string `parquet:"name=result, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
}

type fileChangeRow struct {
	ToolUseID    string  `parquet:"name=tool_use_id, type=BYTE_ARRAY, convertedtype=UTF8"`
	SessionID    string  `parquet:"name=session_id, type=BYTE_ARRAY, convertedtype=UTF8"`
	User         *string `parquet:"name=user, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY, repetitiontype=OPTIONAL"`
	Path         string  `parquet:"name=path, type=BYTE_ARRAY, convertedtype=UTF8"`
	Operation    string  `parquet:"name=operation, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY"`
	LinesAdded   int64   `parquet:"name=lines_added, type=INT64"`
	LinesRemoved int64   `parquet:"name=lines_removed, type=INT64"`
	Timestamp    int64   `parquet:"name=timestamp, type=INT64, convertedtype=TIMESTAMP_MILLIS, logicaltype=TIMESTAMP, logicaltype.isadjustedtoutc=true, logicaltype.unit=MILLIS"`
}

type usageRow struct {
	Key          string   `parquet:"name=key, type=BYTE_ARRAY, convertedtype=UTF8"`
	SessionID    string   `parquet:"name=session_id, type=BYTE_ARRAY, convertedtype=UTF8"`
	User         *string  `parquet:"name=user, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY, repetitiontype=OPTIONAL"`
	MessageID    *string  `parquet:"name=message_id, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	RequestID    *string  `parquet:"name=request_id, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	AgentID      *string  `parquet:"name=agent_id, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	Model        string   `parquet:"name=model, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY"`
	Timestamp    int64    `parquet:"name=timestamp, type=INT64, convertedtype=TIMESTAMP_MILLIS, logicaltype=TIMESTAMP, logicaltype.isadjustedtoutc=true, logicaltype.unit=MILLIS"`
	InputTokens  int64    `parquet:"name=input_tokens, type=INT64"`
	OutputTokens int64    `parquet:"name=output_tokens, type=INT64"`
	CacheWrite5m int64    `parquet:"name=cache_write_5m_tokens, type=INT64"`
	CacheWrite1h int64    `parquet:"name=cache_write_1h_tokens, type=INT64"`
	CacheRead    int64    `parquet:"name=cache_read_tokens, type=INT64"`
	TotalTokens  int64    `parquet:"name=total_tokens, type=INT64"`
	Cost         *float64 `parquet:"name=cost_usd, type=DOUBLE, repetitiontype=OPTIONAL"`
}

type dailyRow struct {
	Day          int32   `parquet:"name=day, type=INT32, convertedtype=DATE"`
	User         *string `parquet:"name=user, type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY, repetitiontype=OPTIONAL"`
	Sessions     int64   `parquet:"name=sessions, type=INT64"`
	Messages     int64   `parquet:"name=messages, type=INT64"`
	Replies      int64   `parquet:"name=replies, type=INT64"`
	InputTokens  int64   `parquet:"name=input_tokens, type=INT64"`
	OutputTokens int64   `parquet:"name=output_tokens, type=INT64"`
	CacheWrite5m int64   `parquet:"name=cache_write_5m_tokens, type=INT64"`
	CacheWrite1h int64   `parquet:"name=cache_write_1h_tokens, type=INT64"`
	CacheRead    int64   `parquet:"name=cache_read_tokens, type=INT64"`
	TotalTokens  int64   `parquet:"name=total_tokens, type=INT64"`
	Cost         float64 `parquet:"name=cost_usd, type=DOUBLE"`
	ToolCalls    int64   `parquet:"name=tool_calls, type=INT64"`
	ToolErrors   int64   `parquet:"name=tool_errors, type=INT64"`
}

// opt is a nullable text column: NULL for "".
func opt(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// optTime is a nullable timestamp column: NULL for the zero time.
func optTime(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	ms := t.UnixMilli()
	return &ms
}

func sessionOf(o store.Owner, s store.Session) sessionRow {
	return sessionRow{
		SessionID: s.ID, User: opt(o.User), Project: s.Project, GitBranch: s.GitBranch, Version: s.Version,
		Slug: s.Slug, Title: s.Title, StartedAt: s.FirstAt.UnixMilli(), EndedAt: optTime(s.LastAt),
		Messages: s.Messages, ToolCalls: s.ToolCalls, ToolErrors: s.ToolErrors, Compactions: s.Compactions,
		Subagents: s.Subagents, InputTokens: s.Input, OutputTokens: s.Output, CacheWrite5m: s.CacheWrite5m,
		CacheWrite1h: s.CacheWrite1h, CacheRead: s.CacheRead, Cost: s.Cost,
	}
}

func messageOf(o store.Owner, m store.Message) messageRow {
	return messageRow{
		UUID: m.UUID, SessionID: m.SessionID, User: opt(o.User), Timestamp: m.Timestamp.UnixMilli(), Seq: m.Seq,
		ParentUUID: opt(m.ParentUUID), Type: m.Type, Role: m.Role, Subtype: opt(m.Subtype), Model: opt(m.Model),
		AgentID: opt(m.AgentID), MessageID: opt(m.MessageID), IsPrompt: m.IsPrompt, IsSidechain: m.IsSidechain,
		IsMeta: m.IsMeta, IsCompactSummary: m.IsCompactSummary, IsAPIError: m.IsAPIError, Text: m.Text,
	}
}

// toolCallOf keeps a call's input and result only for those who share in full.
func toolCallOf(o store.Owner, c store.ToolCall) toolCallRow {
	r := toolCallRow{
		ID: c.ID, SessionID: c.SessionID, User: opt(o.User), MessageUUID: opt(c.MessageUUID), AgentID: opt(c.AgentID),
		Name: c.Name, StartedAt: c.At.UnixMilli(),
	}
	full := o.Share == store.ShareFull
	if full && len(c.Input) > 0 {
		r.Input = opt(string(c.Input))
	}
	if c.Result != nil {
		r.HasResult, r.IsError, r.FinishedAt = true, c.Result.IsError, optTime(c.Result.At)
		r.Interrupted = c.Result.Interrupted
		if d := c.Duration(); d > 0 {
			ms := d.Milliseconds()
			r.DurationMs = &ms
		}
		if full {
			text := c.Result.Text
			r.Result = &text
		}
	}
	return r
}

func fileChangeOf(o store.Owner, f store.FileChange) fileChangeRow {
	return fileChangeRow{
		ToolUseID: f.ToolUseID, SessionID: f.SessionID, User: opt(o.User), Path: f.Path, Operation: f.Operation,
		LinesAdded: f.Added, LinesRemoved: f.Removed, Timestamp: f.At.UnixMilli(),
	}
}

func usageOf(o store.Owner, u store.Usage) usageRow {
	r := usageRow{
		Key: u.Key, SessionID: u.SessionID, User: opt(o.User), MessageID: opt(u.MessageID), RequestID: opt(u.RequestID),
		AgentID: opt(u.AgentID), Model: u.Model, Timestamp: u.Timestamp.UnixMilli(), InputTokens: u.Input,
		OutputTokens: u.Output, CacheWrite5m: u.CacheWrite5m, CacheWrite1h: u.CacheWrite1h, CacheRead: u.CacheRead,
		TotalTokens: u.Total(),
	}
	if u.Priced {
		c := u.Cost
		r.Cost = &c
	}
	return r
}
