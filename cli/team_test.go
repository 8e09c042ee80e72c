package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claude-insights/insights/config"
	"github.com/claude-insights/insights/ingest"
	"github.com/claude-insights/insights/store"
	"github.com/claude-insights/insights/store/postgres"
	"github.com/claude-insights/insights/store/sqlite"
	"github.com/claude-insights/insights/synth"
)

// teamServer is a team API served in-process on a port of its own.
type teamServer struct {
	URL       string // the API's
	Dashboard string // the dashboard's
	DB        *postgres.DB
	DSN       string
	srv       *teamListeners
	stop      func()
	once      sync.Once
}

// shutdown stops the server as SIGTERM does, answering 503 on /readyz for
// delay first; only the first call counts.
func (ts *teamServer) shutdown(delay time.Duration) {
	ts.once.Do(func() { ts.srv.stop(delay); ts.DB.Close() })
}

// startTeam serves the team API over a fresh schema, as `insights --mode
// team` does, on a random port.
func startTeam(t testing.TB, dsn string, edit func(*config.Team)) *teamServer {
	t.Helper()
	ctx := context.Background()
	cfg := config.Default()
	cfg.Mode, cfg.DB = config.ModeTeam, dsn
	cfg.Team.RateLimit = 0
	if edit != nil {
		edit(&cfg.Team)
	}
	db, err := postgres.Open(ctx, dsn, postgres.Options{MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{cfg: cfg, log: slog.New(slog.DiscardHandler), db: db, prices: cfg.Prices()}
	srv, err := serveTeam(e, db, "127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	ts := &teamServer{URL: srv.apiURL, Dashboard: srv.dashURL, DB: db, DSN: dsn, srv: srv}
	ts.stop = func() { ts.shutdown(0) }
	t.Cleanup(func() { ts.stop() })
	return ts
}

// newUser adds a user straight to the store and returns its key.
func (ts *teamServer) newUser(t testing.TB, name string, admin bool, share store.ShareLevel) (store.User, string) {
	t.Helper()
	key, hash, prefix := store.NewAPIKey()
	u, err := ts.DB.AddUser(context.Background(), store.User{Name: name, Admin: admin, Share: share, KeyPrefix: prefix}, hash)
	if err != nil {
		t.Fatal(err)
	}
	return u, key
}

// call makes a request with a key ("" for none) and decodes a JSON answer
// into out (if not nil).
func call(t *testing.T, method, url, key string, body io.Reader, out any, header ...string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := res.Header.Get("Content-Type"); method != http.MethodHead && res.StatusCode != http.StatusOK || out != nil {
		if !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("%s %s: %d with Content-Type %q: %s", method, url, res.StatusCode, ct, b)
		}
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s %s: %d, not a JSON object: %s", method, url, res.StatusCode, b)
		}
		if msg, _ := v["error"].(string); res.StatusCode >= 400 && msg == "" {
			t.Fatalf("%s %s: %d without an error message: %s", method, url, res.StatusCode, b)
		}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, b)
		}
	}
	return res.StatusCode
}

// uploader sends the files of a tree to a team server as a push client
// does: ranges of about chunk bytes, cut anywhere, each starting where the
// server's copy ends.
type uploader struct {
	base, key string
	chunk     int
	gzip      bool
	conflicts int // 409s answered
	took      []time.Duration
}

// uploadAnswer is the answer to an upload: a result or a conflict.
type uploadAnswer struct {
	store.UploadResult
	Error string `json:"error"`
}

// send uploads body as the range of a file from offset on.
func (u *uploader) send(fileID, rel string, offset int64, body []byte) (int, uploadAnswer, error) {
	var ans uploadAnswer
	in := body
	if u.gzip {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed) // as a client sparing its user's CPU would
		zw.Write(body)
		zw.Close()
		in = b.Bytes()
	}
	url := fmt.Sprintf("%s/api/v1/uploads?file=%s&path=%s&offset=%d", u.base, fileID, rel, offset)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(in))
	if err != nil {
		return 0, ans, err
	}
	req.Header.Set("Authorization", "Bearer "+u.key)
	req.Header.Set("Content-Type", "application/x-ndjson")
	if u.gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, ans, err
	}
	defer res.Body.Close()
	err = json.NewDecoder(res.Body).Decode(&ans)
	u.took = append(u.took, time.Since(start))
	if err != nil {
		return res.StatusCode, ans, fmt.Errorf("upload answer: %w", err)
	}
	return res.StatusCode, ans, nil
}

// fileID is a client's stable id for a file.
func fileID(rel string) string {
	h := sha256.Sum256([]byte(rel))
	return hex.EncodeToString(h[:8])
}

// pushFile uploads what the server lacks of one file; a conflict moves to
// the server's offset, a network error is retried (the server may be
// restarting) until retry gives up.
func (u *uploader) pushFile(dir, rel string, retry func(error) bool) error {
	data, err := os.ReadFile(filepath.Join(dir, rel))
	if err != nil {
		return err
	}
	var off int64
	size := u.chunk
	for off < int64(len(data)) {
		end := min(off+int64(size), int64(len(data)))
		code, ans, err := u.send(fileID(rel), rel, off, data[off:end])
		switch {
		case err != nil:
			if !retry(err) {
				return err
			}
			continue
		case code == http.StatusConflict:
			u.conflicts++
			off = ans.Offset
			continue
		case code != http.StatusOK:
			return fmt.Errorf("upload %s at %d: %d %s", rel, off, code, ans.Error)
		}
		if ans.Offset == off {
			if end == int64(len(data)) {
				return nil // an unfinished last line stays until it is finished
			}
			size *= 2 // a line longer than the range
			continue
		}
		off, size = ans.Offset, u.chunk
	}
	return nil
}

// transcriptsOf lists the transcripts of a tree relative to it.
func transcriptsOf(t testing.TB, dir string) []string {
	t.Helper()
	var rels []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".jsonl") && d.Name() != "history.jsonl" {
			rel, _ := filepath.Rel(dir, p)
			rels = append(rels, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return rels
}

// soloTotals imports a tree into a fresh SQLite database and returns what
// the team server must equal: the session totals and usage per UTC day.
func soloTotals(t testing.TB, dir string) (store.Totals, map[string]store.Tokens) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "solo.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cfg := config.Default()
	im := &ingest.Importer{Store: db, Prices: cfg.Prices()}
	if _, err := im.ImportTree(ctx, dir); err != nil {
		t.Fatal(err)
	}
	return totalsOf(t, db, 0)
}

// totalsOf returns a database's totals and usage per UTC day, of one
// user's sessions (0: all).
func totalsOf(t testing.TB, db store.Driver, user int64) (store.Totals, map[string]store.Tokens) {
	t.Helper()
	ctx := context.Background()
	var tot store.Totals
	if user == 0 {
		var err error
		if tot, err = db.Totals(ctx, 5); err != nil {
			t.Fatal(err)
		}
	} else {
		list, err := db.Sessions(ctx, store.SessionQuery{UserID: user, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		tot.Sessions = list.Total
		for _, s := range list.Sessions {
			tot.Messages += s.Messages
			tot.ToolCalls += s.ToolCalls
			tot.ToolErrors += s.ToolErrors
		}
	}
	sums, err := db.UsageSums(ctx, store.UsageQuery{UserID: user})
	if err != nil {
		t.Fatal(err)
	}
	days := map[string]store.Tokens{}
	for _, s := range sums {
		d := days[s.Day.Format(time.DateOnly)]
		d.Add(s.Tokens)
		days[s.Day.Format(time.DateOnly)] = d
	}
	return tot, days
}

// equalTotals compares what the tests compare of two databases' totals.
func equalTotals(t *testing.T, what string, got, want store.Totals) {
	t.Helper()
	if got.Sessions != want.Sessions || got.Messages != want.Messages || got.ToolCalls != want.ToolCalls ||
		got.ToolErrors != want.ToolErrors {
		t.Errorf("%s: sessions/messages/tool calls/errors = %d/%d/%d/%d, want %d/%d/%d/%d", what,
			got.Sessions, got.Messages, got.ToolCalls, got.ToolErrors, want.Sessions, want.Messages, want.ToolCalls, want.ToolErrors)
	}
}

// equalSolo checks that a user's totals, usage per day and daily_stats on
// the team server equal a solo import's.
func equalSolo(t *testing.T, what string, db *postgres.DB, user int64, want store.Totals, wantDays map[string]store.Tokens) {
	t.Helper()
	got, gotDays := totalsOf(t, db, user)
	equalTotals(t, what, got, want)
	equalDays(t, "usage "+what, gotDays, wantDays)
	statDays, _ := dailyStatDays(t, db, user)
	equalDays(t, "daily_stats "+what, statDays, wantDays)
}

func equalDays(t *testing.T, what string, got, want map[string]store.Tokens) {
	t.Helper()
	if len(want) == 0 {
		t.Fatalf("%s: the tree has no usage", what)
	}
	for d, w := range want {
		if got[d] != w {
			t.Errorf("%s: %s tokens = %+v, want %+v", what, d, got[d], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d days, want %d", what, len(got), len(want))
	}
}

// dailyStatDays sums the daily_stats of a user (0: all) per day.
func dailyStatDays(t *testing.T, team store.Team, user int64) (map[string]store.Tokens, store.DailyStat) {
	t.Helper()
	rows, err := team.DailyStats(context.Background(), store.StatsQuery{UserID: user})
	if err != nil {
		t.Fatal(err)
	}
	days := map[string]store.Tokens{}
	var all store.DailyStat
	for _, r := range rows {
		if r.Tokens.Total() > 0 { // a day of messages without replies has none
			d := days[r.Day.Format(time.DateOnly)]
			d.Add(r.Tokens)
			days[r.Day.Format(time.DateOnly)] = d
		}
		all.Messages += r.Messages
		all.ToolCalls += r.ToolCalls
		all.ToolErrors += r.ToolErrors
	}
	return days, all
}

// genTree writes a synthetic Claude directory.
func genTree(t testing.TB, size int64, seed uint64) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := synth.Generate(dir, synth.Options{Size: size, Seed: seed, Broken: true, Days: 20}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// A tree uploaded range by range, gzip or not, equals a solo import of it;
// a range sent twice and ranges out of order change nothing; the
// aggregates equal the usage.
func TestTeamUploadEndToEnd(t *testing.T) {
	isolate(t)
	dir := genTree(t, 3<<20, 11)
	wantTot, wantDays := soloTotals(t, dir)
	ts := startTeam(t, teamDSN(t), nil)
	ann, key := ts.newUser(t, "ann", false, store.ShareFull)

	rels := transcriptsOf(t, dir)
	for i, rel := range rels {
		u := &uploader{base: ts.URL, key: key, chunk: 4096 + 7919*i%60000, gzip: i%2 == 0}
		if err := u.pushFile(dir, rel, func(error) bool { return false }); err != nil {
			t.Fatal(err)
		}
	}
	gotTot, gotDays := totalsOf(t, ts.DB, ann.ID)
	equalTotals(t, "uploaded", gotTot, wantTot)
	equalDays(t, "uploaded usage", gotDays, wantDays)
	statDays, stats := dailyStatDays(t, ts.DB, ann.ID)
	equalDays(t, "daily_stats", statDays, wantDays)
	if stats.Messages != wantTot.Messages || stats.ToolCalls != wantTot.ToolCalls || stats.ToolErrors != wantTot.ToolErrors {
		t.Errorf("daily_stats messages/calls/errors = %d/%d/%d, want %d/%d/%d", stats.Messages, stats.ToolCalls,
			stats.ToolErrors, wantTot.Messages, wantTot.ToolCalls, wantTot.ToolErrors)
	}

	// Again, whole files and pieces of them: nothing changes.
	u := &uploader{base: ts.URL, key: key, chunk: 1 << 20}
	rel := rels[0]
	data, _ := os.ReadFile(filepath.Join(dir, rel))
	for _, r := range [][2]int{{0, len(data)}, {0, 100}, {len(data) / 2, len(data)}} {
		code, ans, err := u.send(fileID(rel), rel, int64(r[0]), data[r[0]:r[1]])
		if err != nil || code != http.StatusOK || !ans.Duplicate || ans.Offset != int64(len(data)) {
			t.Errorf("range %v sent again: %d %+v %v", r, code, ans, err)
		}
	}
	// A range past the end is a gap: 409 with the server's offset.
	code, ans, err := u.send(fileID(rel), rel, int64(len(data))+10, []byte("{}\n"))
	if err != nil || code != http.StatusConflict || ans.Offset != int64(len(data)) || !strings.Contains(ans.Error, "up to byte") {
		t.Errorf("a gap: %d %+v %v", code, ans, err)
	}
	// A new file sent out of order: the later range first is refused, then
	// the ranges in order land once.
	rel2 := "projects/-src-late/late.jsonl"
	lines := []byte(`{"type":"user","uuid":"late-1","sessionId":"late","timestamp":"2026-01-02T10:00:00Z","message":{"role":"user","content":"first"}}` + "\n" +
		`{"type":"user","uuid":"late-2","sessionId":"late","timestamp":"2026-01-02T10:01:00Z","message":{"role":"user","content":"second"}}` + "\n")
	half := bytes.IndexByte(lines, '\n') + 1
	if code, ans, _ := u.send("late", rel2, int64(half), lines[half:]); code != http.StatusConflict || ans.Offset != 0 {
		t.Errorf("second range first: %d %+v", code, ans)
	}
	for _, r := range [][2]int{{0, half}, {0, half}, {half, len(lines)}, {0, len(lines)}} {
		if code, ans, _ := u.send("late", rel2, int64(r[0]), lines[r[0]:r[1]]); code != http.StatusOK || ans.Offset != int64(r[1]) {
			t.Errorf("range %v: %d %+v", r, code, ans)
		}
	}
	s, err := ts.DB.Session(context.Background(), "late")
	if err != nil || s.Messages != 2 || s.UserID != ann.ID {
		t.Errorf("the late session: %+v, %v", s, err)
	}
	after, _ := totalsOf(t, ts.DB, ann.ID)
	wantTot.Sessions++
	wantTot.Messages += 2
	equalTotals(t, "after the duplicates", after, wantTot)

	// The API's own answers agree.
	var stats2 struct {
		Totals struct {
			Messages int64 `json:"messages"`
			Users    int   `json:"activeUsers"`
		} `json:"totals"`
		Days []json.RawMessage `json:"days"`
	}
	if code := call(t, http.MethodGet, ts.URL+"/api/v1/team/stats", key, nil, &stats2); code != http.StatusOK ||
		stats2.Totals.Messages != wantTot.Messages || stats2.Totals.Users != 1 || len(stats2.Days) != len(wantDays)+1 {
		t.Errorf("team/stats: %d %+v, %d days; want %d messages and %d days", code, stats2.Totals, len(stats2.Days), wantTot.Messages, len(wantDays)+1)
	}
	var list struct {
		Total int64 `json:"total"`
	}
	if call(t, http.MethodGet, ts.URL+"/api/v1/sessions?limit=5", key, nil, &list); list.Total != wantTot.Sessions {
		t.Errorf("sessions total = %d, want %d", list.Total, wantTot.Sessions)
	}
}

// teamDSN is the DSN of a fresh schema.
func teamDSN(t testing.TB) string {
	t.Helper()
	_, dsn := teamConfig(t)
	return dsn
}
