package ingest_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claude-insights/insights/ingest"
	"github.com/claude-insights/insights/store"
	"github.com/claude-insights/insights/synth"
)

// writeTranscripts writes sessions × replies streamed replies (three lines
// each, like Claude Code writes them) with a prompt before each.
func writeTranscripts(b *testing.B, dir string, sessions, replies int) int64 {
	b.Helper()
	var total int64
	text := strings.Repeat("lorem ipsum dolor sit amet ", 20)
	for s := 0; s < sessions; s++ {
		var sb strings.Builder
		for r := 0; r < replies; r++ {
			n := s*replies + r
			ts := fmt.Sprintf("2026-02-%02dT%02d:%02d:00.000Z", 1+n%28, n%24, n%60)
			fmt.Fprintf(&sb, `{"type":"user","uuid":"u%d","parentUuid":null,"sessionId":"s%d","timestamp":"%s","cwd":"/src/app%d","gitBranch":"main","version":"2.1.38","message":{"role":"user","content":%q}}`+"\n",
				n, s, ts, s%5, text)
			for i, out := range []int{1, 9, 400} {
				fmt.Fprintf(&sb, `{"type":"assistant","uuid":"a%d-%d","parentUuid":"u%d","sessionId":"s%d","timestamp":"%s","cwd":"/src/app%d","requestId":"req_%d",`+
					`"message":{"id":"msg_%d","model":"claude-opus-4-6","role":"assistant","content":[{"type":"text","text":%q}],`+
					`"usage":{"input_tokens":10,"output_tokens":%d,"cache_creation_input_tokens":500,"cache_read_input_tokens":20000,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":500}}}}`+"\n",
					n, i, n, s, ts, s%5, n, n, text, out)
			}
		}
		path := filepath.Join(dir, "projects", "p", fmt.Sprintf("s%d.jsonl", s))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
			b.Fatal(err)
		}
		total += int64(sb.Len())
	}
	return total
}

// BenchmarkImportTree measures a cold import: 20 sessions of 500 replies
// (40,000 lines, about 37 MB) into a new database, on each driver.
func BenchmarkImportTree(b *testing.B) {
	dir := b.TempDir()
	size := writeTranscripts(b, dir, 20, 500)
	for _, d := range drivers {
		b.Run(d.name, func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				db := d.open(b)
				b.StartTimer()
				st, err := newImporter(db).ImportTree(context.Background(), dir)
				if err != nil {
					b.Fatal(err)
				}
				if st.Lines != 40_000 {
					b.Fatalf("lines = %d", st.Lines)
				}
				b.StopTimer()
				db.Close()
				b.StartTimer()
			}
		})
	}
}

// BenchmarkReimportUnchanged measures what the daemon's periodic rescan
// costs: a tree of 1,000 transcripts already imported, nothing changed.
func BenchmarkReimportUnchanged(b *testing.B) {
	dir := b.TempDir()
	writeTranscripts(b, dir, 1000, 2)
	db := openDB(b)
	im := newImporter(db)
	if _, err := im.ImportTree(context.Background(), dir); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st, err := im.ImportTree(context.Background(), dir)
		if err != nil {
			b.Fatal(err)
		}
		if st.Bytes != 0 || st.FilesRead != 0 || st.Files != 1000 {
			b.Fatalf("re-import read %d bytes of %d of %d files", st.Bytes, st.FilesRead, st.Files)
		}
	}
}

// BenchmarkAppend measures the watcher's common case: one line appended to
// one transcript of a large tree, imported by path.
func BenchmarkAppend(b *testing.B) {
	dir := b.TempDir()
	writeTranscripts(b, dir, 20, 500)
	db := openDB(b)
	im := newImporter(db)
	if _, err := im.ImportTree(context.Background(), dir); err != nil {
		b.Fatal(err)
	}
	files, _, err := ingest.Transcripts(dir)
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.OpenFile(files[0], os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.WriteString(assistantLine(100000+i, 9, "2026-02-10T10:00:00.000Z")); err != nil {
			b.Fatal(err)
		}
		st := &ingest.Stats{}
		if err := im.ImportFile(context.Background(), files[0], st); err != nil {
			b.Fatal(err)
		}
		if st.Lines != 1 {
			b.Fatalf("read %d lines, want 1", st.Lines)
		}
	}
}

// BenchmarkSearch measures full-text search over an imported tree of 40,000
// messages on each driver: a word every message holds (ranking all of them
// for the first page and counting them), a phrase, and a word none holds.
func BenchmarkSearch(b *testing.B) {
	dir := b.TempDir()
	writeTranscripts(b, dir, 20, 500)
	for _, d := range drivers {
		db := d.open(b)
		if _, err := newImporter(db).ImportTree(context.Background(), dir); err != nil {
			b.Fatal(err)
		}
		for _, q := range []struct{ name, text string }{{"every", "lorem"}, {"phrase", `"amet lorem"`}, {"none", "nothingmatches"}} {
			b.Run(d.name+"/"+q.name, func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					res, err := db.Search(context.Background(), store.SearchQuery{Text: q.text})
					if err != nil {
						b.Fatal(err)
					}
					if q.name != "none" && res.Total != 40_000 {
						b.Fatalf("%d hits", res.Total)
					}
				}
			})
		}
		db.Close()
	}
}

// BenchmarkImportGenerated measures a cold import of a generated tree (40 MB,
// seed 1: every kind of record, subagents, resumed sessions, images) into a
// new database, on each driver.
func BenchmarkImportGenerated(b *testing.B) {
	dir := b.TempDir()
	e, err := synth.Generate(dir, synth.Options{Size: 40e6, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	for _, d := range drivers {
		b.Run(d.name, func(b *testing.B) {
			b.SetBytes(e.Bytes)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				db := d.open(b)
				b.StartTimer()
				if _, err := newImporter(db).ImportTree(context.Background(), dir); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				db.Close()
				b.StartTimer()
			}
		})
	}
}

// BenchmarkParse parses every line of a generated tree (20 MB, seed 1) once
// per iteration: the readers' share of an import, without the database.
func BenchmarkParse(b *testing.B) {
	dir := b.TempDir()
	if _, err := synth.Generate(dir, synth.Options{Size: 20e6, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	files, _, err := ingest.Transcripts(dir)
	if err != nil {
		b.Fatal(err)
	}
	var lines [][]byte
	var size int64
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		size += int64(len(data))
		lines = append(lines, bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))...)
	}
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, l := range lines {
			if _, err := ingest.Parse(l); err != nil {
				b.Fatal(err)
			}
		}
	}
}
