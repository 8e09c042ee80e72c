package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/claude-insights/insights/store"
)

// The explorer's connections are read-only three times over: the file is
// opened with mode=ro, each connection sets PRAGMA query_only, and an
// authorizer refuses every action but reading (see authorize), so that
// no statement a user types can change the database, attach another one
// or load an extension.
func init() {
	sql.Register("sqlite3_explorer", &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		for _, q := range []string{"PRAGMA query_only = 1", fmt.Sprintf("PRAGMA mmap_size = %d", readerMmap)} {
			if _, err := c.Exec(q, nil); err != nil {
				return err
			}
		}
		c.RegisterAuthorizer(authorize)
		return nil
	}})
}

// sqliteRecursive is SQLITE_RECURSIVE, the action of a recursive common
// table expression, which the driver does not name.
const sqliteRecursive = 33

// infoPragmas are the pragmas the explorer may run: each only reads the
// schema, whatever its argument.
var infoPragmas = map[string]bool{
	"table_info": true, "table_xinfo": true, "table_list": true, "index_list": true,
	"index_info": true, "index_xinfo": true, "foreign_key_list": true, "database_list": true,
	"collation_list": true, "function_list": true, "module_list": true, "pragma_list": true,
	"compile_options": true,
}

// readPragmas are pragmas the explorer may run without an argument, which
// only read a setting; full-text search reads data_version.
var readPragmas = map[string]bool{
	"data_version": true, "user_version": true, "schema_version": true, "page_size": true,
	"page_count": true, "freelist_count": true, "encoding": true, "journal_mode": true,
}

// authorize is the explorer's SQLite authorizer: it allows reading tables
// and calling functions other than load_extension, and a few pragmas that
// read the schema or a setting; it denies everything else (writes, schema changes,
// ATTACH and DETACH, transactions, other pragmas).
func authorize(op int, arg1, arg2, _ string) int {
	switch op {
	case sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqliteRecursive:
		return sqlite3.SQLITE_OK
	case sqlite3.SQLITE_FUNCTION:
		if strings.EqualFold(arg2, "load_extension") {
			return sqlite3.SQLITE_DENY
		}
		return sqlite3.SQLITE_OK
	case sqlite3.SQLITE_PRAGMA:
		if name := strings.ToLower(arg1); infoPragmas[name] || readPragmas[name] && arg2 == "" {
			return sqlite3.SQLITE_OK
		}
	}
	return sqlite3.SQLITE_DENY
}

// Explorer runs read-only SQL over the database, on connections of its
// own: the SQL explorer's view of it.
type Explorer struct {
	db   *sql.DB
	opts store.ExploreLimits
}

var _ store.Explorer = (*Explorer)(nil)

// OpenExplorer opens the database at path, which must exist, for the
// explorer.
func OpenExplorer(ctx context.Context, path string, opts store.ExploreLimits) (*Explorer, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.MaxRows <= 0 {
		opts.MaxRows = 1000
	}
	if opts.StreamTimeout <= 0 {
		opts.StreamTimeout = time.Minute
	}
	db, err := sql.Open("sqlite3_explorer", dsn(path, url.Values{"mode": {"ro"}}))
	if err != nil {
		return nil, fmt.Errorf("open %s for the explorer: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s for the explorer: %w", path, err)
	}
	return &Explorer{db: db, opts: opts}, nil
}

// Close closes the explorer's connections.
func (e *Explorer) Close() error { return e.db.Close() }

// Limits returns the limits every query runs under.
func (e *Explorer) Limits() store.ExploreLimits { return e.opts }

// Queries returns the canned queries.
func (e *Explorer) Queries() []store.CannedQuery { return CannedQueries }

// Params returns the names of the parameters a statement uses (:name,
// @name or $name), in the order they first appear.
func (e *Explorer) Params(query string) []string { return scanSQL(query).Params }

// Query runs one read-only statement with named parameters (missing ones
// are the empty string) and returns at most MaxRows of its rows.
func (e *Explorer) Query(ctx context.Context, query string, params map[string]string) (*store.Result, error) {
	query, args, err := statement(query, params)
	if err != nil {
		return nil, err
	}
	res := &store.Result{}
	start := time.Now()
	err = e.run(ctx, e.opts.Timeout, query, args, e.opts.MaxRows, func(cols []string) error {
		res.Columns = cols
		return nil
	}, func(row []any) error {
		res.Rows = append(res.Rows, row)
		return nil
	})
	if errors.Is(err, errTooManyRows) {
		res.Truncated, err = true, nil
	}
	res.Elapsed = time.Since(start)
	return res, err
}

// Stream runs one read-only statement like Query, handing every row to
// row as it comes, with no row limit and the longer StreamTimeout.
func (e *Explorer) Stream(ctx context.Context, query string, params map[string]string,
	header func(cols []string) error, row func([]any) error) error {
	query, args, err := statement(query, params)
	if err != nil {
		return err
	}
	return e.run(ctx, e.opts.StreamTimeout, query, args, 0, header, row)
}

// statement returns the one statement of a query's text, less what
// follows its last token (the driver would run anything after a ';' as
// statements of their own), and its arguments.
func statement(query string, params map[string]string) (string, []any, error) {
	t := scanSQL(query)
	switch {
	case t.Empty:
		return "", nil, &store.SQLError{Msg: "the query is empty"}
	case t.More:
		return "", nil, &store.SQLError{Msg: "one statement at a time: remove what follows the first ';'"}
	}
	// Every parameter is bound, a missing one to '' as Datasette does, so
	// that canned queries read "any" for it.
	args := make([]any, 0, len(t.Params))
	for _, p := range t.Params {
		args = append(args, sql.Named(p, params[p]))
	}
	return query[:t.End], args, nil
}

var errTooManyRows = errors.New("too many rows")

// run runs a statement under a time limit, handing over its columns and
// then each row; after max rows (0: no limit) it stops with errTooManyRows
// if another row follows.
func (e *Explorer) run(ctx context.Context, limit time.Duration, query string, args []any, max int,
	header func([]string) error, each func([]any) error) error {
	qctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	start := time.Now()
	err := func() error {
		rows, err := e.db.QueryContext(qctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			return err
		}
		if err := header(cols); err != nil {
			return err
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		n := 0
		for rows.Next() {
			if max > 0 && n == max {
				return errTooManyRows
			}
			n++
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			row := make([]any, len(cols))
			for i, v := range vals {
				row[i] = plain(v)
			}
			if err := each(row); err != nil {
				return err
			}
		}
		return rows.Err()
	}()
	return queryError(ctx, qctx, err, limit, time.Since(start))
}

// queryError turns what stopped a query into an error for the user: the
// time limit, a refused action, or SQLite's own message.
func queryError(ctx, qctx context.Context, err error, limit, took time.Duration) error {
	var se sqlite3.Error
	switch {
	case err == nil || errors.Is(err, errTooManyRows):
		return err
	case ctx.Err() != nil:
		return ctx.Err()
	case qctx.Err() != nil || errors.As(err, &se) && se.Code == sqlite3.ErrInterrupt:
		return &store.SQLError{Msg: fmt.Sprintf("the query was stopped after %s: queries may run for %s at most; narrow it down with WHERE or LIMIT", took.Round(time.Millisecond), limit)}
	case errors.As(err, &se) && (se.Code == sqlite3.ErrAuth || strings.Contains(se.Error(), "not authorized")):
		return &store.SQLError{Msg: "only reading is allowed here: " + err.Error()}
	case errors.As(err, &se) && userFault[se.Code]:
		return &store.SQLError{Msg: err.Error()}
	}
	return err
}

// userFault are SQLite's errors that come from the statement, not from
// the database or the machine.
var userFault = map[sqlite3.ErrNo]bool{
	sqlite3.ErrError: true, sqlite3.ErrReadonly: true, sqlite3.ErrRange: true, sqlite3.ErrMismatch: true,
	sqlite3.ErrTooBig: true, sqlite3.ErrConstraint: true,
}

// plain turns a scanned value into one a page or an encoder shows as is.
func plain(v any) any {
	switch v := v.(type) {
	case []byte:
		if utf8.Valid(v) {
			return string(v)
		}
		return fmt.Sprintf("<%d bytes>", len(v))
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	case bool:
		if v {
			return int64(1)
		}
		return int64(0)
	}
	return v
}
