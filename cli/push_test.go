package cli

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/claude-insights/insights/config"
	"github.com/claude-insights/insights/store"
)

// secretLines are transcript lines whose text and tool input hold
// secrets of several kinds, built so that this file holds none whole.
func secretLines(session string) (lines []byte, secrets []string) {
	gh := "gh" + "p_" + strings.Repeat("Ab3D", 9)
	aws := "AKIA" + "Q3EXAMPLEKEY7Z2X"
	pw := "s3cr3t-" + "hunter2"
	lines = fmt.Appendf(nil,
		`{"type":"user","uuid":"%[1]s-u","sessionId":%[1]q,"cwd":"/src/secret","timestamp":"2026-03-02T09:00:00Z","message":{"role":"user","content":"deploy with GITHUB_TOKEN=%[2]s please"}}`+"\n"+
			`{"type":"assistant","uuid":"%[1]s-a","parentUuid":"%[1]s-u","sessionId":%[1]q,"timestamp":"2026-03-02T09:00:05Z","requestId":"req-%[1]s","message":{"id":"msg-%[1]s","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"Using key %[3]s"},{"type":"tool_use","id":"toolu_%[1]s","name":"Bash","input":{"command":"psql postgres://app:%[4]s@db:5432/app"}}],"usage":{"input_tokens":7,"output_tokens":11}}}`+"\n",
		session, gh, aws, pw)
	return lines, []string{gh, aws, pw}
}

// appendTo adds data at the end of a file.
func appendTo(t *testing.T, path string, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
}

// pgCount runs a count query on the team database.
func pgCount(t *testing.T, dsn, query string, args ...any) int64 {
	t.Helper()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	if err := db.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// noSecrets fails if any of secrets reached the team database, in any
// table's text.
func noSecrets(t *testing.T, dsn string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		n := pgCount(t, dsn, `SELECT (SELECT count(*) FROM messages m WHERE m::text LIKE '%' || $1 || '%')
			+ (SELECT count(*) FROM tool_calls c WHERE c::text LIKE '%' || $1 || '%')`, s)
		if n > 0 {
			t.Errorf("secret %.6s… reached the server in %d rows", s, n)
		}
	}
}

// `insights push` sends a tree with its secrets redacted; after lines are
// appended (one still unfinished) a second push sends only those; the
// server's totals equal a solo import every time, and a push without its
// state file doubles nothing. --dry-run says what would go, and sends
// nothing.
func TestPushEndToEnd(t *testing.T) {
	isolate(t)
	ts := startTeam(t, teamDSN(t), nil)
	ann, key := ts.newUser(t, "ann", false, store.ShareFull)
	dir := genTree(t, 2<<20, 31)
	rels := transcriptsOf(t, dir)
	lines, secrets := secretLines("secret-1")
	appendTo(t, filepath.Join(dir, rels[0]), lines)
	pushArgs := []string{"--claude-dir", dir, "push", "--server", ts.URL, "--key", key}

	out, err := run(t, append(pushArgs, "--dry-run")...)
	if err != nil {
		t.Fatal(err)
	}
	want, wantDays := soloTotals(t, dir)
	dry := regexp.MustCompile(`Would push to \S+ \(share level full\): (\d+) files, \d+ lines, [\d.]+ MB of transcripts as [\d.]+ MB, (\d+) sessions\.\nRedactions: 3 \(aws-access-key 1, github 1, url-password 1\)\.`)
	m := dry.FindStringSubmatch(out)
	if m == nil || m[1] != fmt.Sprint(len(rels)) || m[2] != fmt.Sprint(want.Sessions) {
		t.Errorf("dry run printed:\n%s\nwant %d files, %d sessions, 3 redactions", out, len(rels), want.Sessions)
	}
	if n := pgCount(t, ts.DSN, `SELECT count(*) FROM sessions`); n != 0 {
		t.Fatalf("a dry run stored %d sessions", n)
	}

	if out, err = run(t, pushArgs...); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "Pushed to ") || !strings.Contains(out, "Redactions: 3 (") {
		t.Errorf("push printed:\n%s", out)
	}
	got, gotDays := totalsOf(t, ts.DB, ann.ID)
	equalTotals(t, "first push", got, want)
	equalDays(t, "first push usage", gotDays, wantDays)
	noSecrets(t, ts.DSN, secrets)
	if n := pgCount(t, ts.DSN, `SELECT count(*) FROM messages WHERE text LIKE '%[REDACTED:github]%'`); n != 1 {
		t.Errorf("%d messages hold the redaction marker, want 1", n)
	}

	// New lines at the end of two files, the last of one unfinished; a
	// new file.
	more, moreSecrets := secretLines("secret-2")
	appendTo(t, filepath.Join(dir, rels[1]), more)
	appendTo(t, filepath.Join(dir, rels[2]), sessionLines("appended", "later"))
	cut := sessionLines("unfinished", "half")
	appendTo(t, filepath.Join(dir, rels[2]), cut[:len(cut)-40])
	fresh := filepath.Join(dir, "projects", "-src-new", "fresh.jsonl")
	os.MkdirAll(filepath.Dir(fresh), 0o755)
	appendTo(t, fresh, sessionLines("fresh", "new"))
	if out, err = run(t, pushArgs...); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, ": 3 files, 7 lines,") {
		t.Errorf("second push printed:\n%s\nwant 3 files and 7 whole lines", out)
	}
	appendTo(t, filepath.Join(dir, rels[2]), cut[len(cut)-40:])
	if out, err = run(t, pushArgs...); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, ": 1 files, 1 lines,") {
		t.Errorf("third push printed:\n%s\nwant the finished line alone", out)
	}
	want, wantDays = soloTotals(t, dir)
	got, gotDays = totalsOf(t, ts.DB, ann.ID)
	equalTotals(t, "after appending", got, want)
	equalDays(t, "usage after appending", gotDays, wantDays)
	noSecrets(t, ts.DSN, moreSecrets)

	// Without the state, every range is one the server has.
	state := filepath.Join(os.Getenv("XDG_DATA_HOME"), "insights", "push-state.json")
	if err := os.Remove(state); err != nil {
		t.Fatalf("the push state is not at its default place: %v", err)
	}
	if out, err = run(t, pushArgs...); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`\(([\d.]+) MB the server had already\)`).MatchString(out) {
		t.Errorf("a push without state printed:\n%s\nwant what the server had already", out)
	}
	got, gotDays = totalsOf(t, ts.DB, ann.ID)
	equalTotals(t, "after a push without state", got, want)
	equalDays(t, "usage after a push without state", gotDays, wantDays)
	if out, err = run(t, pushArgs...); err != nil || !strings.Contains(out, ": 0 files, 0 lines,") {
		t.Errorf("a push with nothing new printed:\n%s (%v)", out, err)
	}

	// A rotated key finds what the old one sent: the state is the user's.
	newKey, hash, prefix := store.NewAPIKey()
	if _, err := ts.DB.SetKey(context.Background(), "ann", hash, prefix); err != nil {
		t.Fatal(err)
	}
	pushArgs[len(pushArgs)-1] = newKey
	if out, err = run(t, pushArgs...); err != nil || !strings.Contains(out, ": 0 files, 0 lines,") {
		t.Errorf("a push with a rotated key printed:\n%s (%v)", out, err)
	}
}

// envChildArgs holds the arguments, one a line, of a command the test
// binary runs instead of tests (TestMain).
const envChildArgs = "INSIGHTS_TEST_CHILD_ARGS"

func runChild(args []string) int {
	err := New("test").Run(append([]string{"insights"}, args...))
	if path := os.Getenv(envChildPeak); path != "" {
		if err := writePeakRSS(path); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// startCommand runs an insights command in a process of its own, which
// the test may kill; its errors and logs go to the test's output.
func startCommand(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), envChildArgs+"="+strings.Join(args, "\n"))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

// storedBytes is how much of every file the team server has.
func storedBytes(t *testing.T, dsn string) int64 {
	return pgCount(t, dsn, `SELECT coalesce(sum("offset"), 0) FROM ingest_files`)
}

// treeBytes is the size of a tree's transcripts.
func treeBytes(t *testing.T, dir string) int64 {
	var n int64
	for _, rel := range transcriptsOf(t, dir) {
		fi, err := os.Stat(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		n += fi.Size()
	}
	return n
}

// A push killed (SIGKILL) in the middle and run again loses nothing and
// doubles nothing.
func TestPushKilledMidway(t *testing.T) {
	isolate(t)
	ts := startTeam(t, teamDSN(t), nil)
	ann, key := ts.newUser(t, "ann", false, store.ShareFull)
	dir := genTree(t, 8<<20, 37)
	want, wantDays := soloTotals(t, dir)
	total := treeBytes(t, dir)
	args := []string{"--claude-dir", dir, "--log-level", "warn", "push", "--server", ts.URL, "--key", key}
	child := startCommand(t, args...)
	waitFor(t, time.Minute, "a third pushed", func() bool { return storedBytes(t, ts.DSN) > total/3 })
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	child.Wait()
	killedAt := storedBytes(t, ts.DSN)
	if killedAt >= total {
		t.Fatalf("the kill came after the push: %d of %d bytes", killedAt, total)
	}
	t.Logf("killed at %d of %d bytes", killedAt, total)
	out, err := run(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(out)
	if got := storedBytes(t, ts.DSN); got != total {
		t.Errorf("the server has %d bytes of %d", got, total)
	}
	equalSolo(t, "after the kill", ts.DB, ann.ID, want, wantDays)
}

// The server stopped in the middle of a push and started again a moment
// later: the push retries, waiting, and completes.
func TestPushServerDown(t *testing.T) {
	isolate(t)
	dsn := teamDSN(t)
	ts := startTeam(t, dsn, nil) // the schema and the user
	ann, key := ts.newUser(t, "ann", false, store.ShareFull)
	addr := freeAddr(t)
	url := "http://" + addr
	cfg := childConfig(t, dsn, addr, "127.0.0.1:0")
	server := startChild(t, cfg, url)
	dir := genTree(t, 8<<20, 41)
	want, wantDays := soloTotals(t, dir)
	total := treeBytes(t, dir)

	done := make(chan error, 1)
	var out string
	go func() {
		var err error
		out, err = run(t, "--claude-dir", dir, "--log-level", "warn", "push", "--server", url, "--key", key, "--give-up", "2m")
		done <- err
	}()
	waitFor(t, time.Minute, "a third pushed", func() bool { return storedBytes(t, dsn) > total/3 })
	if err := server.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	server.Wait()
	downAt := storedBytes(t, dsn)
	time.Sleep(1500 * time.Millisecond) // the push meets a closed port for a while
	startChild(t, cfg, url)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`\((\d+) retries\)`).FindStringSubmatch(out)
	if downAt >= total || m == nil {
		t.Fatalf("the server went down at %d of %d bytes; the push printed %q: no retries", downAt, total, out)
	}
	t.Logf("down at %d of %d bytes; %s retries", downAt, total, m[1])
	got, gotDays := totalsOf(t, ts.DB, ann.ID)
	equalTotals(t, "after the outage", got, want)
	equalDays(t, "usage after the outage", gotDays, wantDays)
}

// Three users push their own trees at once, at their own share levels:
// each one's totals on the server are exactly their solo import's, and
// only the full user's text is there.
func TestPushThreeUsers(t *testing.T) {
	isolate(t)
	ts := startTeam(t, teamDSN(t), nil)
	levels := []store.ShareLevel{store.ShareFull, store.ShareMetadata, store.ShareNone}
	type client struct {
		user store.User
		key  string
		dir  string
	}
	clients := make([]client, 3)
	for i, level := range levels {
		u, key := ts.newUser(t, fmt.Sprintf("user%d", i), false, level)
		clients[i] = client{u, key, genTree(t, 2<<20, uint64(50+i))}
	}
	// Each client a process of its own, as on three laptops.
	cmds := make([]*exec.Cmd, len(clients))
	for i, c := range clients {
		cfg := filepath.Join(t.TempDir(), "config.toml")
		body := fmt.Sprintf("[push]\nstate_file = %q\n", filepath.Join(t.TempDir(), "state.json"))
		if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		cmds[i] = startCommand(t, "--config", cfg, "--claude-dir", c.dir, "--log-level", "error",
			"push", "--server", ts.URL, "--key", c.key)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
	}
	for i, c := range clients {
		want, wantDays := soloTotals(t, c.dir)
		got, gotDays := totalsOf(t, ts.DB, c.user.ID)
		if levels[i] != store.ShareNone {
			equalTotals(t, string(levels[i]), got, want)
		} else if got.Sessions != want.Sessions {
			t.Errorf("none: %d sessions, want %d", got.Sessions, want.Sessions)
		}
		equalDays(t, string(levels[i])+" usage", gotDays, wantDays)
		texts := pgCount(t, ts.DSN, `SELECT count(*) FROM messages m JOIN sessions s ON s.id = m.session_id WHERE s.user_id = $1 AND m.text <> ''`, c.user.ID)
		if (texts > 0) != (levels[i] == store.ShareFull) {
			t.Errorf("%s: %d messages with text", levels[i], texts)
		}
	}
}

// The solo daemon with a [push] section pushes what it finds at start,
// then new lines within seconds of their writing; the wrong key stops the
// pushing with a message, not the daemon.
func TestPushDaemon(t *testing.T) {
	isolate(t)
	ts := startTeam(t, teamDSN(t), nil)
	ann, key := ts.newUser(t, "ann", false, store.ShareMetadata)
	dir := copyTree(t, testdataDir)
	want, wantDays := soloTotals(t, dir)
	cfg := filepath.Join(t.TempDir(), "config.toml")
	body := fmt.Sprintf("db = %q\nclaude_dir = %q\nui_addr = \"\"\nsql_addr = \"\"\n[push]\nserver = %q\ndelay = \"200ms\"\n",
		filepath.Join(t.TempDir(), "solo.db"), dir, ts.URL)
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("INSIGHTS_PUSH_KEY", key)
	done, stop := startDaemon(t, "--config", cfg)
	waitFor(t, 20*time.Second, "the tree pushed", func() bool {
		got, _ := totalsOf(t, ts.DB, ann.ID)
		return got.Messages == want.Messages
	})
	got, gotDays := totalsOf(t, ts.DB, ann.ID)
	equalTotals(t, "pushed at start", got, want)
	equalDays(t, "usage pushed at start", gotDays, wantDays)

	appendTo(t, filepath.Join(dir, "projects", "-src-app", "live.jsonl"), sessionLines("live", "now"))
	took := waitFor(t, 15*time.Second, "the new session on the server", func() bool {
		return pgCount(t, ts.DSN, `SELECT count(*) FROM sessions WHERE id = 'live'`) == 1
	})
	t.Logf("a new session reached the server %s after it was written", took.Round(time.Millisecond))
	stop()
	if err := <-done; err != nil {
		t.Errorf("the daemon ended with %v", err)
	}

	// A revoked key: the daemon goes on importing and says why it does
	// not push.
	if _, err := ts.DB.Revoke(context.Background(), "ann"); err != nil {
		t.Fatal(err)
	}
	appendTo(t, filepath.Join(dir, "projects", "-src-app", "later.jsonl"), sessionLines("later", "now"))
	logs := &lockedBuffer{}
	done, stop = startDaemonLogs(t, logs, "--config", cfg)
	waitFor(t, 15*time.Second, "the refusal logged", func() bool {
		return strings.Contains(logs.String(), "pushing stopped") && strings.Contains(logs.String(), "401")
	})
	select {
	case err := <-done:
		t.Fatalf("the daemon stopped with the push: %v", err)
	default:
	}
	stop()
}

// A refusal stops a push with the server's reason: a wrong key, another
// user's session. A line larger than the server takes is left out, and
// the rest of its file is sent.
func TestPushRefused(t *testing.T) {
	isolate(t)
	ts := startTeam(t, teamDSN(t), func(c *config.Team) { c.MaxUploadMB = 1 })
	ann, annKey := ts.newUser(t, "ann", false, store.ShareFull)
	_, bobKey := ts.newUser(t, "bob", false, store.ShareFull)
	wrong, _, _ := store.NewAPIKey()
	dir := t.TempDir()
	file := filepath.Join(dir, "projects", "-src-a", "s.jsonl")
	os.MkdirAll(filepath.Dir(file), 0o755)
	appendTo(t, file, sessionLines("shared", "first"))

	_, err := run(t, "--claude-dir", dir, "push", "--server", ts.URL, "--key", wrong)
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "check the key") {
		t.Errorf("a wrong key: %v", err)
	}
	if _, err := run(t, "--claude-dir", dir, "push", "--server", ts.URL, "--key", annKey); err != nil {
		t.Fatal(err)
	}
	// bob's copy of ann's session, from a state of his own.
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	_, err = run(t, "--claude-dir", dir, "push", "--server", ts.URL, "--key", bobKey, "--give-up", "5s")
	if err == nil || !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), "another user") {
		t.Errorf("another user's session: %v", err)
	}

	// 1.5 MB of text in one line, then a line that fits.
	huge := fmt.Sprintf(`{"type":"user","uuid":"huge","sessionId":"shared","timestamp":"2026-03-03T10:00:00Z","message":{"role":"user","content":%q}}`+"\n",
		strings.Repeat("many words ", 150_000))
	appendTo(t, file, []byte(huge))
	appendTo(t, file, sessionLines("after", "fits"))
	t.Setenv("XDG_DATA_HOME", "")
	isolate(t) // ann's state again
	out, err := run(t, "--claude-dir", dir, "push", "--server", ts.URL, "--key", annKey)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "Not sent: 1 lines") {
		t.Errorf("push printed:\n%s\nwant one line not sent", out)
	}
	got, _ := totalsOf(t, ts.DB, ann.ID)
	if got.Sessions != 2 || got.Messages != 4 {
		t.Errorf("the server has %d sessions, %d messages of ann's; want 2, 4", got.Sessions, got.Messages)
	}
}

// `insights redact --check` lists each secret with its place, kind and no
// more than its first characters, counts them by kind, and exits 1; a
// clean file exits 0. Patterns of the config's count too.
func TestRedactCheck(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	lines, secrets := secretLines("s1")
	dirty := filepath.Join(dir, "dirty.jsonl")
	writeFile(t, dirty, string(lines)+"DB_PASSWORD=correct-horse\nACME acme_abcdefghij\n")
	clean := filepath.Join(dir, "clean.jsonl")
	writeFile(t, clean, string(sessionLines("s2", "nothing to hide")))
	cfg := filepath.Join(dir, "config.toml")
	writeFile(t, cfg, "[[push.redact]]\nkind = \"acme\"\npattern = \"acme_[a-j]{10}\"\n")

	out, err := run(t, "--config", cfg, "redact", "--check", dirty, clean)
	if !errors.Is(err, errSecretsFound) {
		t.Errorf("redact --check ended with %v, want an error (exit status 1)", err)
	}
	for _, want := range []string{
		dirty + ":1: github  ghp_… (40 characters)",
		dirty + ":2: aws-access-key  AKIA… (20 characters)",
		dirty + ":2: url-password  s3c… (14 characters)",
		dirty + ":3: env-secret  cor… (13 characters)",
		dirty + ":4: acme  acm… (15 characters)",
		"5 secrets would be redacted: acme 1, aws-access-key 1, env-secret 1, github 1, url-password 1.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("redact --check printed:\n%s\nwant %q", out, want)
		}
	}
	for _, s := range append(secrets, "correct-horse") {
		if strings.Contains(out, s) {
			t.Errorf("the secret %.6s… is printed", s)
		}
	}
	out, err = run(t, "redact", "--check", clean)
	if err != nil || !strings.Contains(out, "No secrets found.") {
		t.Errorf("a clean file: %q %v", out, err)
	}
	if _, err := run(t, "redact", clean); err == nil || !strings.Contains(err.Error(), "--check") {
		t.Errorf("without --check: %v", err)
	}
}
