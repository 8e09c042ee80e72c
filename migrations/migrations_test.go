package migrations

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/golang-migrate/migrate/v4/database"
)

func TestFailedSaysWhatTheDatabaseSaid(t *testing.T) {
	query := []byte("CREATE VIRTUAL TABLE messages_fts USING fts5(body); -- and the rest of a long migration")
	for _, tc := range []struct {
		err       error
		want, not []string
	}{
		{fmt.Errorf("run: %w", &database.Error{OrigErr: errors.New("no such module: fts5"), Query: query}),
			[]string{"migration 0003_record failed", "version 2", "no such module: fts5", "make build", "-tags sqlite_fts5"},
			[]string{"CREATE VIRTUAL TABLE", "line 0"}},
		{&database.Error{OrigErr: errors.New("disk I/O error"), Query: query, Line: 12},
			[]string{"disk I/O error (line 12 of the migration)", "fix the cause"}, []string{"CREATE VIRTUAL TABLE", "sqlite_fts5"}},
		{errors.New("connection refused"), []string{"connection refused", "fix the cause"}, nil},
	} {
		msg := Failed(SQLite, "sqlite", 3, tc.err).Error()
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%q lacks %q", msg, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(msg, n) {
				t.Errorf("%q holds %q", msg, n)
			}
		}
	}
}
