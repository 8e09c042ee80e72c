package cli

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/claude-insights/insights/store"
	"github.com/claude-insights/insights/store/postgres"
)

// envTeamChild names the config of a team server the test binary runs
// instead of tests (TestMain).
const envTeamChild = "INSIGHTS_TEST_TEAM_CHILD"

func runTeamChild(cfg string) int {
	app := New("test")
	if err := app.Run([]string{"insights", "--config", cfg, "--log-level", "warn"}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// startChild runs a team server in a process of its own, which the test
// may kill.
func startChild(t *testing.T, cfg, url string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), envTeamChild+"="+cfg)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitUp(t, url)
	return cmd
}

// childConfig writes the config of a team server run as a child process:
// the API on apiAddr, the dashboard on dashAddr.
func childConfig(t *testing.T, dsn, apiAddr, dashAddr string) string {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "team.toml")
	body := fmt.Sprintf("mode = \"team\"\ndb = %q\n[team]\napi_addr = %q\ndashboard_addr = %q\nrate_limit = 0\n", dsn, apiAddr, dashAddr)
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// waitUp waits until a team server at url is ready.
func waitUp(t *testing.T, url string) {
	t.Helper()
	waitFor(t, 20*time.Second, "team server at "+url, func() bool {
		res, err := http.Get(url + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})
}

// The server killed in the middle of uploads and started again loses
// nothing and doubles nothing: the client resumes from what the server
// acknowledges.
func TestTeamServerKilledMidUpload(t *testing.T) {
	isolate(t)
	dir := genTree(t, 6<<20, 23)
	want, wantDays := soloTotals(t, dir)
	dsn := teamDSN(t)
	ts := startTeam(t, dsn, nil) // migrates the schema, and holds the users
	ann, key := ts.newUser(t, "ann", false, store.ShareFull)
	addr := freeAddr(t)
	url := "http://" + addr
	cfg := childConfig(t, dsn, addr, "127.0.0.1:0")
	child := startChild(t, cfg, url)

	var total int64
	rels := transcriptsOf(t, dir)
	for _, rel := range rels {
		fi, err := os.Stat(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		total += fi.Size()
	}
	retries := 0
	done := make(chan error, 1)
	go func() {
		u := &uploader{base: url, key: key, chunk: 64 << 10, gzip: true}
		deadline := time.Now().Add(2 * time.Minute)
		retry := func(error) bool {
			retries++
			time.Sleep(20 * time.Millisecond)
			return time.Now().Before(deadline)
		}
		for _, rel := range rels {
			if err := u.pushFile(dir, rel, retry); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	raw, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	stored := func() int64 {
		var n int64
		if err := raw.QueryRowContext(context.Background(), `SELECT coalesce(sum("offset"), 0) FROM ingest_files`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	waitFor(t, time.Minute, "a third uploaded", func() bool { return stored() > total/3 })
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	child.Wait()
	killedAt := stored()
	time.Sleep(100 * time.Millisecond)
	startChild(t, cfg, url)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if killedAt >= total || retries == 0 {
		t.Fatalf("the kill came at %d of %d bytes after %d retries: not in the middle", killedAt, total, retries)
	}
	t.Logf("killed at %d of %d bytes; the client retried %d times", killedAt, total, retries)
	equalSolo(t, "after the kill", ts.DB, ann.ID, want, wantDays)
}

// Twenty uploaders at once, five per user over the same files in
// different orders: every line arrives exactly once, and each user's
// totals equal a solo import of their tree.
func TestTeamConcurrentUploaders(t *testing.T) {
	isolate(t)
	ts := startTeam(t, teamDSN(t), nil)
	const users, perUser = 4, 5
	type member struct {
		user  store.User
		key   string
		dir   string
		rels  []string
		want  store.Totals
		wantD map[string]store.Tokens
	}
	ms := make([]*member, users)
	for i := range ms {
		m := &member{dir: genTree(t, 1<<20, uint64(100+i))}
		m.user, m.key = ts.newUser(t, fmt.Sprintf("user%d", i), false, store.ShareFull)
		m.rels = transcriptsOf(t, m.dir)
		m.want, m.wantD = soloTotals(t, m.dir)
		ms[i] = m
	}
	var wg sync.WaitGroup
	var conflicts atomic.Int64
	errs := make(chan error, users*perUser)
	for g := range users * perUser {
		m := ms[g%users]
		wg.Go(func() {
			u := &uploader{base: ts.URL, key: m.key, chunk: 16<<10 + g*1000, gzip: g%2 == 1}
			n := len(m.rels)
			for i := range n {
				rel := m.rels[(i+g*n/perUser)%n]
				if err := u.pushFile(m.dir, rel, func(error) bool { return false }); err != nil {
					errs <- err
					return
				}
			}
			conflicts.Add(int64(u.conflicts))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if conflicts.Load() == 0 {
		t.Error("no upload met another of the same file: the test does not test what it says")
	}
	t.Logf("%d uploads found the file moved on by another uploader (409)", conflicts.Load())
	for _, m := range ms {
		got, gotD := totalsOf(t, ts.DB, m.user.ID)
		equalTotals(t, m.user.Name, got, m.want)
		equalDays(t, m.user.Name+" usage", gotD, m.wantD)
		statD, _ := dailyStatDays(t, ts.DB, m.user.ID)
		equalDays(t, m.user.Name+" daily_stats", statD, m.wantD)
	}
}

// `insights --mode team` on the command line serves the API on
// --api-addr and stops on interrupt; keys made by `insights user add`
// open it.
func TestTeamDaemon(t *testing.T) {
	cfg, dsn := teamConfig(t)
	key := addUser(t, cfg, "ann")
	// Rows of yesterday, never exported: the daemon writes their snapshot
	// as it starts.
	yesterday := store.UTCDay(time.Now()).AddDate(0, 0, -1).Add(9 * time.Hour)
	db, err := postgres.Open(context.Background(), dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Apply(context.Background(), &store.Batch{File: store.FileState{Path: "/local/s.jsonl"},
		Sessions: []store.Session{{ID: "s-yesterday", FirstAt: yesterday, LastAt: yesterday}},
		Usage:    []store.Usage{{Key: "r", SessionID: "s-yesterday", Model: "claude-opus-4-6", Timestamp: yesterday, Tokens: store.Tokens{Output: 5}}},
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	exports := t.TempDir()
	t.Setenv("INSIGHTS_EXPORT_DIR", exports)
	addr := freeAddr(t)
	done, stop := startDaemon(t, "--mode", "team", "--db", dsn, "--api-addr", addr, "--dashboard-addr", "127.0.0.1:0")
	url := "http://" + addr
	waitUp(t, url)
	manifest := filepath.Join(exports, "date="+yesterday.Format(time.DateOnly), "_manifest.json")
	waitFor(t, 10*time.Second, "the snapshot of yesterday", func() bool { _, err := os.Stat(manifest); return err == nil })
	var me struct{ Name string }
	if code := call(t, "GET", url+"/api/v1/me", key, nil, &me); code != 200 || me.Name != "ann" {
		t.Errorf("/api/v1/me: %d %+v", code, me)
	}
	stop()
	if err := <-done; err != nil {
		t.Errorf("the team daemon ended with %v", err)
	}
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Error("the API still answers after the daemon stopped")
	}
}
