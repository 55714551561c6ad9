package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/testkit"
)

// A statement that fails when the pipelined writer sends it had already told its caller
// that it succeeded: its group must not commit, the group runs again unpipelined, where the
// statement's error reaches its call, and the other calls of the group commit. A call that
// fails on its own (nothing failed at a send) runs once, and its error stands.
func TestWriterPipelinedFailure(t *testing.T) {
	s, exec, has := openWriterTest(t)
	ctx := context.Background()
	var err error

	// One call: the second insert of a key fails at the send (the commit).
	runs := 0
	err = s.Tx(ctx, func(tx store.Tx) error {
		runs++
		if err := exec(tx, "INSERT INTO meta (key, value) VALUES ('p1', 'x')"); err != nil {
			return err
		}
		return exec(tx, "INSERT INTO meta (key, value) VALUES ('p1', 'y')")
	})
	if !isUniqueViolation(err) || runs != 2 {
		t.Fatalf("Tx = %v after %d runs; want a unique violation after 2 (pipelined, then not)", err, runs)
	}
	if has("p1") {
		t.Fatal("the failing call's first insert committed")
	}

	// One call that fails on its own after a read: it runs once.
	runs = 0
	mine := errors.New("mine")
	err = s.Tx(ctx, func(tx store.Tx) error {
		runs++
		if err := exec(tx, "INSERT INTO meta (key, value) VALUES ('p2', 'x')"); err != nil {
			return err
		}
		if _, err := tx.AccountGet(ctx, 1, "nobody"); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("AccountGet: %v", err)
		}
		return mine
	})
	if err != mine || runs != 1 || has("p2") {
		t.Fatalf("Tx = %v after %d runs (p2 committed: %v); want mine after 1, nothing committed", err, runs, has("p2"))
	}

	// Many calls at once, some of them grouped with a failing one.
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			err := s.Tx(ctx, func(tx store.Tx) error {
				if err := exec(tx, "INSERT INTO meta (key, value) VALUES ($1, 'x')", fmt.Sprintf("g%d", i)); err != nil {
					return err
				}
				if i%10 == 3 {
					// Fails at the send, after the caller was told it succeeded.
					return exec(tx, "INSERT INTO meta (key, value) VALUES ($1, 'y')", fmt.Sprintf("g%d", i))
				}
				_, err := tx.AccountGet(ctx, 1, "nobody")
				if errors.Is(err, store.ErrNotFound) {
					err = nil
				}
				return err
			})
			if (i%10 == 3) != isUniqueViolation(err) {
				t.Errorf("call %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	for i := range 40 {
		if want := i%10 != 3; has(fmt.Sprintf("g%d", i)) != want {
			t.Errorf("g%d committed: %v, want %v", i, !want, want)
		}
	}

	// A unique violation of a guarded insert (ErrConflict) leaves the transaction usable,
	// pipelined, in a call that goes on.
	f := store.Follow{App: 1, From: "a", To: "b"}
	runs = 0
	err = s.Tx(ctx, func(tx store.Tx) error {
		runs++
		if err := tx.FollowInsert(ctx, f); err != nil {
			return err
		}
		if err := tx.FollowInsert(ctx, f); !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("second FollowInsert: %v", err)
		}
		return exec(tx, "INSERT INTO meta (key, value) VALUES ('p3', 'x')")
	})
	if err != nil || runs != 1 || !has("p3") {
		t.Fatalf("Tx = %v after %d runs, p3 committed: %v; want nil after 1, committed", err, runs, has("p3"))
	}
}

// The statements the pipelined writer queues without a round trip because they fail
// only rarely (Dialect.ExecOne and Dialect.ExecGuardedRarely) tell their caller of the
// failure as the unpipelined writer would: the group runs again, unpipelined, and the
// call sees ErrNotFound or ErrConflict; nothing of the failing run commits.
func TestWriterPipelinedRareFailures(t *testing.T) {
	s, exec, has := openWriterTest(t)
	ctx := context.Background()
	var err error
	now := time.Now()
	ev := store.Event{App: 1, RoomID: "r1", Command: "C", Body: []byte(`{}`), ClientIP: "127.0.0.1", Platform: "RESTAPI",
		CreatedAt: now, State: store.EventPending, NextAttemptAt: now}
	if err := s.Tx(ctx, func(tx store.Tx) error { return tx.EventInsert(ctx, &ev) }); err != nil {
		t.Fatal(err)
	}
	record := func(id int64) []store.AttemptRecord {
		return []store.AttemptRecord{{Attempt: store.Attempt{EventID: id, N: 1, StartedAt: now, URL: "http://127.0.0.1:9/cb", StatusCode: 200},
			Next: store.EventUpdate{State: store.EventDelivered, DeliveredAt: now}}}
	}

	// A record of a missing event: queued, it fails at the commit; run again, the call
	// sees ErrNotFound and ends on its own terms (here: it writes p4 and returns nil).
	runs := 0
	err = s.Tx(ctx, func(tx store.Tx) error {
		runs++
		if err := exec(tx, "INSERT INTO meta (key, value) VALUES ('p4', 'x')"); err != nil {
			return err
		}
		if err := tx.EventRecordAttempts(ctx, record(ev.ID+1000)); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("EventRecordAttempts of a missing event: %v", err)
		}
		return nil
	})
	if err != nil || runs != 2 || !has("p4") {
		t.Fatalf("Tx = %v after %d runs (p4 committed: %v); want nil after 2 (pipelined, then not), committed", err, runs, has("p4"))
	}
	if atts, err := s.AttemptList(ctx, ev.ID+1000); err != nil || len(atts) != 0 {
		t.Fatalf("attempts of the missing event = %+v, %v; want none", atts, err)
	}

	// A record of an event that exists, grouped with many others: one run, committed.
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			err := s.Tx(ctx, func(tx store.Tx) error {
				if i == 7 {
					return tx.EventRecordAttempts(ctx, record(ev.ID))
				}
				if i%5 == 2 {
					// A missing event in the same group: this call's error only.
					if err := tx.EventRecordAttempts(ctx, record(ev.ID+2000+int64(i))); !errors.Is(err, store.ErrNotFound) {
						return fmt.Errorf("missing event: %v", err)
					}
				}
				return exec(tx, "INSERT INTO meta (key, value) VALUES ($1, 'x')", fmt.Sprintf("h%d", i))
			})
			if err != nil {
				t.Errorf("call %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	for i := range 20 {
		if want := i != 7; has(fmt.Sprintf("h%d", i)) != want {
			t.Errorf("h%d committed: %v, want %v", i, !want, want)
		}
	}
	if got, err := s.EventGet(ctx, ev.ID); err != nil || got.State != store.EventDelivered {
		t.Fatalf("event = %+v, %v; want delivered", got, err)
	}

	// A user put on a second seat: queued, the violation fails the commit; run again, the
	// call sees ErrConflict and the transaction stays usable.
	runs = 0
	err = s.Tx(ctx, func(tx store.Tx) error {
		runs++
		if err := tx.SeatPut(ctx, store.Seat{App: 1, RoomID: "r1", Index: 0, UserID: "u"}); err != nil {
			return err
		}
		if err := tx.SeatPut(ctx, store.Seat{App: 1, RoomID: "r1", Index: 1, UserID: "u"}); !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("second SeatPut: %v", err)
		}
		return exec(tx, "INSERT INTO meta (key, value) VALUES ('p5', 'x')")
	})
	if err != nil || runs != 2 || !has("p5") {
		t.Fatalf("Tx = %v after %d runs (p5 committed: %v); want nil after 2, committed", err, runs, has("p5"))
	}
	seats, err := s.SeatList(ctx, 1, "r1")
	if err != nil || len(seats) != 1 || seats[0].Index != 0 || seats[0].UserID != "u" {
		t.Fatalf("seats = %+v, %v; want u on seat 0 only", seats, err)
	}
}

// openWriterTest opens a store on a schema of its own, closed when the test ends, with two
// helpers: exec runs a statement on a Tx's writer, has reports whether meta holds key.
func openWriterTest(t *testing.T) (s *Store, exec func(tx store.Tx, q string, args ...any) error, has func(key string) bool) {
	t.Helper()
	s, err := Open(t.Context(), Options{DSN: testkit.PostgresSchema(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	exec = func(tx store.Tx, q string, args ...any) error {
		_, err := tx.(*pgTx).Querier().Exec(context.Background(), q, args...)
		return err
	}
	has = func(key string) bool {
		var n int
		if err := s.pool.QueryRow(context.Background(), "SELECT COUNT(*) FROM meta WHERE key = $1", key).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	return s, exec, has
}

// TestWriterTakesIDBlocksTogether: a group queues, with its BEGIN, a block of ids of each
// sequence the previous transaction took ids of (so the block comes back with its first
// round trip), and a block taken later takes the others along; a sequence the previous
// transaction did not use is not taken. The ids handed out stay unique and increasing.
func TestWriterTakesIDBlocksTogether(t *testing.T) {
	s, _, _ := openWriterTest(t)
	ctx := context.Background()
	now := time.Now()
	var eventIDs, broadcastIDs []int64
	change := func(withBroadcast bool) (broadcastIDsTaken, prefetched bool) {
		t.Helper()
		if err := s.Tx(ctx, func(tx store.Tx) error {
			prefetched = tx.(*pgTx).Querier().(*writer).prefetch != nil
			ev := store.Event{App: 1, RoomID: "r1", Command: "C", Body: []byte(`{}`), CreatedAt: now, State: store.EventPending, NextAttemptAt: now}
			if err := tx.EventInsert(ctx, &ev); err != nil {
				return err
			}
			eventIDs = append(eventIDs, ev.ID)
			broadcastIDsTaken = len(tx.(*pgTx).Querier().(*writer).ids[broadcastsSeq]) > 0
			if !withBroadcast {
				return nil
			}
			id, err := insertBroadcast(ctx, tx)
			broadcastIDs = append(broadcastIDs, id)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return broadcastIDsTaken, prefetched
	}
	for i, c := range []struct{ broadcast, wantTakenAlong, wantPrefetched bool }{
		{true, false, false}, // nothing before: each block is taken when needed
		{true, true, true},
		{true, true, true},
		{false, true, true}, // the previous one broadcast
		{false, false, true},
		{true, false, true},
	} {
		taken, prefetched := change(c.broadcast)
		if taken != c.wantTakenAlong || prefetched != c.wantPrefetched {
			t.Errorf("transaction %d: broadcast ids taken with the event ids: %v, want %v; ids queued with BEGIN: %v, want %v",
				i, taken, c.wantTakenAlong, prefetched, c.wantPrefetched)
		}
	}
	checkIncreasing(t, eventIDs, broadcastIDs)
}

// insertBroadcast inserts a broadcast of room r1 in tx and returns its id.
func insertBroadcast(ctx context.Context, tx store.Tx) (int64, error) {
	b := store.Broadcast{App: 1, RoomID: "r1", Origin: "n1", Kind: "K", Body: []byte(`{}`)}
	err := tx.(store.ClusterTx).BroadcastInsert(ctx, &b)
	return b.ID, err
}

// checkIncreasing reports each list of ids that is not unique and increasing.
func checkIncreasing(t *testing.T, lists ...[]int64) {
	t.Helper()
	for _, ids := range lists {
		if !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != len(ids) {
			t.Errorf("ids %v are not unique and increasing", ids)
		}
	}
}

// TestWriterReadsAhead: the first read of a call with a footprint comes back with its
// group's first round trip when every call before it in the group has a footprint naming
// another room; a call before it that names the same room, or has no footprint, keeps its
// read in its own turn, so that the read sees that call's writes, and so does a call that
// writes before it reads.
func TestWriterReadsAhead(t *testing.T) {
	s, exec, _ := openWriterTest(t)
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	if err := s.Tx(ctx, func(tx store.Tx) error {
		for _, u := range []string{"u1", "u2", "u3"} {
			if _, err := tx.AccountUpsert(ctx, store.Account{App: 1, UserID: u, CreatedAt: now}); err != nil {
				return err
			}
		}
		for _, r := range []string{"r1", "r2", "r3"} {
			if err := tx.RoomInsert(ctx, store.Room{App: 1, RoomID: r, Owner: "u1", CreatedAt: now, PublicVisible: true, Info: []byte(`{}`)}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// call is one call of a group: it reads the room as an owner change does, records the
	// owner it saw (in the order the calls ran), and hands the room to its user.
	type call struct {
		room, to string
		print    bool // a footprint with the owner change's read
		noRoom   bool // a footprint without a room
		account  bool // deletes account u3 instead
		write    bool // hands the room to u3 before it reads
	}
	var mu sync.Mutex
	var saw []string // "room:owner seen" in the order the calls ran
	run := func(c call) error {
		cctx := ctx
		switch {
		case c.print:
			cctx = store.WithFootprint(ctx, store.Footprint{App: 1, RoomID: c.room, First: store.ReadOwnerChange, User: c.to})
		case c.noRoom:
			cctx = store.WithFootprint(ctx, store.Footprint{})
		}
		return s.Tx(cctx, func(tx store.Tx) error {
			if c.account {
				return exec(tx, "DELETE FROM accounts WHERE sdkappid = 1 AND user_id = 'u3'")
			}
			if c.room == "" {
				return exec(tx, "INSERT INTO meta (key, value) VALUES ('x', 'y') ON CONFLICT (key) DO NOTHING")
			}
			if c.write {
				if err := tx.RoomSetOwnerUnchecked(ctx, 1, c.room, "u3"); err != nil {
					return err
				}
			}
			oc, err := tx.RoomOwnerChange(ctx, 1, c.room, c.to)
			if err != nil {
				return err
			}
			mu.Lock()
			saw = append(saw, fmt.Sprintf("%s:%s:%v", c.room, oc.Room.Owner, oc.Account))
			mu.Unlock()
			return tx.RoomSetOwnerUnchecked(ctx, 1, c.room, c.to)
		})
	}
	group := func(calls ...call) int {
		t.Helper()
		saw = nil
		var fns []func() error
		for i, c := range calls {
			fns = append(fns, func() error {
				if err := run(c); err != nil {
					t.Errorf("call %d: %v", i, err)
				}
				return nil
			})
		}
		_, hits := runGroup(t, s, fns...)
		return hits
	}

	for _, c := range []struct {
		name  string
		calls []call
		hits  int
		saw   []string
	}{
		{"other rooms", []call{{room: "r1", to: "u2", print: true}, {noRoom: true}, {room: "r2", to: "u2", print: true}},
			2, []string{"r1:u1:true", "r2:u1:true"}},
		{"same room", []call{{room: "r1", to: "u3", print: true}, {room: "r1", to: "u1", print: true}},
			1, []string{"r1:u2:true", "r1:u3:true"}},
		{"a call without footprint", []call{{room: "r2", to: "u1", print: true}, {room: ""}, {room: "r3", to: "u2", print: true}},
			1, []string{"r2:u2:true", "r3:u1:true"}},
		{"an account deleted before", []call{{account: true}, {room: "r3", to: "u3", print: true}},
			0, []string{"r3:u2:false"}},
		{"no footprint", []call{{room: "r1", to: "u2"}}, 0, []string{"r1:u1:true"}},
		{"its own write first", []call{{room: "r2", to: "u1", print: true, write: true}}, 0, []string{"r2:u3:true"}},
	} {
		hits := group(c.calls...)
		if hits != c.hits || !slices.Equal(saw, c.saw) {
			t.Errorf("%s: %d reads answered ahead, saw %v; want %d, %v", c.name, hits, saw, c.hits, c.saw)
		}
	}
}

// TestWriterBlockSizeFollowsUse: the block of a sequence's ids queued with a group's BEGIN
// holds as many ids per call as the previous transaction used per call, so that a group
// whose calls insert several broadcasts each does not run out halfway.
func TestWriterBlockSizeFollowsUse(t *testing.T) {
	s, _, _ := openWriterTest(t)
	ctx := context.Background()
	var ids []int64
	change := func(broadcasts int) (taken int) {
		t.Helper()
		w := s.w
		before := w.blocksTaken
		if err := s.Tx(ctx, func(tx store.Tx) error {
			for range broadcasts {
				id, err := insertBroadcast(ctx, tx)
				if err != nil {
					return err
				}
				ids = append(ids, id)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return w.blocksTaken - before
	}
	for i, c := range []struct{ broadcasts, wantTaken int }{
		{3, 3}, // nothing before: a block of one id, three times
		{3, 0}, // three per call before: the block queued with BEGIN holds three
		{5, 1}, // it holds three, and the fourth takes a block for the one call
		{2, 0},
		{12, 3}, // two queued with BEGIN, then blocks of 2, 4 and 8: as many as used so far
	} {
		if taken := change(c.broadcasts); taken != c.wantTaken {
			t.Errorf("transaction %d: %d blocks taken on the way, want %d", i, taken, c.wantTaken)
		}
	}
	checkIncreasing(t, ids)
}

// TestWriterReadsRoomInsertChecksAhead: create_room's insert, with its footprint, is
// answered from checks read ahead with the group's first round trip, with the answers of
// the one guarded statement: a taken id is ErrConflict, an owner that is no account
// ErrNotFound, and a room inserted by a call before it in the group is taken.
func TestWriterReadsRoomInsertChecksAhead(t *testing.T) {
	s, _, _ := openWriterTest(t)
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	if err := s.Tx(ctx, func(tx store.Tx) error {
		if _, err := tx.AccountUpsert(ctx, store.Account{App: 1, UserID: "u1", CreatedAt: now}); err != nil {
			return err
		}
		return tx.RoomInsert(ctx, store.Room{App: 1, RoomID: "taken", Owner: "u1", CreatedAt: now, Info: []byte(`{}`)})
	}); err != nil {
		t.Fatal(err)
	}
	insert := func(room, owner string) func() error {
		return func() error {
			cctx := store.WithFootprint(ctx, store.Footprint{App: 1, RoomID: room, First: store.ReadRoomInsert, User: owner})
			return s.Tx(cctx, func(tx store.Tx) error {
				return tx.RoomInsertOwned(ctx, store.Room{App: 1, RoomID: room, Owner: owner, CreatedAt: now, Info: []byte(`{}`)})
			})
		}
	}
	for _, c := range []struct {
		name  string
		calls []func() error
		want  []error
		hits  int
	}{
		{"new rooms", []func() error{insert("a", "u1"), insert("b", "u1")}, []error{nil, nil}, 2},
		{"taken", []func() error{insert("taken", "u1")}, []error{store.ErrConflict}, 1},
		{"no account", []func() error{insert("c", "nobody")}, []error{store.ErrNotFound}, 1},
		{"taken and no account", []func() error{insert("taken", "nobody")}, []error{store.ErrConflict}, 1},
		// The second insert's checks are not read ahead: the first call names its room.
		{"twice in a group", []func() error{insert("d", "u1"), insert("d", "u1")}, []error{nil, store.ErrConflict}, 1},
	} {
		got, hits := runGroup(t, s, c.calls...)
		for i := range got {
			if !errors.Is(got[i], c.want[i]) {
				t.Errorf("%s: call %d = %v, want %v", c.name, i, got[i], c.want[i])
			}
		}
		if hits != c.hits {
			t.Errorf("%s: %d reads answered ahead, want %d", c.name, hits, c.hits)
		}
	}
	var n int
	if err := s.pool.QueryRow(ctx, "SELECT COUNT(*) FROM rooms").Scan(&n); err != nil || n != 4 {
		t.Errorf("rooms = %d, %v; want 4 (taken, a, b, d)", n, err)
	}
}

// runGroup runs calls as one group of the writer, in order: a first call holds the writer
// until the others have queued. It returns their errors, and how many reads were answered
// from reads sent ahead (in the group, and in its unpipelined run if it had one).
func runGroup(t *testing.T, s *Store, calls ...func() error) ([]error, int) {
	t.Helper()
	release, held := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		s.Tx(context.Background(), func(tx store.Tx) error { close(held); <-release; return nil })
	})
	<-held
	hitsBefore := s.w.aheadHits
	errs := make([]error, len(calls))
	for i, call := range calls {
		wg.Go(func() { errs[i] = call() })
		for len(s.reqs) != i+1 {
			time.Sleep(time.Millisecond)
		}
	}
	close(release)
	wg.Wait()
	return errs, s.w.aheadHits - hitsBefore
}

// TestReadsAheadTwoNodes: two stores on one database (two nodes) hand four rooms' owner on
// from many callers at once, each call reading the owner ahead where the rule allows and
// writing the next number as the new owner. Not one hand-over is lost: a read ahead that saw
// a row a call before it in its group, or another node, had changed would lose one.
func TestReadsAheadTwoNodes(t *testing.T) {
	dsn := testkit.PostgresSchema(t)
	var nodes [2]*Store
	for i := range nodes {
		s, err := Open(t.Context(), Options{DSN: dsn})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		nodes[i] = s
	}
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	rooms := []string{"r0", "r1", "r2", "r3"}
	if err := nodes[0].Tx(ctx, func(tx store.Tx) error {
		if _, err := tx.AccountUpsert(ctx, store.Account{App: 1, UserID: "u", CreatedAt: now}); err != nil {
			return err
		}
		for _, r := range rooms {
			if err := tx.RoomInsert(ctx, store.Room{App: 1, RoomID: r, Owner: "0", CreatedAt: now, Info: []byte(`{}`)}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	const callers, calls = 16, 25 // per node
	var wg sync.WaitGroup
	for n, s := range nodes {
		for c := range callers {
			wg.Go(func() {
				for i := range calls {
					room := rooms[(n+c+i)%len(rooms)]
					cctx := store.WithFootprint(ctx, store.Footprint{App: 1, RoomID: room, First: store.ReadOwnerChange, User: "u"})
					if i%5 == 4 {
						cctx = ctx // now and then a call without footprint
					}
					err := s.Tx(cctx, func(tx store.Tx) error {
						oc, err := tx.RoomOwnerChange(ctx, 1, room, "u")
						if err != nil {
							return err
						}
						var k int
						fmt.Sscan(oc.Room.Owner, &k)
						return tx.RoomSetOwnerUnchecked(ctx, 1, room, fmt.Sprint(k+1))
					})
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	total := 0
	for _, r := range rooms {
		row, err := nodes[1].RoomGet(ctx, 1, r)
		if err != nil {
			t.Fatal(err)
		}
		var k int
		fmt.Sscan(row.Owner, &k)
		total += k
	}
	if want := 2 * callers * calls; total != want {
		t.Errorf("%d hand-overs counted, want %d", total, want)
	}
	hits := nodes[0].w.aheadHits + nodes[1].w.aheadHits
	if hits == 0 {
		t.Error("no read was answered ahead")
	}
	t.Logf("%d of %d reads answered ahead", hits, 2*callers*calls)
}

// The id block statement is planned once per connection: after PostgreSQL's five custom
// plans it runs on its generic plan, whatever the blocks' sizes (idBlockQuery).
func TestIDBlockQueryPlannedOnce(t *testing.T) {
	s, _, _ := openWriterTest(t)
	ctx := context.Background()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	q := idBlockQuery(idSequences[:])
	if _, err := conn.Conn().Prepare(ctx, "id_block", q); err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		sizes := make([]any, len(idSequences))
		for j := range sizes {
			sizes[j] = int64(1 + (i*7+j*3)%40)
		}
		rows, err := conn.Query(ctx, "id_block", sizes...)
		if err != nil {
			t.Fatal(err)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	var generic, custom int64
	if err := conn.QueryRow(ctx, "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = 'id_block'").Scan(&generic, &custom); err != nil {
		t.Fatal(err)
	}
	if generic != 7 || custom != 5 {
		t.Errorf("id block statement: %d generic and %d custom plans over 12 runs; want 7 and 5 (planned once, after the five custom plans)", generic, custom)
	}
}
