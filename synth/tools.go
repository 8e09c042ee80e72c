package synth

import (
	"fmt"
	"path/filepath"
	"strings"
)

var toolNames = []string{"Bash", "Bash", "Read", "Read", "Read", "Edit", "Edit", "Write", "Grep", "Task", "TodoWrite"}

// pickTool draws the tool call a reply ends with.
func (s *session) pickTool() *toolUseBlock {
	g := s.g
	name := toolNames[g.rng.IntN(len(toolNames))]
	path := filepath.Join(s.cwd, words[g.rng.IntN(20)], words[g.rng.IntN(len(words))]+".go")
	in := map[string]any{}
	switch name {
	case "Bash":
		in["command"] = []string{"go test ./...", "make build", "git status", "ls -la", "go vet ./..."}[g.rng.IntN(5)]
		in["description"] = g.sentence(4)
	case "Read":
		in["file_path"] = path
	case "Edit":
		in["file_path"] = path
		in["old_string"] = fmt.Sprintf("return v * %d", g.rng.IntN(100))
		in["new_string"] = fmt.Sprintf("return v * %d", g.rng.IntN(100))
	case "Write":
		in["file_path"] = path
		in["content"] = strings.Join(g.code(int(g.between(10, 120))), "\n")
	case "Grep":
		in["pattern"] = words[g.rng.IntN(len(words))]
		in["path"] = s.cwd
	case "Task":
		in["description"] = g.sentence(3)
		in["prompt"] = g.prose(2)
		in["subagent_type"] = []string{"general-purpose", "Explore"}[g.rng.IntN(2)]
	case "TodoWrite":
		var todos []any
		s.todos = nil
		for i := int64(0); i < g.between(2, 6); i++ {
			t := todo{Content: g.sentence(5), Status: []string{"pending", "in_progress", "completed"}[g.rng.IntN(3)]}
			t.ActiveForm = t.Content
			s.todos = append(s.todos, t)
			todos = append(todos, t)
		}
		in["todos"] = todos
	}
	return &toolUseBlock{Type: "tool_use", ID: g.token("toolu_01", 22), Name: name, Input: in}
}

// result writes the user record that answers a tool call, with the tool's
// structured result beside it; Task calls run a subagent first.
func (s *session) result(call *toolUseBlock) {
	g := s.g
	var content string
	var structured any
	isError := false
	path, _ := call.Input["file_path"].(string)
	switch call.Name {
	case "Bash":
		out := strings.Repeat(g.sentence(10)+"\n", int(g.between(1, 40)))
		if g.chance(0.02) {
			out = strings.Repeat(g.sentence(12)+"\n", int(g.between(300, 600)))
		}
		if g.chance(0.1) {
			isError = true
			content = "Exit code 1\n" + out
			structured = "Error: Exit code 1\n" + out
		} else {
			content = out
			structured = map[string]any{"stdout": out, "stderr": "", "interrupted": false, "isImage": false}
		}
	case "Read":
		src := g.code(int(g.between(20, 400)))
		var numbered strings.Builder
		for i, l := range src {
			fmt.Fprintf(&numbered, "%6d\t%s\n", i+1, l)
		}
		content = numbered.String()
		text := strings.Join(src, "\n")
		structured = map[string]any{"type": "text", "file": map[string]any{"filePath": path, "content": text,
			"numLines": len(src), "startLine": 1, "totalLines": len(src)}}
	case "Edit":
		if g.chance(0.06) {
			isError = true
			content = "<tool_use_error>String to replace not found in file.</tool_use_error>"
			structured = "Error: String to replace not found in file."
			break
		}
		g.exp.Features[FeatureEdit]++
		oldS, newS := call.Input["old_string"].(string), call.Input["new_string"].(string)
		start := int(g.between(3, 200))
		content = fmt.Sprintf("The file %s has been updated. Here's the result of running `cat -n` on a snippet of the edited file:\n%6d\t\t%s", path, start+1, newS)
		structured = map[string]any{"filePath": path, "oldString": oldS, "newString": newS,
			"originalFile": "package x\n\nfunc f(v int) int {\n\t" + oldS + "\n}\n",
			"structuredPatch": []hunk{{OldStart: start, OldLines: 3, NewStart: start, NewLines: 3,
				Lines: []string{" func f(v int) int {", "-\t" + oldS, "+\t" + newS, " }"}}},
			"userModified": false, "replaceAll": false}
	case "Write":
		g.exp.Features[FeatureWrite]++
		content = "File created successfully at: " + path
		structured = map[string]any{"type": "create", "filePath": path, "content": call.Input["content"], "structuredPatch": []hunk{}}
	case "Grep":
		var files []string
		for i := int64(0); i < g.between(0, 12); i++ {
			files = append(files, filepath.Join(s.cwd, words[g.rng.IntN(len(words))]+".go"))
		}
		content = fmt.Sprintf("Found %d files\n%s", len(files), strings.Join(files, "\n"))
		structured = map[string]any{"mode": "files_with_matches", "filenames": files, "numFiles": len(files)}
	case "Task":
		content, structured = s.subagent(call)
	case "TodoWrite":
		content = "Todos have been modified successfully. Ensure that you continue to use the todo list to track your progress."
		structured = map[string]any{"oldTodos": []any{}, "newTodos": call.Input["todos"]}
	}
	if isError {
		g.exp.Features[FeatureToolError]++
	}
	s.tick(200, 20_000)
	r := s.base("user")
	r.Message = userMessage{Role: "user", Content: []any{toolResultBlock{Type: "tool_result", ToolUseID: call.ID, Content: content, IsError: isError}}}
	r.ToolUseResult = structured
	s.add(r)
}

// subagent runs a Task call: the subagent's own transcript (unless it was
// never kept) and, in the parent, an agent_progress copy of each of its
// replies' lines.
func (s *session) subagent(call *toolUseBlock) (string, any) {
	g := s.g
	g.exp.Features[FeatureSubagent]++
	agentID := fmt.Sprintf("%08x", g.rng.Uint32())
	var f *file
	if g.chance(0.75) {
		f = &file{path: filepath.Join(filepath.Dir(s.main.path), s.id, "subagents", "agent-"+agentID+".jsonl")}
		s.files = append(s.files, f)
	} else {
		g.exp.Features[FeatureProgressOnly]++
	}
	prompt, _ := call.Input["prompt"].(string)
	sub := rec{UserType: "external", Cwd: s.cwd, SessionID: s.id, Version: s.version, GitBranch: s.branch,
		AgentID: agentID, IsSidechain: true}
	var parent *string
	line := func(typ string, msg any, req string) rec {
		r := sub
		r.Type, r.UUID, r.Timestamp, r.Message, r.RequestID, r.ParentUUID = typ, g.uuid(), stamp(s.t), msg, req, parent
		id := r.UUID
		parent = &id
		if f != nil {
			g.emit(f, r)
		}
		return r
	}
	s.tick(200, 2_000)
	line("user", userMessage{Role: "user", Content: prompt}, "")
	var total int64
	for i := int64(0); i < g.between(1, 4); i++ {
		u := usage{Input: g.between(5, 30), Output: g.between(40, 900), CacheCreation: g.between(500, 5_000),
			CacheRead: g.between(0, 40_000), split: true}
		id, req := g.token("msg_01", 22), g.token("req_011C", 20)
		n := int(g.between(1, 3))
		for k := 0; k < n; k++ {
			s.tick(500, 5_000)
			output := g.between(1, 30)
			if k == n-1 {
				output = u.Output
			}
			msg := assistantMessage{Model: subagentModel, ID: id, Type: "message", Role: "assistant",
				Content: []any{textBlock{Type: "text", Text: g.prose(2)}}, Usage: u.json(output)}
			r := line("assistant", msg, req)
			p := s.base("progress")
			p.Data = agentProgress{Type: "agent_progress", Prompt: prompt, AgentID: agentID, NormalizedMessages: []any{},
				Message: progressLine{Type: "assistant", Message: msg, RequestID: req, UUID: r.UUID, Timestamp: r.Timestamp}}
			p.ToolUseID = "agent_" + id
			p.ParentToolUseID = call.ID
			g.emit(s.main, p)
		}
		g.count(subagentModel, s.t, u)
		total += u.Input + u.Output + u.CacheCreation + u.CacheRead
	}
	text := g.prose(3)
	return text, map[string]any{"status": "completed", "prompt": prompt, "agentId": agentID,
		"content": []any{textBlock{Type: "text", Text: text}}, "totalDurationMs": g.between(2_000, 90_000),
		"totalTokens": total, "totalToolUseCount": 0}
}
