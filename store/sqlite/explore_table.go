package sqlite

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/claude-insights/insights/store"
)

// countLimit is how long counting the rows of one table may take.
const countLimit = time.Second

// Tables lists every table and view with their columns, and their row
// counts if asked, leaving out SQLite's own tables and those of full-text
// indexes.
func (e *Explorer) Tables(ctx context.Context, counts bool) ([]store.Table, error) {
	res, err := e.Query(ctx, `SELECT name, type FROM pragma_table_list
		WHERE schema = 'main' AND type IN ('table', 'view', 'virtual') AND name NOT LIKE 'sqlite\_%' ESCAPE '\'
		ORDER BY type = 'view', name`, nil)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	tables := make([]store.Table, 0, len(res.Rows))
	for _, r := range res.Rows {
		t := store.Table{Name: r[0].(string), Kind: r[1].(string)}
		if err := e.describe(ctx, &t); err != nil {
			return nil, err
		}
		if counts {
			t.Rows = e.count(ctx, "SELECT count(*) FROM "+quoteName(t.Name), nil)
		}
		tables = append(tables, t)
	}
	return tables, nil
}

// Table describes one table or view, without counting its rows, or
// returns store.ErrNotFound.
func (e *Explorer) Table(ctx context.Context, name string) (store.Table, error) {
	res, err := e.Query(ctx, `SELECT name, type FROM pragma_table_list
		WHERE schema = 'main' AND type IN ('table', 'view', 'virtual') AND name = :name`, map[string]string{"name": name})
	if err != nil {
		return store.Table{}, fmt.Errorf("find table %s: %w", name, err)
	}
	if len(res.Rows) == 0 || strings.HasPrefix(name, "sqlite_") {
		return store.Table{}, store.ErrNotFound
	}
	t := store.Table{Name: name, Kind: res.Rows[0][1].(string)}
	return t, e.describe(ctx, &t)
}

func (e *Explorer) describe(ctx context.Context, t *store.Table) error {
	res, err := e.Query(ctx, `SELECT name, type, pk FROM pragma_table_info(:name) ORDER BY cid`,
		map[string]string{"name": t.Name})
	if err != nil {
		return fmt.Errorf("describe table %s: %w", t.Name, err)
	}
	for _, r := range res.Rows {
		t.Columns = append(t.Columns, store.Column{Name: r[0].(string), Type: r[1].(string), PK: r[2].(int64) > 0})
	}
	t.Description = TableDescriptions[t.Name]
	t.Rows = -1
	return nil
}

// count runs a count under countLimit; -1 when it took longer or failed.
func (e *Explorer) count(ctx context.Context, query string, args []any) int64 {
	n := int64(-1)
	e.run(ctx, countLimit, query, args, 1, func([]string) error { return nil }, func(row []any) error {
		n, _ = row[0].(int64)
		return nil
	})
	return n
}

// cursor is where a page of a table ends: its last row's rowid and value
// of the sort column, or for a view, which has no rowid, the offset.
type cursor struct {
	Rowid  int64 `json:"r,omitempty"`
	Value  any   `json:"v,omitempty"`
	Offset int64 `json:"o,omitempty"`
}

// Rows returns a page of a table's rows. Pages of tables continue from
// the last row of the one before (keyset pagination), so that a page deep
// into a large table costs what the first does; views, which have no
// rowid, are paged by offset.
func (e *Explorer) Rows(ctx context.Context, q store.TableQuery) (*store.TablePage, error) {
	t, err := e.Table(ctx, q.Table)
	if err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, e.opts.MaxRows)
	where, args, err := filterSQL(t, q.Filters)
	if err != nil {
		return nil, err
	}
	page := &store.TablePage{Table: t}
	page.Count = e.count(ctx, "SELECT count(*) FROM "+quoteName(t.Name)+where, args)

	keyset := t.Kind != "view"
	var after cursor
	if q.After != "" {
		if after, err = decodeCursor(q.After); err != nil {
			return nil, err
		}
	}
	order, sortCol, err := orderSQL(t, q.Sort, q.Desc, keyset)
	if err != nil {
		return nil, err
	}
	sel := "SELECT *"
	if keyset {
		sel = `SELECT _rowid_ AS "rowid (insights)", *`
		if q.After != "" {
			cond, cargs := keysetSQL(t, sortCol, q.Desc, after)
			where = andWhere(where, cond)
			args = append(args, cargs...)
		}
	}
	query := sel + " FROM " + quoteName(t.Name) + where + order + " LIMIT " + strconv.Itoa(limit+1)
	if !keyset && after.Offset > 0 {
		query += " OFFSET " + strconv.FormatInt(after.Offset, 10)
	}
	start := time.Now()
	var rows [][]any
	err = e.run(ctx, e.opts.Timeout, query, args, 0, func(cols []string) error {
		if keyset {
			cols = cols[1:]
		}
		page.Columns = cols
		return nil
	}, func(row []any) error {
		rows = append(rows, row)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read table %s: %w", t.Name, err)
	}
	page.Elapsed = time.Since(start)
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[limit-1]
		next := cursor{Offset: after.Offset + int64(limit)}
		if keyset {
			next = cursor{Rowid: last[0].(int64)}
			if sortCol >= 0 {
				next.Value = last[sortCol+1]
			}
		}
		page.Next = next.encode()
	}
	for _, r := range rows {
		if keyset {
			r = r[1:]
		}
		page.Rows = append(page.Rows, r)
	}
	return page, nil
}

// StreamRows hands every row a query of a table selects (its filters and
// order; not its page) to row as it comes.
func (e *Explorer) StreamRows(ctx context.Context, q store.TableQuery, header func([]string) error, row func([]any) error) error {
	t, err := e.Table(ctx, q.Table)
	if err != nil {
		return err
	}
	where, args, err := filterSQL(t, q.Filters)
	if err != nil {
		return err
	}
	order, _, err := orderSQL(t, q.Sort, q.Desc, t.Kind != "view")
	if err != nil {
		return err
	}
	return e.run(ctx, e.opts.StreamTimeout, "SELECT * FROM "+quoteName(t.Name)+where+order, args, 0, header, row)
}

func columnIndex(t store.Table, name string) int {
	for i, c := range t.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

func filterSQL(t store.Table, filters []store.Filter) (string, []any, error) {
	var conds []string
	var args []any
	for _, f := range filters {
		if columnIndex(t, f.Column) < 0 {
			return "", nil, &store.SQLError{Msg: fmt.Sprintf("%s has no column %q to filter by", t.Name, f.Column)}
		}
		c := quoteName(f.Column)
		switch f.Op {
		case "exact":
			conds, args = append(conds, c+" = ?"), append(args, f.Value)
		case "not":
			conds, args = append(conds, c+" IS NOT ?"), append(args, f.Value)
		case "contains", "startswith", "endswith":
			pat := likeEscaper.Replace(f.Value)
			switch f.Op {
			case "contains":
				pat = "%" + pat + "%"
			case "startswith":
				pat += "%"
			default:
				pat = "%" + pat
			}
			conds, args = append(conds, c+` LIKE ? ESCAPE '\'`), append(args, pat)
		case "gt", "gte", "lt", "lte":
			op := map[string]string{"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[f.Op]
			conds, args = append(conds, c+" "+op+" ?"), append(args, f.Value)
		case "in":
			vals := strings.Split(f.Value, ",")
			conds = append(conds, c+" IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ")+")")
			for _, v := range vals {
				args = append(args, strings.TrimSpace(v))
			}
		case "isnull":
			conds = append(conds, c+" IS NULL")
		case "notnull":
			conds = append(conds, c+" IS NOT NULL")
		default:
			return "", nil, &store.SQLError{Msg: fmt.Sprintf("no filter %q: want one of %s", f.Op, strings.Join(store.FilterOps, ", "))}
		}
	}
	if len(conds) == 0 {
		return "", nil, nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args, nil
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// orderSQL orders a table's rows by a column, then by rowid so that the
// order is total; sortCol is the column's index, -1 for none.
func orderSQL(t store.Table, sort string, desc, rowid bool) (order string, sortCol int, err error) {
	dir := ""
	if desc {
		dir = " DESC"
	}
	sortCol = -1
	if sort != "" {
		if sortCol = columnIndex(t, sort); sortCol < 0 {
			return "", -1, &store.SQLError{Msg: fmt.Sprintf("%s has no column %q to sort by", t.Name, sort)}
		}
		order = " ORDER BY " + quoteName(sort) + dir
		if rowid {
			order += ", _rowid_" + dir
		}
		return order, sortCol, nil
	}
	if rowid {
		return " ORDER BY _rowid_" + dir, -1, nil
	}
	return "", -1, nil
}

// keysetSQL selects the rows after a cursor in the order orderSQL gives.
// SQLite puts NULL before every value.
func keysetSQL(t store.Table, sortCol int, desc bool, after cursor) (string, []any) {
	r := after.Rowid
	if sortCol < 0 {
		if desc {
			return "_rowid_ < ?", []any{r}
		}
		return "_rowid_ > ?", []any{r}
	}
	return keysetCond(quoteName(t.Columns[sortCol].Name), desc, after.Value == nil), keysetArgs(after.Value, r)
}

func keysetCond(c string, desc, null bool) string {
	switch {
	case !desc && null:
		return "(" + c + " IS NULL AND _rowid_ > ? OR " + c + " IS NOT NULL)"
	case !desc:
		return "(" + c + " > ? OR " + c + " = ? AND _rowid_ > ?)"
	case null:
		return "(" + c + " IS NULL AND _rowid_ < ?)"
	default:
		return "(" + c + " < ? OR " + c + " = ? AND _rowid_ < ? OR " + c + " IS NULL)"
	}
}

func keysetArgs(v any, r int64) []any {
	if v == nil {
		return []any{r}
	}
	return []any{v, v, r}
}

func andWhere(where, cond string) string {
	if where == "" {
		return " WHERE " + cond
	}
	return where + " AND " + cond
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	bad := &store.SQLError{Msg: "the page to continue from (_next) is not one this explorer made"}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, bad
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var c cursor
	if err := d.Decode(&c); err != nil || c.Offset < 0 {
		return cursor{}, bad
	}
	if n, ok := c.Value.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			c.Value = i
		} else if f, err := n.Float64(); err == nil {
			c.Value = f
		} else {
			return cursor{}, bad
		}
	}
	switch c.Value.(type) {
	case nil, int64, float64, string:
		return c, nil
	}
	return cursor{}, bad
}

// quoteName quotes an identifier for SQL.
func quoteName(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
