// Package exporter writes Parquet snapshots of a database, one directory per
// UTC day (DIR/date=YYYY-MM-DD/, Hive-style, so that DuckDB, pandas and
// Spark find the dates), each with sessions, messages, tool_calls,
// file_changes, usage and daily_stats files and a _manifest.json listing
// them. A day is written again when its rows changed after it was written.
package exporter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/xitongsys/parquet-go/parquet"

	"github.com/claude-insights/insights/store"
)

// The files of a day, in the order they are written.
const (
	SessionsFile    = "sessions.parquet"
	MessagesFile    = "messages.parquet"
	ToolCallsFile   = "tool_calls.parquet"
	FileChangesFile = "file_changes.parquet"
	UsageFile       = "usage.parquet"
	DailyStatsFile  = "daily_stats.parquet"
	ManifestFile    = "_manifest.json"
)

// Files names the Parquet files of every day.
var Files = []string{SessionsFile, MessagesFile, ToolCallsFile, FileChangesFile, UsageFile, DailyStatsFile}

// Codecs are the compressions a snapshot may use.
var Codecs = map[string]parquet.CompressionCodec{
	"zstd":   parquet.CompressionCodec_ZSTD,
	"snappy": parquet.CompressionCodec_SNAPPY,
}

// Options configure an Exporter.
type Options struct {
	// Dir holds the date directories.
	Dir string
	// Compression is "zstd" (the default) or "snappy".
	Compression string
	// Log receives a line per day written; nil is silent.
	Log *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Exporter writes snapshots of one database into one directory.
type Exporter struct {
	db    store.Exports
	dir   string
	codec string
	log   *slog.Logger
	now   func() time.Time
}

// New checks the options and makes the directory.
func New(db store.Exports, o Options) (*Exporter, error) {
	if o.Dir == "" {
		return nil, errors.New("export: no directory")
	}
	if o.Compression == "" {
		o.Compression = "zstd"
	}
	if _, ok := Codecs[o.Compression]; !ok {
		return nil, fmt.Errorf("export: compression %q: want zstd or snappy", o.Compression)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return &Exporter{db: db, dir: o.Dir, codec: o.Compression, log: o.Log, now: o.Now}, nil
}

// Dir is where the snapshots are.
func (x *Exporter) Dir() string { return x.dir }

// DayDir is the directory of a day's files.
func (x *Exporter) DayDir(day time.Time) string {
	return filepath.Join(x.dir, "date="+store.UTCDay(day).Format(time.DateOnly))
}

// Day writes the snapshot of one UTC day, whatever is there already, and
// returns its manifest. Files are written under temporary names and renamed
// once all are complete, the manifest last: a reader never sees half a file,
// and a crash leaves the previous files (their temporary ones are removed
// by the next export).
func (x *Exporter) Day(ctx context.Context, day time.Time) (Manifest, error) {
	day = store.UTCDay(day)
	start := x.now()
	dir := x.DayDir(day)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Manifest{}, fmt.Errorf("export %s: %w", day.Format(time.DateOnly), err)
	}
	removeTemps(dir)
	s, err := newDaySink(dir, day, Codecs[x.codec])
	if err != nil {
		return Manifest{}, fmt.Errorf("export %s: %w", day.Format(time.DateOnly), err)
	}
	defer s.abort()
	version, err := x.db.ExportDay(ctx, day, s)
	if err != nil {
		return Manifest{}, err
	}
	m := Manifest{Date: day.Format(time.DateOnly), Version: version, Compression: x.codec,
		ExportedAt: x.now().UTC().Truncate(time.Millisecond)}
	if m.Files, err = s.finish(); err != nil {
		return Manifest{}, fmt.Errorf("export %s: %w", m.Date, err)
	}
	if err := s.commit(m); err != nil {
		return Manifest{}, fmt.Errorf("export %s: %w", m.Date, err)
	}
	x.log.Info("exported", "date", m.Date, "version", version, "rows", m.Rows(), "bytes", m.Bytes(),
		"took", x.now().Sub(start).Round(time.Millisecond))
	return m, nil
}

// Pending lists the days from since to until (inclusive; zero: unbounded)
// whose snapshot is missing, incomplete or older than the database's rows.
func (x *Exporter) Pending(ctx context.Context, since, until time.Time) ([]store.ExportDay, error) {
	days, err := x.db.ExportDays(ctx, since, until)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	var out []store.ExportDay
	for _, d := range days {
		m, err := ReadManifest(x.DayDir(d.Day))
		if err != nil || m.Version < d.Version || !m.complete(x.DayDir(d.Day)) {
			out = append(out, d)
		}
	}
	return out, nil
}

// Sync writes every pending day from since to until, oldest first, calling
// done (if not nil) after each. It stops at the first failure.
func (x *Exporter) Sync(ctx context.Context, since, until time.Time, done func(i, n int, m Manifest)) ([]Manifest, error) {
	days, err := x.Pending(ctx, since, until)
	if err != nil {
		return nil, err
	}
	var out []Manifest
	for i, d := range days {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		m, err := x.Day(ctx, d.Day)
		if err != nil {
			return out, err
		}
		out = append(out, m)
		if done != nil {
			done(i+1, len(days), m)
		}
	}
	return out, nil
}

// Prune removes the date directories of days before the one holding
// cutoff, and returns their dates.
func (x *Exporter) Prune(cutoff time.Time) ([]string, error) {
	entries, err := os.ReadDir(x.dir)
	if err != nil {
		return nil, fmt.Errorf("prune %s: %w", x.dir, err)
	}
	limit := store.UTCDay(cutoff)
	var gone []string
	for _, e := range entries {
		date, ok := strings.CutPrefix(e.Name(), "date=")
		if !ok || !e.IsDir() {
			continue
		}
		d, err := time.Parse(time.DateOnly, date)
		if err != nil || !d.Before(limit) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(x.dir, e.Name())); err != nil {
			return gone, fmt.Errorf("prune %s: %w", e.Name(), err)
		}
		gone = append(gone, date)
	}
	sort.Strings(gone)
	if len(gone) > 0 {
		x.log.Info("pruned snapshots", "before", limit.Format(time.DateOnly), "dates", len(gone))
	}
	return gone, nil
}

// removeTemps removes what an export cut off left in a directory.
func removeTemps(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if n := e.Name(); strings.HasPrefix(n, ".") && strings.HasSuffix(n, ".tmp") {
			os.Remove(filepath.Join(dir, n))
		}
	}
}
