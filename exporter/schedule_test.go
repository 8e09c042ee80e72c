package exporter

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/claude-insights/insights/store"
)

// flaky is a database whose first reads of a day fail, as an unreachable
// server would.
type flaky struct {
	store.Exports
	fails atomic.Int32
}

func (f *flaky) ExportDay(ctx context.Context, day time.Time, sink store.ExportSink) (int64, error) {
	if f.fails.Add(-1) >= 0 {
		return 0, errors.New("connection refused")
	}
	return f.Exports.ExportDay(ctx, day, sink)
}

// A run that found the lock taken, or failed, is tried again soon, and
// again longer after, rather than at the next day's run; once one succeeds
// the loop waits for the daily run.
func TestRunRetriesAFailedRun(t *testing.T) {
	db := &flaky{Exports: imported(t)}
	db.fails.Store(2)
	x := newExporter(t, db, t.TempDir())
	var runs atomic.Int32
	var at []time.Time
	runsAt := make(chan time.Time, 10)
	sched := Schedule{At: 0, Retry: 20 * time.Millisecond,
		Lock: func(context.Context) (func(), bool, error) {
			n := runs.Add(1)
			select {
			case runsAt <- time.Now():
			default: // far more runs than wanted: counted, and the test fails
			}
			return func() {}, n > 1, nil // another server has it first
		}}
	// The daily run is at midnight UTC: far from now unless the test starts
	// just before it.
	if until := time.Until(NextRun(time.Now(), sched.At)); until < time.Minute {
		time.Sleep(until + time.Second)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { x.Run(ctx, sched); close(done) }()
	deadline := time.After(10 * time.Second)
	for len(at) < 4 {
		select {
		case t0 := <-runsAt:
			at = append(at, t0)
		case <-deadline:
			cancel()
			t.Fatalf("%d runs in 10 s, want 4 (the lock taken, two failures, then success)", len(at))
		}
	}
	time.Sleep(300 * time.Millisecond) // time for several more runs, were it retrying still
	cancel()
	<-done
	if n := runs.Load(); n != 4 {
		t.Errorf("%d runs, want 4: retries must stop once a run succeeds", n)
	}
	for i, want := range []time.Duration{20 * time.Millisecond, 40 * time.Millisecond, 80 * time.Millisecond} {
		if got := at[i+1].Sub(at[i]); got < want {
			t.Errorf("wait %d between runs %v, want at least %v (doubling from 20 ms)", i+1, got, want)
		}
	}
	if pending, err := x.Pending(context.Background(), time.Time{}, time.Time{}); err != nil || len(pending) != 0 {
		t.Errorf("days pending after the runs: %v, %v", pending, err)
	}
}

func TestRunOnceReportsAFailure(t *testing.T) {
	db := &flaky{Exports: imported(t)}
	db.fails.Store(1)
	x := newExporter(t, db, t.TempDir())
	type report struct {
		days int
		err  error
	}
	var reports []report
	done := func(days int, err error) { reports = append(reports, report{days, err}) }
	held, err := x.RunOnce(context.Background(), Schedule{Done: done})
	if !held || err == nil || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), "0 days written before") {
		t.Fatalf("RunOnce with a failing database: %v, %v", held, err)
	}
	held, err = x.RunOnce(context.Background(), Schedule{Done: done, Lock: func(context.Context) (func(), bool, error) {
		return nil, false, errors.New("server gone")
	}})
	if held || err == nil || !strings.Contains(err.Error(), "lock: server gone") {
		t.Fatalf("RunOnce when the lock fails: %v, %v", held, err)
	}
	taken := func(context.Context) (func(), bool, error) { return nil, false, nil }
	if held, err := x.RunOnce(context.Background(), Schedule{Done: done, Lock: taken}); held || err != nil {
		t.Fatalf("RunOnce with the lock taken: %v, %v", held, err)
	}
	if held, err := x.RunOnce(context.Background(), Schedule{Done: done}); !held || err != nil {
		t.Fatalf("RunOnce: %v, %v", held, err)
	}
	days, err := db.ExportDays(context.Background(), time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	// Reported: the failed read, the failed lock, and the run that wrote every day; not the lock taken.
	if len(reports) != 3 || reports[0].err == nil || reports[1].err == nil || reports[2].err != nil ||
		reports[2].days != len(days) || reports[0].days != 0 {
		t.Errorf("reports %+v, want two failures, then %d days written", reports, len(days))
	}
}
