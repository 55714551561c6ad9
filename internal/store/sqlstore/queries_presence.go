package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/roomd/roomd/internal/store"
)

func (r Reader) LostMemberGet(ctx context.Context, app uint64, roomID, userID string) (store.LostMember, error) {
	return queryOne(ctx, r.q, "get lost member "+userID+" of room "+roomID, func(row scanner) (store.LostMember, error) {
		var lost int64
		err := row.Scan(&lost)
		return store.LostMember{App: app, RoomID: roomID, UserID: userID, LostAt: fromMS(lost)}, err
	}, `SELECT lost_at FROM room_lost_members WHERE sdkappid = ? AND room_id = ? AND user_id = ?`, int64(app), roomID, userID)
}

func (r Reader) LostMemberListBefore(ctx context.Context, t time.Time, limit int) ([]store.LostMember, error) {
	return queryList(ctx, r.q, "list lost members", func(rows scanner) (store.LostMember, error) {
		var m store.LostMember
		var app, lost int64
		err := rows.Scan(&app, &m.RoomID, &m.UserID, &lost)
		m.App, m.LostAt = uint64(app), fromMS(lost)
		return m, err
	}, `SELECT sdkappid, room_id, user_id, lost_at FROM room_lost_members WHERE lost_at <= ?
		ORDER BY lost_at, sdkappid, room_id, user_id LIMIT ?`, ms(t), r.pageLimit(limit))
}

func (r Reader) MemberListPeople(ctx context.Context, node string, after *store.Member, limit int) ([]store.Member, error) {
	q := `SELECT sdkappid, room_id, user_id, joined_at FROM room_members WHERE is_robot = 0 AND node = ?`
	args := []any{node}
	if after != nil {
		q += ` AND (sdkappid, room_id, user_id) > (?, ?, ?)`
		args = append(args, int64(after.App), after.RoomID, after.UserID)
	}
	q += ` ORDER BY sdkappid, room_id, user_id LIMIT ?`
	args = append(args, r.pageLimit(limit))
	return queryList(ctx, r.q, "list people in rooms", func(rows scanner) (store.Member, error) {
		m := store.Member{Node: node}
		var app, joined int64
		err := rows.Scan(&app, &m.RoomID, &m.UserID, &joined)
		m.App, m.JoinedAt = uint64(app), fromMS(joined)
		return m, err
	}, q, args...)
}

func (r Reader) RoomTimerListDue(ctx context.Context, t time.Time, limit int) ([]store.RoomTimer, error) {
	return queryList(ctx, r.q, "list due room timers", func(rows scanner) (store.RoomTimer, error) {
		var rt store.RoomTimer
		var app, due int64
		var kind string
		err := rows.Scan(&app, &rt.RoomID, &kind, &due)
		rt.App, rt.Kind, rt.DueAt = uint64(app), store.RoomTimerKind(kind), fromMS(due)
		return rt, err
	}, `SELECT sdkappid, room_id, kind, due_at FROM room_timers WHERE due_at <= ?
		ORDER BY due_at, sdkappid, room_id, kind LIMIT ?`, ms(t), r.pageLimit(limit))
}

func (r Reader) RoomTimerGet(ctx context.Context, app uint64, roomID string, kind store.RoomTimerKind) (store.RoomTimer, error) {
	return queryOne(ctx, r.q, "get "+string(kind)+" timer of room "+roomID, func(row scanner) (store.RoomTimer, error) {
		var due int64
		err := row.Scan(&due)
		return store.RoomTimer{App: app, RoomID: roomID, Kind: kind, DueAt: fromMS(due)}, err
	}, `SELECT due_at FROM room_timers WHERE sdkappid = ? AND room_id = ? AND kind = ?`, int64(app), roomID, string(kind))
}

func (t *Tx) LostMemberPut(ctx context.Context, m store.LostMember) error {
	_, err := t.q.Exec(ctx, `INSERT INTO room_lost_members (sdkappid, room_id, user_id, lost_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (sdkappid, room_id, user_id) DO UPDATE SET lost_at = excluded.lost_at`,
		int64(m.App), m.RoomID, m.UserID, ms(m.LostAt))
	if err != nil {
		return fmt.Errorf("put lost member %s of room %s: %w", m.UserID, m.RoomID, err)
	}
	return nil
}

func (t *Tx) LostMemberDelete(ctx context.Context, app uint64, roomID, userID string) (bool, error) {
	return t.deleteOne(ctx, `DELETE FROM room_lost_members WHERE sdkappid = ? AND room_id = ? AND user_id = ?`,
		"forget lost member "+userID, app, roomID, userID)
}

func (t *Tx) RoomTimerPut(ctx context.Context, rt store.RoomTimer) error {
	_, err := t.q.Exec(ctx, `INSERT INTO room_timers (sdkappid, room_id, kind, due_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (sdkappid, room_id, kind) DO UPDATE SET due_at = excluded.due_at`,
		int64(rt.App), rt.RoomID, string(rt.Kind), ms(rt.DueAt))
	if err != nil {
		return fmt.Errorf("put %s timer of room %s: %w", rt.Kind, rt.RoomID, err)
	}
	return nil
}

func (t *Tx) RoomTimerDelete(ctx context.Context, app uint64, roomID string, kind store.RoomTimerKind) error {
	if _, err := t.q.Exec(ctx, `DELETE FROM room_timers WHERE sdkappid = ? AND room_id = ? AND kind = ?`,
		int64(app), roomID, string(kind)); err != nil {
		return fmt.Errorf("delete %s timer of room %s: %w", kind, roomID, err)
	}
	return nil
}
