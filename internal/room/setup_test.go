package room_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/room"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/store/sqlite"
	"github.com/roomd/roomd/internal/webhook"
)

// The setup bundle of the domain tests: a room service and a message service on a real
// SQLite file, one app whose every After-callback is switched on (so each one the domain
// emits is written to the outbox), imported accounts, a room and a clock the test moves.

const (
	testApp   = 1400000000
	testAdmin = "admin"
	testOwner = "owner"
	testRoom  = "r1"
)

// testUsers are the imported accounts besides the admin and the owner; "ghost" is not one.
var testUsers = []string{"u1", "u2", "u3"}

type fixture struct {
	t     *testing.T
	ctx   context.Context
	st    *sqlite.Store
	rooms *room.Service
	msgs  *room.MessageService
	actor room.Actor
	now   time.Time
	// seen is the id of the last outbox event returned by newEvents.
	seen int64
	// seatPuts counts the seat writes of the services' transactions.
	seatPuts *atomic.Int64
}

// countingStore is the store the services run on: the fixture's, with the seat writes of
// its transactions counted (TestSeatWrites).
type countingStore struct {
	store.Store
	seatPuts *atomic.Int64
}

func (s countingStore) Tx(ctx context.Context, fn func(store.Tx) error) error {
	return s.Store.Tx(ctx, func(tx store.Tx) error { return fn(countingTx{tx, s.seatPuts}) })
}

type countingTx struct {
	store.Tx
	seatPuts *atomic.Int64
}

func (t countingTx) SeatPut(ctx context.Context, s store.Seat) error {
	t.seatPuts.Add(1)
	return t.Tx.SeatPut(ctx, s)
}

// setup returns the bundle with testRoom created by the admin for testOwner; the creation's
// events are already marked as seen.
func setup(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(t.TempDir(), "roomd.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{t: t, ctx: ctx, st: st, now: time.Unix(1767225600, 0), seatPuts: new(atomic.Int64)}
	clock := func() time.Time { return f.now }
	configs := webhook.NewConfigs()
	configs.Update(testApp, func(c *webhook.Config) {
		c.URL = "http://127.0.0.1:9/callback"
		for _, cmd := range webhook.Commands {
			if !cmd.IsBefore() {
				c.Commands = append(c.Commands, string(cmd))
			}
		}
	})
	outbox := webhook.NewOutbox(configs, clock, nil)
	f.rooms = room.NewService(countingStore{st, f.seatPuts}, outbox, clock)
	f.msgs = room.NewMessageService(room.MessageOptions{Store: st, Rooms: f.rooms, Configs: configs, Now: clock,
		IsAppAdmin: func(app uint64, user string) bool { return app == testApp && user == testAdmin }})
	f.actor = room.Actor{App: testApp, Operator: testAdmin, ClientIP: "127.0.0.1", Platform: webhook.PlatformRESTAPI, AppAdmin: true}
	if err := st.Tx(ctx, func(tx store.Tx) error {
		for _, u := range append([]string{testAdmin, testOwner}, testUsers...) {
			if _, err := tx.AccountUpsert(ctx, store.Account{App: testApp, UserID: u, CreatedAt: f.now}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.rooms.Create(ctx, f.actor, room.CreateParams{ID: testRoom, Owner: testOwner, Info: room.Info{RoomType: "Live"}}); err != nil {
		t.Fatal(err)
	}
	f.newEvents()
	return f
}

// addMember puts user into testRoom as a member (not a robot), as entering the room does.
func (f *fixture) addMember(user string) {
	f.t.Helper()
	if err := f.st.Tx(f.ctx, func(tx store.Tx) error {
		_, err := tx.MemberAdd(f.ctx, store.Member{App: testApp, RoomID: testRoom, UserID: user, JoinedAt: f.now})
		return err
	}); err != nil {
		f.t.Fatal(err)
	}
}

// client returns an App user acting through the client API (AppAdmin false).
func (f *fixture) client(user string) room.Actor {
	return room.Actor{App: testApp, Operator: user, ClientIP: "10.0.0.7", Platform: "Android"}
}

// newEvents returns the outbox events written since the last call, in commit order.
func (f *fixture) newEvents() []store.Event {
	f.t.Helper()
	evs, err := f.st.EventListUndelivered(f.ctx, store.EventListParams{AfterID: f.seen, Limit: 1000})
	if err != nil {
		f.t.Fatal(err)
	}
	if len(evs) > 0 {
		f.seen = evs[len(evs)-1].ID
	}
	return evs
}

// wantEvents checks that exactly the given commands were emitted since the last check, and
// returns their events.
func (f *fixture) wantEvents(cmds ...webhook.Command) []store.Event {
	f.t.Helper()
	evs := f.newEvents()
	got := make([]string, len(evs))
	for i, e := range evs {
		got[i] = e.Command
	}
	ok := len(evs) == len(cmds)
	for i := 0; ok && i < len(cmds); i++ {
		ok = got[i] == string(cmds[i]) && evs[i].App == testApp
	}
	if !ok {
		f.t.Errorf("events %v, want %v", got, cmds)
	}
	return evs
}

// body decodes an event's body into v.
func (f *fixture) body(e store.Event, v any) {
	f.t.Helper()
	if err := json.Unmarshal(e.Body, v); err != nil {
		f.t.Fatalf("event %d body %s: %v", e.ID, e.Body, err)
	}
}

// wantErr checks that err is (errors.Is) sentinel and answers code in the Live family.
func wantErr(t *testing.T, err, sentinel error, code int) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Errorf("error %v, want %v", err, sentinel)
		return
	}
	if got, _, _ := errcode.Classify(err, errcode.Live); got != code {
		t.Errorf("error %v answers %d, want %d", err, got, code)
	}
}

// wantInvalid checks that err is an invalid parameter (100002) and names field.
func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	wantErr(t, err, errcode.ErrInvalid, errcode.LiveInvalid)
	var ie *errcode.InvalidError
	if errors.As(err, &ie) && ie.Field != field {
		t.Errorf("error %v names field %q, want %q", err, ie.Field, field)
	}
}
