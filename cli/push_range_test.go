package cli

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/claude-insights/insights/store"
)

// A rewritten range (end set) is stored whole, however many lines it
// holds, and the server's offsets for its file are then the client's: the
// next range continues at end, one the server has is a duplicate, and one
// the server has a part of is refused with where to start.
func TestTeamRewrittenRanges(t *testing.T) {
	isolate(t)
	ts := startTeam(t, teamDSN(t), nil)
	ann, key := ts.newUser(t, "ann", false, store.ShareFull)
	// 2,500 lines, more than a batch of a local import, as one range the
	// client's file spans 10x as many bytes of.
	var body bytes.Buffer
	for i := range 1250 {
		body.Write(sessionLines(fmt.Sprintf("s%04d", i), "word"))
	}
	first := int64(body.Len()) * 10
	code, ans := rangeUpload(t, ts.URL, key, 0, first, body.Bytes())
	if code != http.StatusOK || ans.Offset != first || ans.Lines != 2500 || ans.Duplicate {
		t.Fatalf("first range: %d %+v, want offset %d and 2500 lines", code, ans.UploadResult, first)
	}
	more := sessionLines("s9999", "late")
	code, ans = rangeUpload(t, ts.URL, key, first, first+7000, more)
	if code != http.StatusOK || ans.Offset != first+7000 || ans.Lines != 2 {
		t.Fatalf("next range: %d %+v", code, ans.UploadResult)
	}
	code, ans = rangeUpload(t, ts.URL, key, first, first+7000, more)
	if code != http.StatusOK || !ans.Duplicate || ans.Offset != first+7000 {
		t.Fatalf("the same range again: %d %+v, want a duplicate", code, ans.UploadResult)
	}
	code, ans = rangeUpload(t, ts.URL, key, first, first+9000, more)
	if code != http.StatusConflict || ans.Offset != first+7000 {
		t.Fatalf("a range the server has a part of: %d %+v, want 409 at %d", code, ans, first+7000)
	}
	code, ans = rangeUpload(t, ts.URL, key, first+8000, first+9000, more)
	if code != http.StatusConflict || ans.Offset != first+7000 {
		t.Fatalf("a range past the server's copy: %d %+v, want 409 at %d", code, ans, first+7000)
	}
	tot, _ := totalsOf(t, ts.DB, 0)
	if tot.Sessions != 1251 || tot.Messages != 2502 {
		t.Errorf("stored %d sessions, %d messages; want 1251, 2502", tot.Sessions, tot.Messages)
	}
	fs, _, err := ts.DB.FileState(context.Background(), fmt.Sprintf("upload/%d/f1/projects/p/f1.jsonl", ann.ID))
	if err != nil || fs.Offset != first+7000 {
		t.Errorf("file state %+v, %v: want offset %d", fs, err, first+7000)
	}
}

// rangeUpload sends body as the rewriting of bytes offset..end of the
// file f1.
func rangeUpload(t *testing.T, base, key string, offset, end int64, body []byte) (int, uploadAnswer) {
	t.Helper()
	var ans uploadAnswer
	url := fmt.Sprintf("%s/api/v1/uploads?file=f1&path=projects/p/f1.jsonl&offset=%d&end=%d", base, offset, end)
	code := call(t, http.MethodPost, url, key, bytes.NewReader(body), &ans)
	return code, ans
}
