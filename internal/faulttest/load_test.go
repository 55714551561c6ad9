package faulttest

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// outcome is what the client learned about one change_room_owner call.
type outcome int

const (
	// outcomeOK: the reply was OK, so the change is committed and its callback is owed.
	outcomeOK outcome = iota
	// outcomeFailed: the reply was a Tencent error code, so nothing may have changed.
	outcomeFailed
	// outcomeUnknown: no reply (the server was killed, the connection reset); the change may
	// or may not have committed.
	outcomeUnknown
)

func (o outcome) String() string {
	return [...]string{"ok", "failed", "unknown"}[o]
}

// change is one change_room_owner call. Every call names a new owner never used before, so
// its callback is identifiable by CurrentOwner_Account.
type change struct {
	Seq     int
	Owner   string
	Outcome outcome
	Code    int       // the Tencent error code when Outcome is outcomeFailed
	Err     string    // the transport error when Outcome is outcomeUnknown
	Sent    time.Time // when the call was made
	Replied time.Time // when the reply (or the error) came back
	Base    string    // the URL of the server the call went to
}

// roomLog is the client's record of one room: its first owner and every change made, in
// the order the calls were made (one at a time, so this is also their commit order).
type roomLog struct {
	App     uint64
	Room    string
	Initial string

	mu       sync.Mutex
	changes  []change
	imported int // owner sequence numbers below this are imported accounts
}

func (l *roomLog) snapshot() []change {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.changes)
}

// owner returns the owner name of the room's seq-th change.
func (l *roomLog) owner(seq int) string { return "o_" + l.Room + "_" + strconv.Itoa(seq) }

// ownerSeq parses an owner name of this room; ok is false for any other name.
func (l *roomLog) ownerSeq(name string) (int, bool) {
	s, ok := strings.CutPrefix(name, "o_"+l.Room+"_")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

const importBlock = 100

// loadDriver makes owner changes in many rooms at once, one call at a time per room.
type loadDriver struct {
	c     *client
	base  func() string // the current roomd URL; "" while it is down
	rooms []*roomLog
	// gap is the pause between two changes of one room; 0 means back to back.
	gap time.Duration

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// setupRooms creates n rooms named prefix-NN owned by the admin and imports the owners of
// their first importBlock changes.
func setupRooms(t *testing.T, c *client, base, prefix string, n int) []*roomLog {
	t.Helper()
	var rooms []*roomLog
	for i := range n {
		l := &roomLog{App: c.kit.App, Room: fmt.Sprintf("%s-%02d", prefix, i), Initial: adminID}
		c.createRoom(t, base, l.Room)
		ids := make([]string, importBlock)
		for j := range ids {
			ids[j] = l.owner(j)
		}
		c.importAccounts(t, base, ids)
		l.imported = importBlock
		rooms = append(rooms, l)
	}
	return rooms
}

// start runs one goroutine per room until stop. A room's changes continue its log.
func (d *loadDriver) start() {
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	for _, l := range d.rooms {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			d.runRoom(ctx, l)
		}()
	}
}

// stop lets every room finish its call in flight and returns when they all have.
func (d *loadDriver) stop() {
	if d.cancel != nil {
		d.cancel()
	}
	d.wg.Wait()
}

func (d *loadDriver) runRoom(ctx context.Context, l *roomLog) {
	// Calls run to completion even when ctx ends, so that stop leaves no call whose outcome
	// the client abandoned.
	callCtx := context.WithoutCancel(ctx)
	// A room's log may be continued by a later driver (after a restart, say).
	l.mu.Lock()
	seq := len(l.changes)
	l.mu.Unlock()
	for ctx.Err() == nil {
		base := d.base()
		if base == "" {
			pause(ctx, 20*time.Millisecond)
			continue
		}
		if seq >= l.imported {
			ids := make([]string, importBlock)
			for j := range ids {
				ids[j] = l.owner(l.imported + j)
			}
			env, err := d.c.call(callCtx, base, "im_open_login_svc/multiaccount_import", map[string]any{"Accounts": ids})
			if err != nil || !env.ok() || len(env.FailAccounts) > 0 {
				pause(ctx, 50*time.Millisecond)
				continue
			}
			l.mu.Lock()
			l.imported += importBlock
			l.mu.Unlock()
		}
		ch := change{Seq: seq, Owner: l.owner(seq), Base: base, Sent: time.Now()}
		env, err := d.c.call(callCtx, base, "live_engine_http_srv/change_room_owner",
			map[string]string{"RoomId": l.Room, "NewOwner_Account": ch.Owner})
		ch.Replied = time.Now()
		switch {
		case err != nil:
			ch.Outcome, ch.Err = outcomeUnknown, err.Error()
		case env.ok():
			ch.Outcome = outcomeOK
		default:
			ch.Outcome, ch.Code = outcomeFailed, env.ErrorCode
		}
		l.mu.Lock()
		l.changes = append(l.changes, ch)
		l.mu.Unlock()
		seq++
		if err != nil {
			pause(ctx, 20*time.Millisecond)
		} else if d.gap > 0 {
			pause(ctx, d.gap)
		}
	}
}

// counts returns how many changes of the rooms ended in each outcome.
func counts(rooms []*roomLog) map[outcome]int {
	m := map[outcome]int{}
	for _, l := range rooms {
		for _, c := range l.snapshot() {
			m[c.Outcome]++
		}
	}
	return m
}

// missingOK returns the OK'd changes of rooms that have no delivered callback yet.
func missingOK(rooms []*roomLog, got []arrival) []string {
	seen := map[string]bool{}
	for _, a := range got {
		seen[a.Room+"\x00"+a.Current] = true
	}
	var missing []string
	for _, l := range rooms {
		for _, c := range l.snapshot() {
			if c.Outcome == outcomeOK && !seen[l.Room+"\x00"+c.Owner] {
				missing = append(missing, c.Owner)
			}
		}
	}
	return missing
}

// finalOwners asks roomd for the owner of every room.
func finalOwners(t *testing.T, c *client, base string, rooms []*roomLog) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, l := range rooms {
		o, err := c.roomOwner(context.Background(), base, l.Room)
		if err != nil {
			t.Fatalf("owner of %s: %v", l.Room, err)
		}
		m[l.Room] = o
	}
	return m
}

// waitDelivered polls the receiver until every OK'd change of rooms has a delivered
// callback and, for every room, the latest callback names the room's final owner (so that
// changes whose reply was lost but that committed have arrived too).
func waitDelivered(t *testing.T, rcv *receiver, rooms []*roomLog, final map[string]string, timeout time.Duration) {
	t.Helper()
	start := time.Now()
	var missing []string
	var lagging []string
	ok := waitFor(timeout, 50*time.Millisecond, func() bool {
		got := rcv.delivered()
		missing = missingOK(rooms, got)
		lagging = lagging[:0]
		last := map[string]string{}
		for _, a := range got {
			last[a.Room] = a.Current
		}
		for _, l := range rooms {
			want := final[l.Room]
			if want == l.Initial && last[l.Room] == "" {
				continue
			}
			if last[l.Room] != want {
				lagging = append(lagging, l.Room)
			}
		}
		return len(missing) == 0 && len(lagging) == 0
	})
	if !ok {
		if len(missing) > 10 {
			missing = append(missing[:10], "…")
		}
		problems, _ := checkCallbacks(rooms, rcv.all(), final)
		t.Fatalf("after %s: %d OK'd changes still without a callback (%v); rooms whose last callback is not their final owner: %v; what the receiver got so far:\n  %s",
			timeout, len(missingOK(rooms, rcv.delivered())), missing, lagging, strings.Join(problems, "\n  "))
	}
	t.Logf("all callbacks delivered %s after the load stopped", time.Since(start).Round(time.Millisecond))
}

// verify checks everything the receiver got for rooms against the client's records:
//
//   - every request is a Live.CallbackAfterChangeOwner of the right app, with Tencent's
//     query parameters and a webhook-id;
//   - a webhook-id never maps to two bodies, and a body never to two webhook-ids (so any
//     duplicate is a redelivery carrying the same webhook-id);
//   - per room, the first arrivals follow the order of the calls, and they form an unbroken
//     chain of owners from the initial owner (OriginalOwner_Account of each is the
//     CurrentOwner_Account of the one before), so no committed change was skipped, even one
//     whose reply was lost;
//   - every OK'd change arrived; no failed change left a trace; the last callback names the
//     room's final owner.
//
// It returns the number of duplicate deliveries seen.
func verify(t *testing.T, rooms []*roomLog, all []arrival, final map[string]string) (dups int) {
	t.Helper()
	problems, dups := checkCallbacks(rooms, all, final)
	if len(problems) > 0 {
		t.Errorf("%d problems with the callbacks:\n  %s", len(problems), strings.Join(problems, "\n  "))
	}
	return dups
}

// checkCallbacks does the checks of verify and returns the problems found (at most 30)
// and the number of duplicate deliveries. A nil final skips the final-owner checks.
func checkCallbacks(rooms []*roomLog, all []arrival, final map[string]string) (problems []string, dups int) {
	byRoom := map[string]*roomLog{}
	for _, l := range rooms {
		byRoom[l.Room] = l
	}
	fail := func(format string, args ...any) {
		if len(problems) < 30 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	bodyOf := map[string]string{} // webhook-id -> body
	idOf := map[string]string{}   // body -> webhook-id
	first := map[string][]arrival{}
	for _, a := range all {
		l := byRoom[a.Room]
		if l == nil {
			continue // another app's room
		}
		if a.Status != http.StatusOK {
			continue
		}
		q := a.Query
		if a.Command != "Live.CallbackAfterChangeOwner" || q.Get("CallbackCommand") != a.Command ||
			q.Get("SdkAppid") != strconv.FormatUint(l.App, 10) || q.Get("contenttype") != "json" || q.Get("OptPlatform") != "RESTAPI" {
			fail("request #%d is not a proper change-owner callback of app %d: query %s body %s", a.N, l.App, q.Encode(), a.Body)
		}
		if a.ID == "" {
			fail("request #%d has no webhook-id", a.N)
		}
		if b, ok := bodyOf[a.ID]; ok {
			if b != a.Body {
				fail("webhook-id %s carried two bodies:\n  %s\n  %s", a.ID, b, a.Body)
			}
			dups++
			continue
		}
		if id, ok := idOf[a.Body]; ok {
			fail("the same body came with two webhook-ids %s and %s: %s", id, a.ID, a.Body)
			continue
		}
		bodyOf[a.ID], idOf[a.Body] = a.Body, a.ID
		first[a.Room] = append(first[a.Room], a)
	}
	for _, l := range rooms {
		changes := l.snapshot()
		bySeq := map[int]change{}
		for _, c := range changes {
			bySeq[c.Seq] = c
		}
		prevSeq, prevOwner := -1, l.Initial
		arrived := map[int]bool{}
		for _, a := range first[l.Room] {
			seq, ok := l.ownerSeq(a.Current)
			c, known := bySeq[seq]
			if !ok || !known {
				fail("%s: callback for a change never made: %s", l.Room, a.Body)
				continue
			}
			arrived[seq] = true
			if c.Outcome == outcomeFailed {
				fail("%s: change %d failed with %d but its callback arrived: %s", l.Room, seq, c.Code, a.Body)
			}
			if seq <= prevSeq {
				fail("%s: change %d arrived after change %d (out of order)", l.Room, seq, prevSeq)
			}
			if a.Original != prevOwner {
				fail("%s: change %d has OriginalOwner_Account %q, want %q: a committed change's callback is missing or misplaced",
					l.Room, seq, a.Original, prevOwner)
			}
			prevSeq, prevOwner = seq, a.Current
		}
		for _, c := range changes {
			if c.Outcome == outcomeOK && !arrived[c.Seq] {
				fail("%s: change %d (%s) was OK'd but its callback never arrived", l.Room, c.Seq, c.Owner)
			}
		}
		if final != nil && final[l.Room] != prevOwner {
			fail("%s: final owner is %q but the last callback says %q", l.Room, final[l.Room], prevOwner)
		}
		if final != nil {
			if seq, ok := l.ownerSeq(final[l.Room]); ok && bySeq[seq].Outcome == outcomeFailed {
				fail("%s: final owner %q comes from a change that failed with %d", l.Room, final[l.Room], bySeq[seq].Code)
			}
		}
	}
	return problems, dups
}
