package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/claude-insights/insights/store"
)

// usageGroups says, per group of UsageBy, what to select as its key and
// how to order the groups.
var usageGroups = map[string]struct{ key, order string }{
	store.GroupUser:     {`u.name AS key, false AS sub`, `cost DESC, tokens DESC, 1`},
	store.GroupProject:  {`s.project AS key, false AS sub`, `cost DESC, tokens DESC, 1`},
	store.GroupModel:    {`s.model AS key, false AS sub`, `cost DESC, tokens DESC, 1`},
	store.GroupSubagent: {`s.agent_type AS key, s.subagent AS sub`, `2, cost DESC, tokens DESC, 1`},
	store.GroupDay:      {`to_char(s.day, 'YYYY-MM-DD') AS key, false AS sub`, `1`},
}

// UsageBy sums usage_stats over the days a query selects, per group.
func (db *DB) UsageBy(ctx context.Context, q store.StatsQuery, group string) ([]store.UsageGroup, error) {
	g, ok := usageGroups[group]
	if !ok {
		return nil, fmt.Errorf("usage by %q: no such group", group)
	}
	var a args
	where := statsWhere(&a, q, "s")
	join := ""
	if group == store.GroupUser {
		join = ` JOIN users u ON u.id = s.user_id`
	}
	// Summed per group and user first, so that the users of a group are
	// counted without sorting every row.
	out, err := queryAll(ctx, db.db, func(r *sql.Rows) (store.UsageGroup, error) {
		var u store.UsageGroup
		var tokens int64
		err := r.Scan(&u.Key, &u.Subagent, &u.Replies, &u.Input, &u.Output, &u.CacheWrite5m, &u.CacheWrite1h,
			&u.CacheRead, &u.Cost, &u.Users, &tokens)
		u.Cost = store.RoundCost(u.Cost)
		return u, err
	}, `SELECT key, sub, sum(replies)::bigint, sum(i)::bigint, sum(o)::bigint, sum(w5)::bigint, sum(w1)::bigint,
			sum(cr)::bigint, sum(c) AS cost, count(*), sum(i + o + w5 + w1 + cr)::bigint AS tokens
		FROM (SELECT `+g.key+`, s.user_id, sum(s.replies) AS replies, sum(s.input_tokens) AS i,
				sum(s.output_tokens) AS o, sum(s.cache_write_5m) AS w5, sum(s.cache_write_1h) AS w1,
				sum(s.cache_read) AS cr, sum(s.cost) AS c
			FROM usage_stats s`+join+where+`
			GROUP BY 1, 2, 3) g
		GROUP BY 1, 2 ORDER BY `+g.order, a...)
	if err != nil {
		return nil, fmt.Errorf("usage by %s: %w", group, err)
	}
	return out, nil
}

// HourStats sums hour_stats per weekday and hour.
func (db *DB) HourStats(ctx context.Context, q store.StatsQuery) ([]store.HourStat, error) {
	var a args
	where := statsWhere(&a, q, "h")
	out, err := queryAll(ctx, db.db, func(r *sql.Rows) (store.HourStat, error) {
		var h store.HourStat
		var dow int
		err := r.Scan(&dow, &h.Hour, &h.Replies, &h.Tokens)
		h.Weekday = time.Weekday(dow)
		return h, err
	}, `SELECT extract(dow FROM day)::int, hour, sum(r)::bigint, sum(t)::bigint
		FROM (SELECT h.day, h.hour, sum(h.replies) AS r, sum(h.tokens) AS t FROM hour_stats h`+where+`
			GROUP BY 1, 2) g
		GROUP BY 1, 2 ORDER BY 1, 2`, a...)
	if err != nil {
		return nil, fmt.Errorf("hour stats: %w", err)
	}
	return out, nil
}

// RefreshAggregates recomputes every user's aggregates from since on, one
// user per transaction.
func (db *DB) RefreshAggregates(ctx context.Context, since time.Time) (int64, error) {
	type userDays struct {
		user int64
		days []string
	}
	from := since.UTC().Format(time.DateOnly)
	rows, err := queryAll(ctx, db.db, func(r *sql.Rows) (userDays, error) {
		var u userDays
		var days []string
		err := r.Scan(&u.user, pq.Array(&days))
		u.days = days
		return u, err
	}, `SELECT s.user_id, array_agg(DISTINCT d.day ORDER BY d.day)
		FROM sessions s CROSS JOIN LATERAL (
			SELECT to_char(gs, 'YYYY-MM-DD') AS day
			FROM generate_series(greatest((s.first_at AT TIME ZONE 'UTC')::date, $1::date),
				(s.last_at AT TIME ZONE 'UTC')::date, interval '1 day') AS gs) d
		WHERE s.user_id IS NOT NULL AND s.last_at >= $1::date
		GROUP BY s.user_id ORDER BY s.user_id`, from)
	if err != nil {
		return 0, fmt.Errorf("days to repair since %s: %w", from, err)
	}
	var n int64
	for _, u := range rows {
		err := db.inTx(ctx, func(tx *sql.Tx) error { return refreshAggregates(ctx, tx, u.user, u.days) })
		if err != nil {
			return n, fmt.Errorf("repair aggregates of user %d: %w", u.user, err)
		}
		n += int64(len(u.days))
	}
	return n, nil
}

// TryLock takes a session-level advisory lock on a connection of its own,
// held until unlock.
func (db *DB) TryLock(ctx context.Context, name string) (func(), bool, error) {
	h := fnv.New64a()
	h.Write([]byte("insights:" + name))
	id := int64(h.Sum64())
	conn, err := db.db.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("lock %s: %w", name, err)
	}
	var ok bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, id).Scan(&ok); err != nil || !ok {
		conn.Close()
		if err != nil {
			return nil, false, fmt.Errorf("lock %s: %w", name, err)
		}
		return nil, false, nil
	}
	return func() {
		// A connection whose unlock fails is closed, which ends the lock too.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, id)
		conn.Close()
	}, true, nil
}

// PasswordHash returns a user and their password's hash.
func (db *DB) PasswordHash(ctx context.Context, name string) (store.User, string, error) {
	var hash string
	u, err := scanUser(db.db.QueryRowContext(ctx, `SELECT `+userColumns+`, password_hash FROM users WHERE name = $1`, name), &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return u, "", fmt.Errorf("user %s: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return u, "", fmt.Errorf("user %s: %w", name, err)
	}
	return u, hash, nil
}

// SetPassword sets a user's password hash and ends their browser sessions.
func (db *DB) SetPassword(ctx context.Context, name, hash string) (store.User, error) {
	var u store.User
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx, `UPDATE users SET password_hash = $2 WHERE name = $1 RETURNING `+userColumns, name, hash))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM web_sessions WHERE user_id = $1`, u.ID)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("password of %s: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("password of %s: %w", name, err)
	}
	return u, nil
}

// SetLeaderboard says whether a user is ranked on the leaderboard.
func (db *DB) SetLeaderboard(ctx context.Context, name string, show bool) (store.User, error) {
	return db.oneUser(ctx, "leaderboard of "+name, `UPDATE users SET show_in_leaderboard = $2 WHERE name = $1 RETURNING `+userColumns,
		name, show)
}

// AddWebSession stores a browser session and drops expired ones.
func (db *DB) AddWebSession(ctx context.Context, s store.WebSession) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM web_sessions WHERE expires_at < now()`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO web_sessions (token_hash, user_id, csrf, expires_at) VALUES ($1, $2, $3, $4)`,
			s.TokenHash, s.UserID, s.CSRF, s.ExpiresAt)
		return err
	})
	if err != nil {
		return fmt.Errorf("add browser session of user %d: %w", s.UserID, err)
	}
	return nil
}

// WebSession returns an unexpired browser session with its user.
func (db *DB) WebSession(ctx context.Context, tokenHash []byte) (store.WebSession, store.User, error) {
	var ws store.WebSession
	u, err := scanUser(db.db.QueryRowContext(ctx, `SELECT `+prefixed("u.", userColumns)+`, w.token_hash, w.user_id, w.csrf,
			w.created_at, w.expires_at
		FROM web_sessions w JOIN users u ON u.id = w.user_id
		WHERE w.token_hash = $1 AND w.expires_at > now()`, tokenHash),
		&ws.TokenHash, &ws.UserID, &ws.CSRF, &ws.CreatedAt, &ws.ExpiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return ws, u, fmt.Errorf("browser session: %w", store.ErrNotFound)
	}
	if err != nil {
		return ws, u, fmt.Errorf("browser session: %w", err)
	}
	ws.CreatedAt, ws.ExpiresAt = ws.CreatedAt.UTC(), ws.ExpiresAt.UTC()
	return ws, u, nil
}

// DeleteWebSession signs a browser out.
func (db *DB) DeleteWebSession(ctx context.Context, tokenHash []byte) error {
	if _, err := db.db.ExecContext(ctx, `DELETE FROM web_sessions WHERE token_hash = $1`, tokenHash); err != nil {
		return fmt.Errorf("sign out: %w", err)
	}
	return nil
}

// inTx runs f in a transaction, committed when f returns nil.
func (db *DB) inTx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// prefixed qualifies each of a list of columns with a table's alias.
func prefixed(alias, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = alias + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}
