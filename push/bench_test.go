package push

import (
	"bufio"
	"bytes"
	"os"
	"testing"

	"github.com/claude-insights/insights/ingest"
	"github.com/claude-insights/insights/redact"
	"github.com/claude-insights/insights/store"
	"github.com/claude-insights/insights/synth"
)

// BenchmarkRewrite measures the client's work on each line before it is
// sent (decode, share level, redaction, encode) on an 8 MB generated tree.
func BenchmarkRewrite(b *testing.B) {
	dir := b.TempDir()
	if _, err := synth.Generate(dir, synth.Options{Size: 8 << 20, Seed: 7, Days: 20}); err != nil {
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
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			lines = append(lines, bytes.Clone(sc.Bytes()))
			size += int64(len(sc.Bytes())) + 1
		}
	}
	rd, err := redact.New(nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, level := range []store.ShareLevel{store.ShareFull, store.ShareMetadata, store.ShareNone} {
		b.Run(string(level), func(b *testing.B) {
			rw := &Rewriter{Level: level, Redactor: rd}
			found := Redactions{}
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				for _, l := range lines {
					rw.Line(l, found)
				}
			}
		})
	}
}
