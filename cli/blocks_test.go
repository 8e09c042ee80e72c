package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claude-insights/insights/internal/golden"
)

// testdataNow falls in the last billing window of testdata: it started at
// 08:00 UTC on 2026-02-11 and its last reply came at 11:00.
const testdataNow = "2026-02-11T11:30:00Z"

func TestTestdataBlocks(t *testing.T) {
	eachDriver(t, func(t *testing.T, db string) {
		importTestdata(t, db)
		out, err := run(t, "--db", db, "usage", "blocks", "--timezone", "UTC", "--now", testdataNow)
		if err != nil {
			t.Fatal(err)
		}
		golden.Check(t, filepath.Join("..", "testdata", "golden", "usage-blocks.txt"), out)
		js, err := run(t, "--db", db, "usage", "blocks", "--json", "--now", testdataNow)
		if err != nil {
			t.Fatal(err)
		}
		golden.Check(t, filepath.Join("..", "testdata", "golden", "usage-blocks.json"), js)

		// Every token of the testdata is in one block or another.
		blocks := decodeBlocks(t, js)
		var total int64
		for _, b := range blocks {
			total += b.TotalTokens
		}
		if total != 192356 {
			t.Errorf("blocks hold %d tokens, want 192356", total)
		}
		for _, tc := range []struct {
			args []string
			want string // block ids
		}{
			{[]string{"--active"}, "2026-02-11T08:00:00.000Z"},
			{[]string{"--recent"}, "2026-02-10T09:00:00.000Z 2026-02-10T14:00:00.000Z gap-2026-02-10T19:00:06.300Z " +
				"2026-02-11T00:00:00.000Z gap-2026-02-11T05:00:03.450Z 2026-02-11T08:00:00.000Z"},
			{[]string{"--since", "2026-02-11", "--timezone", "UTC"}, "2026-02-11T00:00:00.000Z gap-2026-02-11T05:00:03.450Z 2026-02-11T08:00:00.000Z"},
			// In Tokyo, 2026-02-10 ends at 15:00 UTC.
			{[]string{"--until", "2026-02-10", "--timezone", "Asia/Tokyo"}, "2026-02-10T09:00:00.000Z 2026-02-10T14:00:00.000Z"},
			{[]string{"--project", "/src/other"}, "2026-02-10T14:00:00.000Z"},
		} {
			js, err := run(t, append([]string{"--db", db, "usage", "blocks", "--json", "--now", testdataNow}, tc.args...)...)
			if err != nil {
				t.Fatalf("%v: %v", tc.args, err)
			}
			var ids []string
			for _, b := range decodeBlocks(t, js) {
				ids = append(ids, b.ID)
			}
			if got := strings.Join(ids, " "); got != tc.want {
				t.Errorf("%v: blocks %s, want %s", tc.args, got, tc.want)
			}
		}
		if _, err := run(t, "--db", db, "usage", "blocks", "--now", "yesterday"); err == nil {
			t.Error("--now yesterday accepted")
		}
	})
}

type blockJSON struct {
	ID          string `json:"id"`
	IsActive    bool   `json:"isActive"`
	TotalTokens int64  `json:"totalTokens"`
}

func decodeBlocks(t *testing.T, js string) []blockJSON {
	t.Helper()
	var out struct {
		Blocks []blockJSON `json:"blocks"`
	}
	if err := json.Unmarshal([]byte(js), &out); err != nil {
		t.Fatalf("blocks --json: %v\n%s", err, js)
	}
	return out.Blocks
}
