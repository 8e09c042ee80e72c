package postgres

import (
	"slices"

	"github.com/claude-insights/insights/store"
)

// group is the batches of one Apply merged into one, so that the whole
// transaction takes the statements of a single batch: the rows of every
// batch, concatenated in the order the batches came (the merge rules of one
// batch then give what applying them one by one gives), with what belongs
// to each file worked out here.
type group struct {
	// rows holds the rows of every batch; its File, Reset and Skipped are
	// unused.
	rows *store.Batch
	// skipped holds the skipped lines that applying the batches one by one
	// would leave.
	skipped []store.Skipped
	// files holds the latest state of each path, by path.
	files []store.FileState
	// links pairs each session with the files it was read from.
	links []pair
	// paths lists every file of the group, reset those read again from
	// their start: their earlier skipped lines are forgotten.
	paths, reset []string
}

// newGroup merges batches, which name a file each; batches of one file come
// in the order they were read.
func newGroup(batches []*store.Batch) *group {
	g := &group{rows: batches[0]}
	if len(batches) > 1 {
		g.rows = concat(batches)
	}
	last := map[string]int{} // path → index of its latest batch
	lastReset := map[string]int{}
	links := map[pair]bool{}
	for i, b := range batches {
		last[b.File.Path] = i
		if b.Reset {
			lastReset[b.File.Path] = i
		}
		for _, s := range b.Sessions {
			links[pair{s.ID, b.File.Path}] = true
		}
	}
	g.paths = sortedKeys(last)
	g.files = make([]store.FileState, len(g.paths))
	for i, p := range g.paths {
		g.files[i] = batches[last[p]].File
	}
	g.reset = sortedKeys(lastReset)
	g.links = sortedPairs(links)
	g.skipped = keptSkipped(batches, last, lastReset)
	return g
}

// concat puts the rows of batches one after the other.
func concat(batches []*store.Batch) *store.Batch {
	all := &store.Batch{}
	for _, b := range batches {
		all.Sessions = append(all.Sessions, b.Sessions...)
		all.Messages = append(all.Messages, b.Messages...)
		all.Usage = append(all.Usage, b.Usage...)
		all.ToolUses = append(all.ToolUses, b.ToolUses...)
		all.ToolResults = append(all.ToolResults, b.ToolResults...)
		all.FileChanges = append(all.FileChanges, b.FileChanges...)
		all.Subagents = append(all.Subagents, b.Subagents...)
		all.Summaries = append(all.Summaries, b.Summaries...)
		all.Commits = append(all.Commits, b.Commits...)
		all.Tags = append(all.Tags, b.Tags...)
		all.Plans = append(all.Plans, b.Plans...)
		all.TodoLists = append(all.TodoLists, b.TodoLists...)
		all.Prompts = append(all.Prompts, b.Prompts...)
	}
	return all
}

// keptSkipped returns the skipped lines of batches that applying them one
// by one would leave: a batch of a file forgets the file's whole-file error
// (line 0) recorded before it, and a reset batch every line recorded before
// it. The statements clear what was stored before the group the same way.
func keptSkipped(batches []*store.Batch, last, lastReset map[string]int) []store.Skipped {
	if len(batches) == 1 {
		return batches[0].Skipped
	}
	var kept []store.Skipped
	for i, b := range batches {
		for _, sk := range b.Skipped {
			if r, ok := lastReset[sk.Path]; ok && r > i {
				continue
			}
			if l, ok := last[sk.Path]; ok && l > i && sk.Line == 0 {
				continue
			}
			kept = append(kept, sk)
		}
	}
	return slices.Clip(kept)
}
