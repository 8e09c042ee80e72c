package postgres

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"

	"github.com/lib/pq"

	"github.com/claude-insights/insights/store"
)

var _ store.Team = (*DB)(nil)

const userColumns = `id, name, email, admin, share_level, key_prefix, key_created_at, revoked_at, created_at,
	show_in_leaderboard, password_hash <> ''`

// scanUser reads userColumns and then the more columns given.
func scanUser(row interface{ Scan(...any) error }, more ...any) (store.User, error) {
	var u store.User
	var share string
	var keyAt, revoked sql.NullTime
	err := row.Scan(append([]any{&u.ID, &u.Name, &u.Email, &u.Admin, &share, &u.KeyPrefix, &keyAt, &revoked, &u.CreatedAt,
		&u.Leaderboard, &u.HasPassword}, more...)...)
	u.Share = store.ShareLevel(share)
	u.KeyCreatedAt, u.RevokedAt, u.CreatedAt = fromNull(keyAt), fromNull(revoked), u.CreatedAt.UTC()
	return u, err
}

// AddUser creates a user with its first key.
func (db *DB) AddUser(ctx context.Context, u store.User, keyHash []byte) (store.User, error) {
	const q = `INSERT INTO users (name, email, admin, share_level, key_hash, key_prefix, key_created_at)
		VALUES ($1, $2, $3, $4, $5, $6, now()) RETURNING ` + userColumns
	out, err := scanUser(db.db.QueryRowContext(ctx, q, u.Name, u.Email, u.Admin, string(u.Share), keyHash, u.KeyPrefix))
	var pe *pq.Error
	if errors.As(err, &pe) && pe.Code == "23505" && pe.Constraint == "users_name_key" {
		return out, fmt.Errorf("add user %s: %w", u.Name, store.ErrExists)
	}
	if err != nil {
		return out, fmt.Errorf("add user %s: %w", u.Name, err)
	}
	return out, nil
}

// Users lists every user by name.
func (db *DB) Users(ctx context.Context) ([]store.User, error) {
	us, err := queryAll(ctx, db.db, func(r *sql.Rows) (store.User, error) { return scanUser(r) },
		`SELECT `+userColumns+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return us, nil
}

// UserByName returns one user.
func (db *DB) UserByName(ctx context.Context, name string) (store.User, error) {
	return db.oneUser(ctx, "user "+name, `SELECT `+userColumns+` FROM users WHERE name = $1`, name)
}

// UserByKey returns the user holding a key: the users whose key has its
// prefix are read, and the key's hash is compared with theirs in constant
// time, so that how long the answer takes says nothing of the hashes.
func (db *DB) UserByKey(ctx context.Context, key string) (store.User, error) {
	type keyed struct {
		store.User
		hash []byte
	}
	hash := store.HashAPIKey(key)
	us, err := queryAll(ctx, db.db, func(r *sql.Rows) (keyed, error) {
		var k keyed
		var err error
		k.User, err = scanUser(r, &k.hash)
		return k, err
	}, `SELECT `+userColumns+`, key_hash FROM users WHERE key_prefix = $1`, store.KeyPrefix(key))
	if err != nil {
		return store.User{}, fmt.Errorf("user of a key: %w", err)
	}
	for _, u := range us {
		if subtle.ConstantTimeCompare(u.hash, hash) == 1 {
			return u.User, nil
		}
	}
	return store.User{}, fmt.Errorf("user of a key: %w", store.ErrNotFound)
}

// SetKey gives a user a new key and ends a revocation.
func (db *DB) SetKey(ctx context.Context, name string, keyHash []byte, prefix string) (store.User, error) {
	return db.oneUser(ctx, "new key of "+name, `UPDATE users SET key_hash = $2, key_prefix = $3, key_created_at = now(),
		revoked_at = NULL WHERE name = $1 RETURNING `+userColumns, name, keyHash, prefix)
}

// Revoke makes a user's key open nothing.
func (db *DB) Revoke(ctx context.Context, name string) (store.User, error) {
	return db.oneUser(ctx, "revoke "+name, `UPDATE users SET revoked_at = coalesce(revoked_at, now())
		WHERE name = $1 RETURNING `+userColumns, name)
}

// SetShare changes a user's share level.
func (db *DB) SetShare(ctx context.Context, name string, level store.ShareLevel) (store.User, error) {
	return db.oneUser(ctx, "share level of "+name, `UPDATE users SET share_level = $2 WHERE name = $1 RETURNING `+userColumns,
		name, string(level))
}

func (db *DB) oneUser(ctx context.Context, what, q string, args ...any) (store.User, error) {
	u, err := scanUser(db.db.QueryRowContext(ctx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("%s: %w", what, err)
	}
	return u, nil
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}
