package store

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"
)

// FileState is how far a transcript file has been imported.
type FileState struct {
	Path string
	// Size is the file's size when it was last read.
	Size int64
	// Offset is the byte offset after the last line consumed.
	Offset int64
	// Lines is the number of lines consumed, so numbering continues on append.
	Lines int64
	// Broken counts the lines that could not be parsed.
	Broken  int64
	ModTime time.Time
	// Dev and Inode identify the file on its device: a path that now names
	// another file is read again from the start.
	Dev, Inode uint64
	// HeadHash is the hex SHA-256 of the first HeadLen bytes: a file whose
	// first bytes changed was replaced and is read again from the start.
	HeadLen  int64
	HeadHash string
	// ImportedAt is when the file was last read; GoneAt, when it was found
	// deleted (zero while it exists).
	ImportedAt time.Time
	GoneAt     time.Time
}

// Skipped is a line, or a whole file (Line 0), that could not be imported.
type Skipped struct {
	Path   string
	Line   int64 // 1-based; 0 for the whole file
	Reason string
	Detail string
	At     time.Time
}

// Status sums up what a database holds and how its imports went.
type Status struct {
	// Size is the database's size in bytes.
	Size int64
	// Files counts the transcript files tracked; FilesGone those deleted since.
	Files, FilesGone int64
	// Sessions counts sessions; SessionsOnlyHere those whose transcript files
	// are all gone, so that the database holds their only copy.
	Sessions, SessionsOnlyHere int64
	// FirstAt is the start of the oldest session; LastImport the time of
	// the latest read of any file.
	FirstAt, LastImport time.Time
	// Skipped counts the lines and files that could not be imported; Recent
	// holds the newest of them, newest first.
	Skipped int64
	Recent  []Skipped
}

// Batch is a set of rows imported from one file, written atomically with the
// file's new state.
type Batch struct {
	File FileState
	// Reset says the file is being read again from its start: what was
	// recorded as skipped in it is forgotten (its imported rows stay).
	Reset bool
	// Skipped lists the lines of this batch that could not be imported.
	Skipped     []Skipped
	Sessions    []Session
	Messages    []Message
	Usage       []Usage
	ToolUses    []ToolUse
	ToolResults []ToolResult
	FileChanges []FileChange
	Subagents   []Subagent
	Summaries   []Summary
	Commits     []Commit
	Tags        []Tag
	Plans       []Plan
	TodoLists   []TodoList
	Prompts     []Prompt
}

// BatchFiles names the files of batches written together, for messages:
// the first file's path, and how many more there are.
func BatchFiles(batches []*Batch) string {
	if len(batches) == 1 {
		return batches[0].File.Path
	}
	return fmt.Sprintf("%s and %d more files", batches[0].File.Path, len(batches)-1)
}

// Session is one Claude Code session. Counts and token totals are derived from
// its messages and usage rows by the driver.
type Session struct {
	ID string
	// UserID is the team member who uploaded the session (0: imported
	// locally). Session returns it; Apply never sets it.
	UserID    int64
	Project   string // the working directory
	GitBranch string
	Version   string // Claude Code's version
	Slug      string // the plan slug its records carry
	FirstAt   time.Time
	LastAt    time.Time

	// Title is the summary of the session's latest summarized message,
	// else its first prompt.
	Title       string
	Messages    int64
	ToolCalls   int64
	ToolErrors  int64
	Compactions int64 // compaction boundaries
	Subagents   int64
	Tokens
	Cost float64
}

// Message is one user, assistant or system record of a transcript.
type Message struct {
	UUID       string
	SessionID  string
	Seq        int64 // line number in the file of the copy kept (see Driver.Apply)
	ParentUUID string
	Type       string
	Role       string
	Timestamp  time.Time
	Text       string
	Model      string
	AgentID    string
	// MessageID is the API message id of an assistant record.
	MessageID string
	// Subtype is a system record's subtype (compact_boundary, api_error, …).
	Subtype string
	// LogicalParentUUID links a compaction boundary to the message before it.
	LogicalParentUUID string
	// CompactTrigger ("auto" or "manual") and CompactPreTokens (the tokens
	// of the conversation it compacted) describe a compaction boundary.
	CompactTrigger   string
	CompactPreTokens int64
	// Content is the message's content as JSON: a string or a list of
	// blocks; nil when the record has none.
	Content json.RawMessage
	// Search is the text that full-text search indexes: the text, tool
	// inputs and tool results. It is written, not read back.
	Search string

	// IsPrompt marks a prompt the user typed (not a tool result, not
	// injected, not a command's output).
	IsPrompt         bool
	IsSidechain      bool
	IsMeta           bool
	IsCompactSummary bool
	IsAPIError       bool
}

// Usage is the billed usage of one API reply.
type Usage struct {
	// Key identifies the reply: message id and request id, or, for a line
	// lacking either, the line's own identity.
	Key       string
	MessageID string
	RequestID string
	SessionID string
	AgentID   string // the subagent whose reply it is; empty on the main thread
	Model     string
	Timestamp time.Time
	Tokens
	// Cost in USD; meaningless when Priced is false.
	Cost   float64
	Priced bool
}

// Tokens counts the tokens of one reply or of a sum of replies.
type Tokens struct {
	Input        int64
	Output       int64
	CacheWrite5m int64
	CacheWrite1h int64
	CacheRead    int64
}

// CacheWrite is the total of cache writes.
func (t Tokens) CacheWrite() int64 { return t.CacheWrite5m + t.CacheWrite1h }

// Total is the sum of every kind of token.
func (t Tokens) Total() int64 { return t.Input + t.Output + t.CacheWrite() + t.CacheRead }

// Add adds o to t.
func (t *Tokens) Add(o Tokens) {
	t.Input += o.Input
	t.Output += o.Output
	t.CacheWrite5m += o.CacheWrite5m
	t.CacheWrite1h += o.CacheWrite1h
	t.CacheRead += o.CacheRead
}

// UsageQuery selects usage and says how to group it.
type UsageQuery struct {
	// Since (inclusive) and Until (exclusive) bound the time of replies; zero
	// means unbounded. Both fall on quarter hours (as every day in every time
	// zone does); other bounds are rounded up to the next quarter hour.
	Since time.Time
	Until time.Time
	// Project matches a session's working directory exactly or by its last
	// path elements ("app" matches "/src/app").
	Project string
	// UserID selects the sessions of one team member (0: every session).
	UserID int64
	// BySession sums per session and model; otherwise per local day and model.
	BySession bool
	// Zone gives the local time's offset from UTC, from each instant on; the
	// first shift's From is zero. Empty means UTC.
	Zone []ZoneShift
}

// ZoneShift says that from an instant on, local time is UTC plus Offset.
type ZoneShift struct {
	From   time.Time
	Offset time.Duration // a multiple of 15 minutes
}

// UsageSum is usage summed per model and per local day or per session.
type UsageSum struct {
	// Day is the local calendar day, as a date at midnight UTC (zero when
	// summing by session).
	Day       time.Time
	SessionID string // empty unless summing by session
	Project   string // empty unless summing by session
	Model     string
	Tokens
	// Cost sums the priced replies, rounded to 1e-9 USD so that it does not
	// depend on the order the database added them in.
	Cost     float64
	Unpriced int64 // replies whose model has no price
	Replies  int64
	LastAt   time.Time // the latest reply
}

// RoundCost rounds a sum of costs to 1e-9 USD, far below a cent and far
// above the error of adding floating-point numbers in another order.
func RoundCost(c float64) float64 { return math.Round(c*1e9) / 1e9 }

// BucketSize is the granularity of stored usage sums: every real time zone's
// day starts on a quarter hour of UTC.
const BucketSize = 15 * time.Minute

var bucketMillis = BucketSize.Milliseconds()

// Bucket is the quarter hour holding t, numbered from the Unix epoch.
func Bucket(t time.Time) int64 { return t.UnixMilli() / bucketMillis }

// BucketCeil is the first quarter hour starting at or after t: the bucket
// of a bound, rounded up when it does not fall on a quarter hour.
func BucketCeil(t time.Time) int64 {
	ms := t.UnixMilli()
	if ms%bucketMillis > 0 {
		return ms/bucketMillis + 1
	}
	return ms / bucketMillis
}

// Who a SpentSum's replies went to.
const (
	SpentMain     = "main"     // the main thread
	SpentSubagent = "subagent" // subagents, by their type
	SpentSkill    = "skill"    // a skill, part of the main thread's usage
	SpentMCP      = "mcp"      // an MCP server, part of its caller's usage
)

// SpentSum is the usage of a range that one party spent, summed over
// sessions. A reply goes to the main thread or to its subagent (Name: the
// subagent's type, "" when unknown); a main-thread reply also to the skill
// the session loaded last with the Skill tool at or before it, unless the
// user typed a prompt in between; a reply that calls MCP tools
// (mcp__<server>__<tool>) also to the first server it calls. Main and
// subagent sums add up to the range's usage; skill and MCP sums are parts of
// them.
type SpentSum struct {
	By   string // SpentMain, SpentSubagent, SpentSkill or SpentMCP
	Name string
	Tokens
	// Cost sums the priced replies, rounded with RoundCost.
	Cost     float64
	Unpriced int64 // replies whose model has no price
	Replies  int64
	Sessions int64 // sessions with such replies
}

// SortSpent orders sums as reports show them: the main thread, subagents,
// skills, then MCP servers, each by cost (highest first), then name.
func SortSpent(ss []SpentSum) {
	order := map[string]int{SpentMain: 0, SpentSubagent: 1, SpentSkill: 2, SpentMCP: 3}
	sort.Slice(ss, func(i, j int) bool {
		a, b := ss[i], ss[j]
		if order[a.By] != order[b.By] {
			return order[a.By] < order[b.By]
		}
		if a.Cost != b.Cost {
			return a.Cost > b.Cost
		}
		return a.Name < b.Name
	})
}
