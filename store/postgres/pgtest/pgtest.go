// Package pgtest gives tests a real PostgreSQL database: the server named by
// INSIGHTS_TEST_POSTGRES, else one answering on 127.0.0.1:5432, else a
// throwaway cluster started from the machine's initdb and pg_ctl. Each test
// binary creates a database of its own and drops it when done (see Main);
// each call of DSN gets an empty schema of its own in that database.
//
// With CI=true a missing PostgreSQL fails the test; elsewhere it skips, with
// a message saying how to provide one.
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/lib/pq" // registers the "postgres" driver
)

// LocalDSN is where a PostgreSQL server is looked for when
// INSIGHTS_TEST_POSTGRES is not set.
const LocalDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable&connect_timeout=3"

var (
	once     sync.Once
	srv      *server
	startErr error
	inMain   atomic.Bool
	schemas  atomic.Int64
)

// server is the database of one test run on some PostgreSQL server.
type server struct {
	admin   string // DSN of a maintenance database
	dbName  string
	run     string // DSN of the run's database
	cluster *Cluster
	how     string
}

// Main runs the tests of a package, then drops the database they used and
// stops the cluster started for them, if any. Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
func Main(m *testing.M) int {
	inMain.Store(true)
	code := m.Run()
	if srv != nil {
		if err := srv.close(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		}
	}
	return code
}

// DSN returns the DSN of an empty schema, for one test, in this run's
// database. It skips the test (fails it with CI=true) when no PostgreSQL
// can be found or started.
func DSN(t testing.TB) string {
	t.Helper()
	if !inMain.Load() {
		t.Fatal("pgtest.DSN: the package's TestMain must call pgtest.Main, which drops the test database")
	}
	once.Do(func() {
		srv, startErr = start()
		if startErr == nil {
			t.Logf("PostgreSQL for this run: %s, database %s", srv.how, srv.dbName)
		}
	})
	if startErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is required with CI=true: %v", startErr)
		}
		t.Skipf("no PostgreSQL (%v): set INSIGHTS_TEST_POSTGRES to a DSN, run a server on 127.0.0.1:5432 "+
			"that trusts user postgres, or install PostgreSQL's server programs (initdb, pg_ctl)", startErr)
	}
	schema := fmt.Sprintf("t%d", schemas.Add(1))
	if err := execOn(srv.run, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	return WithParams(srv.run, map[string]string{"search_path": schema})
}

// Describe says which server the run uses ("" before the first DSN).
func Describe() string {
	if srv == nil {
		return ""
	}
	return srv.how
}

// start finds or starts a server and creates the run's database on it.
func start() (*server, error) {
	s := &server{}
	if dsn := os.Getenv("INSIGHTS_TEST_POSTGRES"); dsn != "" {
		if err := ping(dsn); err != nil {
			return nil, fmt.Errorf("INSIGHTS_TEST_POSTGRES: %w", err)
		}
		s.admin, s.how = dsn, "INSIGHTS_TEST_POSTGRES"
	} else if ping(LocalDSN) == nil {
		s.admin, s.how = LocalDSN, "server on 127.0.0.1:5432"
	} else {
		c, err := StartCluster()
		if err != nil {
			return nil, err
		}
		s.admin, s.cluster, s.how = c.DSN, c, "throwaway cluster in "+c.Dir
	}
	dropStale(s.admin, time.Now().Add(-6*time.Hour))
	s.dbName = fmt.Sprintf("%s%d_%d_%d", dbPrefix, time.Now().Unix(), os.Getpid(), time.Now().Nanosecond())
	// A locale where text does not sort byte by byte, as on many servers,
	// where the server has ICU (PostgreSQL 15 or later); else its default.
	icu := `CREATE DATABASE ` + s.dbName + ` TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'`
	if err := execOn(s.admin, icu); err == nil {
		s.how += ", collation ICU en-US"
	} else if err := execOn(s.admin, `CREATE DATABASE `+s.dbName); err != nil {
		s.stopCluster()
		return nil, fmt.Errorf("create test database: %w", err)
	}
	s.run = WithParams(s.admin, map[string]string{"dbname": s.dbName})
	return s, nil
}

// dbPrefix starts the name of every test database, followed by the Unix
// time it was created at.
const dbPrefix = "insights_test_"

// dropStale drops the test databases created before cutoff: left behind by
// test runs that were killed before they could drop their own.
func dropStale(admin string, cutoff time.Time) {
	db, err := sql.Open("postgres", admin)
	if err != nil {
		return
	}
	defer db.Close()
	rows, err := db.Query(`SELECT datname FROM pg_database WHERE starts_with(datname, $1)`, dbPrefix)
	if err != nil {
		return
	}
	var stale []string
	for rows.Next() {
		var name string
		if rows.Scan(&name) != nil {
			break
		}
		created, _, _ := strings.Cut(strings.TrimPrefix(name, dbPrefix), "_")
		if sec, err := strconv.ParseInt(created, 10, 64); err == nil && time.Unix(sec, 0).Before(cutoff) {
			stale = append(stale, name)
		}
	}
	rows.Close()
	for _, name := range stale {
		db.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`) //nolint:errcheck // best effort
	}
}

func (s *server) close() error {
	err := execOn(s.admin, `DROP DATABASE IF EXISTS `+s.dbName+` WITH (FORCE)`)
	if err != nil {
		err = fmt.Errorf("drop test database %s: %w", s.dbName, err)
	}
	return errors.Join(err, s.stopCluster())
}

func (s *server) stopCluster() error {
	if s.cluster == nil {
		return nil
	}
	return s.cluster.Stop()
}

func ping(dsn string) error {
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}

func execOn(dsn, stmt string) error {
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = db.ExecContext(ctx, stmt)
	return err
}

// WithParams returns dsn (a URL or key=value pairs) with connection
// parameters set; "dbname" names the database.
func WithParams(dsn string, params map[string]string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return dsn
		}
		q := u.Query()
		for k, v := range params {
			if k == "dbname" {
				u.Path = "/" + v
				continue
			}
			q.Set(k, v)
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	for k, v := range params {
		dsn += " " + k + "='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
	}
	return dsn
}
