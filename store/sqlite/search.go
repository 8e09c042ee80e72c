package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/claude-insights/insights/store"
)

// Search returns the messages matching a full-text query, best first.
func (db *DB) Search(ctx context.Context, q store.SearchQuery) (store.SearchResult, error) {
	var res store.SearchResult
	terms, err := store.ParseSearch(q.Text)
	if err != nil {
		return res, err
	}
	where, args := searchWhere(q, ftsQuery(terms))
	from := ` FROM messages_fts JOIN messages m ON m.rowid = messages_fts.rowid
		LEFT JOIN sessions s ON s.id = m.session_id WHERE ` + where
	if err := db.r.QueryRowContext(ctx, `SELECT count(*)`+from, args...).Scan(&res.Total); err != nil {
		return res, fmt.Errorf("search %q: %w", q.Text, err)
	}
	limit, offset := store.SearchPage(q)
	rows, err := db.r.QueryContext(ctx, `SELECT m.uuid, m.session_id, m.seq, coalesce(m.agent_id, ''), m.role, m.type, m.ts,
			coalesce(s.project, ''), coalesce(s.title, ''), messages_fts.body`+from+`
		ORDER BY bm25(messages_fts), m.ts, m.uuid LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return res, fmt.Errorf("search %q: %w", q.Text, err)
	}
	defer rows.Close()
	for rows.Next() {
		var h store.SearchHit
		var ts sql.NullInt64
		var body string
		if err := rows.Scan(&h.UUID, &h.SessionID, &h.Seq, &h.AgentID, &h.Role, &h.Type, &ts, &h.Project, &h.Title, &body); err != nil {
			return res, fmt.Errorf("search %q: %w", q.Text, err)
		}
		h.Timestamp = fromMillis(ts)
		h.Snippet = store.Snippet(body, terms)
		res.Hits = append(res.Hits, h)
	}
	if err := rows.Err(); err != nil {
		return res, fmt.Errorf("search %q: %w", q.Text, err)
	}
	return res, nil
}

// ftsQuery writes parsed terms as an FTS5 expression: every term a quoted
// string (so that no word is taken for an operator), prefixes marked with *,
// excluded terms after NOT.
func ftsQuery(terms []store.Term) string {
	var pos, neg []string
	for _, t := range terms {
		s := `"` + strings.Join(t.Words, " ") + `"`
		if t.Prefix {
			s += "*"
		}
		if t.Negate {
			neg = append(neg, s)
		} else {
			pos = append(pos, s)
		}
	}
	q := "(" + strings.Join(pos, " AND ") + ")"
	if len(neg) > 0 {
		q += " NOT (" + strings.Join(neg, " OR ") + ")"
	}
	return q
}

func searchWhere(q store.SearchQuery, match string) (string, []any) {
	where := []string{"messages_fts MATCH ?"}
	args := []any{match}
	if q.Project != "" {
		where = append(where, `(s.project = ? OR s.project LIKE ? ESCAPE '\')`)
		args = append(args, q.Project, "%/"+escapeLike(q.Project))
	}
	if q.SessionID != "" {
		where = append(where, "m.session_id = ?")
		args = append(args, q.SessionID)
	}
	if q.Role != "" {
		where = append(where, "m.role = ?")
		args = append(args, q.Role)
	}
	if q.Tool != "" {
		where = append(where, `EXISTS (SELECT 1 FROM tool_calls c WHERE c.name = ? AND (c.message_uuid = m.uuid OR c.result_uuid = m.uuid))`)
		args = append(args, q.Tool)
	}
	if !q.Since.IsZero() {
		where = append(where, "m.ts >= ?")
		args = append(args, q.Since.UnixMilli())
	}
	if !q.Until.IsZero() {
		where = append(where, "m.ts < ?")
		args = append(args, q.Until.UnixMilli())
	}
	return strings.Join(where, " AND "), args
}
