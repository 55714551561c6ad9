package sqlite

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/store"
)

// Close commits the Tx calls already queued for the writer, as its comment says, rather
// than failing them: a caller whose call was accepted before Close gets its real result.
func TestCloseCommitsQueuedCalls(t *testing.T) {
	dir := t.TempDir()
	s := openIn(t, dir, DurabilityProcess)
	release, first := blockWriter(t, s, nil)

	const n = 5
	results := make(chan error, n)
	for i := range n {
		go func() {
			results <- s.Tx(context.Background(), func(tx store.Tx) error {
				_, err := tx.AccountUpsert(context.Background(), store.Account{App: testApp, UserID: fmt.Sprintf("queued-%d", i), CreatedAt: time.UnixMilli(1)})
				return err
			})
		}()
	}
	waitQueued(t, s, n)
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	// Close has begun (no new calls are admitted) while the n calls are still queued.
	select {
	case <-s.quit:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not begin")
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatalf("the blocking Tx: %v", err)
	}
	for range n {
		select {
		case err := <-results:
			if err != nil {
				t.Errorf("queued Tx during Close = %v, want nil", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a queued Tx was not answered")
		}
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Tx(context.Background(), func(store.Tx) error { return nil }); err != ErrClosed {
		t.Errorf("Tx after Close = %v, want ErrClosed", err)
	}

	s = openIn(t, dir, DurabilityProcess)
	defer s.Close()
	for i := range n {
		if _, err := s.AccountGet(t.Context(), testApp, fmt.Sprintf("queued-%d", i)); err != nil {
			t.Errorf("account of queued call %d after reopen: %v", i, err)
		}
	}
}
