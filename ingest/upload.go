package ingest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"
	"sync"

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

// Uploader imports uploaded ranges, writing the batches
// of concurrent uploads together: while one transaction is written, the
// batches that arrive wait for the next, which takes them all (up to
// groupBytes of lines or groupBatches batches).
type Uploader struct {
	im   *Importer
	team store.Team
	ch   chan *pendingUpload
	done chan struct{}
	// mu is held to send to ch (shared) and to close it (alone), so that
	// an upload still running when the server gave up waiting for it gets
	// an error rather than a send on a closed channel.
	mu     sync.RWMutex
	closed bool
}

// errClosed answers the batches of an upload that outlived its server.
var errClosed = errors.New("the server is stopping: send again")

// pendingUpload is a batch waiting for the writer, and where its outcome
// goes.
type pendingUpload struct {
	store.UploadBatch
	n   int64 // bytes of lines
	err chan error
}

// Uploads starts an Uploader writing through team; Close stops it.
func (im *Importer) Uploads(team store.Team) *Uploader {
	u := &Uploader{im: im, team: team, ch: make(chan *pendingUpload), done: make(chan struct{})}
	go u.write()
	return u
}

// Close stops the writer once the uploads under way are written. No upload
// may start after it.
func (u *Uploader) Close() {
	u.mu.Lock()
	if !u.closed {
		u.closed = true
		close(u.ch)
	}
	u.mu.Unlock()
	<-u.done
}

// put hands a batch to the writer and waits for its outcome.
func (u *Uploader) put(p *pendingUpload) error {
	u.mu.RLock()
	if u.closed {
		u.mu.RUnlock()
		return errClosed
	}
	u.ch <- p
	u.mu.RUnlock()
	return <-p.err
}

func (u *Uploader) write() {
	defer close(u.done)
	for first := range u.ch {
		group, size := []*pendingUpload{first}, first.n
	more:
		for len(group) < groupBatches && size < groupBytes {
			select {
			case p, ok := <-u.ch:
				if !ok {
					break more
				}
				group, size = append(group, p), size+p.n
			default:
				break more
			}
		}
		ups := make([]store.UploadBatch, len(group))
		for i, p := range group {
			ups[i] = p.UploadBatch
		}
		// Written to the end even when a client goes away: the batches of
		// other uploads are in the same transaction.
		errs, err := u.team.ApplyUploads(context.Background(), ups)
		for i, p := range group {
			if err == nil {
				p.err <- errs[i]
			} else {
				p.err <- err
			}
		}
	}
}

// Import imports the lines of an uploaded range that the server does not
// have yet, with the same parser and batches as a local import. A range
// starting past the server's copy is an *store.UploadConflict; one the
// server has is a duplicate and changes nothing. Only complete lines are
// kept: the result's Offset says where the next range starts.
func (u *Uploader) Import(ctx context.Context, up store.Upload) (store.UploadResult, error) {
	im := u.im
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
	known, err := uploadKnown(up, prev.Offset)
	if err != nil {
		return res, err
	}
	if known < 0 {
		res.Duplicate = true
		return res, nil
	}
	st := &Stats{}
	st.init()
	if !seen {
		prev = store.FileState{Path: key}
	}
	out := &uploadSink{u: u, user: up.User, next: prev.Offset, end: up.End}
	// A rewritten range is written in one batch: its offsets inside are
	// the body's, which mean nothing in the client's file.
	fr := &fileRead{im: im, out: out, state: prev, flushed: prev.Offset, st: st, kind: kindTranscript, whole: up.End > 0}
	r := readers.Get().(*bufio.Reader)
	defer readers.Put(r)
	r.Reset(bytes.NewReader(up.Body[known:]))
	if err := fr.run(ctx, r); err != nil {
		return res, err
	}
	res.Offset = fr.state.Offset
	if up.End > 0 {
		res.Offset = up.End
	}
	res.Lines, res.Skipped, res.Sessions = st.Lines, st.Broken, st.SessionIDs()
	for _, e := range st.Errors {
		res.Errors = append(res.Errors, fmt.Sprintf("line %d: %v", e.Line, e.Err))
	}
	return res, nil
}

// uploadKnown is how many bytes at the start of an upload's body the
// server has: -1 when it has them all (a duplicate). A range starting past
// the server's copy is an *store.UploadConflict, and so is a rewritten
// range (End set) that the server has a part of: it cannot be cut.
func uploadKnown(up store.Upload, stored int64) (int64, error) {
	if up.End != 0 {
		if up.End <= up.Offset {
			return 0, &store.InputError{Msg: fmt.Sprintf("end=%d: want more than offset=%d", up.End, up.Offset)}
		}
		if len(up.Body) == 0 || up.Body[len(up.Body)-1] != '\n' {
			return 0, &store.InputError{Msg: "with end set, the body holds whole lines: it must end with a newline"}
		}
	}
	switch {
	case up.Offset > stored:
		return 0, &store.UploadConflict{Offset: stored,
			Msg: fmt.Sprintf("the server has this file up to byte %d, not %d: send from there", stored, up.Offset)}
	case up.End != 0 && up.End <= stored:
		return -1, nil
	case up.End != 0 && up.Offset < stored:
		return 0, &store.UploadConflict{Offset: stored,
			Msg: fmt.Sprintf("the server has this file up to byte %d, inside the range %d-%d: send from there", stored, up.Offset, up.End)}
	case up.End == 0 && stored-up.Offset >= int64(len(up.Body)):
		return -1, nil
	}
	return stored - up.Offset, nil
}

// uploadSink hands an upload's batches to the Uploader's writer, each
// continuing where the previous one ended, keeping what the user's share
// level keeps.
type uploadSink struct {
	u    *Uploader
	user store.User
	next int64 // the offset the next batch starts at
	end  int64 // the client's offset a rewritten range ends at, or 0
}

func (s *uploadSink) apply(_ context.Context, b *store.Batch, n int64) error {
	b.Keep(s.user.Share)
	if s.end > 0 {
		b.File.Offset, b.File.Size = s.end, s.end
	}
	p := &pendingUpload{UploadBatch: store.UploadBatch{UserID: s.user.ID, Start: s.next, Batch: b}, n: n, err: make(chan error, 1)}
	if err := s.u.put(p); err != nil {
		return err
	}
	s.next = b.File.Offset
	return nil
}

// skipFile is never called for an upload: its body is in memory and cannot
// fail to be read.
func (s *uploadSink) skipFile(context.Context, store.Skipped) error { return nil }
