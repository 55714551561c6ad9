package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/store/sqlstore"
)

// fillFinished stores n delivered events of testApp with a 2 KiB body each, finished at
// at, and returns the database's page count.
func fillFinished(t *testing.T, s *Store, n int, at time.Time) {
	t.Helper()
	body := []byte(`{"x":"` + strings.Repeat("a", 2048) + `"}`)
	for i := 0; i < n; i += 500 {
		err := s.Tx(t.Context(), func(tx store.Tx) error {
			for j := i; j < min(i+500, n); j++ {
				e := store.Event{App: testApp, RoomID: "r", Command: "Live.CallbackAfterChangeOwner", Body: body,
					CreatedAt: at, NextAttemptAt: at, State: store.EventPending}
				if err := tx.EventInsert(t.Context(), &e); err != nil {
					return err
				}
				a := store.Attempt{EventID: e.ID, N: 1, StartedAt: at, URL: "http://x", StatusCode: 200, Response: "{}"}
				if err := tx.EventRecordAttempt(t.Context(), a, store.EventUpdate{State: store.EventDelivered, DeliveredAt: at}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func pruneAll(t *testing.T, s *Store, before time.Time) int {
	t.Helper()
	total := 0
	for {
		var n int
		err := s.Tx(t.Context(), func(tx store.Tx) error {
			var err error
			n, err = tx.EventPrune(t.Context(), store.EventPruneParams{App: testApp, DeliveredBefore: before, DeadBefore: before, Limit: 500})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		total += n
		if n < 500 {
			return total
		}
	}
}

// A new database has auto_vacuum=INCREMENTAL; after a purge Compact gives the free pages
// back, beyond a tenth of the file, in steps of at most maxPages.
func TestCompactReleasesFreePages(t *testing.T) {
	s := openTemp(t, DurabilityProcess)
	if v := pragma(t, s, "auto_vacuum"); v != "2" {
		t.Fatalf("auto_vacuum of a new database = %s, want 2 (incremental)", v)
	}
	at := time.UnixMilli(1_700_000_000_000)
	fillFinished(t, s, 3000, at)
	if n := pruneAll(t, s, at.Add(time.Second)); n != 3000 {
		t.Fatalf("pruned %d, want 3000", n)
	}
	free0, _ := strconv.Atoi(pragma(t, s, "freelist_count"))
	pages0, _ := strconv.Atoi(pragma(t, s, "page_count"))
	if free0 < pages0/2 {
		t.Fatalf("after the purge %d of %d pages are free; the test needs most of them free", free0, pages0)
	}
	n, err := s.Compact(t.Context(), 100)
	if err != nil || n != 100 {
		t.Fatalf("Compact(100) = %d, %v; want 100 pages released", n, err)
	}
	for range 1000 {
		if n, err = s.Compact(t.Context(), 1000); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	free, _ := strconv.Atoi(pragma(t, s, "freelist_count"))
	pages, _ := strconv.Atoi(pragma(t, s, "page_count"))
	if pages >= pages0/2 || free > pages/compactKeepDiv+1 {
		t.Errorf("after compacting: %d pages, %d free (before: %d pages, %d free)", pages, free, pages0, free0)
	}
}

// A database created before auto_vacuum was set (any table already there) keeps
// auto_vacuum=NONE; Compact then does nothing and freed pages are reused.
func TestCompactOnOldDatabaseReusesPages(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "roomd.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE older_version (x)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s := openIn(t, dir, DurabilityProcess)
	defer s.Close()
	if v := pragma(t, s, "auto_vacuum"); v != "0" {
		t.Fatalf("auto_vacuum of an existing database = %s, want 0 (none)", v)
	}
	at := time.UnixMilli(1_700_000_000_000)
	fillFinished(t, s, 2000, at)
	pruneAll(t, s, at.Add(time.Second))
	pages0, _ := strconv.Atoi(pragma(t, s, "page_count"))
	if n, err := s.Compact(t.Context(), 1000); err != nil || n != 0 {
		t.Fatalf("Compact on auto_vacuum=NONE = %d, %v; want 0, nil", n, err)
	}
	fillFinished(t, s, 2000, at)
	if pages, _ := strconv.Atoi(pragma(t, s, "page_count")); pages > pages0+pages0/20 {
		t.Errorf("refilling after a purge grew the file from %d to %d pages: free pages not reused", pages0, pages)
	}
}

// The pruning query reads the partial index events_finished, not the whole table.
func TestPruneUsesFinishedIndex(t *testing.T) {
	s := openTemp(t, DurabilityProcess)
	var plan []string
	err := s.Tx(t.Context(), func(stx store.Tx) error {
		rows, err := stx.(*sqlstore.Tx).Querier().Query(context.Background(), "EXPLAIN QUERY PLAN "+sqlstore.PruneSelect, int64(testApp), "delivered", int64(1), 500)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				return err
			}
			plan = append(plan, detail)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan) == 0 || !strings.Contains(strings.Join(plan, "; "), "USING INDEX events_finished") {
		t.Errorf("prune plan %q does not use events_finished", plan)
	}
	if strings.Contains(strings.Join(plan, "; "), "TEMP B-TREE") {
		t.Errorf("prune plan %q sorts: the index should give the order", plan)
	}
}
