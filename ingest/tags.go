package ingest

import (
	"path/filepath"
	"regexp"
	"strings"

	"github.com/claude-insights/insights/store"
)

// Tags says which tags a record gives its session. Tags only accumulate:
// a session has every tag any of its records gave it.
//
//   - tool:<name> for each tool called, by its name as Claude Code gives it
//     (tool:Bash, tool:Edit), except MCP tools;
//   - mcp:<server> for each MCP tool called (mcp__<server>__<tool>);
//   - lang:<language> for each file a tool call names in its input
//     (file_path or notebook_path) whose extension is a known language's
//     (see languages: .go gives lang:go, .tsx lang:typescript);
//   - kind:bugfix, kind:feature, kind:refactor, kind:test, kind:docs and
//     kind:review for each prompt the user typed holding one of the
//     kind's words (see kindWords: "fix", "bug" and "crash" give
//     kind:bugfix; "refactor" and "rename" kind:refactor), as whole words
//     in any case;
//   - errors when a tool result is an error;
//   - subagents when a Task or Agent tool is called or a subagent's record
//     is read;
//   - compacted at a compaction boundary or compact summary.
//
// The store adds "long" (store.TagLong) once a session has at least
// store.LongMessages messages or lasts store.LongDuration.
func Tags(r *Record) []string {
	var tags []string
	for _, u := range r.ToolUses {
		if server, ok := store.MCPServer(u.Name); ok {
			tags = append(tags, "mcp:"+server)
		} else if u.Name != "" {
			tags = append(tags, "tool:"+u.Name)
		}
		if u.Name == "Task" || u.Name == "Agent" {
			tags = append(tags, "subagents")
		}
		if lang := languages[strings.ToLower(filepath.Ext(u.FilePath))]; lang != "" && u.FilePath != "" {
			tags = append(tags, "lang:"+lang)
		}
	}
	for _, t := range r.ToolResults {
		if t.IsError {
			tags = append(tags, "errors")
			break
		}
	}
	if r.AgentID != "" {
		tags = append(tags, "subagents")
	}
	if r.IsCompactSummary || r.Subtype == "compact_boundary" {
		tags = append(tags, "compacted")
	}
	if r.IsPrompt {
		tags = append(tags, promptKinds(r.Text)...)
	}
	return tags
}

// kindWords are the words of a prompt that tell what kind of work it asks for.
var kindWords = map[string][]string{
	"bugfix":   {"fix", "fixes", "fixing", "bug", "bugs", "broken", "crash", "crashes", "failing", "regression", "debug"},
	"feature":  {"add", "implement", "feature", "support", "create", "build"},
	"refactor": {"refactor", "refactoring", "rename", "restructure", "simplify", "cleanup", "extract", "reorganize"},
	"test":     {"test", "tests", "testing", "coverage"},
	"docs":     {"readme", "docs", "documentation", "document", "docstring", "changelog"},
	"review":   {"review", "audit", "critique"},
}

var kindByWord = func() map[string]string {
	m := map[string]string{}
	for kind, words := range kindWords {
		for _, w := range words {
			m[w] = kind
		}
	}
	return m
}()

func promptKinds(text string) []string {
	seen := map[string]bool{}
	var kinds []string
	for _, w := range store.SearchWords(text) {
		if k, ok := kindByWord[w]; ok && !seen[k] {
			seen[k] = true
			kinds = append(kinds, "kind:"+k)
		}
	}
	return kinds
}

// languages maps file extensions to the language tag they give.
var languages = map[string]string{
	".go": "go", ".py": "python", ".js": "javascript", ".jsx": "javascript", ".mjs": "javascript", ".cjs": "javascript",
	".ts": "typescript", ".tsx": "typescript", ".rs": "rust", ".java": "java", ".kt": "kotlin", ".kts": "kotlin",
	".rb": "ruby", ".php": "php", ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".hpp": "cpp",
	".cs": "csharp", ".swift": "swift", ".m": "objc", ".scala": "scala", ".ex": "elixir", ".exs": "elixir",
	".erl": "erlang", ".hs": "haskell", ".ml": "ocaml", ".clj": "clojure", ".lua": "lua", ".sh": "shell",
	".bash": "shell", ".zsh": "shell", ".sql": "sql", ".html": "html", ".css": "css", ".scss": "css",
	".vue": "vue", ".svelte": "svelte", ".md": "markdown", ".json": "json", ".yaml": "yaml", ".yml": "yaml",
	".toml": "toml", ".tf": "terraform", ".dart": "dart", ".r": "r", ".jl": "julia", ".zig": "zig",
	".ipynb": "python",
}

// commitLine is the first line git commit prints: [<branch> <hash>] <subject>,
// with "(root-commit)" after the branch for a repository's first commit.
var commitLine = regexp.MustCompile(`(?m)^\[([^\]\n]+?)(?: \(root-commit\))? ([0-9a-f]{7,40})\] (.*)$`)

// commits finds the commits a command's output reports.
func commits(stdout string) []store.Commit {
	if !strings.Contains(stdout, "] ") {
		return nil
	}
	var cs []store.Commit
	for _, m := range commitLine.FindAllStringSubmatch(stdout, -1) {
		cs = append(cs, store.Commit{Branch: m[1], Hash: m[2], Subject: strings.TrimSpace(m[3])})
	}
	return cs
}
