package exporter

import (
	"fmt"
	"os"

	"github.com/xitongsys/parquet-go/source"
)

// localFile is a Parquet file on disk for parquet-go's reader.
type localFile struct {
	*os.File
}

var _ source.ParquetFile = localFile{}

// openLocal opens a file to read with reader.NewParquetReader.
func openLocal(path string) (source.ParquetFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return localFile{f}, nil
}

func (f localFile) Open(name string) (source.ParquetFile, error) {
	if name == "" {
		name = f.Name()
	}
	return openLocal(name)
}

func (f localFile) Create(name string) (source.ParquetFile, error) {
	return nil, fmt.Errorf("create %s: read only", name)
}
