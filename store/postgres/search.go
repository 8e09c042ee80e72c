package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/claude-insights/insights/store"
)

// maxLexeme is the length from which PostgreSQL leaves a word out of a
// tsvector (and refuses it in a tsquery).
const maxLexeme = 2047

// Search returns the messages matching a full-text query, best first.
func (db *DB) Search(ctx context.Context, sq store.SearchQuery) (store.SearchResult, error) {
	var res store.SearchResult
	terms, err := store.ParseSearch(sq.Text)
	if err != nil {
		return res, err
	}
	tsq, ok := tsQuery(terms)
	if !ok {
		return res, nil // a word too long to be indexed matches nothing
	}
	var a args
	where := searchWhere(&a, tsq, sq)
	filters := slices.Clone(a)
	limit, offset := store.SearchPage(sq)
	q := `SELECT m.uuid, m.session_id, m.seq, coalesce(m.agent_id, ''), m.role, m.type, m.ts, coalesce(s.project, ''), coalesce(s.title, ''),
			coalesce(m.search_text, m.text)
		FROM messages m LEFT JOIN sessions s ON s.id = m.session_id` + where + `
		ORDER BY ts_rank(m.search, $1::tsquery) DESC, m.ts NULLS FIRST, m.uuid
		LIMIT ` + a.add(limit) + ` OFFSET ` + a.add(offset)
	res.Hits, err = queryAll(ctx, db.db, func(rows *sql.Rows) (store.SearchHit, error) {
		return scanHit(rows, terms)
	}, q, a...)
	if err != nil {
		return res, fmt.Errorf("search %q: %w", sq.Text, err)
	}
	count := `SELECT count(*) FROM messages m LEFT JOIN sessions s ON s.id = m.session_id` + where
	if err := db.db.QueryRowContext(ctx, count, filters...).Scan(&res.Total); err != nil {
		return res, fmt.Errorf("count hits of %q: %w", sq.Text, err)
	}
	return res, nil
}

func scanHit(rows *sql.Rows, terms []store.Term) (store.SearchHit, error) {
	var h store.SearchHit
	var ts sql.NullTime
	var text string
	err := rows.Scan(&h.UUID, &h.SessionID, &h.Seq, &h.AgentID, &h.Role, &h.Type, &ts, &h.Project, &h.Title, &text)
	h.Timestamp, h.Snippet = fromNull(ts), store.Snippet(text, terms)
	return h, err
}

// searchWhere is the WHERE clause of a search; the tsquery is always $1.
func searchWhere(a *args, tsq string, sq store.SearchQuery) string {
	where := []string{"m.search @@ " + a.add(tsq) + "::tsquery"}
	if sq.Project != "" {
		where = append(where, `(s.project = `+a.add(sq.Project)+` OR s.project LIKE `+a.add("%/"+escapeLike(sq.Project))+` ESCAPE '\')`)
	}
	if sq.UserID != 0 {
		where = append(where, "s.user_id = "+a.add(sq.UserID))
	}
	if sq.SessionID != "" {
		where = append(where, "m.session_id = "+a.add(sq.SessionID))
	}
	if sq.Role != "" {
		where = append(where, "m.role = "+a.add(sq.Role))
	}
	if sq.Tool != "" {
		tool := a.add(sq.Tool)
		where = append(where, `m.uuid IN (SELECT message_uuid FROM tool_calls WHERE name = `+tool+`
			UNION SELECT result_uuid FROM tool_calls WHERE name = `+tool+` AND result_uuid IS NOT NULL)`)
	}
	if !sq.Since.IsZero() {
		where = append(where, "m.ts >= "+a.add(ms(sq.Since))+"::timestamptz")
	}
	if !sq.Until.IsZero() {
		where = append(where, "m.ts < "+a.add(ms(sq.Until))+"::timestamptz")
	}
	return " WHERE " + strings.Join(where, " AND ")
}

// tsQuery writes parsed terms as a tsquery, every lexeme quoted and taken as
// is: the words are already what the index holds. ok is false when a positive
// term holds a word too long to be indexed, so that nothing can match; a
// negated one is dropped, as nothing can hold it.
func tsQuery(terms []store.Term) (q string, ok bool) {
	var parts []string
	for _, t := range terms {
		if tooLong(t) {
			if !t.Negate {
				return "", false
			}
			continue
		}
		lexemes := make([]string, len(t.Words))
		for i, w := range t.Words {
			lexemes[i] = "'" + strings.NewReplacer(`'`, `''`, `\`, `\\`).Replace(w) + "'"
		}
		if t.Prefix {
			lexemes[len(lexemes)-1] += ":*"
		}
		part := lexemes[0]
		if len(lexemes) > 1 {
			part = "(" + strings.Join(lexemes, " <-> ") + ")"
		}
		if t.Negate {
			part = "!" + part
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, " & "), true
}

func tooLong(t store.Term) bool {
	for _, w := range t.Words {
		if len(w) >= maxLexeme {
			return true
		}
	}
	return false
}

// PostgreSQL's limits on a tsvector: positions above maxPosition count as
// maxPosition, and a word keeps at most maxPositions of them.
const (
	maxPosition  = 16383
	maxPositions = 256
)

// tsVector writes the words of a message's search text as a tsvector
// literal: the words of store.SearchWords with their positions, as SQLite's
// FTS5 indexes them (to_tsvector would split words and drop characters by
// rules of its own). A word too long for PostgreSQL is left out but keeps
// its position, so that no phrase matches across it.
func tsVector(text string) string {
	positions := map[string][]int{}
	var order []string
	i := 0
	for w := range store.Words(store.SearchBody(text)) {
		i++
		if len(w) >= maxLexeme {
			continue
		}
		p := min(i, maxPosition)
		ps, seen := positions[w]
		if !seen {
			order = append(order, w)
		}
		if len(ps) < maxPositions && (len(ps) == 0 || ps[len(ps)-1] != p) {
			positions[w] = append(ps, p)
		}
	}
	var b strings.Builder
	for _, w := range order {
		// Words are letters and digits only: nothing to quote.
		b.WriteByte('\'')
		b.WriteString(w)
		b.WriteString("':")
		for j, p := range positions[w] {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(p))
		}
		b.WriteByte(' ')
	}
	return b.String()
}
