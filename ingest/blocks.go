package ingest

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// ImagePlaceholder stands for an image in a message's text: images are
// stored in the message's content, never in its text or search index.
const ImagePlaceholder = "[image]"

// interruptedPrefix starts the text Claude Code writes when the user stops
// a request.
const interruptedPrefix = "[Request interrupted by user"

// ToolUseBlock is a tool_use block of an assistant message, with what the
// importer reads of its input (decoded once).
type ToolUseBlock struct {
	ID    string
	Name  string
	Input json.RawMessage
	// InputText is the input's string values, one per line, for search;
	// FilePath its file_path (or notebook_path); Command its command.
	InputText string
	FilePath  string
	Command   string
}

// ToolResultBlock is a tool_result block of a user message.
type ToolResultBlock struct {
	ToolUseID string
	Text      string
	IsError   bool
}

// contentBlock mirrors one block of a message's content; only the fields
// we use.
type contentBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
	ToolUseID string          `json:"tool_use_id"`
	Content   json.RawMessage `json:"content"`
	IsError   bool            `json:"is_error"`
}

// content is what a message's content holds.
type content struct {
	text    string
	uses    []ToolUseBlock
	results []ToolResultBlock
	// blocks says the content was a list of blocks, not a plain string.
	blocks bool
}

// parseContent reads a message's content: a plain string, or a list of
// blocks whose text, images, tool uses and tool results it collects.
func parseContent(raw json.RawMessage) content {
	var c content
	if len(raw) == 0 {
		return c
	}
	switch raw[0] {
	case '"':
		_ = json.Unmarshal(raw, &c.text)
	case '[':
		var blocks []contentBlock
		if json.Unmarshal(raw, &blocks) != nil {
			return c
		}
		c.blocks = true
		var sb strings.Builder
		for _, b := range blocks {
			switch b.Type {
			case "text":
				appendLine(&sb, b.Text)
			case "image":
				appendLine(&sb, ImagePlaceholder)
			case "tool_use":
				if b.ID != "" {
					c.uses = append(c.uses, toolUse(b.ID, b.Name, cleanJSON(b.Input)))
				}
			case "tool_result":
				if b.ToolUseID != "" {
					c.results = append(c.results, ToolResultBlock{ToolUseID: b.ToolUseID,
						Text: parseContent(b.Content).text, IsError: b.IsError})
				}
			}
		}
		c.text = sb.String()
	}
	return c
}

func appendLine(sb *strings.Builder, s string) {
	if s == "" {
		return
	}
	if sb.Len() > 0 {
		sb.WriteByte('\n')
	}
	sb.WriteString(s)
}

// cleanJSON returns valid JSON that PostgreSQL's jsonb takes as it is: no
// \u0000 escapes (they become U+FFFD, as in strings) and no unpaired
// surrogate escapes. Most JSON has neither and is returned unchanged.
func cleanJSON(raw json.RawMessage) json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if !bytes.Contains(raw, []byte(`\u0000`)) && !bytes.Contains(raw, []byte(`\ud`)) && !bytes.Contains(raw, []byte(`\uD`)) {
		return raw
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if enc.Encode(replaceNULs(v)) != nil {
		return nil
	}
	return bytes.TrimSpace(buf.Bytes())
}

func replaceNULs(v any) any {
	switch x := v.(type) {
	case string:
		return strings.ReplaceAll(x, "\x00", "\uFFFD")
	case []any:
		for i := range x {
			x[i] = replaceNULs(x[i])
		}
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[strings.ReplaceAll(k, "\x00", "\uFFFD")] = replaceNULs(e)
		}
		return out
	}
	return v
}

// toolUse reads a tool_use block's input: its string values (not its keys)
// for search, and the file and command it names.
func toolUse(id, name string, input json.RawMessage) ToolUseBlock {
	u := ToolUseBlock{ID: id, Name: name, Input: input}
	if len(input) == 0 {
		return u
	}
	var v any
	if json.Unmarshal(input, &v) != nil {
		return u
	}
	if top, ok := v.(map[string]any); ok {
		u.FilePath, _ = top["file_path"].(string)
		if u.FilePath == "" {
			u.FilePath, _ = top["notebook_path"].(string)
		}
		u.Command, _ = top["command"].(string)
	}
	var sb strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			appendLine(&sb, x)
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(x)) {
				walk(x[k])
			}
		}
	}
	walk(v)
	u.InputText = sb.String()
	return u
}
