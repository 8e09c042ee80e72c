package ingest

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"

	"github.com/claude-insights/insights/store"
)

// toolUseResult mirrors the fields of a record's toolUseResult (the
// structured result beside a tool_result) that the importer uses. It is an
// object whose fields differ per tool, or a plain string for errors.
type toolUseResult struct {
	// Bash
	Interrupted bool   `json:"interrupted"`
	Stdout      string `json:"stdout"`
	// Task and Agent
	AgentID string `json:"agentId"`
	// Edit, MultiEdit and Write
	FilePath        string          `json:"filePath"`
	Type            string          `json:"type"` // Write: "create" or "update"
	Content         json.RawMessage `json:"content"`
	StructuredPatch *[]patchHunk    `json:"structuredPatch"`
}

// patchHunk is one hunk of a structuredPatch: lines start with '+', '-' or ' '.
type patchHunk struct {
	Lines []string `json:"lines"`
}

// parseToolUseResult reads the facts of a structured result; nil when it
// is not an object of the expected shape.
func parseToolUseResult(raw json.RawMessage) *toolUseResult {
	if len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	var t toolUseResult
	if json.Unmarshal(raw, &t) != nil {
		return nil
	}
	return &t
}

// fileChange derives the file a result of Edit, MultiEdit or Write changed:
// lines added and removed from its structuredPatch, or, for a new file
// whose patch is empty, every line of its content. Other results change no
// file (nil).
func (t *toolUseResult) fileChange() *store.FileChange {
	if t == nil || t.FilePath == "" || t.StructuredPatch == nil {
		return nil
	}
	fc := &store.FileChange{Path: t.FilePath, Operation: store.OpEdit}
	switch t.Type {
	case "create":
		fc.Operation = store.OpCreate
	case "update":
		fc.Operation = store.OpWrite
	}
	for _, h := range *t.StructuredPatch {
		for _, l := range h.Lines {
			switch {
			case strings.HasPrefix(l, "+"):
				fc.Added++
			case strings.HasPrefix(l, "-"):
				fc.Removed++
			}
		}
	}
	if fc.Operation == store.OpCreate && len(*t.StructuredPatch) == 0 {
		var text string
		if json.Unmarshal(t.Content, &text) == nil {
			fc.Added = countLines(text)
		}
	}
	return fc
}

// countLines counts the lines of a text; a last line without a newline
// counts.
func countLines(s string) int64 {
	if s == "" {
		return 0
	}
	n := int64(strings.Count(s, "\n"))
	if !strings.HasSuffix(s, "\n") {
		n++
	}
	return n
}

// removals returns the files a Bash command deletes when it is one plain
// rm or git rm (no pipes, chains, redirections, quotes, globs or
// variables: anything else is not understood and deletes nothing here).
// Relative paths are taken from dir.
func removals(command, dir string) []string {
	if strings.ContainsAny(command, "|;&<>$`*?(){}[]'\"\\\n") {
		return nil
	}
	args := strings.Fields(command)
	switch {
	case len(args) > 0 && args[0] == "rm":
		args = args[1:]
	case len(args) > 1 && args[0] == "git" && args[1] == "rm":
		args = args[2:]
		if slices.Contains(args, "--cached") || slices.Contains(args, "-n") || slices.Contains(args, "--dry-run") {
			return nil
		}
	default:
		return nil
	}
	var paths []string
	flags := true
	for _, a := range args {
		if flags && a == "--" {
			flags = false
			continue
		}
		if flags && strings.HasPrefix(a, "-") {
			continue
		}
		if !filepath.IsAbs(a) {
			if dir == "" {
				return nil
			}
			a = filepath.Join(dir, a)
		}
		paths = append(paths, filepath.Clean(a))
	}
	return paths
}
