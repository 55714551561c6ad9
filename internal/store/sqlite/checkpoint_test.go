package sqlite

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/store"
)

// TestCheckpointerBoundsTheWAL commits far more pages than the WAL may hold and checks
// that the WAL file stays bounded (the background checkpointer copies pages out and the
// writer starts the WAL over), that checkpoints happened off the writer, and that every
// commit is still there after a reopen.
func TestCheckpointerBoundsTheWAL(t *testing.T) {
	dir := t.TempDir()
	s := openIn(t, dir, DurabilityProcess)
	// Small limits, so that the test writes a few megabytes instead of hundreds.
	s.ckpt.threshold, s.ckpt.hardLimit = 50, 200
	ctx := t.Context()
	body := bytes.Repeat([]byte("x"), 3000) // about one page per event
	const commits = 4000
	for i := range commits {
		err := s.Tx(ctx, func(tx store.Tx) error {
			return tx.EventInsert(ctx, &store.Event{App: testApp, RoomID: "r", Command: "c", Body: body, CreatedAt: time.UnixMilli(1), NextAttemptAt: time.UnixMilli(1)})
		})
		if err != nil {
			t.Fatalf("commit %d: %v", i, err)
		}
	}
	st, err := os.Stat(filepath.Join(dir, "roomd.db-wal"))
	if err != nil {
		t.Fatal(err)
	}
	// Unbounded, the WAL would hold every page: about 5,000 frames of 4 KiB; bounded, it
	// stays within a few times the hard limit (200 here).
	const frame = 4096 + 24
	if max := int64(2500 * frame); st.Size() > max {
		t.Errorf("WAL is %d bytes (%d frames), want at most %d frames", st.Size(), st.Size()/frame, max/frame)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTemp2(t, dir)
	n, err := s.EventListUndelivered(ctx, store.EventListParams{Limit: commits + 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(n) != commits {
		t.Fatalf("after reopen: %d events, want %d", len(n), commits)
	}
}

// openTemp2 reopens the database in dir, closed when t ends.
func openTemp2(t *testing.T, dir string) *Store {
	t.Helper()
	s := openIn(t, dir, DurabilityProcess)
	t.Cleanup(func() { s.Close() })
	return s
}
