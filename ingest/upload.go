package ingest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/claude-insights/insights/store"
)

var fileIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// UploadKey is the name under which the server tracks an uploaded file, or
// an error saying what is wrong with the file's identity.
func UploadKey(userID int64, fileID, rel string) (string, error) {
	if !fileIDPattern.MatchString(fileID) {
		return "", &store.InputError{Msg: fmt.Sprintf("file=%q: want 1 to 128 letters, digits or ._:-", fileID)}
	}
	if rel == "" || len(rel) > 1024 || strings.ContainsRune(rel, 0) || strings.Contains(rel, `\`) {
		return "", &store.InputError{Msg: fmt.Sprintf("path=%q: want a path relative to the Claude directory, with / between its parts", rel)}
	}
	if path.IsAbs(rel) || path.Clean(rel) != rel || rel == "." || strings.HasPrefix(rel, "../") || rel == ".." {
		return "", &store.InputError{Msg: fmt.Sprintf("path=%q: want a clean path relative to the Claude directory", rel)}
	}
	if !strings.HasSuffix(rel, ".jsonl") || rel == "history.jsonl" {
		return "", &store.InputError{Msg: fmt.Sprintf("path=%q: only transcripts (.jsonl) are uploaded", rel)}
	}
	return fmt.Sprintf("upload/%d/%s/%s", userID, fileID, rel), nil
}

// ImportUpload imports the lines of an uploaded range that the server does
// not have yet, with the same parser and batches as a local import, each
// batch written through team.ApplyUpload. A range starting past the
// server's copy is an *store.UploadConflict; one the server has is a
// duplicate and changes nothing. Only complete lines are kept: the result's
// Offset says where the next range starts.
func (im *Importer) ImportUpload(ctx context.Context, team store.Team, up store.Upload) (store.UploadResult, error) {
	res := store.UploadResult{Received: int64(len(up.Body)), Sessions: []string{}}
	key, err := UploadKey(up.User.ID, up.FileID, up.Path)
	if err != nil {
		return res, err
	}
	if up.Offset < 0 {
		return res, &store.InputError{Msg: fmt.Sprintf("offset=%d: want 0 or more", up.Offset)}
	}
	prev, seen, err := im.Store.FileState(ctx, key)
	if err != nil {
		return res, err
	}
	res.Offset = prev.Offset
	if up.Offset > prev.Offset {
		return res, &store.UploadConflict{Offset: prev.Offset,
			Msg: fmt.Sprintf("the server has this file up to byte %d, not %d: send from there", prev.Offset, up.Offset)}
	}
	known := prev.Offset - up.Offset
	if known >= int64(len(up.Body)) {
		res.Duplicate = true
		return res, nil
	}
	st := &Stats{}
	st.init()
	if !seen {
		prev = store.FileState{Path: key}
	}
	out := &uploadSink{team: team, user: up.User, next: prev.Offset}
	fr := &fileRead{im: im, out: out, state: prev, flushed: prev.Offset, st: st, kind: kindTranscript}
	r := readers.Get().(*bufio.Reader)
	defer readers.Put(r)
	r.Reset(bytes.NewReader(up.Body[known:]))
	if err := fr.run(ctx, r); err != nil {
		return res, err
	}
	res.Offset = fr.state.Offset
	res.Lines, res.Skipped, res.Sessions = st.Lines, st.Broken, st.SessionIDs()
	for _, e := range st.Errors {
		res.Errors = append(res.Errors, fmt.Sprintf("line %d: %v", e.Line, e.Err))
	}
	return res, nil
}

// uploadSink writes an upload's batches, each continuing where the
// previous one ended, keeping what the user's share level keeps.
type uploadSink struct {
	team store.Team
	user store.User
	next int64 // the offset the next batch starts at
}

func (u *uploadSink) apply(ctx context.Context, b *store.Batch, _ int64) error {
	b.Keep(u.user.Share)
	if err := u.team.ApplyUpload(context.WithoutCancel(ctx), u.user.ID, u.next, b); err != nil {
		return err
	}
	u.next = b.File.Offset
	return nil
}

// skipFile is never called for an upload: its body is in memory and cannot
// fail to be read.
func (u *uploadSink) skipFile(context.Context, store.Skipped) error { return nil }
