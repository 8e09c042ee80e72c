package exporter

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/xitongsys/parquet-go/parquet"

	"github.com/claude-insights/insights/store"
)

// daySink writes the rows of one day into its six files as the database
// passes them, and sums daily_stats on the way: per user, the sessions
// active that day (with a message or reply), messages, replies, tokens,
// cost, tool calls and errors, as the team dashboard's daily_stats does.
type daySink struct {
	dir    string
	day    time.Time
	tables map[string]*table
	daily  map[string]*daily
}

type daily struct {
	row      dailyRow
	sessions map[string]struct{}
}

var _ store.ExportSink = (*daySink)(nil)

func newDaySink(dir string, day time.Time, codec parquet.CompressionCodec) (*daySink, error) {
	s := &daySink{dir: dir, day: day, tables: map[string]*table{}, daily: map[string]*daily{}}
	schemas := map[string]any{
		SessionsFile: new(sessionRow), MessagesFile: new(messageRow), ToolCallsFile: new(toolCallRow),
		FileChangesFile: new(fileChangeRow), UsageFile: new(usageRow), DailyStatsFile: new(dailyRow),
	}
	for _, name := range Files {
		t, err := newTable(dir, name, schemas[name], codec)
		if err != nil {
			s.abort()
			return nil, err
		}
		s.tables[name] = t
	}
	return s, nil
}

func (s *daySink) stats(o store.Owner, session string) *daily {
	d := s.daily[o.User]
	if d == nil {
		d = &daily{row: dailyRow{Day: int32(store.DayNumber(s.day)), User: opt(o.User)}, sessions: map[string]struct{}{}}
		s.daily[o.User] = d
	}
	if session != "" {
		d.sessions[session] = struct{}{}
	}
	return d
}

func (s *daySink) Session(o store.Owner, v store.Session) error {
	return s.tables[SessionsFile].write(sessionOf(o, v))
}

// Message counts every message, and writes those of users who share in full.
func (s *daySink) Message(o store.Owner, v store.Message) error {
	s.stats(o, v.SessionID).row.Messages++
	if o.Share != store.ShareFull {
		return nil
	}
	return s.tables[MessagesFile].write(messageOf(o, v))
}

func (s *daySink) ToolCall(o store.Owner, v store.ToolCall) error {
	d := s.stats(o, "")
	d.row.ToolCalls++
	if v.Result != nil && v.Result.IsError {
		d.row.ToolErrors++
	}
	return s.tables[ToolCallsFile].write(toolCallOf(o, v))
}

func (s *daySink) FileChange(o store.Owner, v store.FileChange) error {
	return s.tables[FileChangesFile].write(fileChangeOf(o, v))
}

func (s *daySink) Usage(o store.Owner, v store.Usage) error {
	r := &s.stats(o, v.SessionID).row
	r.Replies++
	r.InputTokens += v.Input
	r.OutputTokens += v.Output
	r.CacheWrite5m += v.CacheWrite5m
	r.CacheWrite1h += v.CacheWrite1h
	r.CacheRead += v.CacheRead
	r.TotalTokens += v.Total()
	if v.Priced {
		r.Cost += v.Cost
	}
	return s.tables[UsageFile].write(usageOf(o, v))
}

// finish writes daily_stats (by user; no one's first) and the footer of
// every file, and lists them.
func (s *daySink) finish() ([]File, error) {
	users := make([]string, 0, len(s.daily))
	for u := range s.daily {
		users = append(users, u)
	}
	sort.Strings(users)
	for _, u := range users {
		d := s.daily[u]
		d.row.Sessions = int64(len(d.sessions))
		d.row.Cost = store.RoundCost(d.row.Cost)
		if err := s.tables[DailyStatsFile].write(d.row); err != nil {
			return nil, err
		}
	}
	files := make([]File, 0, len(Files))
	for _, name := range Files {
		f, err := s.tables[name].finish()
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

// commit removes the previous manifest, renames the finished files into
// place, then writes the new manifest, and syncs the directory: a crash
// between the renames leaves complete files and no manifest, which the next
// run writes again, never a manifest whose checksums do not match.
func (s *daySink) commit(m Manifest) error {
	if err := os.Remove(filepath.Join(s.dir, ManifestFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove the previous manifest: %w", err)
	}
	for _, name := range Files {
		if err := s.tables[name].commit(s.dir); err != nil {
			return err
		}
	}
	s.tables = nil
	if err := writeManifest(s.dir, m); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	d, err := os.Open(s.dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

// abort removes the temporary files of an export that did not commit.
func (s *daySink) abort() {
	for _, t := range s.tables {
		t.abort()
	}
	s.tables = nil
}
