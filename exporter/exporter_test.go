package exporter

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xitongsys/parquet-go/parquet"
	"github.com/xitongsys/parquet-go/reader"

	"github.com/claude-insights/insights/ingest"
	"github.com/claude-insights/insights/pricing"
	"github.com/claude-insights/insights/store"
	"github.com/claude-insights/insights/store/sqlite"
	"github.com/claude-insights/insights/synth"
)

var start = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// imported returns a database holding a generated tree of a few days.
func imported(t *testing.T) *sqlite.DB {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := synth.Generate(dir, synth.Options{Size: 2 << 20, Seed: 7, Broken: true, Start: start, Days: 4}); err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "insights.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	im := &ingest.Importer{Store: db, Prices: pricing.Default()}
	if _, err := im.ImportTree(ctx, dir); err != nil {
		t.Fatal(err)
	}
	return db
}

func newExporter(t *testing.T, db store.Exports, dir string) *Exporter {
	t.Helper()
	x, err := New(db, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// readRows reads every row of a Parquet file into T.
func readRows[T any](t *testing.T, path string) ([]T, *reader.ParquetReader) {
	t.Helper()
	f, err := openLocal(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pr, err := reader.NewParquetReader(f, new(T), 1)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	defer pr.ReadStop()
	rows := make([]T, pr.GetNumRows())
	if len(rows) > 0 {
		if err := pr.Read(&rows); err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
	}
	return rows, pr
}

// column finds a column's schema element by its name in the file.
func column(t *testing.T, pr *reader.ParquetReader, name string) *parquet.SchemaElement {
	t.Helper()
	for i, se := range pr.Footer.Schema {
		if pr.SchemaHandler.Infos[i].ExName == name {
			return se
		}
	}
	t.Fatalf("no column %s", name)
	return nil
}

type totals struct {
	sessions, messages, replies, calls, errors, changes int64
	output, tokens                                      int64
	cost                                                float64
}

func TestExportReadBack(t *testing.T) {
	ctx := context.Background()
	db := imported(t)
	out := t.TempDir()
	x := newExporter(t, db, out)
	var progress []int
	ms, err := x.Sync(ctx, time.Time{}, time.Time{}, func(i, n int, m Manifest) { progress = append(progress, i, n) })
	if err != nil {
		t.Fatal(err)
	}
	days, err := db.ExportDays(ctx, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != len(days) || len(ms) < 4 {
		t.Fatalf("%d days exported, database has %d", len(ms), len(days))
	}
	if len(progress) != 2*len(ms) || progress[len(progress)-1] != len(ms) {
		t.Errorf("progress %v", progress)
	}
	var got totals
	for i, m := range ms {
		dir := x.DayDir(days[i].Day)
		if m.Date != days[i].Day.Format(time.DateOnly) || m.Version != days[i].Version || filepath.Base(dir) != "date="+m.Date {
			t.Fatalf("manifest %d: %s v%d, day %v v%d", i, m.Date, m.Version, days[i].Day, days[i].Version)
		}
		onDisk, err := ReadManifest(dir)
		if err != nil || onDisk.Version != m.Version || len(onDisk.Files) != len(Files) {
			t.Fatalf("manifest of %s on disk: %+v, %v", m.Date, onDisk, err)
		}
		for j, f := range onDisk.Files {
			b, err := os.ReadFile(filepath.Join(dir, f.Name))
			if err != nil {
				t.Fatal(err)
			}
			if st, _ := os.Stat(filepath.Join(dir, f.Name)); st.Mode().Perm() != 0o644 {
				t.Errorf("%s/%s: mode %v, want readable by all", m.Date, f.Name, st.Mode())
			}
			sum := sha256.Sum256(b)
			if f.Name != Files[j] || hex.EncodeToString(sum[:]) != f.SHA256 || int64(len(b)) != f.Bytes {
				t.Errorf("%s/%s: listed %d bytes %s, has %d bytes %x", m.Date, f.Name, f.Bytes, f.SHA256, len(b), sum)
			}
		}
		day := days[i].Day
		inDay := func(ms int64) bool { return ms >= day.UnixMilli() && ms < day.AddDate(0, 0, 1).UnixMilli() }

		sessions, pr := readRows[sessionRow](t, filepath.Join(dir, SessionsFile))
		checkCount(t, m, SessionsFile, len(sessions), pr)
		for _, s := range sessions {
			if !inDay(s.StartedAt) || s.User != nil {
				t.Errorf("session %s started %d, user %v, in %s", s.SessionID, s.StartedAt, s.User, m.Date)
			}
			got.sessions++
		}
		messages, pr := readRows[messageRow](t, filepath.Join(dir, MessagesFile))
		checkCount(t, m, MessagesFile, len(messages), pr)
		for _, r := range messages {
			if !inDay(r.Timestamp) {
				t.Errorf("message %s at %d in %s", r.UUID, r.Timestamp, m.Date)
			}
		}
		got.messages += int64(len(messages))
		calls, pr := readRows[toolCallRow](t, filepath.Join(dir, ToolCallsFile))
		checkCount(t, m, ToolCallsFile, len(calls), pr)
		for _, c := range calls {
			got.calls++
			if c.IsError {
				got.errors++
			}
			if c.HasResult != (c.Result != nil) || (c.FinishedAt == nil && c.DurationMs != nil) {
				t.Errorf("call %s: has_result %v, result %v, finished %v, duration %v", c.ID, c.HasResult, c.Result != nil, c.FinishedAt, c.DurationMs)
			}
		}
		changes, pr := readRows[fileChangeRow](t, filepath.Join(dir, FileChangesFile))
		checkCount(t, m, FileChangesFile, len(changes), pr)
		got.changes += int64(len(changes))
		usage, pr := readRows[usageRow](t, filepath.Join(dir, UsageFile))
		checkCount(t, m, UsageFile, len(usage), pr)
		var dayTokens int64
		for _, u := range usage {
			got.replies++
			got.output += u.OutputTokens
			got.tokens += u.TotalTokens
			dayTokens += u.TotalTokens
			if u.Cost != nil {
				got.cost += *u.Cost
			}
			if u.TotalTokens != u.InputTokens+u.OutputTokens+u.CacheWrite5m+u.CacheWrite1h+u.CacheRead {
				t.Errorf("reply %s: total %d", u.Key, u.TotalTokens)
			}
		}
		daily, pr := readRows[dailyRow](t, filepath.Join(dir, DailyStatsFile))
		checkCount(t, m, DailyStatsFile, len(daily), pr)
		if len(daily) != 1 || daily[0].Day != int32(store.DayNumber(day)) || daily[0].User != nil ||
			daily[0].TotalTokens != dayTokens || daily[0].Replies != int64(len(usage)) ||
			daily[0].Messages != int64(len(messages)) || daily[0].ToolCalls != int64(len(calls)) {
			t.Errorf("%s: daily_stats %+v; %d replies of %d tokens, %d messages, %d calls", m.Date, daily, len(usage),
				dayTokens, len(messages), len(calls))
		}
		if m.Compression != "zstd" || pr.Footer.RowGroups[0].Columns[0].MetaData.Codec != parquet.CompressionCodec_ZSTD {
			t.Errorf("compression %s / %v", m.Compression, pr.Footer.RowGroups[0].Columns[0].MetaData.Codec)
		}
	}
	// The files hold every row the database has, each once.
	sums, err := db.UsageSums(ctx, store.UsageQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var tot store.Tokens
	var cost float64
	for _, s := range sums {
		tot.Add(s.Tokens)
		cost += s.Cost
	}
	want := dbTotals(t, db)
	if got.sessions != want.sessions || got.messages != want.messages || got.replies != want.replies ||
		got.calls != want.calls || got.errors != want.errors || got.changes != want.changes ||
		got.output != tot.Output || got.tokens != tot.Total() || math.Abs(got.cost-cost) > 1e-6 {
		t.Errorf("files hold %+v\ndatabase %+v, output %d, tokens %d, cost %f", got, want, tot.Output, tot.Total(), cost)
	}
	if got.calls == 0 || got.errors == 0 || got.changes == 0 || got.messages == 0 {
		t.Errorf("the tree should have calls, errors, changes and messages: %+v", got)
	}
	t.Logf("%d days: %+v", len(ms), got)
	// Nothing left to do.
	if p, err := x.Pending(ctx, time.Time{}, time.Time{}); err != nil || len(p) != 0 {
		t.Errorf("pending after a sync: %v, %v", p, err)
	}
}

func checkCount(t *testing.T, m Manifest, name string, n int, pr *reader.ParquetReader) {
	t.Helper()
	f, ok := m.File(name)
	if !ok || f.Rows != int64(n) || pr.GetNumRows() != int64(n) {
		t.Errorf("%s/%s: manifest %d rows, footer %d, read %d", m.Date, name, f.Rows, pr.GetNumRows(), n)
	}
}

// dbTotals counts the database's rows through its own queries.
func dbTotals(t *testing.T, db *sqlite.DB) totals {
	t.Helper()
	ctx := context.Background()
	list, err := db.Sessions(ctx, store.SessionQuery{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	var n totals
	for _, s := range list.Sessions {
		n.sessions++
		ms, err := db.Messages(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if !m.Timestamp.IsZero() {
				n.messages++
			}
		}
		rs, err := db.Replies(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		n.replies += int64(len(rs))
		cs, err := db.ToolCalls(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			n.calls++
			if c.Result != nil && c.Result.IsError {
				n.errors++
			}
		}
		fs, err := db.FileChanges(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		n.changes += int64(len(fs))
	}
	return n
}

// The columns have the types readers expect: timestamps as TIMESTAMP in
// UTC, dates as DATE, counts as INT64, flags as BOOLEAN, NULL where the
// data may have none.
func TestExportColumnTypes(t *testing.T) {
	ctx := context.Background()
	db := imported(t)
	x := newExporter(t, db, t.TempDir())
	m, err := x.Day(ctx, start)
	if err != nil {
		t.Fatal(err)
	}
	dir := x.DayDir(start)
	_, sessions := readRows[sessionRow](t, filepath.Join(dir, SessionsFile))
	_, messages := readRows[messageRow](t, filepath.Join(dir, MessagesFile))
	_, calls := readRows[toolCallRow](t, filepath.Join(dir, ToolCallsFile))
	_, usage := readRows[usageRow](t, filepath.Join(dir, UsageFile))
	_, daily := readRows[dailyRow](t, filepath.Join(dir, DailyStatsFile))
	for _, tc := range []struct {
		pr       *reader.ParquetReader
		col      string
		typ      parquet.Type
		optional bool
		kind     string // timestamp, date, text or ""
	}{
		{sessions, "started_at", parquet.Type_INT64, false, "timestamp"},
		{sessions, "ended_at", parquet.Type_INT64, true, "timestamp"},
		{sessions, "user", parquet.Type_BYTE_ARRAY, true, "text"},
		{sessions, "messages", parquet.Type_INT64, false, ""},
		{sessions, "cost_usd", parquet.Type_DOUBLE, false, ""},
		{messages, "timestamp", parquet.Type_INT64, false, "timestamp"},
		{messages, "is_sidechain", parquet.Type_BOOLEAN, false, ""},
		{messages, "model", parquet.Type_BYTE_ARRAY, true, "text"},
		{messages, "text", parquet.Type_BYTE_ARRAY, false, "text"},
		{calls, "finished_at", parquet.Type_INT64, true, "timestamp"},
		{calls, "is_error", parquet.Type_BOOLEAN, false, ""},
		{calls, "input", parquet.Type_BYTE_ARRAY, true, "text"},
		{usage, "cost_usd", parquet.Type_DOUBLE, true, ""},
		{usage, "output_tokens", parquet.Type_INT64, false, ""},
		{daily, "day", parquet.Type_INT32, false, "date"},
	} {
		se := column(t, tc.pr, tc.col)
		rep := parquet.FieldRepetitionType_REQUIRED
		if tc.optional {
			rep = parquet.FieldRepetitionType_OPTIONAL
		}
		if se.GetType() != tc.typ || se.GetRepetitionType() != rep {
			t.Errorf("%s: %v %v, want %v %v", tc.col, se.GetType(), se.GetRepetitionType(), tc.typ, rep)
		}
		switch tc.kind {
		case "timestamp":
			ts := se.GetLogicalType().GetTIMESTAMP()
			if ts == nil || !ts.IsAdjustedToUTC || ts.GetUnit().GetMILLIS() == nil {
				t.Errorf("%s: logical type %v, want TIMESTAMP(UTC, millis)", tc.col, se.GetLogicalType())
			}
		case "date":
			if se.GetConvertedType() != parquet.ConvertedType_DATE {
				t.Errorf("%s: converted type %v, want DATE", tc.col, se.GetConvertedType())
			}
		case "text":
			if se.GetConvertedType() != parquet.ConvertedType_UTF8 {
				t.Errorf("%s: converted type %v, want UTF8", tc.col, se.GetConvertedType())
			}
		}
	}
	if m.Rows() == 0 {
		t.Error("the first day exported nothing")
	}
}

// A day is pending until exported, and again once rows for it arrive; the
// other days stay as they were.
func TestLateDataReexportsTheDay(t *testing.T) {
	ctx := context.Background()
	db := imported(t)
	x := newExporter(t, db, t.TempDir())
	if _, err := x.Sync(ctx, time.Time{}, time.Time{}, nil); err != nil {
		t.Fatal(err)
	}
	before := manifests(t, x)
	late := start.AddDate(0, 0, 1).Add(13 * time.Hour)
	if err := db.Apply(ctx, &store.Batch{File: store.FileState{Path: "/late/upload.jsonl"},
		Sessions: []store.Session{{ID: "late-session", Project: "/src/late", FirstAt: late, LastAt: late}},
		Messages: []store.Message{{UUID: "late-1", SessionID: "late-session", Seq: 1, Type: "user", Role: "user", Timestamp: late, Text: "late"}},
		Usage: []store.Usage{{Key: "late-r", SessionID: "late-session", Model: "claude-opus-4-6", Timestamp: late,
			Tokens: store.Tokens{Input: 1, Output: 1000}, Cost: 0.5, Priced: true}},
	}); err != nil {
		t.Fatal(err)
	}
	pending, err := x.Pending(ctx, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 1 || !pending[0].Day.Equal(store.UTCDay(late)) {
		t.Fatalf("pending after a late reply: %v", pending)
	}
	ms, err := x.Sync(ctx, time.Time{}, time.Time{}, nil)
	if err != nil || len(ms) != 1 {
		t.Fatalf("sync wrote %d days: %v", len(ms), err)
	}
	after := manifests(t, x)
	for date, m := range after {
		b := before[date]
		if date == ms[0].Date {
			f, _ := m.File(UsageFile)
			g, _ := b.File(UsageFile)
			if m.Version <= b.Version || f.Rows != g.Rows+1 {
				t.Errorf("%s: version %d → %d, replies %d → %d", date, b.Version, m.Version, g.Rows, f.Rows)
			}
			continue
		}
		if !m.ExportedAt.Equal(b.ExportedAt) || m.Version != b.Version {
			t.Errorf("%s was written again: %+v", date, m)
		}
	}
	// A deleted file makes its day pending again.
	if err := os.Remove(filepath.Join(x.DayDir(late), MessagesFile)); err != nil {
		t.Fatal(err)
	}
	if p, _ := x.Pending(ctx, time.Time{}, time.Time{}); len(p) != 1 {
		t.Errorf("pending with a file missing: %v", p)
	}
}

func manifests(t *testing.T, x *Exporter) map[string]Manifest {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(x.Dir(), "date=*"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Manifest{}
	for _, d := range dirs {
		m, err := ReadManifest(d)
		if err != nil {
			t.Fatal(err)
		}
		out[m.Date] = m
	}
	return out
}

// failAfter is a database whose reading of a day fails after some rows, as
// a crash or a lost connection would.
type failAfter struct {
	store.Exports
	rows int
}

type failingSink struct {
	store.ExportSink
	left *int
}

func (f failAfter) ExportDay(ctx context.Context, day time.Time, sink store.ExportSink) (int64, error) {
	n := f.rows
	return f.Exports.ExportDay(ctx, day, failingSink{sink, &n})
}

func (s failingSink) Message(o store.Owner, m store.Message) error {
	if *s.left--; *s.left < 0 {
		return errors.New("connection lost")
	}
	return s.ExportSink.Message(o, m)
}

// An export cut off leaves the previous files and manifest as they were,
// and no temporary file; one left by a crash is removed by the next export,
// and never matches *.parquet.
func TestCutOffExportLeavesPreviousFiles(t *testing.T) {
	ctx := context.Background()
	db := imported(t)
	out := t.TempDir()
	x := newExporter(t, db, out)
	if _, err := x.Day(ctx, start); err != nil {
		t.Fatal(err)
	}
	dir := x.DayDir(start)
	snapshot := func() map[string]string {
		out := map[string]string{}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
			sum := sha256.Sum256(b)
			out[e.Name()] = hex.EncodeToString(sum[:])
		}
		return out
	}
	before := snapshot()
	broken := newExporter(t, failAfter{db, 10}, out)
	if _, err := broken.Day(ctx, start); err == nil || !strings.Contains(err.Error(), "connection lost") {
		t.Fatalf("export with a failing read: %v", err)
	}
	after := snapshot()
	if len(after) != len(Files)+1 {
		t.Errorf("files after the failed export: %v", slices.Sorted(mapKeys(after)))
	}
	for name, sum := range before {
		if after[name] != sum {
			t.Errorf("%s changed", name)
		}
	}
	// A crash leaves a temporary file: not a *.parquet, gone after the next export.
	crash := filepath.Join(dir, "."+MessagesFile+".123.tmp")
	if err := os.WriteFile(crash, []byte("PAR1 half"), 0o644); err != nil {
		t.Fatal(err)
	}
	if matches, _ := filepath.Glob(filepath.Join(out, "*", "*.parquet")); len(matches) != len(Files) {
		t.Errorf("*.parquet matches %v", matches)
	}
	if _, err := x.Day(ctx, start); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(crash); !os.IsNotExist(err) {
		t.Errorf("the temporary file is still there: %v", err)
	}

	// Cut off between the renames (one cannot replace a directory): the
	// files renamed are whole, no manifest claims checksums they lack, and
	// the day is pending until written again.
	blocked := filepath.Join(dir, FileChangesFile)
	if err := os.Remove(blocked); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(blocked, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := x.Day(ctx, start); err == nil || !strings.Contains(err.Error(), "rename "+FileChangesFile) {
		t.Fatalf("export over a directory: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ManifestFile)); !os.IsNotExist(err) {
		t.Errorf("a manifest outlived a cut-off commit: %v", err)
	}
	if pending, err := x.Pending(ctx, start, start); err != nil || len(pending) != 1 {
		t.Errorf("pending after a cut-off commit: %v, %v", pending, err)
	}
	if err := os.RemoveAll(blocked); err != nil {
		t.Fatal(err)
	}
	m, err := x.Day(ctx, start)
	if err != nil {
		t.Fatal(err)
	}
	if onDisk, err := ReadManifest(dir); err != nil || onDisk.Version != m.Version {
		t.Errorf("manifest after the export again: %+v, %v", onDisk, err)
	}
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestPrune(t *testing.T) {
	ctx := context.Background()
	db := imported(t)
	x := newExporter(t, db, t.TempDir())
	ms, err := x.Sync(ctx, time.Time{}, time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(x.Dir(), "unrelated"), 0o755); err != nil {
		t.Fatal(err)
	}
	gone, err := x.Prune(start.AddDate(0, 0, 2).Add(5 * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(gone, " ") != "2026-03-02 2026-03-03" {
		t.Errorf("pruned %v", gone)
	}
	left := manifests(t, x)
	if len(left) != len(ms)-2 || left["2026-03-04"].Date == "" {
		t.Errorf("left %d of %d dates", len(left), len(ms))
	}
	if _, err := os.Stat(filepath.Join(x.Dir(), "unrelated")); err != nil {
		t.Errorf("prune removed a directory of its own: %v", err)
	}
}

func TestOptions(t *testing.T) {
	if _, err := New(nil, Options{}); err == nil {
		t.Error("no directory accepted")
	}
	if _, err := New(nil, Options{Dir: t.TempDir(), Compression: "gzip"}); err == nil || !strings.Contains(err.Error(), "zstd or snappy") {
		t.Errorf("gzip: %v", err)
	}
}

// Snappy works as well, and a day holding nothing is written with empty files.
func TestSnappyAndEmptyDay(t *testing.T) {
	ctx := context.Background()
	db := imported(t)
	x, err := New(db, Options{Dir: t.TempDir(), Compression: "snappy"})
	if err != nil {
		t.Fatal(err)
	}
	empty := start.AddDate(-1, 0, 0)
	m, err := x.Day(ctx, empty)
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != 0 || m.Rows() != 0 || len(m.Files) != len(Files) {
		t.Errorf("empty day: %+v", m)
	}
	rows, pr := readRows[usageRow](t, filepath.Join(x.DayDir(empty), UsageFile))
	if len(rows) != 0 || pr.GetNumRows() != 0 {
		t.Errorf("empty usage file has %d rows", len(rows))
	}
	if _, err := x.Day(ctx, start); err != nil {
		t.Fatal(err)
	}
	_, pr = readRows[messageRow](t, filepath.Join(x.DayDir(start), MessagesFile))
	if c := pr.Footer.RowGroups[0].Columns[0].MetaData.Codec; c != parquet.CompressionCodec_SNAPPY {
		t.Errorf("codec %v", c)
	}
}
