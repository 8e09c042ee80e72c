package cli

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/claude-insights/insights/config"
)

func TestDaemonImportsThenWaitsForSignal(t *testing.T) {
	eachDriver(t, testDaemonImportsThenWaitsForSignal)
}

func testDaemonImportsThenWaitsForSignal(t *testing.T, dbPath string) {
	isolate(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		app := New("test")
		app.Writer, app.ErrWriter = io.Discard, io.Discard
		done <- app.RunContext(ctx, []string{"insights", "--db", dbPath, "--claude-dir", testdataDir})
	}()

	deadline := time.Now().Add(20 * time.Second)
	for {
		if imported(t, dbPath) {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("daemon exited before being told to: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("daemon did not import testdata within 20 s")
		}
	}
	select {
	case err := <-done:
		t.Fatalf("daemon exited after importing, without a signal: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("daemon stopped with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("daemon did not stop when cancelled")
	}
}

// imported reports whether the testdata's main session has its usage in the
// database at path (a file or a DSN).
func imported(t *testing.T, path string) bool {
	t.Helper()
	db, err := openDB(context.Background(), config.Config{DB: path, DBConnections: 1})
	if err != nil {
		return false // not created yet
	}
	defer db.Close()
	s, err := db.Session(context.Background(), "5f0c2a7e-3b1d-4c8e-9a21-7d4e6b8f1c03")
	return err == nil && s.Output > 0
}
