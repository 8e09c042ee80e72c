package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/claude-insights/insights/store"
)

// Search returns the messages matching a full-text query, best first
// (equally good ones in the order they were stored).
//
// Without filters, the index alone counts and ranks the hits, and only the
// page shown is read from messages: reading the row of each of 35,000 hits
// of a common word takes 30 ms, the index's own pass 1–15 ms.
func (db *DB) Search(ctx context.Context, q store.SearchQuery) (store.SearchResult, error) {
	var res store.SearchResult
	terms, err := store.ParseSearch(q.Text)
	if err != nil {
		return res, err
	}
	match := ftsQuery(terms)
	where, args := searchWhere(q, match)
	limit, offset := store.SearchPage(q)
	hits := `SELECT rowid AS id, bm25(messages_fts) AS score, 0 AS total FROM messages_fts WHERE messages_fts MATCH ?`
	filtered := len(args) > 1
	if filtered {
		// Each hit's message decides; the hits are counted in the same pass
		// that ranks them.
		hits = `SELECT id, score, count(*) OVER () AS total FROM (
			SELECT m.rowid AS id, bm25(messages_fts) AS score
			FROM messages_fts JOIN messages m ON m.rowid = messages_fts.rowid
			LEFT JOIN sessions s ON s.id = m.session_id WHERE ` + where + `)`
	} else if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM messages_fts WHERE messages_fts MATCH ?`, match).Scan(&res.Total); err != nil {
		return res, fmt.Errorf("search %q: %w", q.Text, err)
	}
	rows, err := db.r.QueryContext(ctx, `SELECT m.uuid, m.session_id, m.seq, coalesce(m.agent_id, ''), m.role, m.type, m.ts,
			coalesce(s.project, ''), coalesce(s.title, ''), f.body, h.total
		FROM (`+hits+` ORDER BY score, id LIMIT ? OFFSET ?) h
		JOIN messages_fts f ON f.rowid = h.id
		JOIN messages m ON m.rowid = h.id LEFT JOIN sessions s ON s.id = m.session_id
		ORDER BY h.score, h.id`, append(args, limit, offset)...)
	if err != nil {
		return res, fmt.Errorf("search %q: %w", q.Text, err)
	}
	defer rows.Close()
	for rows.Next() {
		var h store.SearchHit
		var ts sql.NullInt64
		var body string
		var total int64
		if err := rows.Scan(&h.UUID, &h.SessionID, &h.Seq, &h.AgentID, &h.Role, &h.Type, &ts, &h.Project, &h.Title, &body, &total); err != nil {
			return res, fmt.Errorf("search %q: %w", q.Text, err)
		}
		h.Timestamp = fromMillis(ts)
		h.Snippet = store.Snippet(body, terms)
		res.Hits = append(res.Hits, h)
		if filtered {
			res.Total = total
		}
	}
	if err := rows.Err(); err != nil {
		return res, fmt.Errorf("search %q: %w", q.Text, err)
	}
	if filtered && len(res.Hits) == 0 && offset > 0 { // past the last page: count alone
		err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM (`+hits+`)`, args...).Scan(&res.Total)
		if err != nil {
			return res, fmt.Errorf("search %q: %w", q.Text, err)
		}
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
	if q.UserID != 0 {
		where = append(where, "s.user_id = ?")
		args = append(args, q.UserID)
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
		// The set of the tool's messages is made once, not looked up per hit.
		where = append(where, `m.uuid IN (SELECT message_uuid FROM tool_calls WHERE name = ?
			UNION SELECT result_uuid FROM tool_calls WHERE name = ? AND result_uuid IS NOT NULL)`)
		args = append(args, q.Tool, q.Tool)
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
