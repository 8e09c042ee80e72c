package push

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/claude-insights/insights/ingest"
	"github.com/claude-insights/insights/internal/corpus"
	"github.com/claude-insights/insights/pricing"
	"github.com/claude-insights/insights/redact"
	"github.com/claude-insights/insights/store"
	"github.com/claude-insights/insights/store/sqlite"
)

const testdata = "../testdata/claude"

// rewriteTree writes every transcript of dir, each line rewritten by rw,
// to a new tree with the same paths.
func rewriteTree(t *testing.T, dir string, rw *Rewriter) (string, Redactions) {
	t.Helper()
	out := t.TempDir()
	files, _, err := ingest.Transcripts(dir)
	if err != nil {
		t.Fatal(err)
	}
	found := Redactions{}
	for _, path := range files {
		rel, _ := filepath.Rel(dir, path)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var w bytes.Buffer
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			line, _, err := rw.Line(sc.Bytes(), found)
			if err != nil {
				line = []byte("\n") // as a push sends a line it cannot read
			}
			w.Write(line)
		}
		dst := filepath.Join(out, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, w.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return out, found
}

type imported struct {
	tot   store.Totals
	usage []store.UsageSum
	texts int64 // messages with text (not only the placeholder of an image)
}

func importTree(t *testing.T, dir string) imported {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "i.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	im := &ingest.Importer{Store: db, Prices: pricing.Default()}
	if _, err := im.ImportTree(ctx, dir); err != nil {
		t.Fatal(err)
	}
	var r imported
	if r.tot, err = db.Totals(ctx, 100); err != nil {
		t.Fatal(err)
	}
	if r.usage, err = db.UsageSums(ctx, store.UsageQuery{}); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if err := raw.QueryRow(`SELECT count(*) FROM messages WHERE text NOT IN ('', '[image]')`).Scan(&r.texts); err != nil {
		t.Fatal(err)
	}
	return r
}

// Each share level sends what its level keeps and everything the
// server's totals need: a tree rewritten at any level imports to the
// same token usage as the tree itself; at metadata, to the same
// sessions, messages and tool calls too, without any text.
func TestShareLevels(t *testing.T) {
	checkLevels(t, testdata, nil)
}

// The same holds for real transcripts, secrets redacted: redaction
// changes no id, image or number that a total depends on.
func TestShareLevelsCorpus(t *testing.T) {
	dir := corpus.Dir(t)
	rd, err := redact.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, folder := range []string{"spotter", "claude-code-log"} {
		t.Run(folder, func(t *testing.T) { checkLevels(t, filepath.Join(dir, folder), rd) })
	}
}

func checkLevels(t *testing.T, tree string, rd *redact.Redactor) {
	want := importTree(t, tree)
	if want.texts == 0 || len(want.usage) == 0 {
		t.Fatalf("the tree lacks text or usage: %+v", want)
	}
	for _, level := range []store.ShareLevel{store.ShareFull, store.ShareMetadata, store.ShareNone} {
		t.Run(string(level), func(t *testing.T) {
			dir, found := rewriteTree(t, tree, &Rewriter{Level: level, Redactor: rd})
			if len(found) > 0 {
				t.Logf("redacted: %v", found)
			}
			got := importTree(t, dir)
			if !reflect.DeepEqual(got.usage, want.usage) {
				t.Errorf("usage differs:\n got %+v\nwant %+v", got.usage, want.usage)
			}
			switch level {
			case store.ShareNone:
				if got.tot.Sessions != want.tot.Sessions || got.tot.FirstAt != want.tot.FirstAt || got.tot.LastAt != want.tot.LastAt {
					t.Errorf("sessions %d %v–%v, want %d %v–%v", got.tot.Sessions, got.tot.FirstAt, got.tot.LastAt,
						want.tot.Sessions, want.tot.FirstAt, want.tot.LastAt)
				}
			default:
				if got.tot.Sessions != want.tot.Sessions || got.tot.Messages != want.tot.Messages ||
					got.tot.ToolCalls != want.tot.ToolCalls || got.tot.ToolErrors != want.tot.ToolErrors ||
					!reflect.DeepEqual(got.tot.Tools, want.tot.Tools) {
					t.Errorf("totals differ:\n got %+v\nwant %+v", got.tot, want.tot)
				}
			}
			if level == store.ShareFull {
				if got.texts != want.texts {
					t.Errorf("%d messages with text, want %d", got.texts, want.texts)
				}
				return
			}
			if got.texts != 0 {
				t.Errorf("%d messages with text at level %s", got.texts, level)
			}
			leaks(t, dir, level)
		})
	}
}

// metadataStrings are the keys whose strings a metadata-level line may
// hold: ids, names, kinds, places and times, never what was said or done.
var metadataStrings = map[string]bool{
	"type": true, "subtype": true, "uuid": true, "parentUuid": true, "logicalParentUuid": true, "leafUuid": true,
	"sessionId": true, "timestamp": true, "cwd": true, "gitBranch": true, "version": true, "slug": true,
	"agentId": true, "requestId": true, "parentToolUseID": true, "userType": true, "id": true, "role": true,
	"model": true, "stop_reason": true, "name": true, "tool_use_id": true, "trigger": true, "service_tier": true,
	"speed": true, "inference_geo": true,
}

// leaks fails for a string of a rewritten tree that the level does not
// let out: text, tool input or output, a summary.
func leaks(t *testing.T, dir string, level store.ShareLevel) {
	t.Helper()
	files, _, _ := ingest.Transcripts(dir)
	for _, path := range files {
		b, _ := os.ReadFile(path)
		for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if strings.TrimSpace(line) == "" {
				continue
			}
			var v any
			if err := json.Unmarshal([]byte(line), &v); err != nil {
				t.Fatalf("%s:%d: %v", path, i+1, err)
			}
			var walk func(key string, v any)
			walk = func(key string, v any) {
				switch v := v.(type) {
				case map[string]any:
					for k, e := range v {
						walk(k, e)
					}
				case []any:
					for _, e := range v {
						walk(key, e)
					}
				case string:
					allowed := metadataStrings[key]
					if level == store.ShareNone && (key == "cwd" || key == "gitBranch" || key == "slug" || key == "name") {
						allowed = false
					}
					if v != "" && !allowed {
						t.Errorf("%s:%d: %s %q leaks at level %s", filepath.Base(path), i+1, key, v, level)
					}
				}
			}
			walk("", v)
		}
	}
}

// At the full level a line is sent as it is, but for its secrets: its
// JSON means the same, ids and images untouched; the secret in it is gone.
func TestRewriteRedacts(t *testing.T) {
	rd, err := redact.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	rw := &Rewriter{Level: store.ShareFull, Redactor: rd}
	secret := "postgres://app:" + "hunter2hunter2" + "@db.internal:5432/app"
	img := strings.Repeat("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk", 40)
	line := `{"type":"user","uuid":"3f1c0a52-9d8e-4b7e-a1f2-0c9e8d7b6a54","sessionId":"s1","timestamp":"2026-03-01T10:00:00Z",` +
		`"message":{"role":"user","content":[{"type":"text","text":"connect to ` + secret + ` <now> & go"},` +
		`{"type":"image","source":{"type":"base64","media_type":"image/png","data":"` + img + `"}}]},"n":1.50}`
	found := Redactions{}
	out, session, err := rw.Line([]byte(line), found)
	if err != nil {
		t.Fatal(err)
	}
	if session != "s1" || found["url-password"] != 1 || found.Total() != 1 {
		t.Errorf("session %q, found %v", session, found)
	}
	if bytes.Contains(out, []byte("hunter2")) || !bytes.Contains(out, []byte("postgres://app:[REDACTED:url-password]@db.internal")) {
		t.Errorf("secret not redacted: %s", out)
	}
	if !bytes.HasSuffix(out, []byte("\n")) || bytes.Count(out, []byte("\n")) != 1 {
		t.Errorf("not one line: %q", out)
	}
	var a, b any
	json.Unmarshal([]byte(strings.Replace(line, "hunter2hunter2", "[REDACTED:url-password]", 1)), &a)
	json.Unmarshal(out, &b)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("the line changed beyond its secret:\n%s\n%s", line, out)
	}
	if !bytes.Contains(out, []byte(`<now> & go`)) || !bytes.Contains(out, []byte(`"n":1.50`)) {
		t.Errorf("text escaped or number changed: %s", out)
	}

	for _, bad := range []string{`{"type":"user"`, `[1,2]`, `"text"`, `{"a":1} {"b":2}`} {
		if _, _, err := rw.Line([]byte(bad), found); err == nil {
			t.Errorf("%s: rewritten, want an error", bad)
		}
	}
	if out, _, err := rw.Line([]byte("   "), found); err != nil || string(out) != "\n" {
		t.Errorf("blank line: %q %v", out, err)
	}
}
