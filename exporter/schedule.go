package exporter

import (
	"context"
	"time"

	"github.com/claude-insights/insights/store"
)

// Schedule is when and how the daily snapshot runs.
type Schedule struct {
	// At is the time of day, UTC, after midnight.
	At time.Duration
	// RetentionDays keeps that many days of snapshots before today's
	// (0: every day).
	RetentionDays int
	// Lock, when set, must be taken before exporting, so that of several
	// servers on one database only one exports at a time.
	Lock func(ctx context.Context) (unlock func(), ok bool, err error)
}

// NextRun is the first time of day at after now.
func NextRun(now time.Time, at time.Duration) time.Time {
	next := store.UTCDay(now).Add(at)
	if !next.After(now) {
		next = next.AddDate(0, 0, 1)
	}
	return next
}

// Run exports at once every day missed (backfill), then daily at s.At,
// until ctx ends.
func (x *Exporter) Run(ctx context.Context, s Schedule) {
	for {
		x.RunOnce(ctx, s)
		wait := time.NewTimer(time.Until(NextRun(x.now(), s.At)))
		select {
		case <-ctx.Done():
			wait.Stop()
			return
		case <-wait.C:
		}
	}
}

// RunOnce takes the lock, removes the snapshots older than the retention,
// and writes every complete day (before today) that is missing or out of
// date. It reports whether it held the lock.
func (x *Exporter) RunOnce(ctx context.Context, s Schedule) bool {
	if s.Lock != nil {
		unlock, ok, err := s.Lock(ctx)
		if err != nil {
			x.log.Warn("export: lock", "err", err)
			return false
		}
		if !ok {
			x.log.Debug("export: another server is exporting")
			return false
		}
		defer unlock()
	}
	today := store.UTCDay(x.now())
	var since time.Time
	if s.RetentionDays > 0 {
		since = today.AddDate(0, 0, -s.RetentionDays)
		if _, err := x.Prune(since); err != nil {
			x.log.Warn("export: prune", "err", err)
		}
	}
	ms, err := x.Sync(ctx, since, today.AddDate(0, 0, -1), nil)
	if err != nil {
		x.log.Warn("export", "err", err, "days_written", len(ms))
	}
	return true
}
