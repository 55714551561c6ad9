package faulttest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	roomclient "github.com/roomd/roomd/client"
)

// TestKill9WithClients kills roomd with SIGKILL while client connections are in rooms and
// transfer ownership through the client API (changeUserRole with roomOwner). After the
// restart, every change the client got an OK for has its Live.CallbackAfterChangeOwner
// (with the client's OptPlatform and the owner as Operator_Account), in order per room;
// the members of the killed process are reported Offline/HeartbeatInterrupt once per room,
// and the clients, reconnecting within the grace period, Online/HeartbeatRecover.
func TestKill9WithClients(t *testing.T) {
	runClientCrash(t, 4, 1, 300*time.Millisecond, 800*time.Millisecond)
}

// TestKill9WithClientsLong is the full version: more rooms, several kills.
func TestKill9WithClientsLong(t *testing.T) {
	if testing.Short() {
		t.Skip("long fault test; runs without -short")
	}
	runClientCrash(t, 10, 6, 200*time.Millisecond, 2*time.Second)
}

const (
	cmdChangeOwner = "Live.CallbackAfterChangeOwner"
	cmdMemberState = "Live.CallbackAfterMemberStateChanged"
)

// clientChange is one changeUserRole call transferring a room, with what became of it: an
// OK, an error response (committed false), or no answer, resolved afterwards by reading the
// room's owner.
type clientChange struct {
	From, To  string
	Outcome   outcome
	Committed bool
}

// clientRoom is a room with two users connected through the client API, transferring it
// back and forth.
type clientRoom struct {
	t     *testing.T
	app   uint64
	key   string
	rest  *client
	proc  func() (base string, run int)
	room  string
	users [2]string
	plats [2]string
	sigs  [2]string
	conns [2]*roomclient.Conn
	owner int // index of the owner as the driver knows it

	mu      sync.Mutex
	changes []clientChange
	enters  int // successful enterRoom calls
	// connectedRun is the roomd run the connections last (re)entered the room on, and
	// oksSince the transfers OK'd since: the driver stops the load once every room has made
	// progress on the last process.
	connectedRun int
	oksSince     int
	pushes       atomic.Int64 // onUserRoleChanged pushes received
	errs         []string
}

func (r *clientRoom) problem(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errs) < 20 {
		r.errs = append(r.errs, fmt.Sprintf(r.room+": "+format, args...))
	}
}

func wsURL(base string) string { return "ws" + strings.TrimPrefix(base, "http") + "/v1/client" }

// connect (re)connects both users and enters the room, retrying until it succeeds or ctx
// ends.
func (r *clientRoom) connect(ctx context.Context) bool {
	for i := range r.conns {
		if r.conns[i] != nil {
			r.conns[i].Close()
			r.conns[i] = nil
		}
	}
	for ctx.Err() == nil {
		base, run := r.proc()
		if base == "" {
			pause(ctx, 20*time.Millisecond)
			continue
		}
		ok := true
		for i := range r.conns {
			if r.conns[i] == nil {
				dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				c, err := roomclient.Dial(dctx, wsURL(base), roomclient.Options{SDKAppID: r.app, UserID: r.users[i], UserSig: r.sigs[i], Platform: r.plats[i]})
				cancel()
				if err != nil {
					ok = false
					break
				}
				r.conns[i] = c
				// A client reads its pushes; one that does not is disconnected by its own
				// notification buffer.
				go func() {
					for n := range c.Notifications() {
						if n.Method == "onUserRoleChanged" {
							r.pushes.Add(1)
						}
					}
				}()
			}
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := r.conns[i].Call(cctx, "enterRoom", map[string]string{"roomId": r.room}, nil)
			cancel()
			if err != nil {
				var ce *roomclient.Error
				if errors.As(err, &ce) {
					r.problem("enterRoom as %s: %v", r.users[i], err)
				}
				r.conns[i].Close()
				r.conns[i] = nil
				ok = false
				break
			}
			r.mu.Lock()
			r.enters++
			r.mu.Unlock()
		}
		if ok {
			r.mu.Lock()
			r.connectedRun, r.oksSince = run, 0
			r.mu.Unlock()
			return true
		}
		pause(ctx, 20*time.Millisecond)
	}
	return false
}

// current returns the process's URL ("" while it is down) and its run number (1 for the
// first start, 2 after the first restart, …).
func (r *roomd) current() (string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.base, r.runs
}

// back reports whether the room's connections entered it on roomd run run and a transfer
// got an OK since.
func (r *clientRoom) back(run int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.connectedRun == run && r.oksSince > 0
}

// resolveOwner reads the room's owner through REST (retrying while roomd is down) and
// returns its index.
func (r *clientRoom) resolveOwner(ctx context.Context) (int, bool) {
	for ctx.Err() == nil {
		base, _ := r.proc()
		if base != "" {
			o, err := r.rest.roomOwner(ctx, base, r.room)
			if err == nil {
				i := slices.Index(r.users[:], o)
				if i < 0 {
					r.problem("owner is %q, neither of its users", o)
				}
				return i, i >= 0
			}
		}
		pause(ctx, 20*time.Millisecond)
	}
	return 0, false
}

// run transfers the room back and forth until ctx ends. After a call without an answer
// (roomd was killed), it reconnects, which re-enters the room, and finds out from the room's
// owner whether the call committed.
//
// The reconnection is never cut short by the end of the load: a connection that entered the
// room and were then closed because ctx ended would leave (Offline/Leave) and its
// replacement enter again (Online/Enter), a presence story of the test's own making after
// the HeartbeatRecover the test expects.
func (r *clientRoom) run(ctx context.Context) {
	for ctx.Err() == nil {
		from, to := r.owner, 1-r.owner
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		err := r.conns[from].Call(cctx, "changeUserRole", map[string]string{"roomId": r.room, "userId": r.users[to], "role": "roomOwner"}, nil)
		cancel()
		ch := clientChange{From: r.users[from], To: r.users[to]}
		var ce *roomclient.Error
		switch {
		case err == nil:
			ch.Outcome, ch.Committed = outcomeOK, true
			r.owner = to
			r.mu.Lock()
			r.oksSince++
			r.mu.Unlock()
		case errors.As(err, &ce) && ce.HTTPStatus == 0:
			ch.Outcome = outcomeFailed
			r.problem("changeUserRole %s → %s: %v", ch.From, ch.To, err)
		default:
			ch.Outcome = outcomeUnknown
		}
		if err != nil {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			ok := r.connect(rctx)
			if ok {
				var o int
				o, ok = r.resolveOwner(rctx)
				ch.Committed = o == to
				r.owner = o
			}
			cancel()
			if !ok {
				r.problem("not back in the room within a minute")
				return
			}
			if ch.Outcome == outcomeFailed && ch.Committed {
				r.problem("changeUserRole %s → %s failed but committed", ch.From, ch.To)
			}
		}
		r.mu.Lock()
		r.changes = append(r.changes, ch)
		r.mu.Unlock()
	}
}

// committed returns the transfers that committed, in order, and how many were OK'd.
func (r *clientRoom) committed() (out [][2]string, oks int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.changes {
		if c.Committed {
			out = append(out, [2]string{c.From, c.To})
		}
		if c.Outcome == outcomeOK {
			oks++
		}
	}
	return out, oks
}

// memberStep is one member-state callback as one user of it sees it.
type memberStep struct {
	Type, Cause string
	Users       int // how many users the callback named
}

// clientCallbacks sorts the receiver's requests, each webhook-id once in order of first
// arrival: the owner transfers per room, the member states per room and user.
type clientCallbacks struct {
	owners  map[string][]arrival
	members map[string][]memberStep // "room/user"
}

func sortCallbacks(all []arrival) clientCallbacks {
	cb := clientCallbacks{owners: map[string][]arrival{}, members: map[string][]memberStep{}}
	seen := map[string]bool{}
	for _, a := range all {
		if seen[a.ID] {
			continue
		}
		seen[a.ID] = true
		switch a.Command {
		case cmdChangeOwner:
			cb.owners[a.Room] = append(cb.owners[a.Room], a)
		case cmdMemberState:
			var b struct {
				EventType, EventCause string
				MemberList            []struct{ Member_Account string }
			}
			if json.Unmarshal([]byte(a.Body), &b) != nil {
				continue
			}
			for _, m := range b.MemberList {
				k := a.Room + "/" + m.Member_Account
				cb.members[k] = append(cb.members[k], memberStep{b.EventType, b.EventCause, len(b.MemberList)})
			}
		}
	}
	return cb
}

func runClientCrash(t *testing.T, nrooms, kills int, minUp, maxUp time.Duration) {
	rng := rand.New(rand.NewPCG(seed(t), 3))
	rcv := newReceiver(t)
	rd := newRoomd(t, t.TempDir(), procConfig{ReconnectGrace: 5 * time.Minute, Apps: []appSpec{{ID: appA, Key: keyA,
		CallbackURL: rcv.URL(), Commands: []string{cmdChangeOwner, cmdMemberState}}}})
	rd.mustStart()
	rest := newClient(t, appA, keyA)

	var rooms []*clientRoom
	var ids []string
	for i := range nrooms {
		r := &clientRoom{t: t, app: appA, key: keyA, rest: rest, proc: rd.current, room: fmt.Sprintf("cc-%02d", i),
			plats: [2]string{"Android", "iOS"}}
		r.users = [2]string{"ca_" + r.room, "cb_" + r.room}
		for j, u := range r.users {
			r.sigs[j] = rest.kit.UserSig(t, keyA, u)
		}
		ids = append(ids, r.users[:]...)
		rooms = append(rooms, r)
	}
	rest.importAccounts(t, rd.URL(), ids)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, r := range rooms {
		rest.mustCall(t, rd.URL(), "live_engine_http_srv/create_room",
			map[string]any{"RoomInfo": map[string]any{"RoomId": r.room, "RoomType": "Live", "Owner_Account": r.users[0]}})
		if !r.connect(ctx) {
			t.Fatal("connect")
		}
	}

	var wg sync.WaitGroup
	for _, r := range rooms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.run(ctx)
		}()
	}
	stopLoad := func() {
		cancel()
		wg.Wait()
	}
	t.Cleanup(stopLoad)
	for i := range kills {
		pause(context.Background(), minUp+time.Duration(rng.Int64N(int64(maxUp-minUp)+1)))
		if !rd.alive() {
			t.Fatalf("roomd died on its own before kill %d", i+1)
		}
		rd.kill()
		if err := rd.start(); err != nil {
			t.Fatalf("restart after kill %d: %v", i+1, err)
		}
	}
	// Load on the last process until every room is back (reconnected, re-entered) and has
	// made a change since. No reconnection is running when the load stops, so the final
	// exits are each user's only Leave.
	pause(context.Background(), minUp)
	_, last := rd.current()
	if !waitFor(60*time.Second, 10*time.Millisecond, func() bool {
		for _, r := range rooms {
			if !r.back(last) {
				return false
			}
		}
		return true
	}) {
		t.Fatal("not every room was back and transferring on the last process within 60s")
	}
	stopLoad()
	oks, unknown := 0, 0
	for _, r := range rooms {
		for _, e := range r.errs {
			t.Error(e)
		}
		_, n := r.committed()
		oks += n
		for _, c := range r.changes {
			if c.Outcome == outcomeUnknown {
				unknown++
			}
		}
	}
	if oks < nrooms {
		t.Fatalf("only %d transfers got an OK: the load made no real progress", oks)
	}
	// Everyone leaves cleanly.
	for _, r := range rooms {
		for i, c := range r.conns {
			if c == nil {
				continue // its run reported why
			}
			cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := c.Call(cctx, "exitRoom", map[string]string{"roomId": r.room}, nil); err != nil {
				t.Errorf("%s exits %s: %v", r.users[i], r.room, err)
			}
			cancel()
			c.Close()
		}
	}
	t.Logf("%d kills: %d transfers OK'd through the client, %d without an answer", kills, oks, unknown)

	// Wait for every callback: each committed transfer, and each user's Leave.
	var cb clientCallbacks
	done := waitFor(60*time.Second, 50*time.Millisecond, func() bool {
		cb = sortCallbacks(rcv.all())
		for _, r := range rooms {
			want, _ := r.committed()
			if len(cb.owners[r.room]) < len(want) {
				return false
			}
			for _, u := range r.users {
				steps := cb.members[r.room+"/"+u]
				if len(steps) == 0 || steps[len(steps)-1].Cause != "Leave" {
					return false
				}
			}
		}
		return true
	})
	if !done {
		t.Errorf("not every callback arrived within 60s")
	}

	for _, r := range rooms {
		if r.pushes.Load() == 0 {
			t.Errorf("%s: no onUserRoleChanged push", r.room)
		}
		// The transfers: exactly the committed ones, in order, each from the client.
		want, _ := r.committed()
		got := cb.owners[r.room]
		var gotPairs [][2]string
		for _, a := range got {
			gotPairs = append(gotPairs, [2]string{a.Original, a.Current})
		}
		if !slices.Equal(gotPairs, want) {
			t.Errorf("%s: owner callbacks %v, want the committed transfers %v", r.room, gotPairs, want)
		}
		for _, a := range got {
			var b struct{ Operator_Account string }
			json.Unmarshal([]byte(a.Body), &b)
			plat := r.plats[slices.Index(r.users[:], a.Original)]
			if b.Operator_Account != a.Original || a.Query.Get("OptPlatform") != plat {
				t.Errorf("%s: transfer %s → %s by %q from OptPlatform %q, want %q from %q",
					r.room, a.Original, a.Current, b.Operator_Account, a.Query.Get("OptPlatform"), a.Original, plat)
				break
			}
		}
		// Presence: Enter, then (HeartbeatInterrupt, HeartbeatRecover) per kill that found
		// the user in the room, then Leave; every interrupt names both users (one callback
		// for the room).
		for _, u := range r.users {
			steps := cb.members[r.room+"/"+u]
			if !presenceOK(steps) {
				t.Errorf("%s/%s: member states %v, want Online/Enter, (Offline/HeartbeatInterrupt, Online/HeartbeatRecover)…, Offline/Leave", r.room, u, steps)
				continue
			}
			interrupts := 0
			for _, s := range steps {
				if s.Cause == "HeartbeatInterrupt" {
					interrupts++
				}
			}
			if interrupts < 1 || interrupts > kills {
				t.Errorf("%s/%s: %d HeartbeatInterrupts for %d kills", r.room, u, interrupts, kills)
			}
			if kills == 1 && steps[1].Users != 2 {
				t.Errorf("%s/%s: the interrupt after the kill named %d users, want both in one callback", r.room, u, steps[1].Users)
			}
		}
	}
}

// presenceOK reports whether steps are Online/Enter, then pairs of Offline/HeartbeatInterrupt
// and Online/HeartbeatRecover, then Offline/Leave.
func presenceOK(steps []memberStep) bool {
	if len(steps) < 2 || len(steps)%2 != 0 {
		return false
	}
	for i, s := range steps {
		var typ, cause string
		switch {
		case i == 0:
			typ, cause = "Online", "Enter"
		case i == len(steps)-1:
			typ, cause = "Offline", "Leave"
		case i%2 == 1:
			typ, cause = "Offline", "HeartbeatInterrupt"
		default:
			typ, cause = "Online", "HeartbeatRecover"
		}
		if s.Type != typ || s.Cause != cause {
			return false
		}
	}
	return true
}
