package cli

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/claude-insights/insights/store"
	"github.com/claude-insights/insights/store/postgres"
	"github.com/claude-insights/insights/store/postgres/pgtest"
)

// teamConfig writes the config of a team install on a fresh schema.
func teamConfig(t testing.TB) (cfg, dsn string) {
	t.Helper()
	isolate(t)
	dsn = pgtest.DSN(t)
	cfg = filepath.Join(t.TempDir(), "config.toml")
	body := "mode = \"team\"\ndb = \"" + dsn + "\"\ndb_connections = 4\n[team]\npublic_url = \"https://insights.example.com/\"\n"
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg, dsn
}

var keyPattern = regexp.MustCompile(`API key: (ins_[a-z2-7]{52})\n`)

// addUser runs `insights user add` and returns the key it printed.
func addUser(t *testing.T, cfg string, args ...string) string {
	t.Helper()
	out, err := run(t, append([]string{"--config", cfg, "user", "add"}, args...)...)
	if err != nil {
		t.Fatalf("user add %v: %v", args, err)
	}
	m := keyPattern.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("user add printed no key:\n%s", out)
	}
	if !strings.Contains(out, "insights push --server https://insights.example.com --key "+m[1]) {
		t.Errorf("user add does not say how to push:\n%s", out)
	}
	return m[1]
}

// Keys are printed once and stored as hashes; rotate replaces a key,
// revoke ends it, set-share changes the level; mistakes are named.
func TestUserCommands(t *testing.T) {
	cfg, dsn := teamConfig(t)
	ctx := context.Background()
	ann := addUser(t, cfg, "ann", "--admin", "--email", "ann@example.com")
	bob := addUser(t, cfg, "bob", "--share", "metadata")
	if ann == bob {
		t.Fatal("two users got the same key")
	}
	db, err := postgres.Open(ctx, dsn, postgres.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, err := db.UserByKey(ctx, ann)
	if err != nil || u.Name != "ann" || !u.Admin || u.Email != "ann@example.com" || u.Share != store.ShareFull || u.KeyPrefix != ann[:12] {
		t.Fatalf("ann's key finds %+v, %v", u, err)
	}
	forged := ann[:12] + strings.Repeat("a", len(ann)-12)
	if _, err := db.UserByKey(ctx, forged); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a key with ann's prefix and another rest: %v", err)
	}
	var stored int
	raw, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if err := raw.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE key_hash = $1 OR key_prefix = $2`,
		[]byte(ann), ann).Scan(&stored); err != nil || stored != 0 {
		t.Fatalf("the key itself is stored (%d rows, %v)", stored, err)
	}

	out, err := run(t, "--config", cfg, "user", "list")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ann   admin", "bob   member  metadata", ann[:12] + "…", "active"} {
		if !strings.Contains(out, want) {
			t.Errorf("user list lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, ann) {
		t.Error("user list shows a whole key")
	}

	out, err = run(t, "--config", cfg, "user", "rotate", "bob")
	if err != nil {
		t.Fatal(err)
	}
	bob2 := keyPattern.FindStringSubmatch(out)[1]
	if _, err := db.UserByKey(ctx, bob); err == nil {
		t.Error("bob's old key still finds him after rotate")
	}
	if _, err := run(t, "--config", cfg, "user", "revoke", "bob"); err != nil {
		t.Fatal(err)
	}
	if u, err := db.UserByKey(ctx, bob2); err != nil || u.RevokedAt.IsZero() {
		t.Errorf("after revoke: %+v, %v", u, err)
	}
	if _, err := run(t, "--config", cfg, "user", "set-share", "bob", "none"); err != nil {
		t.Fatal(err)
	}
	if u, _ := db.UserByName(ctx, "bob"); u.Share != store.ShareNone {
		t.Errorf("share after set-share = %s", u.Share)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"user", "add", "ann"}, "exists already"},
		{[]string{"user", "add", "a b"}, "letters, digits"},
		{[]string{"user", "add", "cy", "--share", "most"}, "want none, metadata or full"},
		{[]string{"user", "rotate", "zed"}, "no user zed"},
		{[]string{"user", "revoke"}, "one user name"},
		{[]string{"user", "set-share", "bob", "all"}, "want none, metadata or full"},
	} {
		if _, err := run(t, append([]string{"--config", cfg}, c.args...)...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
	isolate(t)
	if _, err := run(t, "--db", filepath.Join(t.TempDir(), "solo.db"), "user", "list"); err == nil ||
		!strings.Contains(err.Error(), "postgres:// DSN") {
		t.Errorf("user list on SQLite: %v", err)
	}
}

// user set-password stores a bcrypt hash of the first line of standard
// input, refuses a short one, and an empty line removes it.
func TestUserSetPassword(t *testing.T) {
	cfg, dsn := teamConfig(t)
	addUser(t, cfg, "ann")
	out, err := runStdin(t, "correct horse battery\nignored\n", "--config", cfg, "user", "set-password", "ann")
	if err != nil || !strings.Contains(out, "set the dashboard password of ann") {
		t.Fatalf("set-password: %q, %v", out, err)
	}
	db, err := postgres.Open(context.Background(), dsn, postgres.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, hash, err := db.PasswordHash(context.Background(), "ann")
	if err != nil || !u.HasPassword || bcrypt.CompareHashAndPassword([]byte(hash), []byte("correct horse battery")) != nil {
		t.Errorf("stored hash %q of %+v (%v) does not match the password", hash, u, err)
	}
	if _, err := runStdin(t, "short\n", "--config", cfg, "user", "set-password", "ann"); err == nil || !strings.Contains(err.Error(), "12 characters") {
		t.Errorf("a short password: %v", err)
	}
	if _, err := runStdin(t, "correct horse battery\n", "--config", cfg, "user", "set-password", "nobody"); err == nil || !strings.Contains(err.Error(), "no user nobody") {
		t.Errorf("set-password of nobody: %v", err)
	}
	if out, err := runStdin(t, "\n", "--config", cfg, "user", "set-password", "ann"); err != nil || !strings.Contains(out, "removed") {
		t.Errorf("an empty line: %q, %v", out, err)
	}
	if u, _, _ := db.PasswordHash(context.Background(), "ann"); u.HasPassword {
		t.Error("the password is still set after an empty line")
	}
}
