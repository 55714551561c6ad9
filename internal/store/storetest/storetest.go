// Package storetest is the conformance suite of the store seam: every driver of store.Store
// must pass Run. It pins the behaviour that the domain packages rely on and that store.go
// only describes in words: the ordering and paging of the list queries, the ErrNotFound and
// ErrConflict cases, and the transaction semantics (rollback on error, AfterCommit hooks,
// isolation of concurrent Tx calls that a driver groups into one database transaction).
//
// A driver's test calls it like this:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, dir string) store.Store {
//			s, err := mydriver.Open(ctx, filepath.Join(dir, "roomd.db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s
//		})
//	}
//
// The suite tests at millisecond precision for times and microsecond precision for attempt
// durations, which is what the store keeps.
//
// A driver that several processes may share also runs Cluster (cluster.go), with two stores
// on one database, for store.Cluster and store.ClusterTx.
//
// The suite has one file per noun of the store, named as in package store (rooms.go,
// members.go, sanctions.go, …). A new group of store methods adds its file to this package
// with a func(*testing.T, *Harness) and lists it in groups below.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/store"
)

// OpenFunc opens the store that keeps its data in dir, creating an empty, fully migrated
// database the first time. Calling it again with the same dir after the previous store was
// closed must reopen the same database (the suite uses this to test that data and
// Instance survive a restart). It reports failures with t.Fatal. The suite closes every
// store it opens, exactly once, so OpenFunc must not register a Close of its own.
type OpenFunc func(t *testing.T, dir string) store.Store

// Run runs the conformance suite against the driver that open opens. Each subtest works on
// a store of its own in its own t.TempDir().
func Run(t *testing.T, open OpenFunc) {
	h := &Harness{open: open}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) { g.run(t, h) })
	}
}

// groups are the parts of the suite, one per area of the Store interface.
var groups = []struct {
	name string
	run  func(*testing.T, *Harness)
}{
	{"Accounts", testAccounts},                       // accounts.go
	{"Rooms", testRooms},                             // rooms.go
	{"RoomListAscending", testRoomListAscending},     // rooms.go
	{"RoomOwnerChange", testRoomOwnerChange},         // rooms.go
	{"RoomInsertOwned", testRoomInsertOwned},         // rooms.go
	{"Metadata", testMetadata},                       // metadata.go
	{"RoomStats", testRoomStats},                     // stats.go
	{"Members", testMembers},                         // members.go
	{"Presence", testPresence},                       // presence.go
	{"Admins", testAdmins},                           // admins.go
	{"Sanctions", testSanctions},                     // sanctions.go
	{"Messages", testMessages},                       // messages.go
	{"CallbackConfigs", testCallbackConfigs},         // callbacks.go
	{"Seats", testSeats},                             // seats.go
	{"Events", testEvents},                           // events.go
	{"EventInsertRecorded", testEventInsertRecorded}, // events.go
	{"EventOrder", testEventOrder},                   // eventorder.go
	{"EventPrune", testEventPrune},                   // retention.go
	{"Battles", testBattles},                         // battles.go
	{"Tx", testTx},                                   // tx.go
	{"Lifecycle", testLifecycle},                     // lifecycle.go
	{"Gifts", testGifts},                             // gifts.go
	{"Profiles", testProfiles},                       // profiles.go
	{"Follows", testFollows},                         // follows.go
	{"GroupMessages", testGroupMessages},             // groupmsgs.go
}

// Harness opens stores for the subtests of the suite.
type Harness struct {
	open OpenFunc
}

// Fresh opens a new, empty store that is closed when t ends.
func (h *Harness) Fresh(t *testing.T) store.Store {
	t.Helper()
	s, _ := h.OpenIn(t, t.TempDir())
	return s
}

// OpenIn opens the store in dir. The returned func closes it (at most once, reporting an
// error of Close); it also runs when t ends.
func (h *Harness) OpenIn(t *testing.T, dir string) (store.Store, func()) {
	t.Helper()
	s := h.open(t, dir)
	if s == nil {
		t.Fatal("open returned a nil store")
	}
	var once sync.Once
	closeIt := func() {
		once.Do(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
	t.Cleanup(closeIt)
	return s, closeIt
}

// base is the suite's clock origin; every time the suite stores is base plus whole
// milliseconds.
var base = time.UnixMilli(1_700_000_000_000)

// at returns base plus sec seconds.
func at(sec int) time.Time { return base.Add(time.Duration(sec) * time.Second) }

// Apps used by the suite; other is there to prove that queries stay within one app.
const (
	app   uint64 = 1400000000
	other uint64 = 1400000001
)

// mustTx runs fn in a transaction and fails t if Tx returns an error. fn runs on a
// goroutine the driver chooses, so it must report problems by returning an error, never by
// calling t.Fatal.
func mustTx(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.Tx(t.Context(), fn); err != nil {
		t.Fatalf("Tx: %v", err)
	}
}

// ctx returns t's context.
func ctx(t *testing.T) context.Context { return t.Context() }

// utc normalises a time for comparison: same instant, UTC, no monotonic reading.
func utc(v time.Time) time.Time {
	if v.IsZero() {
		return time.Time{}
	}
	return v.UTC()
}

// sameTime reports whether a and b are the same instant (both zero counts as the same).
func sameTime(a, b time.Time) bool { return a.Equal(b) || (a.IsZero() && b.IsZero()) }

func normAccount(a store.Account) store.Account {
	a.CreatedAt = utc(a.CreatedAt)
	return a
}

func normRoom(r store.Room) store.Room {
	r.CreatedAt = utc(r.CreatedAt)
	if len(r.Info) == 0 {
		r.Info = nil
	}
	return r
}

func normConfig(c store.CallbackConfig) store.CallbackConfig {
	c.UpdatedAt = utc(c.UpdatedAt)
	if len(c.Commands) == 0 {
		c.Commands = nil
	}
	return c
}

func normEvent(e store.Event) store.Event {
	e.After = 0 // set by EventInsert, not stored
	e.CreatedAt = utc(e.CreatedAt)
	e.NextAttemptAt = utc(e.NextAttemptAt)
	e.DeliveredAt = utc(e.DeliveredAt)
	if len(e.Body) == 0 {
		e.Body = nil
	}
	return e
}

func normAttempt(a store.Attempt) store.Attempt {
	a.StartedAt = utc(a.StartedAt)
	return a
}

// equal fails t (without stopping it) when got and want differ after norm.
func equal[T any](t *testing.T, what string, got, want T, norm func(T) T) {
	t.Helper()
	g, w := norm(got), norm(want)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got  %s\n want %s", what, show(g), show(w))
	}
}

// show prints a value with byte slices as text, which is what the suite stores in them.
func show(v any) string {
	s := fmt.Sprintf("%+v", v)
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Struct {
		return s
	}
	var b bytes.Buffer
	b.WriteString("{")
	for i := range rv.NumField() {
		if i > 0 {
			b.WriteString(" ")
		}
		f := rv.Field(i)
		fmt.Fprintf(&b, "%s:", rv.Type().Field(i).Name)
		if bs, ok := f.Interface().([]byte); ok {
			fmt.Fprintf(&b, "%q", bs)
		} else {
			fmt.Fprintf(&b, "%v", f.Interface())
		}
	}
	b.WriteString("}")
	return b.String()
}

// wantErr fails t unless err matches target (errors.Is); nil target means no error.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	switch {
	case target == nil && err != nil:
		t.Errorf("%s: unexpected error %v", what, err)
	case target != nil && !errors.Is(err, target):
		t.Errorf("%s: error %v, want %v", what, err, target)
	}
}
