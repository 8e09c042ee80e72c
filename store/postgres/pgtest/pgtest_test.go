package pgtest

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// The fallback for machines without a running server: a cluster from the
// machine's own binaries.
func TestStartCluster(t *testing.T) {
	if _, err := binDir(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI must have PostgreSQL's server programs: %v", err)
		}
		t.Skip(err)
	}
	c, err := StartCluster()
	if err != nil {
		t.Fatal(err)
	}
	if err := ping(c.DSN); err != nil {
		t.Errorf("ping the started cluster: %v", err)
	}
	if err := execOn(c.DSN, `CREATE DATABASE scratch`); err != nil {
		t.Errorf("create a database on it: %v", err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.Dir); !os.IsNotExist(err) {
		t.Errorf("cluster directory %s left behind: %v", c.Dir, err)
	}
	if ping(c.DSN) == nil {
		t.Error("the cluster still answers after Stop")
	}
}

// Each DSN is an empty schema of the run's database.
func TestDSNSchemas(t *testing.T) {
	a, b := DSN(t), DSN(t)
	if a == b || !strings.Contains(a, "search_path=t") {
		t.Fatalf("DSNs %q and %q: want two distinct schemas", a, b)
	}
	if err := execOn(a, `CREATE TABLE x (id int)`); err != nil {
		t.Fatal(err)
	}
	if err := execOn(b, `CREATE TABLE x (id int)`); err != nil {
		t.Errorf("the same table in another schema: %v", err)
	}
	if Describe() == "" {
		t.Error("Describe is empty after DSN found a server")
	}
}

func TestWithParams(t *testing.T) {
	if got, want := WithParams("postgres://u@h:5/p?sslmode=disable", map[string]string{"dbname": "d", "search_path": "s"}),
		"postgres://u@h:5/d?search_path=s&sslmode=disable"; got != want {
		t.Errorf("URL: %q, want %q", got, want)
	}
	if got, want := WithParams("host=h user=u", map[string]string{"dbname": "d"}), "host=h user=u dbname='d'"; got != want {
		t.Errorf("keywords: %q, want %q", got, want)
	}
}

// Databases left by a killed run are dropped by a later one; recent ones,
// perhaps a concurrent run's, stay.
func TestDropStale(t *testing.T) {
	DSN(t) // a server
	old := fmt.Sprintf("%s%d_1_1", dbPrefix, time.Now().Add(-7*time.Hour).Unix())
	recent := fmt.Sprintf("%s%d_1_2", dbPrefix, time.Now().Add(-time.Hour).Unix())
	for _, name := range []string{old, recent} {
		if err := execOn(srv.admin, `CREATE DATABASE `+name); err != nil {
			t.Fatal(err)
		}
	}
	defer execOn(srv.admin, `DROP DATABASE IF EXISTS `+recent)
	dropStale(srv.admin, time.Now().Add(-6*time.Hour))
	for name, want := range map[string]bool{old: false, recent: true, srv.dbName: true} {
		if got := execOn(WithParams(srv.admin, map[string]string{"dbname": name}), `SELECT 1`) == nil; got != want {
			t.Errorf("database %s exists = %v, want %v", name, got, want)
		}
	}
}
