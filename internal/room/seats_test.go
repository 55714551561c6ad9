package room_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/room"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/webhook"
)

// seatRoom creates a room with seats for testOwner: n seats (an AudioSalon room), the take
// mode and KeepOwnerOnSeat as given.
func (f *fixture) seatRoom(id string, n int, mode string, keepOwner bool) {
	f.t.Helper()
	_, err := f.rooms.Create(f.ctx, f.actor, room.CreateParams{ID: id, Owner: testOwner, Info: room.Info{
		RoomType: "Live", SeatTemplate: "AudioSalon", MaxSeatCount: n, IsSeatEnabled: true, TakeSeatMode: mode, KeepOwnerOnSeat: keepOwner}})
	if err != nil {
		f.t.Fatal(err)
	}
	f.newEvents()
}

// enter puts user into a room through connection conn, as the client API does.
func (f *fixture) enterRoom(roomID, user string, conn room.ConnID) {
	f.t.Helper()
	if _, err := f.rooms.Enter(f.ctx, f.client(user), conn, roomID); err != nil {
		f.t.Fatalf("%s enters %s: %v", user, roomID, err)
	}
}

// seated returns who sits on each seat of a room ("" for an empty seat, "#" for a locked one).
func (f *fixture) seated(roomID string) []string {
	f.t.Helper()
	seats, err := f.rooms.Seats(f.ctx, testApp, roomID)
	if err != nil {
		f.t.Fatal(err)
	}
	out := make([]string, len(seats))
	for i, s := range seats {
		out[i] = s.UserID
		if s.Locked {
			out[i] = "#"
		}
	}
	return out
}

func (f *fixture) wantSeated(roomID string, want ...string) {
	f.t.Helper()
	if got := f.seated(roomID); !slices.Equal(got, want) {
		f.t.Errorf("seats of %s = %q, want %q", roomID, got, want)
	}
}

func TestSeatCount(t *testing.T) {
	f := setup(t)
	for _, c := range []struct {
		name string
		info room.Info
		want int
	}{
		{"named video template ignores MaxSeatCount", room.Info{SeatTemplate: "VideoDynamicFloat7Seats", MaxSeatCount: 16}, 7},
		{"landscape template", room.Info{SeatTemplate: "VideoLandscape4Seat"}, 4},
		{"AudioSalon honours MaxSeatCount", room.Info{SeatTemplate: "AudioSalon", MaxSeatCount: 12}, 12},
		{"Karaoke without MaxSeatCount", room.Info{SeatTemplate: "Karaoke"}, 10},
		{"no template: the older generations' MaxSeatCount", room.Info{MaxSeatCount: 6}, 6},
		{"no template, no count", room.Info{}, 9},
		{"seats disabled", room.Info{SeatTemplate: "AudioSalon", MaxSeatCount: 12, IsSeatEnabled: false}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			info := c.info
			info.RoomType = "Live"
			info.IsSeatEnabled = c.name != "seats disabled"
			id := "count-" + strconv.Itoa(len(c.name))
			r, err := f.rooms.Create(f.ctx, f.actor, room.CreateParams{ID: id + c.info.SeatTemplate, Info: info})
			if err != nil {
				t.Fatal(err)
			}
			seats, err := f.rooms.Seats(f.ctx, testApp, r.ID)
			if err != nil || len(seats) != c.want {
				t.Errorf("%d seats (%v), want %d", len(seats), err, c.want)
			}
			if c.want > 0 && r.MaxSeatCount != c.want {
				t.Errorf("MaxSeatCount %d, want %d (the number of seats)", r.MaxSeatCount, c.want)
			}
		})
	}
	_, err := f.rooms.Create(f.ctx, f.actor, room.CreateParams{ID: "too-many", Info: room.Info{RoomType: "Live", SeatTemplate: "AudioSalon", MaxSeatCount: room.MaxSeats + 1}})
	wantInvalid(t, err, "MaxSeatCount")
}

func TestSeatRules(t *testing.T) {
	f := setup(t)
	f.seatRoom("s", 4, room.FreeToTake, false)
	admin := f.actor
	// Not a member: 100005.
	wantErr(t, f.rooms.PickOnSeat(f.ctx, admin, "s", 1, "u1"), room.ErrNotMember, errcode.NotMember)
	f.enterRoom("s", "u1", 1)
	f.enterRoom("s", "u2", 2)
	f.enterRoom("s", "u3", 3)
	f.newEvents()
	if err := f.rooms.PickOnSeat(f.ctx, admin, "s", 1, "u1"); err != nil {
		t.Fatal(err)
	}
	evs := f.wantEvents(webhook.AfterSeatInfoChanged)
	var body webhook.SeatInfoChanged
	f.body(evs[0], &body)
	if len(body.SeatList) != 4 || body.SeatList[1].Member_Account != "u1" || body.RoomId != "s" {
		t.Errorf("callback %+v", body)
	}
	// One user, one seat; an occupied seat; a locked seat; an index out of range.
	wantErr(t, f.rooms.PickOnSeat(f.ctx, admin, "s", 2, "u1"), room.ErrAlreadyOnSeat, errcode.AlreadyOnSeat)
	wantErr(t, f.rooms.PickOnSeat(f.ctx, admin, "s", 1, "u2"), room.ErrSeatOccupied, errcode.SeatOccupied)
	if err := f.rooms.LockSeat(f.ctx, admin, "s", 2, room.SeatLocks{Taken: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, f.rooms.PickOnSeat(f.ctx, admin, "s", 2, "u2"), room.ErrSeatLocked, errcode.SeatLocked)
	_, err := f.rooms.TakeSeat(f.ctx, f.client("u2"), "s", 2, 0)
	wantErr(t, err, room.ErrSeatLocked, errcode.SeatLocked)
	wantInvalid(t, f.rooms.PickOnSeat(f.ctx, admin, "s", 4, "u2"), "Index")
	f.wantEvents(webhook.AfterSeatInfoChanged) // the lock only
	// Any free seat, then full.
	res, err := f.rooms.TakeSeat(f.ctx, f.client("u2"), "s", -1, 0)
	if err != nil || !res.Seated || res.Index != 0 {
		t.Fatalf("take any seat: %+v %v", res, err)
	}
	if err := f.rooms.PickOnSeat(f.ctx, admin, "s", 3, "u3"); err != nil {
		t.Fatal(err)
	}
	f.enterRoom("s", testOwner, 4)
	wantErr(t, f.rooms.PickOnSeat(f.ctx, admin, "s", 1, testOwner), room.ErrSeatsFull, errcode.SeatsFull)
	_, err = f.rooms.TakeSeat(f.ctx, f.client(testOwner), "s", -1, 0)
	wantErr(t, err, room.ErrSeatsFull, errcode.SeatsFull)
	f.wantSeated("s", "u2", "u1", "#", "u3")
	// Locking an occupied seat kicks its occupant first; unlocking leaves it empty.
	f.newEvents()
	if err := f.rooms.LockSeat(f.ctx, admin, "s", 3, room.SeatLocks{Taken: ptr(true), Audio: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	f.wantEvents(webhook.AfterSeatInfoChanged)
	f.wantSeated("s", "u2", "u1", "#", "#")
	if err := f.rooms.LockSeat(f.ctx, admin, "s", 3, room.SeatLocks{Taken: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	seats, _ := f.rooms.Seats(f.ctx, testApp, "s")
	if s := seats[3]; s.Locked || !s.AudioLocked || s.UserID != "" {
		t.Errorf("seat 3 after unlocking the seat only: %+v (the audio lock stays)", s)
	}
	// Moves: cancel, force, swap; switch to an empty seat.
	wantErr(t, f.rooms.MoveUserToSeat(f.ctx, admin, "s", "u1", 0, room.MoveCancel), room.ErrSeatOccupied, errcode.SeatOccupied)
	if err := f.rooms.MoveUserToSeat(f.ctx, admin, "s", "u1", 0, room.MoveSwap); err != nil {
		t.Fatal(err)
	}
	f.wantSeated("s", "u1", "u2", "#", "")
	if err := f.rooms.SwitchSeat(f.ctx, admin, "s", "u2", 3); err != nil {
		t.Fatal(err)
	}
	wantInvalid(t, f.rooms.SwitchSeat(f.ctx, admin, "s", "u3", 1), "")
	if err := f.rooms.MoveUserToSeat(f.ctx, admin, "s", "u1", 3, room.MoveForce); err != nil {
		t.Fatal(err)
	}
	f.wantSeated("s", "", "", "#", "u1")
	wantInvalid(t, f.rooms.MoveUserToSeat(f.ctx, admin, "s", "u1", 0, 3), "Policy")
	// Kick off a seat; a user on no seat is a no-op; leaving the room frees the seat.
	f.newEvents()
	if err := f.rooms.KickOffSeat(f.ctx, admin, "s", "u1", "bye"); err != nil {
		t.Fatal(err)
	}
	f.wantEvents(webhook.AfterSeatInfoChanged)
	if err := f.rooms.KickOffSeat(f.ctx, admin, "s", "u1", ""); err != nil {
		t.Fatal(err)
	}
	f.wantEvents()
	if _, err := f.rooms.TakeSeat(f.ctx, f.client("u3"), "s", 1, 0); err != nil {
		t.Fatal(err)
	}
	f.newEvents()
	if err := f.rooms.Exit(f.ctx, f.client("u3"), 3, "s"); err != nil {
		t.Fatal(err)
	}
	f.wantEvents(webhook.AfterSeatInfoChanged, webhook.AfterMemberStateChanged)
	f.wantSeated("s", "", "", "#", "")
	// Permissions: an ordinary member neither picks, kicks nor locks.
	u2 := f.client("u2")
	wantErr(t, f.rooms.PickOnSeat(f.ctx, u2, "s", 0, "u2"), room.ErrNoPermission, errcode.NoPermission)
	wantErr(t, f.rooms.LockSeat(f.ctx, u2, "s", 0, room.SeatLocks{Taken: ptr(true)}), room.ErrNoPermission, errcode.NoPermission)
	wantErr(t, f.rooms.KickOffSeat(f.ctx, u2, "s", "u1", ""), room.ErrNoPermission, errcode.NoPermission)
	// A room without seats.
	if _, err := f.rooms.Create(f.ctx, f.actor, room.CreateParams{ID: "noseats", Info: room.Info{RoomType: "Live"}}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, f.rooms.LockSeat(f.ctx, admin, "noseats", 0, room.SeatLocks{}), room.ErrSeatsDisabled, errcode.SeatsDisabled)
	if seats, err := f.rooms.Seats(f.ctx, testApp, "noseats"); err != nil || len(seats) != 0 {
		t.Errorf("seats of a room without seats: %v %v", seats, err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestKeepOwnerOnSeat(t *testing.T) {
	f := setup(t)
	f.seatRoom("k", 3, room.FreeToTake, true)
	admin := f.actor
	f.enterRoom("k", "u1", 1)
	// Seat 0 is the owner's even while it is away.
	wantErr(t, f.rooms.PickOnSeat(f.ctx, admin, "k", 0, "u1"), room.ErrSeatLocked, errcode.SeatLocked)
	if res, err := f.rooms.TakeSeat(f.ctx, f.client("u1"), "k", -1, 0); err != nil || res.Index != 1 {
		t.Fatalf("take any: %+v %v", res, err)
	}
	f.newEvents()
	f.enterRoom("k", testOwner, 2)
	f.wantEvents(webhook.AfterMemberStateChanged, webhook.AfterSeatInfoChanged)
	f.wantSeated("k", testOwner, "u1", "")
	wantErr(t, f.rooms.KickOffSeat(f.ctx, admin, "k", testOwner, ""), room.ErrOwnerKeptOnSeat, errcode.NoPermission)
	wantErr(t, f.rooms.LeaveSeat(f.ctx, f.client(testOwner), "k"), room.ErrOwnerKeptOnSeat, errcode.NoPermission)
	wantErr(t, f.rooms.LockSeat(f.ctx, admin, "k", 0, room.SeatLocks{Taken: ptr(true)}), room.ErrOwnerKeptOnSeat, errcode.NoPermission)
	if err := f.rooms.LockSeat(f.ctx, admin, "k", 0, room.SeatLocks{Video: ptr(true)}); err != nil {
		t.Errorf("locking the owner's video: %v", err)
	}
	wantErr(t, f.rooms.MoveUserToSeat(f.ctx, admin, "k", testOwner, 2, room.MoveCancel), room.ErrOwnerKeptOnSeat, errcode.NoPermission)
	wantErr(t, f.rooms.MoveUserToSeat(f.ctx, admin, "k", "u1", 0, room.MoveForce), room.ErrSeatLocked, errcode.SeatLocked)
	// Ownership moves: the new owner takes seat 0, the former owner its seat.
	if err := f.rooms.ChangeOwner(f.ctx, admin, "k", "u1"); err != nil {
		t.Fatal(err)
	}
	f.wantSeated("k", "u1", testOwner, "")
	// The owner leaving the room frees seat 0, which stays kept for it.
	f.newEvents()
	if err := f.rooms.Exit(f.ctx, f.client("u1"), 1, "k"); err != nil {
		t.Fatal(err)
	}
	f.wantSeated("k", "", testOwner, "")
	wantErr(t, f.rooms.MoveUserToSeat(f.ctx, admin, "k", testOwner, 0, room.MoveCancel), room.ErrSeatLocked, errcode.SeatLocked)
}

// TestSeatWrites pins how many seat rows a change writes, one user per seat holding at
// every write: a move is two writes (the seat left, then the seat taken), and a swap is
// three (one seat cleared, the other written, the first written).
func TestSeatWrites(t *testing.T) {
	f := setup(t)
	f.seatRoom("w", 4, room.FreeToTake, true)
	admin := f.actor
	f.enterRoom("w", testOwner, 1)
	f.enterRoom("w", "u1", 2)
	if _, err := f.rooms.TakeSeat(f.ctx, f.client("u1"), "w", 2, 0); err != nil {
		t.Fatal(err)
	}
	f.wantSeated("w", testOwner, "", "u1", "")
	writes := func(what string, want int64, fn func() error) {
		t.Helper()
		before := f.seatPuts.Load()
		if err := fn(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got := f.seatPuts.Load() - before; got != want {
			t.Errorf("%s wrote %d seats, want %d", what, got, want)
		}
	}
	writes("a move", 2, func() error { return f.rooms.MoveToSeat(f.ctx, f.client("u1"), "w", 3) })
	f.wantSeated("w", testOwner, "", "", "u1")
	// The new owner takes seat 0 and the former owner the new owner's seat.
	writes("an owner change (a swap)", 3, func() error { return f.rooms.ChangeOwner(f.ctx, admin, "w", "u1") })
	f.wantSeated("w", "u1", "", "", testOwner)
	writes("a swap back", 3, func() error { return f.rooms.ChangeOwner(f.ctx, admin, "w", testOwner) })
	f.wantSeated("w", testOwner, "", "", "u1")
}

func TestSeatApplications(t *testing.T) {
	f := setup(t)
	f.seatRoom("a", 3, room.ApplyToTake, false)
	admin := f.actor
	if err := f.rooms.ModifyAdmin(f.ctx, admin, "a", []string{"u3"}, webhook.AdminAdd); err != nil {
		t.Fatal(err)
	}
	f.enterRoom("a", "u1", 1)
	f.enterRoom("a", "u2", 2)
	f.enterRoom("a", "u3", 3)
	var seen []room.Event
	f.rooms.SetObserver(func(ev room.Event) {
		switch ev.(type) {
		case room.SeatRequested, room.SeatRequestEnded, room.SeatKicked:
			seen = append(seen, ev)
		}
	})
	// A room admin takes a seat directly; an ordinary member applies.
	if res, err := f.rooms.TakeSeat(f.ctx, f.client("u3"), "a", 2, 0); err != nil || !res.Seated {
		t.Fatalf("admin take: %+v %v", res, err)
	}
	res, err := f.rooms.TakeSeat(f.ctx, f.client("u1"), "a", -1, 30*time.Second)
	if err != nil || res.Seated || res.Request.ID == "" || !res.Request.ExpiresAt.Equal(f.now.Add(30*time.Second)) {
		t.Fatalf("apply: %+v %v", res, err)
	}
	if len(seen) != 1 || !slices.Equal(seen[0].(room.SeatRequested).Managers, []string{testOwner, "u3"}) {
		t.Errorf("SeatRequested %+v, want it for the owner and the admin u3", seen)
	}
	_, err = f.rooms.TakeSeat(f.ctx, f.client("u1"), "a", -1, 0)
	wantErr(t, err, room.ErrSeatRequestPending, errcode.SeatRequestPending)
	wantErr(t, f.rooms.PickOnSeat(f.ctx, admin, "a", 0, "u1"), room.ErrSeatRequestPending, errcode.SeatRequestPending)
	f.wantSeated("a", "", "", "u3")
	// Only the applicant cancels; an ordinary member does not answer.
	wantErr(t, f.rooms.CancelSeatRequest(f.ctx, f.client("u2"), "a", res.Request.ID), room.ErrNoPermission, errcode.NoPermission)
	wantErr(t, f.rooms.RespondSeatRequest(f.ctx, f.client("u2"), "a", res.Request.ID, true), room.ErrNoPermission, errcode.NoPermission)
	wantInvalid(t, f.rooms.RespondSeatRequest(f.ctx, admin, "a", "nope", true), "requestId")
	// The admin agrees: u1 sits on the first free seat.
	if err := f.rooms.RespondSeatRequest(f.ctx, f.client("u3"), "a", res.Request.ID, true); err != nil {
		t.Fatal(err)
	}
	f.wantSeated("a", "u1", "", "u3")
	if end, ok := seen[len(seen)-1].(room.SeatRequestEnded); !ok || end.Outcome != room.SeatRequestAccepted {
		t.Errorf("last event %+v, want accepted", seen[len(seen)-1])
	}
	// Rejected, cancelled, timed out, ended by leaving the room.
	outcome := func() string { return seen[len(seen)-1].(room.SeatRequestEnded).Outcome }
	r2, _ := f.rooms.TakeSeat(f.ctx, f.client("u2"), "a", 1, 10*time.Second)
	if err := f.rooms.RespondSeatRequest(f.ctx, f.client(testOwner), "a", r2.Request.ID, false); err != nil {
		t.Fatal(err)
	}
	if outcome() != room.SeatRequestRejected {
		t.Errorf("outcome %s, want rejected", outcome())
	}
	r2, _ = f.rooms.TakeSeat(f.ctx, f.client("u2"), "a", 1, 10*time.Second)
	if err := f.rooms.CancelSeatRequest(f.ctx, f.client("u2"), "a", r2.Request.ID); err != nil {
		t.Fatal(err)
	}
	if outcome() != room.SeatRequestCancelled {
		t.Errorf("outcome %s, want cancelled", outcome())
	}
	r2, _ = f.rooms.TakeSeat(f.ctx, f.client("u2"), "a", 1, 10*time.Second)
	f.now = f.now.Add(9 * time.Second)
	f.rooms.RunDue(f.ctx)
	if reqs, _ := f.rooms.SeatRequests(f.ctx, admin, "a"); len(reqs) != 1 {
		t.Fatalf("before the timeout: %d applications", len(reqs))
	}
	f.now = f.now.Add(time.Second)
	if _, err := f.rooms.RunDue(f.ctx); err != nil {
		t.Fatal(err)
	}
	if outcome() != room.SeatRequestTimeout {
		t.Errorf("outcome %s, want timeout", outcome())
	}
	if err := f.rooms.RespondSeatRequest(f.ctx, admin, "a", r2.Request.ID, true); !errors.Is(err, errcode.ErrInvalid) {
		t.Errorf("answering an expired application: %v", err)
	}
	if _, err := f.rooms.TakeSeat(f.ctx, f.client("u2"), "a", 1, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.rooms.Kick(f.ctx, admin, "a", "u2"); err != nil {
		t.Fatal(err)
	}
	if outcome() != room.SeatRequestCancelled {
		t.Errorf("outcome after a kick %s, want cancelled", outcome())
	}
	if reqs, _ := f.rooms.SeatRequests(f.ctx, admin, "a"); len(reqs) != 0 {
		t.Errorf("applications left: %+v", reqs)
	}
	// An agreed application whose seat is taken meanwhile stays pending.
	f.enterRoom("a", "u2", 4)
	r2, _ = f.rooms.TakeSeat(f.ctx, f.client("u2"), "a", 1, 0)
	if err := f.rooms.PickOnSeat(f.ctx, admin, "a", 1, testOwner); !errors.Is(err, room.ErrNotMember) {
		t.Fatalf("pick a non-member: %v", err)
	}
	if err := f.rooms.MoveUserToSeat(f.ctx, admin, "a", "u1", 1, room.MoveCancel); err != nil {
		t.Fatal(err)
	}
	wantErr(t, f.rooms.RespondSeatRequest(f.ctx, admin, "a", r2.Request.ID, true), room.ErrSeatOccupied, errcode.SeatOccupied)
	if reqs, _ := f.rooms.SeatRequests(f.ctx, admin, "a"); len(reqs) != 1 {
		t.Errorf("the application was not kept: %+v", reqs)
	}
	// Kicked off a seat: the event names the user, the seat and the data.
	if err := f.rooms.KickOffSeat(f.ctx, f.client("u3"), "a", "u1", "see you"); err != nil {
		t.Fatal(err)
	}
	if k, ok := seen[len(seen)-1].(room.SeatKicked); !ok || k.UserID != "u1" || k.Index != 1 || k.Data != "see you" {
		t.Errorf("last event %+v, want u1 kicked off seat 1", seen[len(seen)-1])
	}
}

// TestSeatInvariantsProperty runs random sequences of seat and presence operations, from
// the REST side and the client side, and checks after each one that: every seat list has the
// room's seat count; one user sits on at most one seat; only members sit; a locked seat is
// empty; with KeepOwnerOnSeat seat 0 holds the owner whenever the owner is in the room and
// nobody else ever; applications belong to members on no seat, one each; a refused
// operation changes nothing; and the last Mic.CallbackAfterSeatInfoChanged written carries
// the current list. ROOMD_SEAT_SEED reruns one seed.
func TestSeatInvariantsProperty(t *testing.T) {
	seeds := []uint64{1, 2, 3, 4, 5, 6, 7, 8}
	if testing.Short() {
		seeds = seeds[:4]
	}
	if s := os.Getenv("ROOMD_SEAT_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		seeds = []uint64{n}
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Logf("seed %d (rerun with ROOMD_SEAT_SEED=%d)", seed, seed)
			runSeatProperty(t, seed, 250)
		})
	}
}

func runSeatProperty(t *testing.T, seed uint64, steps int) {
	f := setup(t)
	rng := rand.New(rand.NewPCG(seed, seed*7919))
	nSeats := 2 + rng.IntN(4)
	keepOwner := rng.IntN(2) == 0
	mode := room.FreeToTake
	if rng.IntN(2) == 0 {
		mode = room.ApplyToTake
	}
	const rid = "prop"
	f.seatRoom(rid, nSeats, mode, keepOwner)
	t.Logf("%d seats, KeepOwnerOnSeat %v, %s", nSeats, keepOwner, mode)
	admin := f.actor
	if err := f.rooms.ModifyAdmin(f.ctx, admin, rid, []string{"u3"}, webhook.AdminAdd); err != nil {
		t.Fatal(err)
	}
	users := []string{testOwner, "u1", "u2", "u3"}
	conns := map[string]room.ConnID{}
	nextConn := room.ConnID(1)
	pick := func() string { return users[rng.IntN(len(users))] }
	index := func() int { return rng.IntN(nSeats+2) - 1 } // -1 … nSeats: out of range too
	requestOf := func(user string) string {
		reqs, _ := f.rooms.SeatRequests(f.ctx, admin, rid)
		for _, r := range reqs {
			if user == "" || r.UserID == user {
				return r.ID
			}
		}
		return "none"
	}
	type op struct {
		name string
		run  func() error
	}
	okN, refused := 0, 0
	defer func() { t.Logf("%d operations succeeded, %d were refused", okN, refused) }()
	for step := range steps {
		u := pick()
		ops := []op{
			{"enter " + u, func() error {
				if _, ok := conns[u]; ok {
					return nil
				}
				conns[u] = nextConn
				nextConn++
				_, err := f.rooms.Enter(f.ctx, f.client(u), conns[u], rid)
				return err
			}},
			{"exit " + u, func() error {
				c, ok := conns[u]
				if !ok {
					return nil
				}
				delete(conns, u)
				if rng.IntN(2) == 0 {
					return f.rooms.Disconnect(f.ctx, f.client(u), c, false)
				}
				return f.rooms.Exit(f.ctx, f.client(u), c, rid)
			}},
			{"take " + u, func() error {
				_, err := f.rooms.TakeSeat(f.ctx, f.client(u), rid, index(), time.Duration(rng.IntN(3))*time.Second)
				return err
			}},
			{"leave seat " + u, func() error { return f.rooms.LeaveSeat(f.ctx, f.client(u), rid) }},
			{"move to seat " + u, func() error { return f.rooms.MoveToSeat(f.ctx, f.client(u), rid, index()) }},
			{"pick " + u, func() error { return f.rooms.PickOnSeat(f.ctx, admin, rid, index(), u) }},
			{"kick off seat " + u, func() error { return f.rooms.KickOffSeat(f.ctx, admin, rid, u, "") }},
			{"lock", func() error {
				b := func() *bool {
					if rng.IntN(3) == 0 {
						return nil
					}
					return ptr(rng.IntN(2) == 0)
				}
				return f.rooms.LockSeat(f.ctx, admin, rid, index(), room.SeatLocks{Taken: b(), Video: b(), Audio: b()})
			}},
			{"switch " + u, func() error { return f.rooms.SwitchSeat(f.ctx, admin, rid, u, index()) }},
			{"move " + u, func() error { return f.rooms.MoveUserToSeat(f.ctx, admin, rid, u, index(), rng.IntN(3)) }},
			{"kick out " + u, func() error {
				err := f.rooms.Kick(f.ctx, admin, rid, u)
				if err == nil {
					delete(conns, u)
				}
				return err
			}},
			{"answer", func() error {
				return f.rooms.RespondSeatRequest(f.ctx, f.client(users[rng.IntN(2)*3]), rid, requestOf(""), rng.IntN(3) > 0)
			}},
			{"cancel " + u, func() error { return f.rooms.CancelSeatRequest(f.ctx, f.client(u), rid, requestOf(u)) }},
			{"owner to " + u, func() error { return f.rooms.ChangeOwner(f.ctx, admin, rid, u) }},
			{"time passes", func() error {
				f.now = f.now.Add(time.Duration(rng.IntN(1500)) * time.Millisecond)
				_, err := f.rooms.RunDue(f.ctx)
				return err
			}},
		}
		o := ops[rng.IntN(len(ops))]
		if o.name == "owner to "+u && rng.IntN(4) != 0 {
			continue // rarely
		}
		before := f.seated(rid)
		err := o.run()
		after := f.seated(rid)
		var ce *errcode.Error
		var ie *errcode.InvalidError
		switch {
		case err == nil:
			okN++
		case errors.As(err, &ce), errors.As(err, &ie):
			refused++
			if !slices.Equal(before, after) {
				t.Fatalf("step %d %s: refused (%v) but the seats changed from %q to %q", step, o.name, err, before, after)
			}
		default:
			t.Fatalf("step %d %s: unexpected error %v", step, o.name, err)
		}
		checkSeatInvariants(t, f, rid, nSeats, keepOwner, fmt.Sprintf("step %d %s (err %v)", step, o.name, err))
	}
}

func checkSeatInvariants(t *testing.T, f *fixture, rid string, nSeats int, keepOwner bool, where string) {
	t.Helper()
	seats, err := f.rooms.Seats(f.ctx, testApp, rid)
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.rooms.Get(f.ctx, testApp, rid)
	if err != nil {
		t.Fatal(err)
	}
	if len(seats) != nSeats {
		t.Fatalf("%s: %d seats, want %d", where, len(seats), nSeats)
	}
	member := func(u string) bool {
		_, err := f.st.MemberGet(f.ctx, testApp, rid, u)
		return err == nil
	}
	on := map[string]int{}
	for i, s := range seats {
		if s.Index != i {
			t.Fatalf("%s: seat %d has index %d", where, i, s.Index)
		}
		if s.UserID == "" {
			continue
		}
		if s.Locked {
			t.Fatalf("%s: locked seat %d holds %s", where, i, s.UserID)
		}
		if j, dup := on[s.UserID]; dup {
			t.Fatalf("%s: %s on seats %d and %d", where, s.UserID, j, i)
		}
		on[s.UserID] = i
		if !member(s.UserID) {
			t.Fatalf("%s: %s on seat %d is not in the room", where, s.UserID, i)
		}
	}
	if keepOwner {
		if u := seats[0].UserID; u != "" && u != r.Owner {
			t.Fatalf("%s: %s on the owner's seat 0 (owner %s)", where, u, r.Owner)
		}
		if member(r.Owner) && seats[0].UserID != r.Owner {
			t.Fatalf("%s: the owner %s is in the room but not on seat 0 (seats %+v)", where, r.Owner, seats)
		}
		if seats[0].Locked {
			t.Fatalf("%s: the owner's seat is locked", where)
		}
	}
	reqs, err := f.st.SeatRequestList(f.ctx, testApp, rid)
	if err != nil {
		t.Fatal(err)
	}
	applied := map[string]bool{}
	for _, q := range reqs {
		if applied[q.UserID] || !member(q.UserID) {
			t.Fatalf("%s: application %+v of a user applying twice or not in the room", where, q)
		}
		if _, seated := on[q.UserID]; seated {
			t.Fatalf("%s: %s applies while on seat %d", where, q.UserID, on[q.UserID])
		}
		applied[q.UserID] = true
	}
	// The last seat callback carries the current list.
	evs, err := f.st.EventList(f.ctx, store.EventQuery{App: testApp, RoomID: rid, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs { // newest first
		if ev.Command != string(webhook.AfterSeatInfoChanged) {
			continue
		}
		var body webhook.SeatInfoChanged
		f.body(ev, &body)
		if want := room.SeatInfos(seats); !slices.Equal(body.SeatList, want) {
			t.Fatalf("%s: last callback's SeatList %+v, seats now %+v", where, body.SeatList, want)
		}
		break
	}
}
