package exporter

import (
	"context"
	"fmt"
	"time"

	"github.com/claude-insights/insights/store"
)

// DefaultRetry is how long after a failed run the next one starts, unless
// Schedule.Retry says otherwise; the wait doubles with every failure in a
// row, up to an hour, and never goes past the daily run.
const DefaultRetry = 5 * time.Minute

// maxRetry is the longest wait between failed runs.
const maxRetry = time.Hour

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
	// Retry is the first wait after a failed run (0: DefaultRetry).
	Retry time.Duration
	// Done, when set, is called after each run but those that found the
	// lock taken, with the days it wrote and what failed (nil: nothing).
	Done func(days int, err error)
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
// until ctx ends. A run that fails (the database unreachable, the disk
// full) is tried again after s.Retry, then twice as long each time, so that
// a passing fault does not leave the snapshots a day behind. So is a run
// that found the lock taken: should the server holding it stop before it is
// done, another carries on.
func (x *Exporter) Run(ctx context.Context, s Schedule) {
	first := s.Retry
	if first <= 0 {
		first = DefaultRetry
	}
	retry := first
	for {
		held, err := x.RunOnce(ctx, s)
		if ctx.Err() != nil {
			return
		}
		now := x.now()
		next := NextRun(now, s.At)
		if err != nil || !held {
			if soon := now.Add(retry); soon.Before(next) {
				next = soon
			}
			if err != nil {
				x.log.Warn("export failed", "err", err, "retry_at", next.UTC().Format(time.RFC3339))
			} else {
				x.log.Debug("export: another server holds the lock", "retry_at", next.UTC().Format(time.RFC3339))
			}
			retry = min(2*retry, maxRetry)
		} else {
			retry = first
		}
		wait := time.NewTimer(next.Sub(now))
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
// date. It reports whether it held the lock, and what failed: taking the
// lock, or writing a day (the days before it stay written).
func (x *Exporter) RunOnce(ctx context.Context, s Schedule) (held bool, err error) {
	if s.Lock != nil {
		unlock, ok, err := s.Lock(ctx)
		if err != nil {
			err = fmt.Errorf("export: lock: %w", err)
			s.done(0, err)
			return false, err
		}
		if !ok {
			x.log.Debug("export: another server is exporting")
			return false, nil
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
		err = fmt.Errorf("%w (%d days written before)", err, len(ms))
	}
	s.done(len(ms), err)
	return true, err
}

func (s Schedule) done(days int, err error) {
	if s.Done != nil {
		s.Done(days, err)
	}
}
