package migrations

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/database"
	"github.com/golang-migrate/migrate/v4/source/iofs"
)

// Up applies the migrations in dir of fsys through drv, which it closes.
//
// It first undoes the mark a migration cut off by a crash left. Each
// migration runs in one transaction and records itself as applied inside
// it, so a version still marked dirty was rolled back, unless applied says
// otherwise (for a migration written before that rule; nil means none). A
// migration that fails is reported by name, with how to recover.
func Up(drv database.Driver, name string, fsys fs.FS, dir string, applied func(version uint) (bool, error)) error {
	src, err := iofs.New(fsys, dir)
	if err != nil {
		drv.Close()
		return fmt.Errorf("read migrations: %w", err)
	}
	m, err := migrate.NewWithInstance("iofs", src, name, drv)
	if err != nil {
		drv.Close()
		return err
	}
	defer m.Close()
	if v, dirty, err := m.Version(); err == nil && dirty { // ErrNilVersion: nothing applied yet
		done := false
		if applied != nil {
			if done, err = applied(v); err != nil {
				return fmt.Errorf("repair dirty version %d: %w", v, err)
			}
		}
		target := int(v)
		if !done {
			target--
		}
		if target == 0 {
			target = database.NilVersion
		}
		if err := m.Force(target); err != nil {
			return fmt.Errorf("repair dirty version %d: %w", v, err)
		}
	}
	if err := m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		if v, dirty, verr := m.Version(); verr == nil && dirty {
			return Failed(fsys, dir, v, err)
		}
		return err
	}
	return nil
}
