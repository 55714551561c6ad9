package room_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/room"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/store/sqlite"
	"github.com/roomd/roomd/internal/webhook"
)

// TestPresenceAlternates is the presence guarantee as a property: whatever the interleaving
// of enters, exits, clean and unclean disconnects, reconnects, kicks, bans, robots of a
// user's id and grace periods ending, run concurrently, for each user in each room the
// Live.CallbackAfterMemberStateChanged events of the outbox, in event-id order, strictly
// alternate Online, Offline, starting with Online; and the observer's MembersOnline and
// MembersOffline tell the same sequence. PRESENCE_SEED replays a seed (as far as the
// scheduler allows).
func TestPresenceAlternates(t *testing.T) {
	runs, ops := 3, 150
	if !testing.Short() {
		runs, ops = 10, 600
	}
	base := uint64(time.Now().UnixNano())
	if v := os.Getenv("PRESENCE_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("PRESENCE_SEED: %v", err)
		}
		base, runs = n, 1
	}
	for i := range runs {
		seed := base + uint64(i)
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Logf("PRESENCE_SEED=%d", seed)
			runPresence(t, seed, ops)
		})
	}
}

// presenceStep is one member-state change of one user in one room.
type presenceStep struct {
	Type, Cause string
}

func runPresence(t *testing.T, seed uint64, opsPerConn int) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 7))
	st, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(t.TempDir(), "roomd.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var nanos atomic.Int64
	nanos.Store(time.Unix(1767225600, 0).UnixNano())
	clock := func() time.Time { return time.Unix(0, nanos.Load()) }
	advance := func(d time.Duration) { nanos.Add(int64(d)) }

	const grace = 10 * time.Second
	svc := newRoomService(st, clock)
	svc.SetLiveOptions(room.LiveOptions{Grace: grace})
	var omu sync.Mutex
	observed := map[string][]presenceStep{} // "room/user" → steps, in observation order
	svc.SetObserver(func(ev room.Event) {
		var users []string
		var step presenceStep
		switch e := ev.(type) {
		case room.MembersOnline:
			users, step = e.Users, presenceStep{webhook.MemberOnline, e.Cause}
		case room.MembersOffline:
			users, step = e.Users, presenceStep{webhook.MemberOffline, e.Cause}
		default:
			return
		}
		omu.Lock()
		for _, u := range users {
			k := e2key(ev.Head().RoomID, u)
			observed[k] = append(observed[k], step)
		}
		omu.Unlock()
	})

	users := []string{"u1", "u2", "u3"}[:2+rng.IntN(2)]
	rooms := []string{"r1", "r2"}[:1+rng.IntN(2)]
	admin := room.Actor{App: testApp, Operator: testAdmin, Platform: webhook.PlatformRESTAPI, AppAdmin: true}
	if err := st.Tx(ctx, func(tx store.Tx) error {
		for _, u := range append([]string{testAdmin, testOwner}, users...) {
			if _, err := tx.AccountUpsert(ctx, store.Account{App: testApp, UserID: u, CreatedAt: clock()}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, r := range rooms {
		if _, err := svc.Create(ctx, admin, room.CreateParams{ID: r, Owner: testOwner, Info: room.Info{RoomType: "Live"}}); err != nil {
			t.Fatal(err)
		}
	}

	var nextConn atomic.Uint64
	var wg sync.WaitGroup
	var emu sync.Mutex
	var unexpected []error
	fail := func(what string, err error) {
		emu.Lock()
		unexpected = append(unexpected, fmt.Errorf("%s: %w", what, err))
		emu.Unlock()
	}
	// live conns at the end, to disconnect them all.
	var lmu sync.Mutex
	live := map[room.ConnID]string{}

	// One goroutine per connection of each user: a client does one thing at a time on a
	// connection, and disconnects it after its last call; a reconnect is a new connection.
	for _, u := range users {
		nconn := 1 + rng.IntN(3)
		for range nconn {
			crng := rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
			wg.Add(1)
			go func() {
				defer wg.Done()
				a := room.Actor{App: testApp, Operator: u, ClientIP: "10.0.0.7", Platform: "Android"}
				conn := room.ConnID(nextConn.Add(1))
				lmu.Lock()
				live[conn] = u
				lmu.Unlock()
				for range opsPerConn {
					r := rooms[crng.IntN(len(rooms))]
					switch p := crng.IntN(100); {
					case p < 45:
						if _, err := svc.Enter(ctx, a, conn, r); err != nil && !errors.Is(err, room.ErrBanned) {
							fail("enter", err)
						}
					case p < 75:
						if err := svc.Exit(ctx, a, conn, r); err != nil && !errors.Is(err, room.ErrNotMember) {
							fail("exit", err)
						}
					default:
						if err := svc.Disconnect(ctx, a, conn, crng.IntN(2) == 0); err != nil {
							fail("disconnect", err)
						}
						lmu.Lock()
						delete(live, conn)
						conn = room.ConnID(nextConn.Add(1))
						live[conn] = u
						lmu.Unlock()
					}
				}
			}()
		}
	}
	// The room's managers and the clock: kicks by the owner and by an App admin, bans and
	// unbans, grace periods ending.
	wg.Add(1)
	arng := rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
	go func() {
		defer wg.Done()
		owner := room.Actor{App: testApp, Operator: testOwner, ClientIP: "10.0.0.8", Platform: "iOS"}
		for range opsPerConn {
			r := rooms[arng.IntN(len(rooms))]
			u := users[arng.IntN(len(users))]
			switch p := arng.IntN(100); {
			case p < 25:
				by := owner
				if arng.IntN(2) == 0 {
					by = admin
				}
				if err := svc.Kick(ctx, by, r, u); err != nil && !errors.Is(err, room.ErrNotMember) {
					fail("kick", err)
				}
			case p < 35:
				if err := svc.Ban(ctx, admin, r, []string{u}, int64(1+arng.IntN(5)), "test"); err != nil {
					fail("ban", err)
				}
			case p < 45:
				if err := svc.Unban(ctx, admin, r, []string{u}); err != nil {
					fail("unban", err)
				}
			case p < 50:
				// A robot of the same id as a user: it never takes part in the user's presence.
				// Refused when the user is in the room as a person, or banned.
				if err := svc.AddRobots(ctx, admin, r, []string{u}); err != nil && !errors.Is(err, room.ErrBanned) && !errors.Is(err, errcode.ErrInvalid) {
					fail("add robot", err)
				}
			case p < 55:
				if err := svc.DelRobots(ctx, admin, r, []string{u}); err != nil {
					fail("delete robot", err)
				}
			case p < 80:
				advance(time.Duration(arng.IntN(6000)) * time.Millisecond)
				if _, err := svc.RunDue(ctx); err != nil {
					fail("run due", err)
				}
			default:
				time.Sleep(time.Duration(arng.IntN(300)) * time.Microsecond)
			}
		}
	}()
	wg.Wait()
	for _, err := range unexpected {
		t.Error(err)
	}

	// Everyone goes (half of them lose their heartbeat), the grace period ends: every
	// sequence ends Offline and nobody is left in a room.
	lmu.Lock()
	for conn, u := range live {
		a := room.Actor{App: testApp, Operator: u, Platform: "Android"}
		if err := svc.Disconnect(ctx, a, conn, conn%2 == 0); err != nil {
			t.Error(err)
		}
	}
	lmu.Unlock()
	advance(grace + time.Second)
	if _, err := svc.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range rooms {
		if err := svc.DelRobots(ctx, admin, r, users); err != nil {
			t.Fatal(err)
		}
		n, err := st.MemberCount(ctx, testApp, r, store.MembersAll)
		if err != nil || n != 0 {
			t.Errorf("room %s has %d members after everyone left (%v)", r, n, err)
		}
	}
	lost, err := st.LostMemberListBefore(ctx, clock().Add(time.Hour), 100)
	if err != nil || len(lost) != 0 {
		t.Errorf("lost records after the grace period: %v (%v)", lost, err)
	}

	// The outbox, in event-id order.
	outbox := map[string][]presenceStep{}
	total := 0
	for after := int64(0); ; {
		evs, err := st.EventListUndelivered(ctx, store.EventListParams{AfterID: after, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			break
		}
		after = evs[len(evs)-1].ID
		for _, e := range evs {
			if e.Command != string(webhook.AfterMemberStateChanged) {
				continue
			}
			var b webhook.MemberStateChanged
			if err := json.Unmarshal(e.Body, &b); err != nil {
				t.Fatal(err)
			}
			for _, m := range b.MemberList {
				k := e2key(b.RoomId, m.Member_Account)
				outbox[k] = append(outbox[k], presenceStep{b.EventType, b.EventCause})
				total++
			}
		}
	}
	if total == 0 {
		t.Fatal("no presence callback at all: the run did nothing")
	}
	causes := map[string]int{}
	for k, steps := range outbox {
		for i, s := range steps {
			causes[s.Type+"/"+s.Cause]++
			want := webhook.MemberOnline
			if i%2 == 1 {
				want = webhook.MemberOffline
			}
			if s.Type != want {
				t.Errorf("%s: callback %d is %s/%s, want %s; sequence %v", k, i, s.Type, s.Cause, want, steps)
				break
			}
			if i > 0 && s.Cause == webhook.CauseHeartbeatRecover && steps[i-1].Cause != webhook.CauseHeartbeatInterrupt {
				t.Errorf("%s: HeartbeatRecover after %s/%s", k, steps[i-1].Type, steps[i-1].Cause)
			}
		}
		if len(steps)%2 != 0 {
			t.Errorf("%s: ends Online after everyone left: %v", k, steps)
		}
		if !slices.Equal(steps, observed[k]) {
			t.Errorf("%s: observer and outbox disagree\noutbox   %v\nobserved %v", k, steps, observed[k])
		}
	}
	for k := range observed {
		if _, ok := outbox[k]; !ok {
			t.Errorf("%s: observed %v but no callback", k, observed[k])
		}
	}
	t.Logf("%d users, %d rooms: %d presence changes %v", len(users), len(rooms), total, causes)
}

func e2key(roomID, user string) string { return roomID + "/" + user }
