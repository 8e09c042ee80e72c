package synth

// The JSON shapes Claude Code writes, with only the fields it writes.

type rec struct {
	ParentUUID        *string      `json:"parentUuid"`
	LogicalParentUUID string       `json:"logicalParentUuid,omitempty"`
	IsSidechain       bool         `json:"isSidechain"`
	UserType          string       `json:"userType"`
	Cwd               string       `json:"cwd"`
	SessionID         string       `json:"sessionId"`
	Version           string       `json:"version"`
	GitBranch         string       `json:"gitBranch"`
	AgentID           string       `json:"agentId,omitempty"`
	Slug              string       `json:"slug,omitempty"`
	Type              string       `json:"type"`
	Subtype           string       `json:"subtype,omitempty"`
	UUID              string       `json:"uuid"`
	Timestamp         string       `json:"timestamp"`
	Message           any          `json:"message,omitempty"`
	RequestID         string       `json:"requestId,omitempty"`
	ToolUseResult     any          `json:"toolUseResult,omitempty"`
	Content           string       `json:"content,omitempty"`
	Level             string       `json:"level,omitempty"`
	IsMeta            bool         `json:"isMeta,omitempty"`
	IsCompactSummary  bool         `json:"isCompactSummary,omitempty"`
	IsAPIErrorMessage bool         `json:"isApiErrorMessage,omitempty"`
	CompactMetadata   *compactMeta `json:"compactMetadata,omitempty"`
	Data              any          `json:"data,omitempty"`
	ToolUseID         string       `json:"toolUseID,omitempty"`
	ParentToolUseID   string       `json:"parentToolUseID,omitempty"`
	PermissionMode    string       `json:"permissionMode,omitempty"`
}

type compactMeta struct {
	Trigger   string `json:"trigger"`
	PreTokens int64  `json:"preTokens"`
}

type userMessage struct {
	Role    string `json:"role"`
	Content any    `json:"content"` // a string or blocks
}

type assistantMessage struct {
	Model        string    `json:"model"`
	ID           string    `json:"id"`
	Type         string    `json:"type"`
	Role         string    `json:"role"`
	Content      []any     `json:"content"`
	StopReason   *string   `json:"stop_reason"`
	StopSequence *string   `json:"stop_sequence"`
	Usage        usageJSON `json:"usage"`
}

type usageJSON struct {
	InputTokens              int64          `json:"input_tokens"`
	CacheCreationInputTokens int64          `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int64          `json:"cache_read_input_tokens"`
	CacheCreation            *cacheCreation `json:"cache_creation,omitempty"`
	OutputTokens             int64          `json:"output_tokens"`
	ServiceTier              string         `json:"service_tier"`
}

type cacheCreation struct {
	Ephemeral5m int64 `json:"ephemeral_5m_input_tokens"`
	Ephemeral1h int64 `json:"ephemeral_1h_input_tokens"`
}

type textBlock struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type thinkingBlock struct {
	Type      string `json:"type"`
	Thinking  string `json:"thinking"`
	Signature string `json:"signature"`
}

type toolUseBlock struct {
	Type  string         `json:"type"`
	ID    string         `json:"id"`
	Name  string         `json:"name"`
	Input map[string]any `json:"input"`
}

type toolResultBlock struct {
	Type      string `json:"type"`
	ToolUseID string `json:"tool_use_id"`
	Content   string `json:"content"`
	IsError   bool   `json:"is_error"`
}

type imageBlock struct {
	Type   string      `json:"type"`
	Source imageSource `json:"source"`
}

type imageSource struct {
	Type      string `json:"type"`
	MediaType string `json:"media_type"`
	Data      string `json:"data"`
}

type hunk struct {
	OldStart int      `json:"oldStart"`
	OldLines int      `json:"oldLines"`
	NewStart int      `json:"newStart"`
	NewLines int      `json:"newLines"`
	Lines    []string `json:"lines"`
}

type agentProgress struct {
	Message            progressLine `json:"message"`
	NormalizedMessages []any        `json:"normalizedMessages"`
	Type               string       `json:"type"`
	Prompt             string       `json:"prompt"`
	AgentID            string       `json:"agentId"`
}

type progressLine struct {
	Type      string           `json:"type"`
	Message   assistantMessage `json:"message"`
	RequestID string           `json:"requestId"`
	UUID      string           `json:"uuid"`
	Timestamp string           `json:"timestamp"`
}

type hookProgress struct {
	Type      string `json:"type"`
	HookEvent string `json:"hookEvent"`
	HookName  string `json:"hookName"`
	Command   string `json:"command"`
}

type summaryRec struct {
	Type     string `json:"type"`
	Summary  string `json:"summary"`
	LeafUUID string `json:"leafUuid"`
}

type snapshotRec struct {
	Type             string   `json:"type"`
	MessageID        string   `json:"messageId"`
	Snapshot         snapshot `json:"snapshot"`
	IsSnapshotUpdate bool     `json:"isSnapshotUpdate"`
}

type snapshot struct {
	MessageID          string         `json:"messageId"`
	TrackedFileBackups map[string]any `json:"trackedFileBackups"`
	Timestamp          string         `json:"timestamp"`
}

type historyLine struct {
	Display        string         `json:"display"`
	PastedContents map[string]any `json:"pastedContents"`
	Timestamp      int64          `json:"timestamp"`
	Project        string         `json:"project"`
	SessionID      string         `json:"sessionId,omitempty"`
}

type todo struct {
	Content    string `json:"content"`
	Status     string `json:"status"`
	ActiveForm string `json:"activeForm"`
}
