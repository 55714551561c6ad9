package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/store/sqlstore"
	"github.com/roomd/roomd/internal/store/storetest"
)

const testApp uint64 = 1400000000

// openIn opens the database file roomd.db in dir. The caller closes it.
func openIn(t testing.TB, dir, durability string) *Store {
	t.Helper()
	s, err := Open(context.Background(), Options{Path: filepath.Join(dir, "roomd.db"), Durability: durability})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// openTemp opens a new database in a temporary directory, closed when t ends.
func openTemp(t testing.TB, durability string) *Store {
	t.Helper()
	s := openIn(t, t.TempDir(), durability)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dir string) store.Store { return openIn(t, dir, DurabilityProcess) })
}

// pragma reads a PRAGMA on the write connection, from inside a transaction.
func pragma(t *testing.T, s *Store, name string) string {
	t.Helper()
	var v string
	err := s.Tx(t.Context(), func(stx store.Tx) error {
		return stx.(*sqlstore.Tx).Querier().QueryRow(t.Context(), "PRAGMA "+name).Scan(&v)
	})
	if err != nil {
		t.Fatalf("PRAGMA %s: %v", name, err)
	}
	return v
}

func TestDurability(t *testing.T) {
	for _, c := range []struct{ durability, synchronous string }{
		{"", "1"}, // the default is process
		{DurabilityProcess, "1"},
		{DurabilityPower, "2"},
	} {
		t.Run("durability="+c.durability, func(t *testing.T) {
			dir := t.TempDir()
			s := openIn(t, dir, c.durability)
			if got := pragma(t, s, "synchronous"); got != c.synchronous {
				t.Errorf("synchronous = %s, want %s", got, c.synchronous)
			}
			if got := pragma(t, s, "journal_mode"); got != "wal" {
				t.Errorf("journal_mode = %s, want wal", got)
			}
			err := s.Tx(t.Context(), func(tx store.Tx) error {
				return tx.RoomInsert(t.Context(), store.Room{App: testApp, RoomID: "r", Owner: "u", CreatedAt: time.UnixMilli(1), Info: []byte("{}")})
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = openIn(t, dir, c.durability)
			defer s.Close()
			if _, err := s.RoomGet(t.Context(), testApp, "r"); err != nil {
				t.Errorf("RoomGet after reopen: %v", err)
			}
		})
	}
}

func TestOpenRejectsUnknownDurability(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	for _, d := range []string{"fast", "Power", "none"} {
		s, err := Open(t.Context(), Options{Path: filepath.Join(dir, "roomd.db"), Durability: d})
		if err == nil {
			s.Close()
			t.Fatalf("Open with durability %q succeeded", d)
		}
		if !strings.Contains(err.Error(), strconv.Quote(d)) {
			t.Errorf("error %q does not name the value %q", err, d)
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a rejected Open touched the data directory: %v", err)
	}
}

// latestMigration is the highest migration number embedded in the binary.
func latestMigration(t *testing.T) int {
	t.Helper()
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations: %v", err)
	}
	latest := 0
	for _, f := range files {
		n, err := strconv.Atoi(strings.SplitN(filepath.Base(f), "_", 2)[0])
		if err != nil {
			t.Fatalf("migration %s: %v", f, err)
		}
		latest = max(latest, n)
	}
	return latest
}

func userVersion(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	if err := db.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMigrate(t *testing.T) {
	latest := latestMigration(t)
	path := filepath.Join(t.TempDir(), "sub", "roomd.db")
	for i := range 3 {
		v, err := Migrate(t.Context(), path)
		if err != nil {
			t.Fatalf("Migrate #%d: %v", i+1, err)
		}
		if v != latest {
			t.Errorf("Migrate #%d = %d, want %d", i+1, v, latest)
		}
	}
	if got := userVersion(t, path); got != latest {
		t.Errorf("user_version = %d, want %d", got, latest)
	}
	// Open migrates too, and a migrated database opens without changes.
	s, err := Open(t.Context(), Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if v, err := Migrate(t.Context(), path); err != nil || v != latest {
		t.Errorf("Migrate after Open = %d, %v; want %d", v, err, latest)
	}
}

func TestMigrateAllStepsFromEmpty(t *testing.T) {
	// Each migration, applied to a database at the previous version, brings it to its own
	// version; the test replays them one at a time as an upgrade would.
	latest := latestMigration(t)
	path := filepath.Join(t.TempDir(), "roomd.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	files, _ := fs.Glob(migrations, "migrations/*.sql")
	for _, f := range files[:len(files)-1] {
		body, _ := migrations.ReadFile(f)
		if _, err := db.Exec(string(body)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		n, _ := strconv.Atoi(strings.SplitN(filepath.Base(f), "_", 2)[0])
		if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d", n)); err != nil {
			t.Fatal(err)
		}
	}
	if v, err := Migrate(t.Context(), path); err != nil || v != latest {
		t.Fatalf("Migrate from the previous version = %d, %v; want %d", v, err, latest)
	}
}

func TestReopenKeepsData(t *testing.T) {
	dir := t.TempDir()
	s := openIn(t, dir, DurabilityProcess)
	id := s.Instance()
	var ev store.Event
	err := s.Tx(t.Context(), func(tx store.Tx) error {
		if _, err := tx.AccountUpsert(t.Context(), store.Account{App: testApp, UserID: "alice", CreatedAt: time.UnixMilli(5)}); err != nil {
			return err
		}
		ev = store.Event{App: testApp, RoomID: "r", Command: "C", Body: []byte("{}"), CreatedAt: time.UnixMilli(5), State: store.EventPending}
		return tx.EventInsert(t.Context(), &ev)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopened with the other durability level: the file format is the same.
	s = openIn(t, dir, DurabilityPower)
	defer s.Close()
	if s.Instance() != id {
		t.Errorf("Instance = %q after reopen, want %q", s.Instance(), id)
	}
	if _, err := s.AccountGet(t.Context(), testApp, "alice"); err != nil {
		t.Errorf("AccountGet after reopen: %v", err)
	}
	if got, err := s.EventGet(t.Context(), ev.ID); err != nil || got.State != store.EventPending {
		t.Errorf("EventGet after reopen = %+v, %v", got, err)
	}
}

func TestTxAfterClose(t *testing.T) {
	s := openIn(t, t.TempDir(), DurabilityProcess)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	for range 200 {
		done := make(chan error, 1)
		go func() { done <- s.Tx(context.Background(), func(store.Tx) error { return nil }) }()
		select {
		case err := <-done:
			if !errors.Is(err, ErrClosed) {
				t.Fatalf("Tx after Close = %v, want ErrClosed", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Tx after Close hangs")
		}
	}
}

// blockWriter starts a Tx whose fn runs first (optionally) and then waits until release is
// closed; it returns once fn is running, so the writer is busy and later Tx calls queue up.
// The returned channel yields that Tx's result.
func blockWriter(t *testing.T, s *Store, first func(store.Tx) error) (release chan struct{}, result chan error) {
	t.Helper()
	entered := make(chan struct{})
	release = make(chan struct{})
	result = make(chan error, 1)
	go func() {
		result <- s.Tx(context.Background(), func(tx store.Tx) error {
			var err error
			if first != nil {
				err = first(tx)
			}
			close(entered)
			<-release
			return err
		})
	}()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the blocking Tx did not start")
	}
	return release, result
}

// waitQueued polls until n Tx calls are queued for the writer.
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(s.reqs) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d Tx calls queued after 10s, want %d", len(s.reqs), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func room(id, owner string) store.Room {
	return store.Room{App: testApp, RoomID: id, Owner: owner, CreatedAt: time.UnixMilli(1), PublicVisible: true, Info: []byte("{}")}
}

// TestSavepointsInOneBatch queues Tx calls while the writer is busy, so that they all run
// in the same database transaction, and checks that failing, conflicting and panicking
// calls are undone alone.
func TestSavepointsInOneBatch(t *testing.T) {
	s := openTemp(t, DurabilityProcess)
	ctx := t.Context()
	release, first := blockWriter(t, s, nil)

	const n = 100
	var (
		wg    sync.WaitGroup
		errs  [n]error
		hooks [n]atomic.Int32
		order []int // hook order; hooks run on the writer goroutine, one after another
	)
	for i := range n {
		wg.Go(func() {
			defer func() {
				if p := recover(); p != nil {
					errs[i] = fmt.Errorf("panic: %v", p)
				}
			}()
			errs[i] = s.Tx(ctx, func(tx store.Tx) error {
				tx.AfterCommit(func() { hooks[i].Add(1); order = append(order, i) })
				id := fmt.Sprintf("r%03d", i)
				if err := tx.RoomInsert(ctx, room(id, "u")); err != nil {
					return err
				}
				switch {
				case i == 7:
					panic("boom")
				case i%4 == 0:
					return errors.New("fail")
				case i%4 == 1:
					// A failed statement inside the savepoint, then more writes.
					if err := tx.RoomInsert(ctx, room(id, "again")); !errors.Is(err, store.ErrConflict) {
						return fmt.Errorf("duplicate insert = %v", err)
					}
					return tx.RoomSetOwner(ctx, testApp, id, "second")
				case i%4 == 2:
					return tx.RoomInsert(ctx, room("shared", id))
				}
				return nil
			})
		})
	}
	waitQueued(t, s, n)
	close(release)
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatal(err)
	}

	committed := 0
	for i := range n {
		id := fmt.Sprintf("r%03d", i)
		r, getErr := s.RoomGet(ctx, testApp, id)
		var wantOK bool
		switch {
		case i == 7:
			if errs[i] == nil || !strings.Contains(errs[i].Error(), "panic: boom") {
				t.Errorf("tx %d = %v, want the panic", i, errs[i])
			}
		case i%4 == 0:
			if errs[i] == nil || errs[i].Error() != "fail" {
				t.Errorf("tx %d = %v, want fail", i, errs[i])
			}
		case i%4 == 1:
			wantOK = true
			if getErr == nil && r.Owner != "second" {
				t.Errorf("room %s owner = %s, want second", id, r.Owner)
			}
		case i%4 == 2:
			wantOK = errs[i] == nil
			if errs[i] != nil && !errors.Is(errs[i], store.ErrConflict) {
				t.Errorf("tx %d = %v, want nil or ErrConflict", i, errs[i])
			}
		default:
			wantOK = true
		}
		if wantOK {
			committed++
			if errs[i] != nil || getErr != nil || hooks[i].Load() != 1 {
				t.Errorf("tx %d: err %v, RoomGet %v, hook ran %d times; want committed", i, errs[i], getErr, hooks[i].Load())
			}
		} else if !errors.Is(getErr, store.ErrNotFound) || hooks[i].Load() != 0 {
			t.Errorf("tx %d: RoomGet %v, hook ran %d times; want no trace", i, getErr, hooks[i].Load())
		}
	}
	if got, err := s.RoomCount(ctx, testApp); err != nil || got != committed+1 {
		t.Errorf("RoomCount = %d, %v; want %d", got, err, committed+1)
	}
	// Hooks run in the order the calls ran in the batch, which is queue order; each call's
	// own hooks are in registration order (storetest checks that).
	if len(order) != committed {
		t.Errorf("%d hooks ran, want %d", len(order), committed)
	}
}

func TestCancelWhileQueued(t *testing.T) {
	s := openTemp(t, DurabilityProcess)
	release, first := blockWriter(t, s, nil)
	ctx, cancel := context.WithCancel(t.Context())
	ran := false
	done := make(chan error, 1)
	go func() {
		done <- s.Tx(ctx, func(tx store.Tx) error {
			ran = true
			return tx.RoomInsert(context.Background(), room("r", "u"))
		})
	}()
	waitQueued(t, s, 1)
	cancel()
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Tx cancelled while queued = %v, want context.Canceled", err)
	}
	if ran {
		t.Error("fn of a cancelled, queued Tx ran")
	}
	if _, err := s.RoomGet(t.Context(), testApp, "r"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RoomGet = %v, want ErrNotFound", err)
	}
}

func TestReadsDoNotWaitForWriter(t *testing.T) {
	s := openTemp(t, DurabilityProcess)
	if err := s.Tx(t.Context(), func(tx store.Tx) error { return tx.RoomInsert(t.Context(), room("old", "u")) }); err != nil {
		t.Fatal(err)
	}
	// The writer holds the write lock with an uncommitted insert.
	release, first := blockWriter(t, s, func(tx store.Tx) error { return tx.RoomInsert(t.Context(), room("new", "u")) })
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := s.RoomGet(ctx, testApp, "old"); err != nil {
		t.Errorf("RoomGet while the writer is busy: %v", err)
	}
	if n, err := s.RoomCount(ctx, testApp); err != nil || n != 1 {
		t.Errorf("RoomCount while the writer is busy = %d, %v; want 1", n, err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if n, err := s.RoomCount(t.Context(), testApp); err != nil || n != 2 {
		t.Errorf("RoomCount after commit = %d, %v; want 2", n, err)
	}
}

// benchStore opens a store with one room for the benchmarks.
func benchStore(b *testing.B, durability string) *Store {
	b.Helper()
	s := openTemp(b, durability)
	if err := s.Tx(context.Background(), func(tx store.Tx) error { return tx.RoomInsert(context.Background(), room("bench", "u0")) }); err != nil {
		b.Fatal(err)
	}
	return s
}

// benchTx is the benchmarks' unit of work: one room owner change and one outbox event,
// as a change_owner API call writes.
func benchTx(ctx context.Context, s *Store, i int) error {
	return s.Tx(ctx, func(tx store.Tx) error {
		owner := "u" + strconv.Itoa(i)
		if err := tx.RoomSetOwner(ctx, testApp, "bench", owner); err != nil {
			return err
		}
		ev := store.Event{App: testApp, RoomID: "bench", Command: "Live.CallbackAfterChangeOwner",
			Body:      []byte(`{"CallbackCommand":"Live.CallbackAfterChangeOwner","RoomId":"bench","Owner_Account":"` + owner + `"}`),
			CreatedAt: time.UnixMilli(1), State: store.EventPending, NextAttemptAt: time.UnixMilli(1)}
		return tx.EventInsert(ctx, &ev)
	})
}

var durabilities = []string{DurabilityProcess, DurabilityPower}

// BenchmarkTxSingle commits one Tx at a time: every Tx is its own database transaction.
func BenchmarkTxSingle(b *testing.B) {
	for _, d := range durabilities {
		b.Run(d, func(b *testing.B) {
			s := benchStore(b, d)
			ctx := context.Background()
			ops := 0
			for b.Loop() {
				if err := benchTx(ctx, s, ops); err != nil {
					b.Fatal(err)
				}
				ops++
			}
			b.ReportMetric(float64(ops)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}

// BenchmarkTxParallel commits from many goroutines at once; the writer groups the calls
// that queue up during a commit into the next transaction (group commit).
func BenchmarkTxParallel(b *testing.B) {
	for _, d := range durabilities {
		b.Run(d, func(b *testing.B) {
			s := benchStore(b, d)
			ctx := context.Background()
			var ops atomic.Int64
			b.SetParallelism(32) // goroutines per GOMAXPROCS: requests from many clients
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := benchTx(ctx, s, int(ops.Add(1))); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(ops.Load())/b.Elapsed().Seconds(), "ops/s")
		})
	}
}

// BenchmarkRecordAttempts measures what the dispatcher writes for a group of 16 delivered
// callbacks (one op): their events' new state and their attempts, in one Tx, committed.
func BenchmarkRecordAttempts(b *testing.B) {
	const group = 16
	s := benchStore(b, DurabilityProcess)
	ctx := context.Background()
	body := []byte(`{"CallbackCommand":"Live.CallbackAfterChangeOwner","RoomId":"bench","Owner_Account":"u1","EventTime":1700000000000}`)
	ids := make([]int64, 64*group)
	if err := s.Tx(ctx, func(tx store.Tx) error {
		for i := range ids {
			ev := store.Event{App: testApp, RoomID: "bench", Command: "Live.CallbackAfterChangeOwner", Body: body,
				ClientIP: "127.0.0.1", Platform: "RESTAPI", CreatedAt: time.Now(), State: store.EventPending, NextAttemptAt: time.Now()}
			if err := tx.EventInsert(ctx, &ev); err != nil {
				return err
			}
			ids[i] = ev.ID
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	recs := make([]store.AttemptRecord, group)
	n := 0
	b.ReportAllocs()
	var r0, r1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
	defer func() {
		syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
		cpu := r1.Utime.Nano() + r1.Stime.Nano() - r0.Utime.Nano() - r0.Stime.Nano()
		b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
	}()
	for b.Loop() {
		now := time.Now()
		for i := range recs {
			recs[i] = store.AttemptRecord{
				Attempt: store.Attempt{EventID: ids[(n*group+i)%len(ids)], N: 1 + n*group/len(ids), StartedAt: now, Duration: 300 * time.Microsecond,
					URL: "http://127.0.0.1:9/callback", StatusCode: 200, Response: `{"ErrorCode":0}`,
					RequestURL: "http://127.0.0.1:9/callback?SdkAppId=1400000000&CallbackCommand=Live.CallbackAfterChangeOwner", RequestHeaders: "Content-Type: application/json"},
				Next: store.EventUpdate{State: store.EventDelivered, DeliveredAt: now},
			}
		}
		if err := s.Tx(ctx, func(tx store.Tx) error { return tx.EventRecordAttempts(ctx, recs) }); err != nil {
			b.Fatal(err)
		}
		n++
	}
}
