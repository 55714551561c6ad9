package room

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/roomd/roomd/internal/errcode"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/webhook"
)

// Battles (PK) between rooms. A battle is created by the owner of one room (or an App
// admin) with a list of invited rooms. Created with NeedResponse it is requested: each
// invited room's owner accepts or rejects, or lets its Timeout run out; once no invited room
// is left to answer it starts if one joined and ends otherwise (OpType 2). Created without
// NeedResponse it starts at once. A running battle ends when its Duration is up (OpType 0)
// or when fewer than two rooms are left in it because hosts exited (OpType 1); a room that
// is destroyed (by its owner, an App admin or the system) exits every battle it is in or
// invited to, as its host would (leaveBattles). The one
// timer of a battle is its store row's DueAt, so it survives a restart; RunDueBattles acts
// on it. Every battle event is ordered with the inviting room's callbacks.

// Battle limits and defaults where Tencent's pages are silent (docs/decisions.md).
const (
	MaxBattleInvitees     = 8
	MaxBattleDuration     = 24 * time.Hour
	DefaultBattleTimeout  = 10 * time.Second
	MaxBattleTimeout      = time.Hour
	MaxBattleScore        = math.MaxInt32
	MaxBattleExtensionLen = 2048
)

// Per-room result codes of create_battle (Response.Result[].ResultCode).
const (
	BattleResultOK          = 0
	BattleResultInOtherPK   = 3
	BattleResultSystemError = 5
)

var (
	// ErrBattleNotFound: no battle has the BattleId given (100002, the parameter is wrong;
	// Tencent documents no code of its own).
	ErrBattleNotFound = errcode.New(errcode.LiveInvalid, "battle does not exist")
	// ErrRoomInBattle: the room already takes part in a battle that has not ended (100006).
	ErrRoomInBattle = errcode.New(errcode.NoPermission, "room is already in a battle")
	// ErrBattleState: the battle is not in a state that allows the operation, e.g. a score
	// for a battle that is not running or an answer to a request that is closed (100006).
	ErrBattleState = errcode.New(errcode.NoPermission, "the battle does not allow this now")
)

// BattleRoom is one room of a battle: its owner when the battle was created, how it stands
// in the battle, and its score.
type BattleRoom struct {
	RoomID string
	Owner  string
	State  store.BattleRoomState
	Score  int64
}

// Battle is a battle between rooms. Rooms holds the inviting room first, then the invited
// rooms in request order. StartTime and EndTime are zero until the battle starts and ends.
type Battle struct {
	App           uint64
	ID            string
	Operator      string
	Duration      time.Duration
	Timeout       time.Duration
	NeedResponse  bool
	ExtensionInfo string
	Status        store.BattleStatus
	EndType       int
	CreateTime    time.Time
	StartTime     time.Time
	EndTime       time.Time
	Rooms         []BattleRoom
}

// From returns the inviting room.
func (b Battle) From() BattleRoom { return b.Rooms[0] }

// Invited returns the invited rooms, whatever their answer.
func (b Battle) Invited() []BattleRoom { return b.Rooms[1:] }

// Opponents returns the invited rooms that are (or were) on the battle's other side: those
// that have not rejected the request or let it time out. They are ToRoomList in
// get_battle_info and in the start and end callbacks.
func (b Battle) Opponents() []BattleRoom {
	var out []BattleRoom
	for _, r := range b.Invited() {
		if r.State != store.BattleRoomRejected && r.State != store.BattleRoomTimedOut {
			out = append(out, r)
		}
	}
	return out
}

// InBattle returns the rooms taking part now: the rooms in state joined.
func (b Battle) InBattle() []BattleRoom {
	var out []BattleRoom
	for _, r := range b.Rooms {
		if r.State == store.BattleRoomJoined {
			out = append(out, r)
		}
	}
	return out
}

// room returns a pointer to the battle's room roomID, or nil.
func (b *Battle) room(roomID string) *BattleRoom {
	for i := range b.Rooms {
		if b.Rooms[i].RoomID == roomID {
			return &b.Rooms[i]
		}
	}
	return nil
}

// The room events of battles. Their EventHead's RoomID is the inviting room: a battle's
// callbacks are delivered in order with that room's.
type (
	// BattleCreated: a battle was created (Live.CallbackAfterCreateBattle). With
	// NeedResponse the invited rooms' owners are asked.
	BattleCreated struct {
		EventHead
		Battle Battle
	}
	// BattleAnswered: an invited room answered the request (Answer joined or rejected) or
	// let it time out (Answer timeout).
	BattleAnswered struct {
		EventHead
		Battle Battle
		RoomID string
		Answer store.BattleRoomState
	}
	// BattleStarted: the battle started (Live.CallbackAfterStartBattle).
	BattleStarted struct {
		EventHead
		Battle Battle
	}
	// BattleScoresChanged: set_battle_score changed the scores.
	BattleScoresChanged struct {
		EventHead
		Battle Battle
	}
	// BattleRoomExited: a room's host exited the battle.
	BattleRoomExited struct {
		EventHead
		Battle Battle
		RoomID string
	}
	// BattleEnded: the battle ended (Live.CallbackAfterEndBattle) for the reason in its
	// EndType.
	BattleEnded struct {
		EventHead
		Battle Battle
	}
)

// CreateBattleParams is a create_battle request (client: requestBattle).
type CreateBattleParams struct {
	FromRoomID    string
	ToRoomIDs     []string
	Duration      time.Duration
	Timeout       time.Duration // 0: DefaultBattleTimeout
	NeedResponse  bool
	ExtensionInfo string
}

// BattleResult is the per-room result of create_battle: BattleResultOK for a room invited
// (or, without NeedResponse, put in the battle), BattleResultInOtherPK for a room already in
// another battle, which is left out.
type BattleResult struct {
	RoomID  string
	Code    int
	Message string
}

func validateRoomIDField(field, id string) error {
	if err := ValidateRoomID(id); err != nil {
		var ie *errcode.InvalidError
		if errors.As(err, &ie) {
			return errcode.Invalid(field, "%s", ie.Reason)
		}
		return err
	}
	return nil
}

func (p *CreateBattleParams) validate() error {
	if err := validateRoomIDField("FromRoomId", p.FromRoomID); err != nil {
		return err
	}
	var to []string
	for _, id := range p.ToRoomIDs {
		if err := validateRoomIDField("ToRoomIdList", id); err != nil {
			return err
		}
		if id == p.FromRoomID {
			return errcode.Invalid("ToRoomIdList", "must not name FromRoomId %q", id)
		}
		if !slices.Contains(to, id) {
			to = append(to, id)
		}
	}
	if len(to) == 0 || len(to) > MaxBattleInvitees {
		return errcode.Invalid("ToRoomIdList", "must name 1 to %d rooms", MaxBattleInvitees)
	}
	p.ToRoomIDs = to
	if p.Duration < time.Millisecond || p.Duration > MaxBattleDuration {
		return errcode.Invalid("Duration", "must be 1 to %d milliseconds", MaxBattleDuration.Milliseconds())
	}
	if p.Timeout == 0 {
		p.Timeout = DefaultBattleTimeout
	}
	if p.Timeout < time.Millisecond || p.Timeout > MaxBattleTimeout {
		return errcode.Invalid("Timeout", "must be 1 to %d milliseconds", MaxBattleTimeout.Milliseconds())
	}
	if len(p.ExtensionInfo) > MaxBattleExtensionLen {
		return errcode.Invalid("ExtensionInfo", "is longer than %d bytes", MaxBattleExtensionLen)
	}
	return nil
}

// SetBattleIDs replaces how BattleIds are made (tests make them reproducible); it is called
// once, before the service serves. By default a BattleId is 32 random bytes in standard
// base64, the shape of Tencent's samples.
func (s *Service) SetBattleIDs(fn func() string) { s.battleID = fn }

// newBattleID returns a new BattleId.
func (s *Service) newBattleID() string {
	if s.battleID != nil {
		return s.battleID()
	}
	b := make([]byte, 32)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// CreateBattle creates a battle from the room p.FromRoomID against the rooms p.ToRoomIDs
// and publishes BattleCreated, and BattleStarted at once without NeedResponse. Only the
// inviting room's owner (or an App admin) creates one; every room must exist (100004); the
// inviting room must not be in another battle (ErrRoomInBattle), an invited room that is
// gets BattleResultInOtherPK and is left out. When every invited room is left out no battle
// is created: the Battle returned has no ID and nothing is stored.
func (s *Service) CreateBattle(ctx context.Context, a Actor, p CreateBattleParams) (Battle, []BattleResult, error) {
	if err := p.validate(); err != nil {
		return Battle{}, nil, err
	}
	var b Battle
	var results []BattleResult
	err := s.store.Tx(ctx, func(tx store.Tx) error {
		b, results = Battle{}, nil
		from, err := requireRoom(ctx, tx, a.App, p.FromRoomID)
		if err != nil {
			return err
		}
		if err := authorize(ctx, tx, a, from, RoleOwner); err != nil {
			return err
		}
		if busy, err := tx.BattleOfRoom(ctx, a.App, from.RoomID); err == nil {
			return fmt.Errorf("%w: room %s is in battle %s", ErrRoomInBattle, from.RoomID, busy.ID)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		now := s.now()
		b = Battle{App: a.App, ID: s.newBattleID(), Operator: a.Operator, Duration: p.Duration, Timeout: p.Timeout,
			NeedResponse: p.NeedResponse, ExtensionInfo: p.ExtensionInfo, Status: store.BattleRequested, CreateTime: now,
			Rooms: []BattleRoom{{RoomID: from.RoomID, Owner: from.Owner, State: store.BattleRoomJoined}}}
		invited := store.BattleRoomInvited
		if !p.NeedResponse {
			invited = store.BattleRoomJoined
		}
		for _, id := range p.ToRoomIDs {
			row, err := requireRoom(ctx, tx, a.App, id)
			if err != nil {
				return err
			}
			if _, err := tx.BattleOfRoom(ctx, a.App, id); err == nil {
				results = append(results, BattleResult{RoomID: id, Code: BattleResultInOtherPK, Message: "room is already in another battle"})
				continue
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			results = append(results, BattleResult{RoomID: id, Code: BattleResultOK})
			b.Rooms = append(b.Rooms, BattleRoom{RoomID: id, Owner: row.Owner, State: invited})
		}
		if len(b.Rooms) == 1 {
			b = Battle{}
			return nil
		}
		due := now.Add(p.Timeout)
		if !p.NeedResponse {
			b.Status, b.StartTime, due = store.BattleRunning, now, now.Add(p.Duration)
		}
		rows := make([]store.BattleRoom, len(b.Rooms))
		for i, r := range b.Rooms {
			rows[i] = store.BattleRoom{App: a.App, BattleID: b.ID, RoomID: r.RoomID, Owner: r.Owner, Position: i, State: r.State}
		}
		if err := tx.BattleInsert(ctx, b.row(due), rows); err != nil {
			return err
		}
		h := s.head(a, b.From().RoomID)
		if err := s.publish(ctx, tx, a, BattleCreated{EventHead: h, Battle: b}); err != nil {
			return err
		}
		if !p.NeedResponse {
			return s.publish(ctx, tx, a, BattleStarted{EventHead: h, Battle: b})
		}
		return nil
	})
	if err != nil {
		return Battle{}, nil, err
	}
	return b, results, nil
}

// row returns the battle's store row with its timer due at due (zero: none).
func (b Battle) row(due time.Time) store.Battle {
	return store.Battle{App: b.App, ID: b.ID, FromRoomID: b.From().RoomID, Operator: b.Operator, Duration: b.Duration,
		Timeout: b.Timeout, NeedResponse: b.NeedResponse, ExtensionInfo: b.ExtensionInfo, Status: b.Status, EndType: b.EndType,
		CreatedAt: b.CreateTime, StartedAt: b.StartTime, EndedAt: b.EndTime, DueAt: due}
}

// loadBattle reads a battle and its rooms; ErrBattleNotFound when there is none.
func loadBattle(ctx context.Context, r store.Reader, app uint64, id string) (Battle, error) {
	row, err := r.BattleGet(ctx, app, id)
	if errors.Is(err, store.ErrNotFound) {
		return Battle{}, fmt.Errorf("%w: BattleId %q", ErrBattleNotFound, id)
	}
	if err != nil {
		return Battle{}, err
	}
	rooms, err := r.BattleRoomList(ctx, app, id)
	if err != nil {
		return Battle{}, err
	}
	if len(rooms) == 0 {
		return Battle{}, fmt.Errorf("battle %s has no rooms", id)
	}
	b := Battle{App: app, ID: id, Operator: row.Operator, Duration: row.Duration, Timeout: row.Timeout, NeedResponse: row.NeedResponse,
		ExtensionInfo: row.ExtensionInfo, Status: row.Status, EndType: row.EndType, CreateTime: row.CreatedAt,
		StartTime: row.StartedAt, EndTime: row.EndedAt}
	for _, r := range rooms {
		b.Rooms = append(b.Rooms, BattleRoom{RoomID: r.RoomID, Owner: r.Owner, State: r.State, Score: r.Score})
	}
	return b, nil
}

// saveRoom writes one room's state and score.
func (b Battle) saveRoom(ctx context.Context, tx store.Tx, r BattleRoom) error {
	return tx.BattleRoomUpdate(ctx, store.BattleRoom{App: b.App, BattleID: b.ID, RoomID: r.RoomID, State: r.State, Score: r.Score})
}

// GetBattle returns a battle by id or, with battleID empty, the battle that has not ended in
// which the room roomID takes part (get_battle_info's older form).
func (s *Service) GetBattle(ctx context.Context, app uint64, battleID, roomID string) (Battle, error) {
	if battleID == "" {
		if roomID == "" {
			return Battle{}, errcode.Invalid("BattleId", "is required")
		}
		if err := ValidateRoomID(roomID); err != nil {
			return Battle{}, err
		}
		row, err := s.store.BattleOfRoom(ctx, app, roomID)
		if errors.Is(err, store.ErrNotFound) {
			return Battle{}, fmt.Errorf("%w: room %s is in no battle", ErrBattleNotFound, roomID)
		}
		if err != nil {
			return Battle{}, err
		}
		battleID = row.ID
	}
	return loadBattle(ctx, s.store, app, battleID)
}

// BattleScore is one entry of set_battle_score's ScoreList.
type BattleScore struct {
	RoomID string
	Score  int64
}

// SetBattleScores adds to (add) or overwrites the scores of rooms of a running battle and
// publishes BattleScoresChanged. Every room named must be in the battle now (joined), at most
// once; a score and the sum it makes stay within 0 … MaxBattleScore. It returns the battle
// after the change.
func (s *Service) SetBattleScores(ctx context.Context, a Actor, battleID string, add bool, scores []BattleScore) (Battle, error) {
	if battleID == "" {
		return Battle{}, errcode.Invalid("BattleId", "is required")
	}
	if len(scores) == 0 || len(scores) > MaxBattleInvitees+1 {
		return Battle{}, errcode.Invalid("ScoreList", "must have 1 to %d entries", MaxBattleInvitees+1)
	}
	seen := map[string]bool{}
	for _, sc := range scores {
		if err := validateRoomIDField("ScoreList.RoomId", sc.RoomID); err != nil {
			return Battle{}, err
		}
		if seen[sc.RoomID] {
			return Battle{}, errcode.Invalid("ScoreList", "names room %q twice", sc.RoomID)
		}
		seen[sc.RoomID] = true
		if sc.Score < 0 || sc.Score > MaxBattleScore {
			return Battle{}, errcode.Invalid("ScoreList.Score", "must be 0 to %d", MaxBattleScore)
		}
	}
	var b Battle
	err := s.store.Tx(ctx, func(tx store.Tx) error {
		var err error
		if b, err = loadBattle(ctx, tx, a.App, battleID); err != nil {
			return err
		}
		if b.Status != store.BattleRunning {
			return fmt.Errorf("%w: battle %s is not running", ErrBattleState, battleID)
		}
		for _, sc := range scores {
			r := b.room(sc.RoomID)
			if r == nil || r.State != store.BattleRoomJoined {
				return errcode.Invalid("ScoreList.RoomId", "%q is not in battle %s", sc.RoomID, battleID)
			}
			v := sc.Score
			if add {
				v += r.Score
			}
			if v > MaxBattleScore {
				return errcode.Invalid("ScoreList.Score", "would make the score of %s larger than %d", sc.RoomID, MaxBattleScore)
			}
			r.Score = v
			if err := b.saveRoom(ctx, tx, *r); err != nil {
				return err
			}
		}
		return s.publish(ctx, tx, a, BattleScoresChanged{EventHead: s.head(a, b.From().RoomID), Battle: b})
	})
	if err != nil {
		return Battle{}, err
	}
	return b, nil
}

// BattleRoomOf returns the room of a battle whose owner is user now (the room a host acts
// for in acceptBattle, rejectBattle and exitBattle); ErrNotMember when user owns none of
// its rooms.
func (s *Service) BattleRoomOf(ctx context.Context, app uint64, battleID, user string) (string, error) {
	if battleID == "" {
		return "", errcode.Invalid("battleId", "is required")
	}
	b, err := loadBattle(ctx, s.store, app, battleID)
	if err != nil {
		return "", err
	}
	for _, r := range b.Rooms {
		row, err := s.store.RoomGet(ctx, app, r.RoomID)
		if err == nil && row.Owner == user {
			return r.RoomID, nil
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return "", err
		}
	}
	return "", fmt.Errorf("%w: %s owns no room of battle %s", ErrNotMember, user, battleID)
}

// battleAct loads a battle that has not ended and the room roomID of it, checks that the
// actor is the owner of that room (or an App admin), and runs fn in the same transaction.
func (s *Service) battleAct(ctx context.Context, a Actor, battleID, roomID string, fn func(tx store.Tx, b *Battle, r *BattleRoom) error) error {
	if battleID == "" {
		return errcode.Invalid("BattleId", "is required")
	}
	if err := ValidateRoomID(roomID); err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx store.Tx) error {
		b, err := loadBattle(ctx, tx, a.App, battleID)
		if err != nil {
			return err
		}
		row, err := requireRoom(ctx, tx, a.App, roomID)
		if err != nil {
			return err
		}
		if err := authorize(ctx, tx, a, row, RoleOwner); err != nil {
			return err
		}
		r := b.room(roomID)
		if r == nil {
			return fmt.Errorf("%w: room %s is not in battle %s", ErrBattleState, roomID, battleID)
		}
		if b.Status == store.BattleEnded {
			return fmt.Errorf("%w: battle %s has ended", ErrBattleState, battleID)
		}
		return fn(tx, &b, r)
	})
}

// AnswerBattle accepts (acceptBattle) or rejects (rejectBattle) a battle request for the
// invited room roomID, and publishes BattleAnswered; when no invited room is left to answer
// the battle starts, or ends with OpType 2 when none joined. Only a room still asked
// (invited, battle requested) may answer (ErrBattleState otherwise); a room that accepts
// must not be in another battle (ErrRoomInBattle).
func (s *Service) AnswerBattle(ctx context.Context, a Actor, battleID, roomID string, accept bool) error {
	return s.battleAct(ctx, a, battleID, roomID, func(tx store.Tx, b *Battle, r *BattleRoom) error {
		if b.Status != store.BattleRequested || r.State != store.BattleRoomInvited {
			return fmt.Errorf("%w: room %s is not asked to join battle %s", ErrBattleState, roomID, battleID)
		}
		r.State = store.BattleRoomRejected
		if accept {
			if busy, err := tx.BattleOfRoom(ctx, a.App, roomID); err == nil {
				return fmt.Errorf("%w: room %s is in battle %s", ErrRoomInBattle, roomID, busy.ID)
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			r.State = store.BattleRoomJoined
		}
		if err := b.saveRoom(ctx, tx, *r); err != nil {
			return err
		}
		h := s.head(a, b.From().RoomID)
		if err := s.publish(ctx, tx, a, BattleAnswered{EventHead: h, Battle: *b, RoomID: roomID, Answer: r.State}); err != nil {
			return err
		}
		return s.settleBattle(ctx, tx, a, b)
	})
}

// ExitBattle takes the room roomID out of a battle (exitBattle). An invited room that has
// not answered rejects; the inviting room cancels a battle that has not started (it ends
// with OpType 2); any other room in the battle exits (BattleRoomExited), and a running
// battle with fewer than two rooms left ends with OpType 1.
func (s *Service) ExitBattle(ctx context.Context, a Actor, battleID, roomID string) error {
	return s.battleAct(ctx, a, battleID, roomID, func(tx store.Tx, b *Battle, r *BattleRoom) error {
		return s.exitBattle(ctx, tx, a, b, r)
	})
}

// exitBattle takes the room r out of the battle b that has not ended, as ExitBattle
// describes, with no permission check.
func (s *Service) exitBattle(ctx context.Context, tx store.Tx, a Actor, b *Battle, r *BattleRoom) error {
	h := s.head(a, b.From().RoomID)
	switch {
	case r.State == store.BattleRoomInvited:
		r.State = store.BattleRoomRejected
		if err := b.saveRoom(ctx, tx, *r); err != nil {
			return err
		}
		if err := s.publish(ctx, tx, a, BattleAnswered{EventHead: h, Battle: *b, RoomID: r.RoomID, Answer: r.State}); err != nil {
			return err
		}
		return s.settleBattle(ctx, tx, a, b)
	case r.State != store.BattleRoomJoined:
		return fmt.Errorf("%w: room %s is not in battle %s", ErrBattleState, r.RoomID, b.ID)
	case b.Status == store.BattleRequested && r.RoomID == b.From().RoomID:
		return s.endBattle(ctx, tx, a, b, webhook.BattleEndNotStarted)
	}
	r.State = store.BattleRoomExited
	if err := b.saveRoom(ctx, tx, *r); err != nil {
		return err
	}
	if err := s.publish(ctx, tx, a, BattleRoomExited{EventHead: h, Battle: *b, RoomID: r.RoomID}); err != nil {
		return err
	}
	if b.Status == store.BattleRequested {
		return s.settleBattle(ctx, tx, a, b)
	}
	if len(b.InBattle()) < 2 {
		return s.endBattle(ctx, tx, a, b, webhook.BattleEndAllLeft)
	}
	return nil
}

// leaveBattles takes a room that is being destroyed out of every battle that has not ended
// and that it is invited to or takes part in, exactly as its host exiting each would
// (exitBattle): an unanswered request is declined, the inviting room withdraws a battle
// that has not started (OpType 2), a room in a running battle exits and the battle ends
// when fewer than two rooms are left in it (OpType 1). The actor is the destroyer's.
func (s *Service) leaveBattles(ctx context.Context, tx store.Tx, a Actor, roomID string) error {
	rows, err := tx.BattleListOfRoom(ctx, a.App, roomID)
	if err != nil {
		return err
	}
	for _, row := range rows {
		b, err := loadBattle(ctx, tx, a.App, row.ID)
		if err != nil {
			return err
		}
		if r := b.room(roomID); r != nil {
			if err := s.exitBattle(ctx, tx, a, &b, r); err != nil {
				return err
			}
		}
	}
	return nil
}

// settleBattle starts a requested battle, or ends it with OpType 2, once no invited room is
// left to answer; it does nothing while one is.
func (s *Service) settleBattle(ctx context.Context, tx store.Tx, a Actor, b *Battle) error {
	joined := false
	for _, r := range b.Invited() {
		switch r.State {
		case store.BattleRoomInvited:
			return nil
		case store.BattleRoomJoined:
			joined = true
		}
	}
	if !joined {
		return s.endBattle(ctx, tx, a, b, webhook.BattleEndNotStarted)
	}
	now := s.now()
	b.Status, b.StartTime = store.BattleRunning, now
	if err := tx.BattleUpdate(ctx, b.row(now.Add(b.Duration))); err != nil {
		return err
	}
	return s.publish(ctx, tx, a, BattleStarted{EventHead: s.head(a, b.From().RoomID), Battle: *b})
}

// endBattle ends a battle with opType and publishes BattleEnded.
func (s *Service) endBattle(ctx context.Context, tx store.Tx, a Actor, b *Battle, opType int) error {
	b.Status, b.EndType, b.EndTime = store.BattleEnded, opType, s.now()
	if err := tx.BattleUpdate(ctx, b.row(time.Time{})); err != nil {
		return err
	}
	return s.publish(ctx, tx, a, BattleEnded{EventHead: s.head(a, b.From().RoomID), Battle: *b})
}

// RunDueBattles does the battle work whose time has come: a requested battle whose invited
// rooms' Timeout ran out treats the rooms that did not answer as declining (BattleAnswered
// with Answer timeout) and starts or ends; a running battle whose Duration is up ends with
// OpType 0. It returns how many battles it acted on. The server calls it every second with
// RunDue; tests call it with a moved clock.
func (s *Service) RunDueBattles(ctx context.Context) (int, error) {
	due, err := s.store.BattleListDue(ctx, s.now(), 100)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range due {
		a := Actor{App: d.App, Operator: SystemOperator, Platform: webhook.PlatformUnknown, AppAdmin: true}
		acted := false
		err := s.store.Tx(ctx, func(tx store.Tx) error {
			acted = false
			row, err := tx.BattleGet(ctx, d.App, d.ID)
			if err != nil {
				return err
			}
			now := s.now()
			if row.Status == store.BattleEnded || row.DueAt.IsZero() || row.DueAt.After(now) {
				return nil
			}
			b, err := loadBattle(ctx, tx, d.App, d.ID)
			if err != nil {
				return err
			}
			acted = true
			if b.Status == store.BattleRunning {
				return s.endBattle(ctx, tx, a, &b, webhook.BattleEndTimeUp)
			}
			h := s.head(a, b.From().RoomID)
			for i := range b.Rooms {
				r := &b.Rooms[i]
				if r.State != store.BattleRoomInvited {
					continue
				}
				r.State = store.BattleRoomTimedOut
				if err := b.saveRoom(ctx, tx, *r); err != nil {
					return err
				}
				if err := s.publish(ctx, tx, a, BattleAnswered{EventHead: h, Battle: b, RoomID: r.RoomID, Answer: r.State}); err != nil {
					return err
				}
			}
			return s.settleBattle(ctx, tx, a, &b)
		})
		if err != nil {
			return n, err
		}
		if acted {
			n++
		}
	}
	return n, nil
}
