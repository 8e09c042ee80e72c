package store

import (
	"context"
	"strings"
	"time"
)

// Explorer runs read-only SQL for the SQL explorer: the tables of a
// database, pages of their rows, and statements typed by the user or
// canned. store/sqlite implements it; every error meant for the user is a
// *SQLError.
type Explorer interface {
	// Tables lists every table and view with its columns, and its row
	// count if counts is set.
	Tables(ctx context.Context, counts bool) ([]Table, error)
	// Table describes one table or view, without counting its rows, or
	// returns ErrNotFound.
	Table(ctx context.Context, name string) (Table, error)
	// Rows returns a page of a table's rows.
	Rows(ctx context.Context, q TableQuery) (*TablePage, error)
	// StreamRows hands every row a table query selects (not one page) to
	// row as it comes.
	StreamRows(ctx context.Context, q TableQuery, header func(cols []string) error, row func([]any) error) error
	// Query runs one statement with named parameters and returns at most
	// MaxRows of its rows.
	Query(ctx context.Context, sql string, params map[string]string) (*Result, error)
	// Stream runs one statement like Query, handing every row to row.
	Stream(ctx context.Context, sql string, params map[string]string, header func(cols []string) error, row func([]any) error) error
	// Params returns the names of a statement's parameters, in order.
	Params(sql string) []string
	// Queries are the canned queries, in the order the index lists them.
	Queries() []CannedQuery
	// Limits are the limits every query runs under.
	Limits() ExploreLimits
}

// ExploreLimits bound what one explorer query may take.
type ExploreLimits struct {
	// Timeout is how long a query may run; zero is 5 seconds.
	Timeout time.Duration
	// MaxRows is the most rows a query returns to a page; zero is 1000.
	MaxRows int
	// StreamTimeout is how long a download of every row may run; zero is
	// a minute.
	StreamTimeout time.Duration
}

// Column is a column of a table or view.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"` // as declared; empty in views of expressions
	PK   bool   `json:"pk"`
}

// Table is a table or view of the database.
type Table struct {
	Name string `json:"name"`
	Kind string `json:"kind"` // table, view or virtual
	// Columns are in the table's order.
	Columns []Column `json:"columns"`
	// Rows is how many rows it holds, or -1 when they were not counted or
	// counting took too long.
	Rows int64 `json:"rows"`
	// Description says what a row is.
	Description string `json:"description"`
}

// Result is the rows a query returned to a page.
type Result struct {
	Columns []string
	// Rows hold int64, float64, string, nil, or a string saying how many
	// bytes a blob that is not text holds.
	Rows [][]any
	// Truncated is true when the query had more rows than MaxRows.
	Truncated bool
	// Next continues a table's rows after this page (TableQuery.After);
	// empty on the last page.
	Next    string
	Elapsed time.Duration
}

// FilterOps are the column filters' operators: a parameter col__op=value
// filters a table's rows; col=value is col__exact=value.
var FilterOps = []string{"exact", "not", "contains", "startswith", "endswith", "gt", "gte", "lt", "lte", "in", "isnull", "notnull"}

// Filter keeps the rows whose column compares to a value by an operator.
type Filter struct {
	Column, Op, Value string
}

// ParseFilter reads a filter from a parameter's name (col or col__op) and
// value.
func ParseFilter(key, value string) Filter {
	if i := strings.LastIndex(key, "__"); i > 0 {
		for _, op := range FilterOps {
			if key[i+2:] == op {
				return Filter{Column: key[:i], Op: op, Value: value}
			}
		}
	}
	return Filter{Column: key, Op: "exact", Value: value}
}

// TableQuery selects a page of a table's rows.
type TableQuery struct {
	Table   string
	Filters []Filter
	// Sort is the column rows are in the order of; empty is the order they
	// were stored in.
	Sort string
	Desc bool
	// After is a previous page's Result.Next.
	After string
	// Limit is the most rows on a page; zero is 100, and at most MaxRows.
	Limit int
}

// TablePage is a page of a table's rows.
type TablePage struct {
	Table Table
	Result
	// Count is how many rows the filters keep, or -1 when counting them took
	// too long.
	Count int64
}

// CannedQuery is a named query of the SQL explorer. Its parameters are
// text, as Datasette passes them; an empty one means "any", so that the
// same SQL runs unchanged in Datasette.
type CannedQuery struct {
	Name        string `json:"name"`
	Title       string `json:"title"`
	Description string `json:"description"`
	SQL         string `json:"sql"`
	// Params are the names of its parameters, in order.
	Params []string `json:"params"`
}

// ParamHints say what the canned queries' parameters take.
var ParamHints = map[string]string{
	"project": "project directory, such as /src/app",
	"since":   "first day, YYYY-MM-DD (UTC)",
	"until":   "last day, YYYY-MM-DD (UTC)",
	"tag":     "a session tag",
	"limit":   "most rows (default 50)",
}
