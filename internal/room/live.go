package room

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"time"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/webhook"
)

// Live members: users in a room through client connections. The state machine of one user
// in one room, and the rules that keep its presence callbacks strictly alternating Online,
// Offline, Online, …, are described in doc.go.

// Lifetimes are an app's automatic dissolution timers (Tencent's LifetimeAfterNoUsers,
// LifetimeAfterOwnerLeave, LifetimeAfterOwnerOffline); zero switches one off. A room with a
// robot in it is never dissolved automatically.
type Lifetimes struct {
	NoUsers      time.Duration // nobody (people or robots) is in the room
	OwnerLeave   time.Duration // the owner left or was removed
	OwnerOffline time.Duration // the owner's heartbeat was lost
}

// LiveOptions configure live presence.
type LiveOptions struct {
	// Grace is how long a member whose heartbeat was lost may come back and be told
	// HeartbeatRecover instead of Enter.
	Grace time.Duration
	// Lifetimes returns an app's dissolution timers; nil means none.
	Lifetimes func(app uint64) Lifetimes
}

// SetLiveOptions configures live presence; it is called once, before the service serves.
func (s *Service) SetLiveOptions(o LiveOptions) { s.liveOpts = o }

// liveKey names one room of one app.
type liveKey struct {
	app  uint64
	room string
}

// liveRegistry is this process's map of which connections of which users are in which
// rooms. Every change to it happens in an AfterCommit hook of the transaction that made the
// matching database change, under the room's lock, so it never disagrees with the members
// table for long and never in a way a client can observe out of order.
type liveRegistry struct {
	seed  maphash.Seed
	locks [64]sync.Mutex

	mu    sync.Mutex
	rooms map[liveKey]map[string]map[ConnID]struct{} // room → user → connections
	conns map[ConnID]map[liveKey]string              // connection → rooms → user
}

func newLiveRegistry() *liveRegistry {
	return &liveRegistry{seed: maphash.MakeSeed(), rooms: map[liveKey]map[string]map[ConnID]struct{}{}, conns: map[ConnID]map[liveKey]string{}}
}

// lock serialises the presence changes of one room; it returns the unlock function.
func (l *liveRegistry) lock(k liveKey) func() {
	var h maphash.Hash
	h.SetSeed(l.seed)
	h.WriteString(k.room)
	m := &l.locks[(h.Sum64()^k.app)%uint64(len(l.locks))]
	m.Lock()
	return m.Unlock
}

// userConns returns how many connections user has in the room and whether conn is one.
func (l *liveRegistry) userConns(k liveKey, user string, conn ConnID) (n int, has bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cs := l.rooms[k][user]
	_, has = cs[conn]
	return len(cs), has
}

func (l *liveRegistry) add(k liveKey, user string, conn ConnID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	users := l.rooms[k]
	if users == nil {
		users = map[string]map[ConnID]struct{}{}
		l.rooms[k] = users
	}
	if users[user] == nil {
		users[user] = map[ConnID]struct{}{}
	}
	users[user][conn] = struct{}{}
	if l.conns[conn] == nil {
		l.conns[conn] = map[liveKey]string{}
	}
	l.conns[conn][k] = user
}

func (l *liveRegistry) remove(k liveKey, user string, conn ConnID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.removeLocked(k, user, conn)
}

func (l *liveRegistry) removeLocked(k liveKey, user string, conn ConnID) {
	if cs := l.rooms[k][user]; cs != nil {
		delete(cs, conn)
		if len(cs) == 0 {
			delete(l.rooms[k], user)
		}
		if len(l.rooms[k]) == 0 {
			delete(l.rooms, k)
		}
	}
	if rs := l.conns[conn]; rs != nil {
		delete(rs, k)
		if len(rs) == 0 {
			delete(l.conns, conn)
		}
	}
}

// dropUser removes every connection of user from the room and returns them.
func (l *liveRegistry) dropUser(k liveKey, user string) []ConnID {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []ConnID
	for c := range l.rooms[k][user] {
		out = append(out, c)
	}
	for _, c := range out {
		l.removeLocked(k, user, c)
	}
	return out
}

// dropRoom removes every connection from the room and returns them.
func (l *liveRegistry) dropRoom(k liveKey) []ConnID {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []ConnID
	for user, cs := range l.rooms[k] {
		for c := range cs {
			out = append(out, c)
			if rs := l.conns[c]; rs != nil {
				delete(rs, k)
				if len(rs) == 0 {
					delete(l.conns, c)
				}
			}
		}
		_ = user
	}
	delete(l.rooms, k)
	return out
}

// roomsOf returns the rooms conn is in, with the user it entered them as.
func (l *liveRegistry) roomsOf(conn ConnID) map[liveKey]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[liveKey]string, len(l.conns[conn]))
	for k, u := range l.conns[conn] {
		out[k] = u
	}
	return out
}

// Enter puts the actor's connection conn into a room. The first connection of a user makes
// it a member (Live.CallbackAfterMemberStateChanged Online/Enter, or Online/HeartbeatRecover
// when it comes back within the grace period after losing its heartbeat); further
// connections of the same user change nothing but start receiving the room's events. A
// banned user is refused with ErrBanned. Entering again on the same connection is not an
// error. It returns the room.
func (s *Service) Enter(ctx context.Context, a Actor, conn ConnID, roomID string) (Room, error) {
	if err := ValidateRoomID(roomID); err != nil {
		return Room{}, err
	}
	k := liveKey{a.App, roomID}
	defer s.live.lock(k)()
	n, has := s.live.userConns(k, a.Operator, conn)
	var r Room
	err := s.store.Tx(ctx, func(tx store.Tx) error {
		row, err := requireRoom(ctx, tx, a.App, roomID)
		if err != nil {
			return err
		}
		if r, err = fromRow(row); err != nil {
			return err
		}
		first := n == 0
		if !first && s.node != "" {
			// On a node of a cluster, the user's membership may have ended through another
			// node while its connections here stayed in the room (cluster.go): entering
			// again, on any of them, makes it a member again.
			if _, err := tx.MemberGet(ctx, a.App, roomID, a.Operator); errors.Is(err, store.ErrNotFound) {
				first = true
			} else if err != nil {
				return err
			}
		}
		if has && !first {
			r, err = withCounts(ctx, tx, r)
			return err
		}
		if err := checkNotBanned(ctx, tx, a.App, roomID, a.Operator, s.now()); err != nil {
			return err
		}
		var counted *memberCounts
		if first {
			if counted, err = s.becomeMember(ctx, tx, a, row); err != nil {
				return err
			}
			// The room as it is after the entry (its ViewCount counts this user).
			if row, err = tx.RoomGet(ctx, a.App, roomID); err != nil {
				return err
			}
			if r, err = fromRow(row); err != nil {
				return err
			}
		}
		if counted != nil { // the entry counted the members already: one pass, not two
			r.MemberCount, r.OnlineCount = counted.all, counted.people
			r, err = withOwner(ctx, tx, r)
		} else {
			r, err = withCounts(ctx, tx, r)
		}
		if err != nil {
			return err
		}
		if !has {
			tx.AfterCommit(func() {
				s.live.add(k, a.Operator, conn)
				s.observe(ConnEntered{EventHead: s.head(a, roomID), Conn: conn, UserID: a.Operator})
			})
		}
		if first {
			// After the hook above, so that the owner's own connection hears its seating.
			return s.seatOwner(ctx, tx, a, row, a.Operator)
		}
		return nil
	})
	return r, err
}

// becomeMember makes the actor a member of the room, held by this node, with its Online
// callback, unless it is one already (a robot of the same id, a member through another
// node's connection, or a member of a previous process not yet recovered). When it made the
// actor a member it returns the room's member counts after the entry, which its event's
// audience needed.
func (s *Service) becomeMember(ctx context.Context, tx store.Tx, a Actor, row store.Room) (*memberCounts, error) {
	now := s.now()
	created, err := tx.MemberAdd(ctx, store.Member{App: a.App, RoomID: row.RoomID, UserID: a.Operator, JoinedAt: now, Node: s.node})
	if err != nil {
		return nil, err
	}
	if !created {
		return nil, s.takeOver(ctx, tx, row, a.Operator)
	}
	// A lost record older than the grace period is one RunDue has not forgotten yet: the
	// user comes back as entering, exactly as if it had been forgotten already.
	recovered := false
	if lost, err := tx.LostMemberGet(ctx, a.App, row.RoomID, a.Operator); err == nil {
		recovered = !now.After(lost.LostAt.Add(s.liveOpts.Grace))
		if _, err := tx.LostMemberDelete(ctx, a.App, row.RoomID, a.Operator); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	cause := webhook.CauseEnter
	if recovered {
		cause = webhook.CauseHeartbeatRecover
	} else if err := tx.RoomAddViews(ctx, a.App, row.RoomID, 1); err != nil {
		return nil, err
	}
	kinds := []store.RoomTimerKind{store.TimerNoUsers}
	if a.Operator == row.Owner {
		kinds = append(kinds, store.TimerOwnerLeave, store.TimerOwnerOffline)
	}
	for _, kind := range kinds {
		if err := tx.RoomTimerDelete(ctx, a.App, row.RoomID, kind); err != nil {
			return nil, err
		}
	}
	aud, counts, err := audienceCounts(ctx, tx, row)
	if err != nil {
		return nil, err
	}
	return &counts, s.publish(ctx, tx, a, MembersOnline{EventHead: s.head(a, row.RoomID), Users: []string{a.Operator}, Cause: cause, Audience: aud})
}

// Exit takes the actor's connection conn out of a room (exitRoom). When it was the user's
// last connection there the user leaves (Offline/Leave). ErrNotMember when conn is not in
// the room.
func (s *Service) Exit(ctx context.Context, a Actor, conn ConnID, roomID string) error {
	if err := ValidateRoomID(roomID); err != nil {
		return err
	}
	return s.leave(ctx, a, conn, roomID, webhook.CauseLeave)
}

// Disconnect takes a closed connection out of every room it is in: as a Leave when the
// client said goodbye (clean is true), as a lost heartbeat otherwise, so the user may still
// come back within the grace period.
func (s *Service) Disconnect(ctx context.Context, a Actor, conn ConnID, clean bool) error {
	cause := webhook.CauseHeartbeatInterrupt
	if clean {
		cause = webhook.CauseLeave
	}
	var errs []error
	for k, user := range s.live.roomsOf(conn) {
		a := a
		a.App, a.Operator = k.app, user
		if err := s.leave(ctx, a, conn, k.room, cause); err != nil && !errors.Is(err, ErrNotMember) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *Service) leave(ctx context.Context, a Actor, conn ConnID, roomID, cause string) error {
	k := liveKey{a.App, roomID}
	defer s.live.lock(k)()
	n, has := s.live.userConns(k, a.Operator, conn)
	if !has {
		return fmt.Errorf("%w: %s is not in room %s on this connection", ErrNotMember, a.Operator, roomID)
	}
	return s.store.Tx(ctx, func(tx store.Tx) error {
		if n == 1 {
			if err := s.stopBeingMember(ctx, tx, a, roomID, cause); err != nil {
				return err
			}
		}
		tx.AfterCommit(func() {
			s.live.remove(k, a.Operator, conn)
			s.observe(ConnsLeft{EventHead: s.head(a, roomID), Conns: []ConnID{conn}})
		})
		return nil
	})
}

// takeOver makes this node hold a membership another node holds, silently (the user stays
// in the room): the user's latest first connection in a room decides which node reports its
// departure, so a user who moved to this node because its node died stays a member when
// that node is recovered (cluster.go). A robot's membership is nobody's to take.
func (s *Service) takeOver(ctx context.Context, tx store.Tx, row store.Room, user string) error {
	m, err := tx.MemberGet(ctx, row.App, row.RoomID, user)
	if err != nil || m.IsRobot || m.Node == s.node {
		return err
	}
	if err := tx.MemberRemove(ctx, row.App, row.RoomID, user); err != nil {
		return err
	}
	m.Node = s.node
	_, err = tx.MemberAdd(ctx, m)
	return err
}

// stopBeingMember removes the actor from the room's members with its Offline callback and
// starts the dissolution timers that apply. A user who is no longer a member (kicked or
// banned meanwhile, room dissolved), or whose membership another node holds (the user is in
// the room through that node's connections too, cluster.go), causes no callback.
func (s *Service) stopBeingMember(ctx context.Context, tx store.Tx, a Actor, roomID, cause string) error {
	row, err := tx.RoomGet(ctx, a.App, roomID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	// A robot of the same id as the user was in the room before the user entered (so
	// entering reported nothing): it stays, and leaving reports nothing either. So does a
	// member another node holds: its connections there keep the user in the room.
	if m, err := tx.MemberGet(ctx, a.App, roomID, a.Operator); errors.Is(err, store.ErrNotFound) || (err == nil && (m.IsRobot || m.Node != s.node)) {
		return nil
	} else if err != nil {
		return err
	}
	if err := tx.MemberRemove(ctx, a.App, roomID, a.Operator); err != nil {
		return err
	}
	now := s.now()
	if cause == webhook.CauseHeartbeatInterrupt {
		if err := tx.LostMemberPut(ctx, store.LostMember{App: a.App, RoomID: roomID, UserID: a.Operator, LostAt: now}); err != nil {
			return err
		}
	}
	if err := s.startTimers(ctx, tx, row, []string{a.Operator}, cause, now); err != nil {
		return err
	}
	if err := s.leaveSeats(ctx, tx, a, row, []string{a.Operator}); err != nil {
		return err
	}
	aud, err := audience(ctx, tx, row)
	if err != nil {
		return err
	}
	return s.publish(ctx, tx, a, MembersOffline{EventHead: s.head(a, roomID), Users: []string{a.Operator}, Cause: cause, Audience: aud})
}

// startNewRoomTimers sets the dissolution timer of a room created at now: nobody is in a new
// room (RoomDelete emptied the members of any earlier room of its id), so its NoUsers timer
// runs from its creation, without reading its members.
func (s *Service) startNewRoomTimers(ctx context.Context, tx store.Tx, row store.Room, now time.Time) error {
	if s.liveOpts.Lifetimes == nil {
		return nil
	}
	if d := s.liveOpts.Lifetimes(row.App).NoUsers; d > 0 {
		return tx.RoomTimerPut(ctx, store.RoomTimer{App: row.App, RoomID: row.RoomID, Kind: store.TimerNoUsers, DueAt: now.Add(d)})
	}
	return nil
}

// startTimers sets the room's dissolution timers after users went offline for cause.
func (s *Service) startTimers(ctx context.Context, tx store.Tx, row store.Room, gone []string, cause string, now time.Time) error {
	if s.liveOpts.Lifetimes == nil {
		return nil
	}
	lt := s.liveOpts.Lifetimes(row.App)
	set := func(kind store.RoomTimerKind, d time.Duration) error {
		if d <= 0 {
			return nil
		}
		return tx.RoomTimerPut(ctx, store.RoomTimer{App: row.App, RoomID: row.RoomID, Kind: kind, DueAt: now.Add(d)})
	}
	// Whether anybody is left: one row at most, not a count of the room; not read at all
	// when the app sets no NoUsers timer.
	if lt.NoUsers > 0 {
		left, err := tx.MemberList(ctx, store.MemberListParams{App: row.App, RoomID: row.RoomID, Limit: 1})
		if err != nil {
			return err
		}
		if len(left) == 0 {
			if err := set(store.TimerNoUsers, lt.NoUsers); err != nil {
				return err
			}
		}
	}
	for _, u := range gone {
		if u != row.Owner {
			continue
		}
		if cause == webhook.CauseHeartbeatInterrupt {
			return set(store.TimerOwnerOffline, lt.OwnerOffline)
		}
		return set(store.TimerOwnerLeave, lt.OwnerLeave)
	}
	return nil
}

// Kick puts a user out of a room (kickRemoteUserOutOfRoom): the owner may kick anyone but
// itself, a room admin only ordinary members, an App admin anyone but the owner. The user's
// connections leave the room and are told onKickedOutOfRoom; an online user is reported
// Offline/Kicked, a user whose heartbeat was already lost is forgotten without a second
// Offline. ErrNotMember when the user is in neither state.
func (s *Service) Kick(ctx context.Context, a Actor, roomID, userID string) error {
	if err := ValidateRoomID(roomID); err != nil {
		return err
	}
	if userID == "" {
		return errcode.Invalid("userId", "is required")
	}
	k := liveKey{a.App, roomID}
	defer s.live.lock(k)()
	return s.store.Tx(ctx, func(tx store.Tx) error {
		row, err := requireRoom(ctx, tx, a.App, roomID)
		if err != nil {
			return err
		}
		if err := s.mayActOn(ctx, tx, a, row, userID, RoleAdmin); err != nil {
			return err
		}
		removed, err := s.removeMembers(ctx, tx, a, row, []string{userID}, "kicked out of the room")
		if err != nil {
			return err
		}
		if removed == 0 {
			return fmt.Errorf("%w: %s is not in room %s", ErrNotMember, userID, roomID)
		}
		return nil
	})
}

// removeMembers takes users out of a room as kicked (by a kick or a ban): online ones with
// one Offline/Kicked callback for all of them, lost ones silently (they were told Offline
// already); each of them is told UserKicked and its connections leave the room after
// commit. It returns how many users were in either state. The caller holds the room's live
// lock.
func (s *Service) removeMembers(ctx context.Context, tx store.Tx, a Actor, row store.Room, users []string, reason string) (int, error) {
	k := liveKey{row.App, row.RoomID}
	h := s.head(a, row.RoomID)
	var kicked []string
	n := 0
	for _, u := range users {
		m, err := tx.MemberGet(ctx, row.App, row.RoomID, u)
		if err == nil {
			err = tx.MemberRemove(ctx, row.App, row.RoomID, u)
		}
		switch {
		case err == nil && m.IsRobot:
			// A robot never had an Online callback, so it gets no Offline one.
		case err == nil:
			kicked = append(kicked, u)
		case errors.Is(err, store.ErrNotFound):
			lost, err := tx.LostMemberDelete(ctx, row.App, row.RoomID, u)
			if err != nil {
				return 0, err
			}
			if !lost {
				continue
			}
		default:
			return 0, err
		}
		n++
		if err := s.publish(ctx, tx, a, UserKicked{EventHead: h, UserID: u, Reason: reason}); err != nil {
			return 0, err
		}
		user := u
		tx.AfterCommit(func() {
			if conns := s.live.dropUser(k, user); len(conns) > 0 {
				s.observe(ConnsLeft{EventHead: h, Conns: conns})
			}
		})
	}
	if err := s.leaveSeats(ctx, tx, a, row, users); err != nil {
		return 0, err
	}
	if len(kicked) == 0 {
		return n, nil
	}
	if err := s.startTimers(ctx, tx, row, kicked, webhook.CauseKicked, h.Time); err != nil {
		return 0, err
	}
	aud, err := audience(ctx, tx, row)
	if err != nil {
		return 0, err
	}
	return n, s.publish(ctx, tx, a, MembersOffline{EventHead: h, Users: kicked, Cause: webhook.CauseKicked, Audience: aud})
}

// RecoverPresence runs once at start-up, before clients connect: the people who were
// members through the previous process's connections (this node's, on a node of a
// cluster) are treated as having lost their heartbeat (Offline/HeartbeatInterrupt, one
// callback per room), so they may come back within the grace period and be told
// HeartbeatRecover.
func (s *Service) RecoverPresence(ctx context.Context) (int, error) {
	return s.recoverMembers(ctx, s.node)
}

// recoverMembers is RecoverPresence for the members node held.
func (s *Service) recoverMembers(ctx context.Context, node string) (int, error) {
	total := 0
	var after *store.Member
	// group collects the members of one room, which may span pages: a room gets one
	// callback for all of them.
	var group []store.Member
	flush := func() error {
		if len(group) == 0 {
			return nil
		}
		n, err := s.interruptAll(ctx, node, group)
		total += n
		group = nil
		return err
	}
	for {
		page, err := s.store.MemberListPeople(ctx, node, after, 500)
		if err != nil {
			return total, err
		}
		if len(page) == 0 {
			return total, flush()
		}
		after = &page[len(page)-1]
		for _, m := range page {
			if len(group) > 0 && (group[0].App != m.App || group[0].RoomID != m.RoomID) {
				if err := flush(); err != nil {
					return total, err
				}
			}
			group = append(group, m)
		}
	}
}

// interruptAll marks members of one room that node held as having lost their heartbeat and
// returns how many it moved (members who left meanwhile, or entered again through another
// node, are skipped).
func (s *Service) interruptAll(ctx context.Context, node string, members []store.Member) (int, error) {
	app, roomID := members[0].App, members[0].RoomID
	a := Actor{App: app, Operator: SystemOperator, Platform: webhook.PlatformUnknown}
	defer s.live.lock(liveKey{app, roomID})()
	var users []string
	err := s.store.Tx(ctx, func(tx store.Tx) error {
		users = users[:0]
		row, err := tx.RoomGet(ctx, app, roomID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		now := s.now()
		for _, m := range members {
			cur, err := tx.MemberGet(ctx, app, roomID, m.UserID)
			if errors.Is(err, store.ErrNotFound) || (err == nil && (cur.IsRobot || cur.Node != node)) {
				continue
			} else if err != nil {
				return err
			}
			if err := tx.MemberRemove(ctx, app, roomID, m.UserID); err != nil {
				return err
			}
			if err := tx.LostMemberPut(ctx, store.LostMember{App: app, RoomID: roomID, UserID: m.UserID, LostAt: now}); err != nil {
				return err
			}
			users = append(users, m.UserID)
		}
		if len(users) == 0 {
			return nil
		}
		if err := s.startTimers(ctx, tx, row, users, webhook.CauseHeartbeatInterrupt, now); err != nil {
			return err
		}
		if err := s.leaveSeats(ctx, tx, a, row, users); err != nil {
			return err
		}
		aud, err := audience(ctx, tx, row)
		if err != nil {
			return err
		}
		return s.publish(ctx, tx, a, MembersOffline{EventHead: s.head(a, roomID), Users: users, Cause: webhook.CauseHeartbeatInterrupt, Audience: aud})
	})
	if err != nil {
		return 0, err
	}
	return len(users), nil
}

// RunDue does the presence work whose time has come: it forgets members whose grace period
// ended (without a callback: they were told Offline already), ends the seat applications
// whose timeout passed (seats.go) and dissolves rooms whose
// dissolution timer is due and whose reason still holds (DestroyBySystem). It returns how
// many rooms it dissolved. The server calls it every second; tests call it with a moved
// clock.
func (s *Service) RunDue(ctx context.Context) (int, error) {
	now := s.now()
	cutoff := now.Add(-s.liveOpts.Grace)
	lost, err := s.store.LostMemberListBefore(ctx, cutoff, 500)
	if err != nil {
		return 0, err
	}
	for _, m := range lost {
		if err := s.forgetLost(ctx, m, cutoff); err != nil {
			return 0, err
		}
	}
	if err := s.expireSeatRequests(ctx, now); err != nil {
		return 0, err
	}
	due, err := s.store.RoomTimerListDue(ctx, now, 100)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, t := range due {
		dissolved, err := s.dissolveIfDue(ctx, t)
		if err != nil {
			return n, err
		}
		if dissolved {
			n++
		}
	}
	return n, nil
}

// forgetLost forgets a lost member whose grace period ended at cutoff, unless the record
// changed since it was listed (the user recovered and lost its heartbeat again: its new
// grace period runs).
func (s *Service) forgetLost(ctx context.Context, m store.LostMember, cutoff time.Time) error {
	defer s.live.lock(liveKey{m.App, m.RoomID})()
	return s.store.Tx(ctx, func(tx store.Tx) error {
		cur, err := tx.LostMemberGet(ctx, m.App, m.RoomID, m.UserID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && cur.LostAt.After(cutoff)) {
			return nil
		}
		if err != nil {
			return err
		}
		_, err = tx.LostMemberDelete(ctx, m.App, m.RoomID, m.UserID)
		return err
	})
}

// dissolveIfDue dissolves the room of a due timer when its reason still holds, and
// otherwise drops the timer.
func (s *Service) dissolveIfDue(ctx context.Context, t store.RoomTimer) (bool, error) {
	a := Actor{App: t.App, Operator: SystemOperator, Platform: webhook.PlatformUnknown, AppAdmin: true}
	k := liveKey{t.App, t.RoomID}
	defer s.live.lock(k)()
	dissolved := false
	err := s.store.Tx(ctx, func(tx store.Tx) error {
		// The timer was listed before the lock was taken: it may have been cleared or set
		// again later since (the room was entered and left again). Only the timer as it is
		// now counts.
		cur, err := tx.RoomTimerGet(ctx, t.App, t.RoomID, t.Kind)
		if errors.Is(err, store.ErrNotFound) || (err == nil && cur.DueAt.After(s.now())) {
			return nil
		}
		if err != nil {
			return err
		}
		row, err := tx.RoomGet(ctx, t.App, t.RoomID)
		if errors.Is(err, store.ErrNotFound) {
			return tx.RoomTimerDelete(ctx, t.App, t.RoomID, t.Kind)
		}
		if err != nil {
			return err
		}
		holds, err := s.timerHolds(ctx, tx, row, t.Kind)
		if err != nil {
			return err
		}
		if !holds {
			return tx.RoomTimerDelete(ctx, t.App, t.RoomID, t.Kind)
		}
		dissolved = true
		_, err = s.destroyLocked(ctx, tx, a, row, true)
		return err
	})
	return dissolved, err
}

// timerHolds reports whether the reason of a room's timer still holds: nobody in the room,
// or the owner away; a room with a robot never dissolves.
func (s *Service) timerHolds(ctx context.Context, tx store.Tx, row store.Room, kind store.RoomTimerKind) (bool, error) {
	robots, err := tx.MemberCount(ctx, row.App, row.RoomID, store.MembersRobots)
	if err != nil || robots > 0 {
		return false, err
	}
	switch kind {
	case store.TimerNoUsers:
		n, err := tx.MemberCount(ctx, row.App, row.RoomID, store.MembersAll)
		return n == 0, err
	default:
		_, err := tx.MemberGet(ctx, row.App, row.RoomID, row.Owner)
		if errors.Is(err, store.ErrNotFound) {
			return true, nil
		}
		return false, err
	}
}

// audience reads who is in the room row now, for a presence event.
func audience(ctx context.Context, tx store.Tx, row store.Room) (Audience, error) {
	aud, _, err := audienceCounts(ctx, tx, row)
	return aud, err
}

// memberCounts are a room's members (robots included) and, among them, its people.
type memberCounts struct{ all, people int }

// audienceCounts is audience with the room's member counts, which it reads in one pass
// over the room's members (the only part of a presence change that grows with the room).
func audienceCounts(ctx context.Context, tx store.Tx, row store.Room) (Audience, memberCounts, error) {
	var c memberCounts
	var err error
	if c.all, c.people, err = tx.MemberCounts(ctx, row.App, row.RoomID); err != nil {
		return Audience{}, c, err
	}
	admins, err := tx.AdminList(ctx, row.App, row.RoomID)
	if err != nil {
		return Audience{}, c, err
	}
	return Audience{MemberCount: c.all, Managers: append([]string{row.Owner}, admins...)}, c, nil
}
