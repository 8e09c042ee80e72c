package push

// The share levels, applied to a decoded line before it is sent. The
// server applies the level again to what it parses; these keep no more
// than it does, and everything its totals need.

// metadataKeys are the fields of a record a metadata-level user sends:
// identity, place in the session, timing, and the messages' structure and
// usage without their text.
var metadataKeys = map[string]bool{
	"type": true, "subtype": true, "uuid": true, "parentUuid": true, "logicalParentUuid": true, "leafUuid": true,
	"sessionId": true, "timestamp": true, "cwd": true, "gitBranch": true, "version": true, "slug": true,
	"agentId": true, "isSidechain": true, "isMeta": true, "isCompactSummary": true, "isApiErrorMessage": true,
	"requestId": true, "parentToolUseID": true, "compactMetadata": true, "userType": true,
	"message": true, "data": true,
}

// usageKeys are the fields a none-level user sends: enough for sessions'
// times and the usage of each reply.
var usageKeys = map[string]bool{
	"type": true, "subtype": true, "uuid": true, "parentUuid": true, "sessionId": true, "timestamp": true,
	"version": true, "agentId": true, "isSidechain": true, "isMeta": true, "isApiErrorMessage": true,
	"requestId": true, "parentToolUseID": true, "message": true, "data": true,
}

// blockKeys are the fields of a content block kept at the metadata level;
// its text, thinking, input and output become empty.
var blockKeys = map[string]bool{"type": true, "id": true, "name": true, "tool_use_id": true, "is_error": true}

// metadataOnly keeps rec's metadata: no message text, no tool input or
// output, no summaries, titles or todos.
func metadataOnly(rec map[string]any) map[string]any {
	out := pick(rec, metadataKeys)
	switch m := out["message"].(type) {
	case map[string]any:
		out["message"] = messageMetadata(m)
	case string:
		out["message"] = "" // not the shape of a message: its text goes no further
	}
	switch d := out["data"].(type) {
	case map[string]any:
		out["data"] = progressOnly(d, metadataOnly)
	case string:
		out["data"] = ""
	}
	return out
}

// usageOnly keeps what rec says about time and usage.
func usageOnly(rec map[string]any) map[string]any {
	out := pick(rec, usageKeys)
	switch m := out["message"].(type) {
	case map[string]any:
		out["message"] = pick(m, map[string]bool{"id": true, "role": true, "model": true, "type": true, "usage": true})
	case string:
		out["message"] = ""
	}
	switch d := out["data"].(type) {
	case map[string]any:
		out["data"] = progressOnly(d, usageOnly)
	case string:
		out["data"] = ""
	}
	return out
}

// progressOnly keeps the kind of a progress record's data and its
// subagent's message, reduced as a record is.
func progressOnly(d map[string]any, reduce func(map[string]any) map[string]any) map[string]any {
	out := pick(d, map[string]bool{"type": true, "agentId": true})
	if m, ok := d["message"].(map[string]any); ok {
		out["message"] = reduce(m)
	}
	return out
}

// messageMetadata keeps an API message's identity, model and usage, and
// its content blocks without their text, input or output.
func messageMetadata(m map[string]any) map[string]any {
	out := pick(m, map[string]bool{"id": true, "role": true, "model": true, "type": true, "stop_reason": true, "usage": true})
	switch c := m["content"].(type) {
	case string:
		out["content"] = ""
	case []any:
		blocks := make([]any, 0, len(c))
		for _, b := range c {
			bm, ok := b.(map[string]any)
			if !ok {
				continue
			}
			kept := pick(bm, blockKeys)
			switch kept["type"] {
			case "text":
				kept["text"] = ""
			case "thinking":
				kept["thinking"] = ""
			case "tool_use":
				kept["input"] = map[string]any{}
			case "tool_result":
				kept["content"] = ""
			}
			blocks = append(blocks, kept)
		}
		out["content"] = blocks
	}
	return out
}

// pick copies the fields of m named in keys.
func pick(m map[string]any, keys map[string]bool) map[string]any {
	out := make(map[string]any, len(keys))
	for k, v := range m {
		if keys[k] {
			out[k] = v
		}
	}
	return out
}
