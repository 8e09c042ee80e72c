package server

import (
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/claude-insights/insights/store"
	"github.com/claude-insights/insights/templates"
)

// ExplorerOptions configure an Explorer.
type ExplorerOptions struct {
	// ReplayURL is where the replay UI answers (http://127.0.0.1:8002):
	// session ids and plan slugs link into it. Empty: no links.
	ReplayURL string
	// DBPath names the database on the index page.
	DBPath string
	Log    *slog.Logger
}

// Explorer serves the SQL explorer over a store.Explorer (the solo
// daemon's SQLite database): its tables, read-only SQL and canned
// queries, as pages, CSV and JSON.
type Explorer struct {
	responder
	ex   store.Explorer
	opts ExplorerOptions
}

// NewExplorer returns the explorer's server over ex.
func NewExplorer(ex store.Explorer, opts ExplorerOptions) (*Explorer, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	pages, err := templates.Parse(pageFuncs(time.UTC))
	if err != nil {
		return nil, err
	}
	opts.ReplayURL = strings.TrimSuffix(opts.ReplayURL, "/")
	return &Explorer{responder: responder{pages: pages, log: opts.Log}, ex: ex, opts: opts}, nil
}

// Handler returns the explorer's route table.
func (x *Explorer) Handler() http.Handler {
	r := mux.NewRouter()
	r.StrictSlash(true)
	get := func(path string, h http.HandlerFunc) { r.Handle(path, h).Methods(http.MethodGet, http.MethodHead) }
	get("/", x.index)
	get("/tables/{name}", x.table)
	get("/query", x.query)
	get("/queries/{name}", x.canned)
	r.PathPrefix("/static/").Handler(http.StripPrefix("/static/", staticFiles()))
	r.NotFoundHandler = x.html(func(*http.Request) (page, error) { return page{}, notFound("no such page") })
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "method not allowed: the explorer only reads", http.StatusMethodNotAllowed)
	})
	return x.secure(x.recoverPanics(r))
}

// format is the form of a result a request asks for: html (no format),
// csv or json.
func format(r *http.Request) (string, error) {
	switch f := r.URL.Query().Get("format"); f {
	case "", "html":
		return "html", nil
	case "csv", "json":
		return f, nil
	default:
		return "", badRequest("format=%q: want csv or json", f)
	}
}

// explorerNav is what the layout shows of the explorer.
type explorerNav struct{ ReplayURL string }

func (x *Explorer) page(template, title string, data any) page {
	return page{Template: template, Title: title, Data: data, Explorer: &explorerNav{ReplayURL: x.opts.ReplayURL}}
}

// render answers with a page.
func (x *Explorer) render(w http.ResponseWriter, r *http.Request, p page) {
	x.html(func(*http.Request) (page, error) { return p, nil }).ServeHTTP(w, r)
}

// fail answers an error in the form asked for.
func (x *Explorer) fail(w http.ResponseWriter, r *http.Request, f string, err error) {
	if f == "html" {
		x.html(func(*http.Request) (page, error) { return page{}, err }).ServeHTTP(w, r)
		return
	}
	x.writeError(w, r, err)
}

type sqlIndex struct {
	DBPath  string
	Tables  []store.Table
	Queries []store.CannedQuery
	Limits  store.ExploreLimits
}

func (x *Explorer) index(w http.ResponseWriter, r *http.Request) {
	f, err := format(r)
	if err != nil || f == "csv" {
		x.fail(w, r, "html", cmp.Or(err, badRequest("the index has no CSV form: format=json")))
		return
	}
	tables, err := x.ex.Tables(r.Context(), true)
	if err != nil {
		x.fail(w, r, f, err)
		return
	}
	if f == "json" {
		x.writeJSON(w, r, http.StatusOK, map[string]any{"tables": tables, "queries": x.ex.Queries()})
		return
	}
	data := sqlIndex{DBPath: x.opts.DBPath, Tables: tables, Queries: x.ex.Queries(), Limits: x.ex.Limits()}
	x.render(w, r, x.page("sql", "SQL explorer", data))
}

// Parameters of a table page; every other parameter filters its rows.
const (
	paramSort     = "_sort"
	paramSortDesc = "_sort_desc"
	paramNext     = "_next"
	paramSize     = "_size"
	paramFormat   = "format"
	// The filter form's fields, turned into a col__op=value parameter.
	paramFilterColumn = "_filter_column"
	paramFilterOp     = "_filter_op"
	paramFilterValue  = "_filter_value"
)

type filterView struct {
	store.Filter
	Remove string // the page's link without this filter
}

type sqlTablePage struct {
	Table   store.Table
	Filters []filterView
	Ops     []string
	Result  rowsView
	Params  url.Values
}

func (x *Explorer) table(w http.ResponseWriter, r *http.Request) {
	f, err := format(r)
	if err != nil {
		x.fail(w, r, "html", err)
		return
	}
	if r.URL.Query().Get(paramFilterColumn) != "" {
		addFilter(w, r)
		return
	}
	tq, params, err := x.tableQuery(r)
	if err != nil {
		x.fail(w, r, f, err)
		return
	}
	if f == "csv" {
		x.streamCSV(w, r, tq.Table, func(ctx context.Context, header func([]string) error, row func([]any) error) error {
			return x.ex.StreamRows(ctx, tq, header, row)
		})
		return
	}
	res, err := x.ex.Rows(r.Context(), tq)
	if err != nil {
		x.fail(w, r, f, err)
		return
	}
	view := x.rowsView(r, &res.Result, params, tq.Table)
	view.Count = res.Count
	if tq.After != "" && f == "html" {
		view.First = r.URL.Path + withParam(params)
	}
	if res.Next != "" {
		view.Next = r.URL.Path + withParam(params, paramNext, res.Next)
		if f == "json" {
			view.Next = r.URL.Path + withParam(params, paramNext, res.Next, paramFormat, f)
		}
	}
	for i, c := range view.Columns {
		view.Columns[i].Sorted = sortedAs(tq, c.Name)
		if view.Columns[i].Sorted == "asc" {
			view.Columns[i].SortHref = withParam(params, paramSort, "", paramSortDesc, c.Name)
		} else {
			view.Columns[i].SortHref = withParam(params, paramSortDesc, "", paramSort, c.Name)
		}
	}
	if f == "json" {
		x.writeResultJSON(w, r, view, &res.Result)
		return
	}
	data := sqlTablePage{Table: res.Table, Ops: store.FilterOps, Result: view, Params: params}
	for _, fl := range tq.Filters {
		data.Filters = append(data.Filters, filterView{Filter: fl, Remove: withoutFilter(params, fl)})
	}
	x.render(w, r, x.page("sql_table", tq.Table, data))
}

// addFilter answers the filter form: the page's link with its filter
// added, to show the canonical link.
func addFilter(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	key := q.Get(paramFilterColumn)
	if op := q.Get(paramFilterOp); op != "" && op != "exact" {
		key += "__" + op
	}
	kept := url.Values{}
	for k, v := range q {
		if k != paramFilterColumn && k != paramFilterOp && k != paramFilterValue && k != paramNext {
			kept[k] = v
		}
	}
	kept.Add(key, q.Get(paramFilterValue))
	http.Redirect(w, r, r.URL.Path+"?"+kept.Encode(), http.StatusSeeOther)
}

// tableQuery reads a table page's request: its sort, size, page and
// filters, and the parameters its links keep (all but the page and the
// format).
func (x *Explorer) tableQuery(r *http.Request) (store.TableQuery, url.Values, error) {
	q := r.URL.Query()
	tq := store.TableQuery{Table: mux.Vars(r)["name"], After: q.Get(paramNext)}
	switch {
	case q.Get(paramSort) != "" && q.Get(paramSortDesc) != "":
		return tq, nil, badRequest("sort by %s or by %s, not both", paramSort, paramSortDesc)
	case q.Get(paramSortDesc) != "":
		tq.Sort, tq.Desc = q.Get(paramSortDesc), true
	default:
		tq.Sort = q.Get(paramSort)
	}
	var err error
	if tq.Limit, err = intParam(r, paramSize, 100, x.ex.Limits().MaxRows); err != nil {
		return tq, nil, err
	}
	params := url.Values{}
	keys := slices.Sorted(maps.Keys(q))
	for _, k := range keys {
		switch k {
		case paramNext, paramFormat:
			continue
		case paramSort, paramSortDesc, paramSize:
		default:
			if strings.HasPrefix(k, "_") {
				return tq, nil, badRequest("no parameter %s: filters are col=value or col__op=value", k)
			}
			for _, v := range q[k] {
				tq.Filters = append(tq.Filters, store.ParseFilter(k, v))
			}
		}
		params[k] = q[k]
	}
	return tq, params, nil
}

func sortedAs(q store.TableQuery, col string) string {
	switch {
	case q.Sort != col:
		return ""
	case q.Desc:
		return "desc"
	}
	return "asc"
}

// withoutFilter is the query string of params less one filter.
func withoutFilter(params url.Values, f store.Filter) string {
	key := f.Column
	if f.Op != "exact" {
		key += "__" + f.Op
	}
	v := url.Values{}
	for k, vs := range params {
		for _, s := range vs {
			if k != key || s != f.Value {
				v.Add(k, s)
			}
		}
	}
	return "?" + v.Encode()
}

type sqlQueryPage struct {
	Canned   *store.CannedQuery
	SQL      string
	Params   []paramView
	Edit     string // the link that opens a canned query's SQL in the editor
	Error    string
	Result   *rowsView
	RowLimit int
	Timeout  time.Duration
	// Tables are shown beside the editor, to write queries against.
	Tables []store.Table
}

type paramView struct{ Name, Value, Hint string }

func (x *Explorer) query(w http.ResponseWriter, r *http.Request) {
	x.runQuery(w, r, nil, r.URL.Query().Get("sql"))
}

func (x *Explorer) canned(w http.ResponseWriter, r *http.Request) {
	i := slices.IndexFunc(x.ex.Queries(), func(q store.CannedQuery) bool { return q.Name == mux.Vars(r)["name"] })
	if i < 0 {
		f, _ := format(r)
		x.fail(w, r, cmp.Or(f, "html"), notFound("no canned query %q: the index lists them", mux.Vars(r)["name"]))
		return
	}
	q := x.ex.Queries()[i]
	x.runQuery(w, r, &q, q.SQL)
}

func (x *Explorer) runQuery(w http.ResponseWriter, r *http.Request, canned *store.CannedQuery, query string) {
	f, err := format(r)
	if err != nil {
		x.fail(w, r, "html", err)
		return
	}
	opts := x.ex.Limits()
	data := sqlQueryPage{Canned: canned, SQL: query, RowLimit: opts.MaxRows, Timeout: opts.Timeout}
	values := map[string]string{}
	params := url.Values{}
	if canned == nil {
		params.Set("sql", query)
	}
	for _, p := range x.ex.Params(query) {
		v := r.URL.Query().Get(p)
		values[p] = v
		if v != "" {
			params.Set(p, v)
		}
		data.Params = append(data.Params, paramView{Name: p, Value: v, Hint: store.ParamHints[p]})
	}
	title := "Query"
	if canned != nil {
		title = canned.Title
		data.Edit = "/query" + withParam(params, "sql", query)
	} else if f == "html" {
		tables, err := x.ex.Tables(r.Context(), false)
		if err != nil {
			x.fail(w, r, f, err)
			return
		}
		data.Tables = tables
	}
	if strings.TrimSpace(query) == "" {
		if f != "html" {
			x.fail(w, r, f, badRequest("no query: give it as sql=…"))
			return
		}
		x.render(w, r, x.page("sql_query", title, data))
		return
	}
	name := "query"
	if canned != nil {
		name = canned.Name
	}
	if f == "csv" {
		x.streamCSV(w, r, name, func(ctx context.Context, header func([]string) error, row func([]any) error) error {
			return x.ex.Stream(ctx, query, values, header, row)
		})
		return
	}
	res, err := x.ex.Query(r.Context(), query, values)
	var se *store.SQLError
	switch {
	case err == nil:
	case f == "json" || !errors.As(err, &se):
		x.fail(w, r, f, err)
		return
	default:
		// The form again, with what went wrong, to mend the query.
		data.Error = se.Msg
		p := x.page("sql_query", title, data)
		p.Status = http.StatusBadRequest
		x.render(w, r, p)
		return
	}
	view := x.rowsView(r, res, params, "")
	if f == "json" {
		x.writeResultJSON(w, r, view, res)
		return
	}
	data.Result = &view
	x.render(w, r, x.page("sql_query", title, data))
}

// rowsView is a result as a page shows it.
type rowsView struct {
	Columns   []columnView
	Rows      [][]cellView
	Truncated bool
	RowLimit  int
	Elapsed   string
	CSV, JSON string
	Next      string
	// First leads back to a table's first page, from a later one.
	First string
	Count int64 // a table's rows the filters keep; -1: unknown
}

type columnView struct {
	Name     string
	Sorted   string // asc, desc or empty
	SortHref string
}

type cellView struct {
	Text string
	Href string
	// When is the time a column of milliseconds holds, in UTC.
	When string
	Null bool
	Num  bool
}

// isTimeColumn tells the columns that hold times as milliseconds since
// 1970 by their names: ts, and *_at.
func isTimeColumn(name string) bool { return name == "ts" || strings.HasSuffix(name, "_at") }

// cellLimit is how much of a long value a page shows; downloads hold it all.
const cellLimit = 2000

func (x *Explorer) rowsView(r *http.Request, res *store.Result, params url.Values, table string) rowsView {
	v := rowsView{Truncated: res.Truncated, RowLimit: x.ex.Limits().MaxRows, Count: -1,
		Elapsed: res.Elapsed.Round(time.Millisecond / 10).String(),
		CSV:     r.URL.Path + withParam(params, paramFormat, "csv"),
		JSON:    r.URL.Path + withParam(params, paramFormat, "json")}
	links := make([]string, len(res.Columns))
	for i, c := range res.Columns {
		v.Columns = append(v.Columns, columnView{Name: c})
		if x.opts.ReplayURL == "" {
			continue
		}
		switch {
		case c == "session_id" || strings.HasSuffix(c, "_session_id") || table == "sessions" && c == "id":
			links[i] = x.opts.ReplayURL + "/sessions/"
		case c == "slug":
			links[i] = x.opts.ReplayURL + "/plans/"
		}
	}
	for _, row := range res.Rows {
		cells := make([]cellView, len(row))
		for i, val := range row {
			c := cellView{}
			switch val := val.(type) {
			case nil:
				c.Null, c.Text = true, "NULL"
			case int64:
				c.Num, c.Text = true, valueText(val)
				// 2001 to 2286: a time, not a count.
				if isTimeColumn(res.Columns[i]) && val >= 1e12 && val < 1e13 {
					c.When = time.UnixMilli(val).UTC().Format("2006-01-02 15:04:05")
				}
			case float64:
				c.Num, c.Text = true, valueText(val)
			case string:
				c.Text = val
				if len(c.Text) > cellLimit {
					c.Text = c.Text[:cellLimit] + "…"
				}
				if links[i] != "" && val != "" {
					c.Href = links[i] + url.PathEscape(val)
				}
			default:
				c.Text = valueText(val)
			}
			cells[i] = c
		}
		v.Rows = append(v.Rows, cells)
	}
	return v
}

// writeResultJSON answers a result as JSON: its columns, rows as arrays
// in column order, and where more rows are.
func (x *Explorer) writeResultJSON(w http.ResponseWriter, r *http.Request, v rowsView, res *store.Result) {
	rows := res.Rows
	if rows == nil {
		rows = [][]any{}
	}
	for _, row := range rows {
		for i, val := range row {
			// JSON has no infinities; SQLite has.
			if f, ok := val.(float64); ok && math.IsInf(f, 0) {
				row[i] = strconv.FormatFloat(f, 'g', -1, 64)
			}
		}
	}
	out := map[string]any{
		"columns":   res.Columns,
		"rows":      rows,
		"truncated": res.Truncated,
		"rowLimit":  v.RowLimit,
		"elapsedMs": float64(res.Elapsed.Microseconds()) / 1000,
	}
	if v.Count >= 0 {
		out["count"] = v.Count
	}
	if res.Next != "" {
		out["next"] = res.Next
		out["nextUrl"] = v.Next
	}
	x.writeJSON(w, r, http.StatusOK, out)
}

// streamCSV answers with every row of a query as CSV, written as it
// comes. An error before the first row answers as usual; one after it
// breaks the connection, so that a cut-off download fails rather than
// look complete.
func (x *Explorer) streamCSV(w http.ResponseWriter, r *http.Request, name string,
	run func(ctx context.Context, header func([]string) error, row func([]any) error) error) {
	cw := csv.NewWriter(w)
	flusher, _ := w.(http.Flusher)
	started := false
	rows := 0
	rec := []string{}
	err := run(r.Context(), func(cols []string) error {
		h := w.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name + ".csv"}))
		h.Set("Cache-Control", "no-store")
		started = true
		return cw.Write(cols)
	}, func(row []any) error {
		rec = rec[:0]
		for _, v := range row {
			rec = append(rec, valueText(v))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
		if rows++; rows%1000 == 0 {
			cw.Flush()
			if flusher != nil {
				flusher.Flush()
			}
		}
		return cw.Error()
	})
	if err != nil {
		if !started {
			x.fail(w, r, "csv", err)
			return
		}
		x.log.Warn("CSV download cut off", "path", r.URL.Path, "rows", rows, "err", err)
		panic(http.ErrAbortHandler)
	}
	cw.Flush()
}

// valueText is a value as pages and CSV show it; NULL is empty.
func valueText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case string:
		return v
	}
	return fmt.Sprint(v)
}
