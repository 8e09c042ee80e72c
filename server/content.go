package server

import (
	"bytes"
	"encoding/json"
)

// block is one block of a message's content, as Claude Code writes it:
// text, thinking, tool_use, tool_result or image.
type block struct {
	Type      string          `json:"type"`
	Text      string          `json:"text"`
	Thinking  string          `json:"thinking"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
	ToolUseID string          `json:"tool_use_id"`
	Content   json.RawMessage `json:"content"`
	IsError   bool            `json:"is_error"`
	Source    *imageSource    `json:"source"`
}

type imageSource struct {
	Type      string `json:"type"`
	MediaType string `json:"media_type"`
	Data      string `json:"data"`
}

// blockRef is what laying out a replay needs of a block: its kind and the
// tool call it names. Decoding only these skips the texts.
type blockRef struct {
	Type      string `json:"type"`
	ID        string `json:"id"`
	ToolUseID string `json:"tool_use_id"`
}

// parseBlocks decodes a message's content: a string is one text block; a
// content that is not JSON as expected becomes its stored text.
func parseBlocks(content json.RawMessage, text string) []block {
	content = bytes.TrimSpace(content)
	if len(content) > 0 && content[0] == '"' {
		var s string
		if json.Unmarshal(content, &s) == nil {
			return []block{{Type: "text", Text: s}}
		}
	}
	var bs []block
	if len(content) > 0 && content[0] == '[' && json.Unmarshal(content, &bs) == nil {
		return bs
	}
	if text == "" {
		return nil
	}
	return []block{{Type: "text", Text: text}}
}

// parseRefs decodes the kinds and tool ids of a content's blocks.
func parseRefs(content json.RawMessage) []blockRef {
	content = bytes.TrimSpace(content)
	if len(content) == 0 || content[0] != '[' {
		return nil
	}
	var rs []blockRef
	if json.Unmarshal(content, &rs) != nil {
		return nil
	}
	return rs
}

// resultContent splits a tool_result's content (a string or blocks) into
// its text and its images.
func resultContent(raw json.RawMessage) (text string, images []imageSource) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", nil
	}
	if raw[0] == '"' {
		json.Unmarshal(raw, &text)
		return text, nil
	}
	var bs []block
	if json.Unmarshal(raw, &bs) != nil {
		return string(raw), nil
	}
	var buf bytes.Buffer
	for _, b := range bs {
		switch {
		case b.Type == "text":
			if buf.Len() > 0 {
				buf.WriteByte('\n')
			}
			buf.WriteString(b.Text)
		case b.Type == "image" && b.Source != nil:
			images = append(images, *b.Source)
		}
	}
	return buf.String(), images
}

// canonicalJSON writes JSON with its object keys sorted and no spaces, so
// that what a database normalized (PostgreSQL's jsonb orders keys its own
// way) reads the same from every driver. Invalid JSON is returned as is.
func canonicalJSON(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return raw
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return raw
	}
	var buf bytes.Buffer
	e := json.NewEncoder(&buf)
	e.SetEscapeHTML(false)
	if e.Encode(v) != nil {
		return raw
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}
