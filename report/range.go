package report

import (
	"context"
	"time"

	"github.com/claude-insights/insights/store"
)

// query is the store query of a report's range, project and zone.
func query(opt Options) store.UsageQuery {
	if opt.Location == nil {
		opt.Location = time.Local
	}
	q := store.UsageQuery{Project: opt.Project, UserID: opt.UserID, BySession: opt.Period == Session}
	if !opt.Since.IsZero() {
		q.Since = dayStart(opt.Since, opt.Location)
	}
	if !opt.Until.IsZero() {
		q.Until = dayStart(opt.Until, opt.Location).AddDate(0, 0, 1)
	}
	q.Zone = ZoneShifts(opt.Location, q.Since, q.Until)
	return q
}

// SpentSums sums who spent the usage of a report's range (its Since, Until,
// Location and Project) over every session in it, inside the database, by
// the rules of SpentBy: unlike SpentBy per session, it reads no message, so
// it stays fast over thousands of sessions.
func SpentSums(ctx context.Context, db store.Driver, opt Options) ([]store.SpentSum, error) {
	return db.SpentSums(ctx, query(opt))
}
