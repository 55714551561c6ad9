package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/roomd/roomd/internal/store"
)

// The queries of rooms (store.RoomReader, store.RoomWriter). Schema: migrations/0001_init.sql.

const roomColumns = `sdkappid, room_id, owner, created_at, view_count, public_visible, info`

func scanRoom(sc scanner) (store.Room, error) {
	var (
		rm      store.Room
		app     int64
		created int64
		public  int64
	)
	if err := sc.Scan(&app, &rm.RoomID, &rm.Owner, &created, &rm.ViewCount, &public, &rm.Info); err != nil {
		return store.Room{}, err
	}
	rm.App = uint64(app)
	rm.CreatedAt = fromMS(created)
	rm.PublicVisible = public != 0
	return rm, nil
}

func (r Reader) RoomGet(ctx context.Context, app uint64, roomID string) (store.Room, error) {
	return queryOne(ctx, r.q, "get room "+roomID, scanRoom, `SELECT `+roomColumns+` FROM rooms WHERE sdkappid = ? AND room_id = ?`, int64(app), roomID)
}

func (r Reader) RoomOwnerInfo(ctx context.Context, app uint64, roomID string) (store.Room, error) {
	rm := store.Room{App: app, RoomID: roomID}
	err := r.q.QueryRow(ctx, `SELECT owner, info FROM rooms WHERE sdkappid = ? AND room_id = ?`, int64(app), roomID).Scan(&rm.Owner, &rm.Info)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Room{}, store.ErrNotFound
	}
	if err != nil {
		return store.Room{}, fmt.Errorf("get owner of room %s: %w", roomID, err)
	}
	return rm, nil
}

// The flags of RoomOwnerChange's statement, one bit each, so that the row carries them in one
// column.
const (
	ownerChangeAccount = 1 << iota
	ownerChangeMember
	ownerChangeRobot
	ownerChangeAdmin
	ownerChangeTimers
	ownerChangeSeatRequest
)

// ownerChangeSeat is the multiplier of a seat's part in the flags column of
// roomOwnerChangeQuery: below it are the flags above, from it up the seat (see
// decodeOwnerChangeSeat).
const ownerChangeSeat = 1 << 6

// roomOwnerChangeQuery reads a room's owner and Info with its stored seats (one row per
// seat, or one row without a seat when it has none), and, in the flags column, what the
// user ?3 is to the app and the room. The owner timers' kinds are literals (constants
// without quotes), not arguments: each text argument costs the SQLite driver a copy into C
// memory. The subqueries use no column of the outer rows, so
// each engine evaluates them once (SQLite: once per statement; PostgreSQL: an InitPlan),
// each one primary-key or unique-index lookup.
//
// The flags column also carries the row's seat, as ownerChangeSeat times
// 8 * (seat_index + 1) + 4 * locked + 2 * video_locked + audio_locked (0: no seat), so
// that the statement has four columns, not eight: the SQLite driver reads each column's
// name and declared type at every run of a query, and fetches each value with calls of
// its own, which cost more than the arithmetic (docs/bench.md, issue 13).
var roomOwnerChangeQuery = fmt.Sprintf(`SELECT r.owner, r.info,
	CASE WHEN EXISTS (SELECT 1 FROM accounts WHERE sdkappid = ?1 AND user_id = ?3) THEN %d ELSE 0 END
	+ COALESCE((SELECT %d + %d * is_robot FROM room_members WHERE sdkappid = ?1 AND room_id = ?2 AND user_id = ?3), 0)
	+ CASE WHEN EXISTS (SELECT 1 FROM room_admins WHERE sdkappid = ?1 AND room_id = ?2 AND user_id = ?3) THEN %d ELSE 0 END
	+ CASE WHEN EXISTS (SELECT 1 FROM room_timers WHERE sdkappid = ?1 AND room_id = ?2 AND kind = '%s')
		OR EXISTS (SELECT 1 FROM room_timers WHERE sdkappid = ?1 AND room_id = ?2 AND kind = '%s') THEN %d ELSE 0 END
	+ CASE WHEN EXISTS (SELECT 1 FROM room_seat_requests WHERE sdkappid = ?1 AND room_id = ?2 AND user_id = ?3) THEN %d ELSE 0 END
	+ %d * COALESCE(8 * (s.seat_index + 1) + CASE WHEN s.locked = 0 THEN 0 ELSE 4 END
		+ CASE WHEN s.video_locked = 0 THEN 0 ELSE 2 END + CASE WHEN s.audio_locked = 0 THEN 0 ELSE 1 END, 0),
	COALESCE(s.user_id, '')
FROM rooms r LEFT JOIN room_seats s ON s.sdkappid = r.sdkappid AND s.room_id = r.room_id
WHERE r.sdkappid = ?1 AND r.room_id = ?2`,
	ownerChangeAccount, ownerChangeMember, ownerChangeRobot, ownerChangeAdmin, store.TimerOwnerLeave, store.TimerOwnerOffline,
	ownerChangeTimers, ownerChangeSeatRequest, ownerChangeSeat)

// decodeOwnerChangeSeat reads the seat that the flags column of roomOwnerChangeQuery
// carries into s; false when the row has none.
func decodeOwnerChangeSeat(flags int64, s *store.Seat) bool {
	v := flags / ownerChangeSeat
	if v == 0 {
		return false
	}
	s.Index = int(v/8 - 1)
	s.Locked, s.VideoLocked, s.AudioLocked = v&4 != 0, v&2 != 0, v&1 != 0
	return true
}

// ReadAhead returns the statement and arguments of the read that a call with footprint f
// makes first (store.Footprint), exactly as this package sends them to its Querier, so
// that a Querier may send it ahead and answer the call's Query with its rows; ok is false
// when f names none.
func ReadAhead(f store.Footprint) (q string, args []any, ok bool) {
	if f.RoomID == "" || f.User == "" {
		return "", nil, false
	}
	switch f.First {
	case store.ReadOwnerChange:
		return roomOwnerChangeQuery, roomUserArgs(f.App, f.RoomID, f.User), true
	case store.ReadRoomInsert:
		return roomInsertChecksQuery, roomUserArgs(f.App, f.RoomID, f.User), true
	}
	return "", nil, false
}

// roomUserArgs are the arguments of roomOwnerChangeQuery and roomInsertChecksQuery.
func roomUserArgs(app uint64, roomID, user string) []any {
	return []any{int64(app), roomID, user}
}

func (r Reader) RoomOwnerChange(ctx context.Context, app uint64, roomID, user string) (store.OwnerChange, error) {
	rows, err := r.q.Query(ctx, roomOwnerChangeQuery, roomUserArgs(app, roomID, user)...)
	if err != nil {
		return store.OwnerChange{}, fmt.Errorf("read room %s for an owner change: %w", roomID, err)
	}
	defer rows.Close()
	oc := store.OwnerChange{Room: store.Room{App: app, RoomID: roomID}}
	found := false
	for rows.Next() {
		var (
			owner string
			info  []byte
			flags int64
			seat  = store.Seat{App: app, RoomID: roomID}
		)
		if err := rows.Scan(&owner, &info, &flags, &seat.UserID); err != nil {
			return store.OwnerChange{}, fmt.Errorf("read room %s for an owner change: %w", roomID, err)
		}
		if !found {
			found = true
			oc.Room.Owner, oc.Room.Info = owner, info
			oc.Account = flags&ownerChangeAccount != 0
			oc.Member = flags&ownerChangeMember != 0
			oc.Robot = flags&ownerChangeRobot != 0
			oc.Admin = flags&ownerChangeAdmin != 0
			oc.OwnerTimers = flags&ownerChangeTimers != 0
			oc.SeatRequest = flags&ownerChangeSeatRequest != 0
		}
		if decodeOwnerChangeSeat(flags, &seat) {
			oc.Seats = append(oc.Seats, seat)
		}
	}
	if err := rows.Err(); err != nil {
		return store.OwnerChange{}, fmt.Errorf("read room %s for an owner change: %w", roomID, err)
	}
	if !found {
		return store.OwnerChange{}, store.ErrNotFound
	}
	// The join has no ORDER BY (it would cost PostgreSQL a sort); the engines give the
	// seats by index anyway, and this keeps the promise when they do not.
	if !slices.IsSortedFunc(oc.Seats, cmpSeatIndex) {
		slices.SortFunc(oc.Seats, cmpSeatIndex)
	}
	return oc, nil
}

func cmpSeatIndex(a, b store.Seat) int { return a.Index - b.Index }

func (r Reader) RoomCount(ctx context.Context, app uint64) (int, error) {
	var n int
	if err := r.q.QueryRow(ctx, `SELECT COUNT(*) FROM rooms WHERE sdkappid = ?`, int64(app)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count rooms: %w", err)
	}
	return n, nil
}

func (r Reader) RoomList(ctx context.Context, p store.RoomListParams) ([]store.Room, error) {
	q := `SELECT ` + roomColumns + ` FROM rooms WHERE sdkappid = ?`
	args := []any{int64(p.App)}
	if p.OnlyPublic {
		q += ` AND public_visible = 1`
	}
	if p.After != nil {
		if p.Ascending {
			q += ` AND (view_count > ? OR (view_count = ? AND (created_at < ? OR (created_at = ? AND room_id < ?))))`
		} else {
			q += ` AND (view_count < ? OR (view_count = ? AND (created_at > ? OR (created_at = ? AND room_id > ?))))`
		}
		a := p.After
		args = append(args, a.ViewCount, a.ViewCount, ms(a.CreatedAt), ms(a.CreatedAt), a.RoomID)
	}
	if p.Ascending {
		q += ` ORDER BY view_count, created_at DESC, room_id DESC LIMIT ?`
	} else {
		q += ` ORDER BY view_count DESC, created_at, room_id LIMIT ?`
	}
	args = append(args, p.Limit)
	return queryList(ctx, r.q, "list rooms", scanRoom, q, args...)
}

func (t *Tx) RoomInsert(ctx context.Context, r store.Room) error {
	return t.insertRoom(ctx, r, t.execGuarded)
}

// insertRoom inserts r with exec (execGuarded, or execGuardedRarely where a taken id is
// known not to be); a taken id is ErrConflict.
func (t *Tx) insertRoom(ctx context.Context, r store.Room, exec func(context.Context, string, ...any) (sql.Result, error)) error {
	_, err := exec(ctx, `INSERT INTO rooms (`+roomColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		int64(r.App), r.RoomID, r.Owner, ms(r.CreatedAt), r.ViewCount, boolInt(r.PublicVisible), nonNil(r.Info))
	if t.isUniqueViolation(err) {
		return store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("insert room %s: %w", r.RoomID, err)
	}
	return nil
}

func (t *Tx) RoomInsertOwned(ctx context.Context, r store.Room) error {
	// The values come from a SELECT that yields a row only when the owner is an account;
	// PostgreSQL types its parameters from the insert's columns.
	res, err := t.execGuarded(ctx, `INSERT INTO rooms (`+roomColumns+`) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7
		WHERE EXISTS (SELECT 1 FROM accounts WHERE sdkappid = ?1 AND user_id = ?3)`,
		int64(r.App), r.RoomID, r.Owner, ms(r.CreatedAt), r.ViewCount, boolInt(r.PublicVisible), nonNil(r.Info))
	if t.isUniqueViolation(err) {
		return store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("insert room %s: %w", r.RoomID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// roomInsertChecksQuery reads what the statement of RoomInsertOwned finds out, whether the
// room id ?2 is taken and whether the owner ?3 is an account, as a read that a driver can
// send ahead (store.ReadRoomInsert, RoomInsertOwnedChecked).
const roomInsertChecksQuery = `SELECT EXISTS (SELECT 1 FROM rooms WHERE sdkappid = ?1 AND room_id = ?2),
	EXISTS (SELECT 1 FROM accounts WHERE sdkappid = ?1 AND user_id = ?3)`

// RoomInsertOwnedChecked is RoomInsertOwned in two steps, for a driver that sent the
// checks ahead (store.ReadRoomInsert): it reads them, answers a taken id or an owner that
// is no account as RoomInsertOwned does, and otherwise inserts the room with
// execGuardedRarely, which such a driver queues: after the checks, in the same
// transaction, a unique violation would mean the read was wrong.
func (t *Tx) RoomInsertOwnedChecked(ctx context.Context, r store.Room) error {
	var taken, account bool
	if err := t.q.QueryRow(ctx, roomInsertChecksQuery, roomUserArgs(r.App, r.RoomID, r.Owner)...).Scan(&taken, &account); err != nil {
		return fmt.Errorf("insert room %s: check: %w", r.RoomID, err)
	}
	switch {
	case taken:
		return store.ErrConflict
	case !account:
		return store.ErrNotFound
	}
	return t.insertRoom(ctx, r, t.execGuardedRarely)
}

func (t *Tx) RoomUpdate(ctx context.Context, r store.Room) error {
	res, err := t.q.Exec(ctx, `UPDATE rooms SET owner = ?, created_at = ?, view_count = ?, public_visible = ?, info = ? WHERE sdkappid = ? AND room_id = ?`,
		r.Owner, ms(r.CreatedAt), r.ViewCount, boolInt(r.PublicVisible), nonNil(r.Info), int64(r.App), r.RoomID)
	return affectedOne(res, err, "update room "+r.RoomID)
}

func (t *Tx) RoomSetOwner(ctx context.Context, app uint64, roomID, owner string) error {
	res, err := t.q.Exec(ctx, `UPDATE rooms SET owner = ? WHERE sdkappid = ? AND room_id = ?`, owner, int64(app), roomID)
	return affectedOne(res, err, "set owner of room "+roomID)
}

func (t *Tx) RoomSetOwnerUnchecked(ctx context.Context, app uint64, roomID, owner string) error {
	if _, err := t.q.Exec(ctx, `UPDATE rooms SET owner = ? WHERE sdkappid = ? AND room_id = ?`, owner, int64(app), roomID); err != nil {
		return fmt.Errorf("set owner of room %s: %w", roomID, err)
	}
	return nil
}

func (t *Tx) RoomDelete(ctx context.Context, app uint64, roomID string) error {
	res, err := t.q.Exec(ctx, `DELETE FROM rooms WHERE sdkappid = ? AND room_id = ?`, int64(app), roomID)
	if err := affectedOne(res, err, "delete room "+roomID); err != nil {
		return err
	}
	return t.deleteRoomRows(ctx, app, roomID)
}

// deleteRoomRows empties a room's members, statistics and metadata
// (migrations/0002_members_stats_metadata.sql); RoomDelete calls it. The tables of
// migrations/0003_admins_sanctions_messages.sql are emptied by that migration's trigger.
func (t *Tx) deleteRoomRows(ctx context.Context, app uint64, roomID string) error {
	for _, table := range []string{"room_members", "room_stats", "room_metadata"} {
		if _, err := t.q.Exec(ctx, `DELETE FROM `+table+` WHERE sdkappid = ? AND room_id = ?`, int64(app), roomID); err != nil {
			return fmt.Errorf("delete %s of room %s: %w", table, roomID, err)
		}
	}
	return nil
}

func (t *Tx) RoomAddViews(ctx context.Context, app uint64, roomID string, n int64) error {
	res, err := t.q.Exec(ctx, `UPDATE rooms SET view_count = view_count + ? WHERE sdkappid = ? AND room_id = ?`, n, int64(app), roomID)
	return affectedOne(res, err, "add views to room "+roomID)
}
