package synth_test

import (
	"bytes"
	"crypto/sha256"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/claude-insights/insights/synth"
)

// treeHash hashes every file of a tree with its path.
func treeHash(t *testing.T, dir string) ([32]byte, int64) {
	t.Helper()
	h := sha256.New()
	var lines int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		h.Write([]byte(rel))
		h.Write(b)
		if filepath.Ext(path) == ".jsonl" && filepath.Base(path) != "history.jsonl" {
			lines += int64(bytes.Count(b, []byte("\n")))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum, lines
}

func TestGenerateIsDeterministic(t *testing.T) {
	opt := synth.Options{Size: 1 << 20, Seed: 7, Broken: true}
	a, b, c := t.TempDir(), t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		if _, err := synth.Generate(dir, opt); err != nil {
			t.Fatal(err)
		}
	}
	opt.Seed = 8
	if _, err := synth.Generate(c, opt); err != nil {
		t.Fatal(err)
	}
	ha, _ := treeHash(t, a)
	hb, _ := treeHash(t, b)
	hc, _ := treeHash(t, c)
	if ha != hb {
		t.Error("the same seed wrote different trees")
	}
	if ha == hc {
		t.Error("different seeds wrote the same tree")
	}
}

func TestGenerateCountsWhatItWrites(t *testing.T) {
	dir := t.TempDir()
	e, err := synth.Generate(dir, synth.Options{Size: 8 << 20, Seed: 3, Broken: true})
	if err != nil {
		t.Fatal(err)
	}
	if e.Bytes < 8<<20 || e.Bytes > 10<<20 {
		t.Errorf("wrote %d bytes for a size of %d", e.Bytes, 8<<20)
	}
	_, lines := treeHash(t, dir)
	if lines != int64(e.Lines) {
		t.Errorf("files hold %d lines, expected.json says %d", lines, e.Lines)
	}
	for _, f := range []string{synth.FeatureStreamedReply, synth.FeatureSubagent, synth.FeatureProgressOnly,
		synth.FeatureToolError, synth.FeatureEdit, synth.FeatureWrite, synth.FeatureImage, synth.FeatureCompaction,
		synth.FeatureResumed, synth.FeatureAPIError, synth.FeatureLongContext, synth.FeatureAcrossMidnight,
		synth.FeatureSummary, synth.FeatureHistoryPrompts, synth.FeatureTodoLists, synth.FeaturePlans} {
		if e.Features[f] == 0 {
			t.Errorf("no %s in an 8 MB tree", f)
		}
	}
	if e.Broken == 0 {
		t.Error("no broken lines in a broken tree")
	}
	var sum synth.Tokens
	models := map[string]bool{}
	for _, d := range e.Days {
		for m, tok := range d.Models {
			models[m] = true
			sum.Input += tok.Input
			sum.Output += tok.Output
			sum.CacheCreation += tok.CacheCreation
			sum.CacheRead += tok.CacheRead
			sum.Replies += tok.Replies
		}
	}
	if sum != e.Totals {
		t.Errorf("days sum to %+v, totals say %+v", sum, e.Totals)
	}
	if len(models) < 3 || len(e.Days) < 10 {
		t.Errorf("%d models over %d days: want several of each", len(models), len(e.Days))
	}
	read, err := synth.ReadExpected(dir)
	if err != nil {
		t.Fatal(err)
	}
	if read.Totals != e.Totals || read.Lines != e.Lines {
		t.Errorf("expected.json = %+v, want %+v", read.Totals, e.Totals)
	}
}

func TestGenerateCleanTreeHasNoBrokenLines(t *testing.T) {
	e, err := synth.Generate(t.TempDir(), synth.Options{Size: 512 << 10, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if e.Broken != 0 {
		t.Errorf("a clean tree has %d broken lines", e.Broken)
	}
}
