package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ShareLevel is how much of a team member's sessions the team server keeps.
type ShareLevel string

// Share levels, from least to most.
const (
	// ShareNone keeps usage numbers only: sessions' times and replies' tokens.
	ShareNone ShareLevel = "none"
	// ShareMetadata keeps sessions, messages without text, tool calls without
	// input or output, file changes, tags and token statistics.
	ShareMetadata ShareLevel = "metadata"
	// ShareFull keeps everything, searchable.
	ShareFull ShareLevel = "full"
)

// ParseShareLevel checks a share level's name.
func ParseShareLevel(s string) (ShareLevel, error) {
	switch l := ShareLevel(s); l {
	case ShareNone, ShareMetadata, ShareFull:
		return l, nil
	}
	return "", fmt.Errorf("share level %q: want none, metadata or full", s)
}

// User is a team member.
type User struct {
	ID    int64
	Name  string
	Email string
	Admin bool
	Share ShareLevel
	// KeyPrefix identifies the user's API key without revealing it.
	KeyPrefix    string
	KeyCreatedAt time.Time
	// RevokedAt is when the key was revoked (zero while it is valid): a
	// revoked user signs in to nothing.
	RevokedAt time.Time
	CreatedAt time.Time
	// Leaderboard is whether the user is ranked on the dashboard's
	// leaderboard.
	Leaderboard bool
	// HasPassword is whether an admin set the user a dashboard password.
	HasPassword bool
}

// Role is "admin" or "member".
func (u User) Role() string {
	if u.Admin {
		return "admin"
	}
	return "member"
}

// CheckUserName allows names that read well in URLs, lists and logs.
func CheckUserName(n string) error {
	if n == "" || len(n) > 64 {
		return fmt.Errorf("user name %q: want 1 to 64 characters", n)
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' || r == '@') {
			return fmt.Errorf("user name %q: want letters, digits and . _ - @ only", n)
		}
	}
	return nil
}

// ErrExists is returned when a row to be created exists already.
var ErrExists = errors.New("exists already")

// ErrForbidden is returned when an upload names a session that another user
// uploaded.
var ErrForbidden = errors.New("forbidden")

// InputError is a request that cannot be carried out as sent; its message
// is meant for the user.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// Upload is a range of one transcript file that a team member sent.
type Upload struct {
	User User
	// FileID is the client's identity of the file: a new id for a path is a
	// new file.
	FileID string
	// Path is the file's path relative to the Claude directory.
	Path string
	// Offset is where Body starts in the file.
	Offset int64
	// End, when not 0, is where in the client's file the body's lines end:
	// the body is the client's rewriting (redacted, reduced to the user's
	// share level) of the whole lines from Offset to End, so the server's
	// offsets for the file count the client's bytes, not the body's.
	End  int64
	Body []byte
}

// UploadResult says what an upload stored.
type UploadResult struct {
	// Offset is where the server's copy of the file now ends: the next
	// upload starts there.
	Offset int64 `json:"offset"`
	// Received is the bytes of the body; Duplicate, that the server had all
	// of them already.
	Received  int64 `json:"received"`
	Duplicate bool  `json:"duplicate"`
	// Lines, Skipped and Sessions count what this upload read: lines, lines
	// that could not be imported, sessions added to.
	Lines    int64    `json:"lines"`
	Skipped  int64    `json:"skipped"`
	Sessions []string `json:"sessions"`
	// Errors holds the first skipped lines, with why.
	Errors []string `json:"errors,omitempty"`
}

// UploadConflict is an upload that does not start where the server's copy
// of its file ends, which it says.
type UploadConflict struct {
	Offset int64
	Msg    string
}

func (e *UploadConflict) Error() string { return e.Msg }

// UploadBatch is a batch of an uploaded file, to be written if the file's
// stored copy ends at Start.
type UploadBatch struct {
	UserID int64
	Start  int64
	Batch  *Batch
}

// DailyStat is one user's activity on one UTC day.
type DailyStat struct {
	UserID   int64
	User     string
	Day      time.Time
	Sessions int64
	Messages int64
	Replies  int64
	Tokens
	Cost       float64
	ToolCalls  int64
	ToolErrors int64
}

// ToolStat is the calls of one tool.
type ToolStat struct {
	Tool   string
	Calls  int64
	Errors int64
}

// StatsQuery selects days of aggregates; zero bounds are unbounded, UserID
// 0 is everyone.
type StatsQuery struct {
	Since, Until time.Time // UTC days, Until exclusive
	UserID       int64
}

// Team is what team mode keeps besides transcripts: users and their keys,
// who uploaded what, and the aggregates the dashboard reads.
type Team interface {
	// AddUser creates a user with the hash and prefix of its first key;
	// ErrExists if the name is taken.
	AddUser(ctx context.Context, u User, keyHash []byte) (User, error)
	// Users lists every user by name.
	Users(ctx context.Context) ([]User, error)
	// UserByName returns one user, or ErrNotFound.
	UserByName(ctx context.Context, name string) (User, error)
	// UserByKey returns the user holding a key, revoked or not, or
	// ErrNotFound. The key's hash is compared in constant time.
	UserByKey(ctx context.Context, key string) (User, error)
	// SetKey gives a user a new key, which also ends a revocation.
	SetKey(ctx context.Context, name string, keyHash []byte, prefix string) (User, error)
	// Revoke makes a user's key open nothing.
	Revoke(ctx context.Context, name string) (User, error)
	// SetShare changes what the server keeps of a user's next uploads.
	SetShare(ctx context.Context, name string, level ShareLevel) (User, error)
	// ApplyUploads writes uploaded batches, of several users and files, in
	// one transaction. A batch whose file's stored offset is not its Start
	// gets an *UploadConflict in errs, one naming a session that another
	// user uploaded (or that an earlier batch of the call gave another
	// user) an ErrForbidden; the others are applied as by Driver.Apply,
	// their sessions become their users', and each user's daily_stats and
	// tool_usage of the UTC days they touch are recomputed. err is an error
	// of the whole transaction, which then wrote nothing.
	ApplyUploads(ctx context.Context, ups []UploadBatch) (errs []error, err error)
	// DailyStats returns the aggregates of the days a query selects, by day
	// then user name.
	DailyStats(ctx context.Context, q StatsQuery) ([]DailyStat, error)
	// ToolStats sums tool_usage over the days a query selects, most calls
	// first.
	ToolStats(ctx context.Context, q StatsQuery) ([]ToolStat, error)
	// Ping checks that the database answers.
	Ping(ctx context.Context) error

	// UsageBy sums usage_stats over the days a query selects, grouped by
	// one of GroupUser, GroupProject, GroupModel, GroupSubagent or GroupDay,
	// highest cost first (by day: oldest first).
	UsageBy(ctx context.Context, q StatsQuery, group string) ([]UsageGroup, error)
	// HourStats sums hour_stats over the days a query selects, per weekday
	// and hour (UTC).
	HourStats(ctx context.Context, q StatsQuery) ([]HourStat, error)
	// RefreshAggregates recomputes every user's aggregates of the UTC days
	// from since on (the repair of days whose rows came in an order that
	// left them short), and returns how many user-days it wrote.
	RefreshAggregates(ctx context.Context, since time.Time) (int64, error)
	// TryLock takes a lock across every server on the database, if no one
	// holds it; unlock gives it back.
	TryLock(ctx context.Context, name string) (unlock func(), ok bool, err error)

	// PasswordHash returns a user with the hash of their dashboard password
	// ("" when none is set), or ErrNotFound.
	PasswordHash(ctx context.Context, name string) (User, string, error)
	// SetPassword sets (or with "" removes) a user's password hash; the
	// user's browser sessions end.
	SetPassword(ctx context.Context, name, hash string) (User, error)
	// SetLeaderboard says whether a user is ranked on the leaderboard.
	SetLeaderboard(ctx context.Context, name string, show bool) (User, error)
	// AddWebSession stores a signed-in browser and drops expired ones.
	AddWebSession(ctx context.Context, s WebSession) error
	// WebSession returns the unexpired browser session of a token's hash
	// with its user, or ErrNotFound.
	WebSession(ctx context.Context, tokenHash []byte) (WebSession, User, error)
	// DeleteWebSession signs a browser out.
	DeleteWebSession(ctx context.Context, tokenHash []byte) error
}

// Groups of UsageBy.
const (
	GroupUser     = "user"
	GroupProject  = "project"
	GroupModel    = "model"
	GroupSubagent = "subagent"
	GroupDay      = "day"
)

// UsageGroup is the replies of one group of usage_stats.
type UsageGroup struct {
	// Key is the user's name, the project, the model, the subagent type or
	// the day (YYYY-MM-DD); for GroupSubagent, Subagent tells the main
	// thread (false, Key "") from subagents.
	Key      string
	Subagent bool
	Tokens
	Cost    float64
	Replies int64
	Users   int64 // distinct users in the group
}

// HourStat is the replies of one hour of the week.
type HourStat struct {
	Weekday time.Weekday
	Hour    int
	Replies int64
	Tokens  int64
}

// WebSession is a browser signed in to the dashboard. Only the hash of its
// cookie's token is stored.
type WebSession struct {
	TokenHash []byte
	UserID    int64
	// CSRF is the token the session's forms carry.
	CSRF      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Keep drops from a batch what a share level does not keep. It returns b.
func (b *Batch) Keep(level ShareLevel) *Batch {
	if level == ShareFull {
		return b
	}
	for i := range b.Sessions {
		s := &b.Sessions[i]
		if level == ShareNone {
			*s = Session{ID: s.ID, FirstAt: s.FirstAt, LastAt: s.LastAt, Version: s.Version}
		}
	}
	b.Summaries, b.Plans, b.TodoLists, b.Prompts = nil, nil, nil, nil
	if level == ShareNone {
		b.Messages, b.ToolUses, b.ToolResults, b.FileChanges, b.Subagents, b.Commits, b.Tags = nil, nil, nil, nil, nil, nil, nil
		return b
	}
	for i := range b.Messages {
		m := &b.Messages[i]
		m.Text, m.Content, m.Search = "", nil, ""
	}
	for i := range b.ToolUses {
		b.ToolUses[i].Input = nil
	}
	for i := range b.ToolResults {
		r := &b.ToolResults[i]
		r.Text, r.Structured = "", nil
	}
	for i := range b.Commits {
		b.Commits[i].Subject = ""
	}
	return b
}
