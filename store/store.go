// Package store declares the Driver interface, the only door to stored data,
// and the domain types it speaks in. store/sqlite and store/postgres implement it.
package store

import (
	"context"
	"errors"
	"time"
)

// Driver is a database holding imported transcripts.
type Driver interface {
	// FileState returns what has been imported from the transcript at path;
	// ok is false when the file was never seen.
	FileState(ctx context.Context, path string) (state FileState, ok bool, err error)
	// Apply writes batches of imported rows, each with its file's new state,
	// in one transaction: either all of it lands or none does. Rows
	// already stored are merged so that the result does not depend on the
	// order batches arrive in: a message is kept once per uuid (a copy in
	// several sessions belongs to the smallest session id); a reply's usage
	// is kept once per key with its fullest counts, dated by the fullest
	// line (the earliest of equal ones). Batches of one file must come in the
	// order they were read.
	Apply(ctx context.Context, batches ...*Batch) error
	// SkipFile records that a whole file could not be read (s.Line is 0);
	// the record is cleared by the next successful Apply of that path.
	SkipFile(ctx context.Context, s Skipped) error
	// Files lists the state of every tracked file, by path.
	Files(ctx context.Context) ([]FileState, error)
	// MarkGone records that tracked files no longer exist. What was
	// imported from them stays.
	MarkGone(ctx context.Context, paths []string, at time.Time) error
	// Status sums up the database, with the newest recent skipped lines.
	Status(ctx context.Context, recent int) (Status, error)
	// Reprice recomputes the cost of every usage row with cost, unless the
	// stored costs were already computed with prices of this fingerprint.
	// It reports whether it recomputed.
	Reprice(ctx context.Context, fingerprint string, cost CostFunc) (bool, error)
	// Session returns one session with its derived counts and totals, or
	// ErrNotFound.
	Session(ctx context.Context, id string) (Session, error)
	// Sessions returns a page of the sessions a query selects, in its
	// order, with the number of all it selects.
	Sessions(ctx context.Context, q SessionQuery) (SessionList, error)
	// Totals sums the counts of every session and lists the tools called
	// most (at most tools of them, most calls first, then by name).
	Totals(ctx context.Context, tools int) (Totals, error)
	// Facets returns the projects, models and tags sessions can be
	// filtered by: of every session, or of one team member's (userID).
	Facets(ctx context.Context, userID int64) (Facets, error)
	// UsageSums returns token usage summed per model and per local day or
	// per session.
	UsageSums(ctx context.Context, q UsageQuery) ([]UsageSum, error)
	// SpentSums sums the replies of a range (q's Since, Until and Project;
	// its Zone and BySession are ignored) per who spent them, by the rules
	// of SpentSum, in a few passes inside the database.
	SpentSums(ctx context.Context, q UsageQuery) ([]SpentSum, error)
	// Replies returns the billed replies of a session, oldest first.
	Replies(ctx context.Context, sessionID string) ([]Usage, error)
	// RepliesBetween returns the billed replies from since (inclusive) to
	// until (exclusive), zero meaning unbounded, oldest first; project
	// matches sessions as in UsageQuery ("": every session).
	RepliesBetween(ctx context.Context, since, until time.Time, project string) ([]Usage, error)
	// Messages returns the messages of a session: the main thread's in file
	// order, then each subagent's (by agent id) in file order.
	Messages(ctx context.Context, sessionID string) ([]Message, error)
	// ToolCalls returns the tool calls of a session in the order they were
	// made, each with its result if one came.
	ToolCalls(ctx context.Context, sessionID string) ([]ToolCall, error)
	// FileChanges returns the file changes of a session, oldest first.
	FileChanges(ctx context.Context, sessionID string) ([]FileChange, error)
	// Subagents returns the subagents of a session, by start time.
	Subagents(ctx context.Context, sessionID string) ([]SubagentInfo, error)
	// Commits returns the commits a session made, oldest first.
	Commits(ctx context.Context, sessionID string) ([]Commit, error)
	// Tags returns the tags of a session, sorted.
	Tags(ctx context.Context, sessionID string) ([]string, error)
	// Plans returns every plan, newest first, with the sessions sharing its slug.
	Plans(ctx context.Context) ([]PlanInfo, error)
	// Plan returns the plan of a slug with the sessions sharing it, or
	// ErrNotFound.
	Plan(ctx context.Context, slug string) (PlanInfo, error)
	// Todos returns the todo lists of a session, by agent id.
	Todos(ctx context.Context, sessionID string) ([]TodoList, error)
	// Prompts returns prompts of the history, newest first.
	Prompts(ctx context.Context, q PromptQuery) ([]Prompt, error)
	// CountPrompts returns how many prompts a query selects, whatever its
	// limit and offset.
	CountPrompts(ctx context.Context, q PromptQuery) (int64, error)
	// SessionFiles returns the transcript files a session was read from, by
	// path; they may be gone since.
	SessionFiles(ctx context.Context, sessionID string) ([]string, error)
	// Search returns the messages matching a full-text query, best first; a
	// query that cannot be understood is a *QueryError.
	Search(ctx context.Context, q SearchQuery) (SearchResult, error)
	// Exports reads what the Parquet snapshots hold.
	Exports
	// Close releases the database.
	Close() error
}

// CostFunc prices the tokens of one reply of a model; ok is false when the
// model has no price.
type CostFunc func(model string, t Tokens) (cost float64, ok bool)

// ErrNotFound is returned when a requested row does not exist.
var ErrNotFound = errors.New("not found")

// SQLError is a statement the SQL explorer refused or could not run, or a
// request for a table or column it does not have; its message is meant for
// the user.
type SQLError struct{ Msg string }

func (e *SQLError) Error() string { return e.Msg }
