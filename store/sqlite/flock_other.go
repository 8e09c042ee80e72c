//go:build !unix

package sqlite

// lockFile does nothing where flock is missing.
func lockFile(string) (func(), error) { return func() {}, nil }
