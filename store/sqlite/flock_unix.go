//go:build unix

package sqlite

import (
	"fmt"
	"os"
	"syscall"
)

// lockFile holds an exclusive flock on path (created if missing) until
// unlock, so that processes opening one new database migrate it one at a
// time. flock does not interfere with SQLite's own fcntl locks.
func lockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
