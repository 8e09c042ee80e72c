package exporter

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Manifest describes the files of one date, as _manifest.json.
type Manifest struct {
	Date string `json:"date"`
	// Version is the database's version of the day's rows when they were
	// read: a larger one in the database means the day changed since.
	Version     int64     `json:"version"`
	ExportedAt  time.Time `json:"exportedAt"`
	Compression string    `json:"compression"`
	Files       []File    `json:"files"`
}

// File is one Parquet file of a date.
type File struct {
	Name   string `json:"name"`
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Rows sums the rows of every file.
func (m Manifest) Rows() int64 {
	var n int64
	for _, f := range m.Files {
		n += f.Rows
	}
	return n
}

// Bytes sums the sizes of every file.
func (m Manifest) Bytes() int64 {
	var n int64
	for _, f := range m.Files {
		n += f.Bytes
	}
	return n
}

// File returns the entry of a file by name.
func (m Manifest) File(name string) (File, bool) {
	for _, f := range m.Files {
		if f.Name == name {
			return f, true
		}
	}
	return File{}, false
}

// complete reports whether every file the manifest lists is in dir with its
// size.
func (m Manifest) complete(dir string) bool {
	if len(m.Files) != len(Files) {
		return false
	}
	for _, f := range m.Files {
		st, err := os.Stat(filepath.Join(dir, f.Name))
		if err != nil || st.Size() != f.Bytes {
			return false
		}
	}
	return true
}

// ReadManifest reads the manifest of a date's directory.
func ReadManifest(dir string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("read %s: %w", filepath.Join(dir, ManifestFile), err)
	}
	return m, nil
}

// writeManifest writes a manifest under a temporary name, synced, and
// renames it into place.
func writeManifest(dir string, m Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+ManifestFile+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), filepath.Join(dir, ManifestFile))
}
