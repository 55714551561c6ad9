package sqlstore

import (
	"context"
	"fmt"

	"github.com/roomd/roomd/internal/store"
)

// The queries of room members, robots included (store.MemberReader, store.MemberWriter).
// Schema: migrations/0002_members_stats_metadata.sql and 0011 (node).

func memberKindClause(k store.MemberKind) string {
	switch k {
	case store.MembersPeople:
		return ` AND is_robot = 0`
	case store.MembersRobots:
		return ` AND is_robot = 1`
	}
	return ""
}

func (r Reader) MemberGet(ctx context.Context, app uint64, roomID, userID string) (store.Member, error) {
	return queryOne(ctx, r.q, "get member "+userID+" of room "+roomID, func(row scanner) (store.Member, error) {
		m := store.Member{App: app, RoomID: roomID, UserID: userID}
		var robot, joined int64
		err := row.Scan(&robot, &joined, &m.Node)
		m.IsRobot = robot != 0
		m.JoinedAt = fromMS(joined)
		return m, err
	}, `SELECT is_robot, joined_at, node FROM room_members WHERE sdkappid = ? AND room_id = ? AND user_id = ?`, int64(app), roomID, userID)
}

func (r Reader) MemberList(ctx context.Context, p store.MemberListParams) ([]store.Member, error) {
	q := `SELECT user_id, is_robot, joined_at, node FROM room_members WHERE sdkappid = ? AND room_id = ?` + memberKindClause(p.Kind)
	args := []any{int64(p.App), p.RoomID}
	if p.After != nil {
		q += ` AND (joined_at > ? OR (joined_at = ? AND user_id > ?))`
		args = append(args, ms(p.After.JoinedAt), ms(p.After.JoinedAt), p.After.UserID)
	}
	q += ` ORDER BY joined_at, user_id LIMIT ?`
	args = append(args, r.pageLimit(p.Limit))
	return queryList(ctx, r.q, "list members of room "+p.RoomID, func(rows scanner) (store.Member, error) {
		m := store.Member{App: p.App, RoomID: p.RoomID}
		var robot, joined int64
		err := rows.Scan(&m.UserID, &robot, &joined, &m.Node)
		m.IsRobot = robot != 0
		m.JoinedAt = fromMS(joined)
		return m, err
	}, q, args...)
}

func (r Reader) MemberCount(ctx context.Context, app uint64, roomID string, kind store.MemberKind) (int, error) {
	var n int
	err := r.q.QueryRow(ctx, `SELECT COUNT(*) FROM room_members WHERE sdkappid = ? AND room_id = ?`+memberKindClause(kind),
		int64(app), roomID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count members of room %s: %w", roomID, err)
	}
	return n, nil
}

func (r Reader) MemberCounts(ctx context.Context, app uint64, roomID string) (all, people int, err error) {
	err = r.q.QueryRow(ctx, `SELECT COUNT(*), CAST(COALESCE(SUM(1 - is_robot), 0) AS BIGINT) FROM room_members WHERE sdkappid = ? AND room_id = ?`,
		int64(app), roomID).Scan(&all, &people)
	if err != nil {
		return 0, 0, fmt.Errorf("count members of room %s: %w", roomID, err)
	}
	return all, people, nil
}

func (t *Tx) MemberAdd(ctx context.Context, m store.Member) (bool, error) {
	res, err := t.q.Exec(ctx, `INSERT INTO room_members (sdkappid, room_id, user_id, is_robot, joined_at, node) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (sdkappid, room_id, user_id) DO NOTHING`, int64(m.App), m.RoomID, m.UserID, boolInt(m.IsRobot), ms(m.JoinedAt), m.Node)
	if err != nil {
		return false, fmt.Errorf("add member %s to room %s: %w", m.UserID, m.RoomID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

func (t *Tx) MemberRemove(ctx context.Context, app uint64, roomID, userID string) error {
	res, err := t.q.Exec(ctx, `DELETE FROM room_members WHERE sdkappid = ? AND room_id = ? AND user_id = ?`, int64(app), roomID, userID)
	return affectedOne(res, err, "remove member "+userID+" from room "+roomID)
}
