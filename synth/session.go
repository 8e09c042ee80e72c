package synth

import (
	"encoding/base64"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// session is one transcript being generated, with the state its records
// thread through: the clock, the parent chain and the context size.
type session struct {
	g       *generator
	id      string
	cwd     string
	branch  string
	version string
	slug    string
	model   string
	t       time.Time
	last    string // uuid of the newest record, the next one's parent
	context int64  // tokens in the conversation so far: what the cache reads
	main    *file
	records []rec // the main file's conversation records, for a later resume
	files   []*file
	todos   []todo
	// midnight asks the next reply to stream across midnight UTC.
	midnight bool
}

func projectDir(cwd string) string {
	var sb strings.Builder
	for _, r := range cwd {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			sb.WriteRune(r)
		} else {
			sb.WriteByte('-')
		}
	}
	return sb.String()
}

func (g *generator) session() error {
	s := &session{
		g:       g,
		id:      g.uuid(),
		cwd:     projects[g.rng.IntN(len(projects))],
		branch:  branches[g.rng.IntN(len(branches))],
		version: versions[g.rng.IntN(len(versions))],
		model:   g.pickModel(),
		context: g.between(12_000, 30_000),
	}
	day := g.opt.Start.AddDate(0, 0, g.rng.IntN(g.opt.Days))
	if g.chance(0.1) {
		// Late sessions stream their first reply across midnight.
		s.t = day.Add(23*time.Hour + time.Duration(g.between(30, 58))*time.Minute)
		s.midnight = true
	} else {
		s.t = day.Add(time.Duration(g.between(7*60, 22*60)) * time.Minute)
	}
	if g.chance(0.3) {
		s.slug = strings.Join([]string{words[g.rng.IntN(len(words))], words[g.rng.IntN(len(words))], fmt.Sprint(g.rng.IntN(100))}, "-")
	}
	var resumed *session
	if p := g.prev; p != nil && len(p.records) > 4 && g.chance(0.12) {
		resumed = p
		s.cwd, s.branch = p.cwd, p.branch
	}
	dir := filepath.Join(g.dir, "projects", projectDir(s.cwd))
	s.main = &file{path: filepath.Join(dir, s.id+".jsonl")}
	s.files = append(s.files, s.main)

	if g.opt.Broken && g.chance(0.1) {
		s.main.buf.WriteString("\uFEFF")
	}
	if resumed != nil {
		s.resume(resumed)
	}
	g.emit(s.main, snapshotRec{Type: "file-history-snapshot", MessageID: g.uuid(),
		Snapshot: snapshot{MessageID: g.uuid(), TrackedFileBackups: map[string]any{}, Timestamp: stamp(s.t)}})

	turns := int(g.between(3, 24))
	if g.opt.LongTurns > 0 && g.prev == nil {
		turns = g.opt.LongTurns
	}
	for i := 0; i < turns; i++ {
		s.turn(i)
		if i > 1 && i < turns-1 && g.chance(0.04) {
			s.compact()
		}
	}
	if g.chance(0.5) && s.last != "" {
		g.exp.Features[FeatureSummary]++
		g.emit(s.main, summaryRec{Type: "summary", Summary: g.sentence(5), LeafUUID: s.last})
	}
	if len(s.todos) > 0 {
		b := marshal(s.todos)
		g.exp.Features[FeatureTodoLists]++
		if err := g.write(filepath.Join(g.dir, "todos", s.id+"-agent-"+s.id+".json"), b); err != nil {
			return err
		}
	}
	if s.slug != "" {
		g.exp.Features[FeaturePlans]++
		plan := "# Plan: " + g.sentence(5) + "\n\n1. " + g.sentence(8) + "\n2. " + g.sentence(9) + "\n"
		if err := g.write(filepath.Join(g.dir, "plans", s.slug+".md"), []byte(plan)); err != nil {
			return err
		}
	}
	for _, f := range s.files {
		if err := g.writeTranscript(f); err != nil {
			return err
		}
	}
	g.exp.Sessions++
	g.prev = s
	return nil
}

// resume begins the file with copies of the end of an earlier session, as
// Claude Code does when a session is resumed: same uuids and message ids, the
// new session's id.
func (s *session) resume(p *session) {
	s.g.exp.Features[FeatureResumed]++
	from := len(p.records) - int(s.g.between(3, int64(len(p.records))))
	for _, r := range p.records[from:] {
		r.SessionID = s.id
		s.g.emit(s.main, r)
		s.records = append(s.records, r)
		s.last = r.UUID
	}
	if last, err := time.Parse(time.RFC3339Nano, p.records[len(p.records)-1].Timestamp); err == nil && s.t.Before(last) {
		s.t = last.Add(time.Hour)
	}
	s.context = p.context
}

// base is a conversation record of the session, chained to the last one.
func (s *session) base(typ string) rec {
	r := rec{IsSidechain: false, UserType: "external", Cwd: s.cwd, SessionID: s.id, Version: s.version,
		GitBranch: s.branch, Slug: s.slug, Type: typ, UUID: s.g.uuid(), Timestamp: stamp(s.t)}
	if s.last != "" {
		parent := s.last
		r.ParentUUID = &parent
	}
	return r
}

// add writes a conversation record to the main file.
func (s *session) add(r rec) {
	s.g.emit(s.main, r)
	s.records = append(s.records, r)
	s.last = r.UUID
}

func (s *session) tick(lo, hi int64) {
	s.t = s.t.Add(time.Duration(s.g.between(lo, hi)) * time.Millisecond)
}

func (s *session) turn(i int) {
	g := s.g
	if i > 0 {
		s.tick(20_000, 600_000)
	}
	prompt := g.prose(int(g.between(1, 4)))
	r := s.base("user")
	r.PermissionMode = "default"
	if g.chance(0.05) {
		g.exp.Features[FeatureImage]++
		r.Message = userMessage{Role: "user", Content: []any{
			imageBlock{Type: "image", Source: imageSource{Type: "base64", MediaType: "image/png", Data: g.image()}},
			textBlock{Type: "text", Text: prompt},
		}}
	} else {
		r.Message = userMessage{Role: "user", Content: prompt}
	}
	s.add(r)
	g.exp.Features[FeatureHistoryPrompts]++
	line := marshal(historyLine{Display: prompt, PastedContents: map[string]any{},
		Timestamp: s.t.UnixMilli(), Project: s.cwd, SessionID: s.id})
	g.history.Write(append(line, '\n'))

	if g.chance(0.3) {
		p := s.base("progress")
		p.Data = hookProgress{Type: "hook_progress", HookEvent: "UserPromptSubmit", HookName: "UserPromptSubmit", Command: "$HOME/.claude/hooks/log.sh"}
		p.ToolUseID = g.token("hook-", 8)
		p.ParentToolUseID = p.ToolUseID
		g.emit(s.main, p)
	}
	steps := int(g.between(1, 5))
	for k := 0; k < steps; k++ {
		var call *toolUseBlock
		if k < steps-1 {
			call = s.pickTool()
		}
		s.reply(call)
		if call != nil {
			s.result(call)
		}
	}
	if g.chance(0.03) {
		s.apiError()
	}
	if g.chance(0.4) {
		d := s.base("system")
		d.Subtype = "turn_duration"
		d.Content = fmt.Sprintf("Turn took %ds", g.between(5, 300))
		d.Level = "info"
		d.IsMeta = true
		s.add(d)
	}
}

// reply writes one API reply of the session's model, streamed as a line per
// content block; only the last line carries the full output count.
func (s *session) reply(call *toolUseBlock) {
	g := s.g
	model := s.model
	if g.chance(0.05) {
		model = g.pickModel()
	}
	var blocks []any
	if g.chance(0.3) {
		blocks = append(blocks, thinkingBlock{Type: "thinking", Thinking: g.prose(int(g.between(1, 5))), Signature: g.token("Eq", 64)})
	}
	if call == nil || g.chance(0.7) {
		blocks = append(blocks, textBlock{Type: "text", Text: g.prose(int(g.between(1, 8)))})
	}
	if call != nil {
		blocks = append(blocks, *call)
	}
	u := s.usage(model)
	id, req := g.token("msg_01", 22), g.token("req_011C", 20)
	s.tick(1_500, 9_000)
	if s.midnight {
		s.midnight = false
		if len(blocks) == 1 {
			blocks = append([]any{thinkingBlock{Type: "thinking", Thinking: g.prose(1), Signature: g.token("Eq", 64)}}, blocks...)
		}
		s.t = s.t.Truncate(24 * time.Hour).Add(24*time.Hour - time.Duration(g.between(100, 900))*time.Millisecond)
	}
	first := s.t
	for i, b := range blocks {
		if i > 0 {
			s.tick(300, 4_000)
		}
		last := i == len(blocks)-1
		output := g.between(1, 30)
		var stop *string
		if last {
			output = u.Output
			reason := "end_turn"
			if call != nil {
				reason = "tool_use"
			}
			stop = &reason
		}
		r := s.base("assistant")
		r.Message = assistantMessage{Model: model, ID: id, Type: "message", Role: "assistant",
			Content: []any{b}, StopReason: stop, Usage: u.json(output)}
		r.RequestID = req
		s.add(r)
	}
	if len(blocks) > 1 {
		g.exp.Features[FeatureStreamedReply]++
	}
	if first.UTC().YearDay() != s.t.UTC().YearDay() {
		g.exp.Features[FeatureAcrossMidnight]++
	}
	g.count(model, s.t, u)
	s.context += u.Output + g.between(200, 3_000)
}

// usage draws a reply's final usage; the cache reads follow the context.
func (s *session) usage(model string) usage {
	g := s.g
	u := usage{
		Input:         g.between(1, 40),
		Output:        g.between(40, 1_800),
		CacheCreation: g.between(100, 6_000),
		CacheRead:     s.context,
		split:         g.chance(0.8),
	}
	if u.split && g.chance(0.5) {
		u.Cache1h = g.between(0, u.CacheCreation)
	}
	if strings.Contains(model, "sonnet") && g.chance(0.03) {
		g.exp.Features[FeatureLongContext]++
		u.CacheRead = g.between(200_001, 260_000)
	}
	return u
}

// apiError writes the message Claude Code shows for a failed request: a
// synthetic model with no tokens billed.
func (s *session) apiError() {
	g := s.g
	g.exp.Features[FeatureAPIError]++
	s.tick(1_000, 30_000)
	r := s.base("assistant")
	r.IsAPIErrorMessage = true
	r.Message = assistantMessage{Model: "<synthetic>", ID: s.g.uuid(), Type: "message", Role: "assistant",
		Content: []any{textBlock{Type: "text", Text: "API Error: 529 {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}"}},
		Usage:   usageJSON{}}
	s.add(r)
}

// compact writes a compaction: a boundary that starts a new root, pointing
// back logically, and the summary the conversation continues from.
func (s *session) compact() {
	g := s.g
	g.exp.Features[FeatureCompaction]++
	s.tick(2_000, 60_000)
	b := s.base("system")
	b.ParentUUID = nil
	b.LogicalParentUUID = s.last
	b.Subtype = "compact_boundary"
	b.Content = "Conversation compacted"
	b.Level = "info"
	trigger := "auto"
	if g.chance(0.3) {
		trigger = "manual"
	}
	b.CompactMetadata = &compactMeta{Trigger: trigger, PreTokens: s.context}
	s.add(b)
	s.tick(100, 2_000)
	sum := s.base("user")
	sum.IsCompactSummary = true
	sum.Message = userMessage{Role: "user", Content: "This session is being continued from a previous conversation that ran out of context. " + g.prose(6)}
	s.add(sum)
	s.context = g.between(15_000, 30_000)
}

// image is a small base64 PNG-like payload, sometimes large.
func (g *generator) image() string {
	n := g.between(2_000, 20_000)
	if g.chance(0.1) {
		n = g.between(200_000, 600_000)
	}
	raw := make([]byte, n)
	for i := range raw {
		raw[i] = byte(g.rng.Uint32())
	}
	copy(raw, "\x89PNG\r\n\x1a\n")
	return base64.StdEncoding.EncodeToString(raw)
}
