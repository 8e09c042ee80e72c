package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/claude-insights/insights/store"
)

// BenchmarkTeamUpload uploads generated trees (INSIGHTS_BENCH_SIZE bytes in
// all, default 32 MiB) to an in-process team server on PostgreSQL from 20
// uploaders at once, one user and tree each, in ranges of 256 KiB and of 1 MiB, gzip-compressed
// as a push client sends them; it reports lines and MB per second and the
// latency of one upload request.
func BenchmarkTeamUpload(b *testing.B) {
	isolate(b)
	size := benchSize(b)
	const uploaders = 20
	// Each uploader is a user with a tree of their own: files of one tree
	// share sessions, which belong to one user.
	dirs := make([]string, uploaders)
	rels := make([][]string, uploaders)
	var bytes int64
	for i := range dirs {
		dirs[i] = genTree(b, size/uploaders, uint64(5+i))
		rels[i] = transcriptsOf(b, dirs[i])
		for _, rel := range rels[i] {
			fi, err := os.Stat(filepath.Join(dirs[i], rel))
			if err != nil {
				b.Fatal(err)
			}
			bytes += fi.Size()
		}
	}
	files := 0
	for _, r := range rels {
		files += len(r)
	}
	b.Logf("%d trees, %d files, %d bytes", len(dirs), files, bytes)
	for _, chunk := range []int{256 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("range=%dKiB", chunk>>10), func(b *testing.B) {
			benchUpload(b, dirs, rels, bytes, chunk)
		})
	}
}

// benchUpload uploads every tree once per iteration into a fresh schema,
// in ranges of chunk bytes.
func benchUpload(b *testing.B, dirs []string, rels [][]string, bytes int64, chunk int) {
	uploaders := len(dirs)
	var took []time.Duration
	var lines int64
	var elapsed time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		ts := startTeam(b, teamDSN(b), nil)
		us := make([]*uploader, uploaders)
		for i := range us {
			_, key := ts.newUser(b, fmt.Sprintf("u%d", i), false, store.ShareFull)
			us[i] = &uploader{base: ts.URL, key: key, chunk: chunk, gzip: true}
		}
		b.StartTimer()
		start := time.Now()
		var wg sync.WaitGroup
		for i, u := range us {
			wg.Go(func() {
				for _, rel := range rels[i] {
					if err := u.pushFile(dirs[i], rel, func(error) bool { return false }); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		elapsed += time.Since(start)
		b.StopTimer()
		for _, u := range us {
			took = append(took, u.took...)
		}
		files, err := ts.DB.Files(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range files {
			lines += f.Lines
		}
		ts.stop()
		b.StartTimer()
	}
	slices.Sort(took)
	b.ReportMetric(float64(lines)/elapsed.Seconds(), "lines/s")
	b.ReportMetric(float64(bytes)*float64(b.N)/elapsed.Seconds()/1e6, "MB/s")
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(len(took))/float64(b.N), "requests/op")
	b.ReportMetric(float64(lines)/float64(b.N), "lines/op")
}

// BenchmarkPush runs `insights push` of a generated tree (INSIGHTS_BENCH_SIZE
// bytes, default 32 MiB) to an in-process team server on PostgreSQL, at
// each share level, each from a fresh schema and state: the whole way
// from the files to the server's tables, with every line rewritten and
// redacted. Client, server and PostgreSQL share the machine.
func BenchmarkPush(b *testing.B) {
	isolate(b)
	size := benchSize(b)
	dir := genTree(b, size, 61)
	var bytes int64
	for _, rel := range transcriptsOf(b, dir) {
		fi, err := os.Stat(filepath.Join(dir, rel))
		if err != nil {
			b.Fatal(err)
		}
		bytes += fi.Size()
	}
	for _, level := range []store.ShareLevel{store.ShareFull, store.ShareMetadata, store.ShareNone} {
		b.Run("share="+string(level), func(b *testing.B) {
			b.SetBytes(bytes)
			for b.Loop() {
				b.StopTimer()
				ts := startTeam(b, teamDSN(b), nil)
				_, key := ts.newUser(b, "ann", false, level)
				state := filepath.Join(b.TempDir(), "state.json")
				cfg := filepath.Join(b.TempDir(), "config.toml")
				if err := os.WriteFile(cfg, fmt.Appendf(nil, "[push]\nstate_file = %q\n", state), 0o644); err != nil {
					b.Fatal(err)
				}
				app := New("test")
				app.Writer, app.ErrWriter = io.Discard, io.Discard
				b.StartTimer()
				err := app.Run([]string{"insights", "--config", cfg, "--claude-dir", dir, "--log-level", "error",
					"push", "--server", ts.URL, "--key", key})
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				ts.stop()
				b.StartTimer()
			}
		})
	}
}

// benchSize is INSIGHTS_BENCH_SIZE, the bytes of generated transcripts a
// benchmark works on (default 32 MiB).
func benchSize(b *testing.B) int64 {
	s := os.Getenv("INSIGHTS_BENCH_SIZE")
	if s == "" {
		return 32 << 20
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		b.Fatalf("INSIGHTS_BENCH_SIZE=%q: %v", s, err)
	}
	return n
}
