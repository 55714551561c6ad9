package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/roomd/roomd/internal/store"
)

const battleColumns = `sdkappid, battle_id, from_room_id, operator, duration_ms, timeout_ms, need_response,
	extension_info, status, end_type, created_at, started_at, ended_at, due_at`

func scanBattle(row scanner) (store.Battle, error) {
	var b store.Battle
	var app, dur, timeout, need, status, end, created, started, ended, due int64
	err := row.Scan(&app, &b.ID, &b.FromRoomID, &b.Operator, &dur, &timeout, &need, &b.ExtensionInfo, &status, &end,
		&created, &started, &ended, &due)
	b.App, b.Duration, b.Timeout, b.NeedResponse = uint64(app), time.Duration(dur)*time.Millisecond, time.Duration(timeout)*time.Millisecond, need != 0
	b.Status, b.EndType = store.BattleStatus(status), int(end)
	b.CreatedAt, b.StartedAt, b.EndedAt, b.DueAt = fromMS(created), fromMS(started), fromMS(ended), fromMS(due)
	return b, err
}

func (r Reader) BattleGet(ctx context.Context, app uint64, battleID string) (store.Battle, error) {
	return queryOne(ctx, r.q, "get battle "+battleID, scanBattle,
		`SELECT `+battleColumns+` FROM battles WHERE sdkappid = ? AND battle_id = ?`, int64(app), battleID)
}

func (r Reader) BattleRoomList(ctx context.Context, app uint64, battleID string) ([]store.BattleRoom, error) {
	return queryList(ctx, r.q, "list rooms of battle "+battleID, func(rows scanner) (store.BattleRoom, error) {
		br := store.BattleRoom{App: app, BattleID: battleID}
		var state string
		err := rows.Scan(&br.RoomID, &br.Owner, &br.Position, &state, &br.Score)
		br.State = store.BattleRoomState(state)
		return br, err
	}, `SELECT room_id, owner, position, state, score FROM battle_rooms WHERE sdkappid = ? AND battle_id = ?
		ORDER BY position`, int64(app), battleID)
}

func (r Reader) BattleOfRoom(ctx context.Context, app uint64, roomID string) (store.Battle, error) {
	return queryOne(ctx, r.q, "get battle of room "+roomID, scanBattle,
		`SELECT `+battleColumns+` FROM battles WHERE sdkappid = ? AND status < ? AND battle_id IN
			(SELECT battle_id FROM battle_rooms WHERE sdkappid = ? AND room_id = ? AND state = ?)
		ORDER BY created_at, battle_id LIMIT 1`,
		int64(app), int64(store.BattleEnded), int64(app), roomID, string(store.BattleRoomJoined))
}

func (r Reader) BattleListOfRoom(ctx context.Context, app uint64, roomID string) ([]store.Battle, error) {
	return queryList(ctx, r.q, "list battles of room "+roomID, scanBattle,
		`SELECT `+battleColumns+` FROM battles WHERE sdkappid = ? AND status < ? AND battle_id IN
			(SELECT battle_id FROM battle_rooms WHERE sdkappid = ? AND room_id = ? AND state IN (?, ?))
		ORDER BY created_at, battle_id`,
		int64(app), int64(store.BattleEnded), int64(app), roomID, string(store.BattleRoomInvited), string(store.BattleRoomJoined))
}

func (r Reader) BattleListDue(ctx context.Context, t time.Time, limit int) ([]store.Battle, error) {
	return queryList(ctx, r.q, "list due battles", scanBattle,
		`SELECT `+battleColumns+` FROM battles WHERE due_at > 0 AND due_at <= ? AND status < ?
		ORDER BY due_at, sdkappid, battle_id LIMIT ?`, ms(t), int64(store.BattleEnded), r.pageLimit(limit))
}

func (r Reader) MixStreamGet(ctx context.Context, app uint64, roomID string) (store.MixStream, error) {
	return queryOne(ctx, r.q, "get mix stream of room "+roomID, func(row scanner) (store.MixStream, error) {
		m := store.MixStream{App: app, RoomID: roomID}
		var updated, resumed int64
		err := row.Scan(&m.Config, &updated, &m.Resumes, &resumed)
		m.UpdatedAt, m.ResumedAt = fromMS(updated), fromMS(resumed)
		return m, err
	}, `SELECT config, updated_at, resumes, resumed_at FROM room_mix_streams WHERE sdkappid = ? AND room_id = ?`, int64(app), roomID)
}

func (t *Tx) BattleInsert(ctx context.Context, b store.Battle, rooms []store.BattleRoom) error {
	// A conflict must write nothing (store/doc.go), so a room named twice is found first.
	seen := make(map[string]bool, len(rooms))
	for _, r := range rooms {
		if seen[r.RoomID] {
			return store.ErrConflict
		}
		seen[r.RoomID] = true
	}
	_, err := t.execGuarded(ctx, `INSERT INTO battles (`+battleColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		int64(b.App), b.ID, b.FromRoomID, b.Operator, b.Duration.Milliseconds(), b.Timeout.Milliseconds(), boolInt(b.NeedResponse),
		b.ExtensionInfo, int64(b.Status), int64(b.EndType), ms(b.CreatedAt), ms(b.StartedAt), ms(b.EndedAt), ms(b.DueAt))
	if t.isUniqueViolation(err) {
		return store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("insert battle %s: %w", b.ID, err)
	}
	for _, r := range rooms {
		if _, err := t.q.Exec(ctx, `INSERT INTO battle_rooms (sdkappid, battle_id, room_id, owner, position, state, score)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, int64(b.App), b.ID, r.RoomID, r.Owner, r.Position, string(r.State), r.Score); err != nil {
			return fmt.Errorf("insert room %s of battle %s: %w", r.RoomID, b.ID, err)
		}
	}
	return nil
}

func (t *Tx) BattleUpdate(ctx context.Context, b store.Battle) error {
	res, err := t.q.Exec(ctx, `UPDATE battles SET status = ?, end_type = ?, started_at = ?, ended_at = ?, due_at = ?
		WHERE sdkappid = ? AND battle_id = ?`,
		int64(b.Status), int64(b.EndType), ms(b.StartedAt), ms(b.EndedAt), ms(b.DueAt), int64(b.App), b.ID)
	return affectedOne(res, err, "update battle "+b.ID)
}

func (t *Tx) BattleRoomUpdate(ctx context.Context, r store.BattleRoom) error {
	res, err := t.q.Exec(ctx, `UPDATE battle_rooms SET state = ?, score = ? WHERE sdkappid = ? AND battle_id = ? AND room_id = ?`,
		string(r.State), r.Score, int64(r.App), r.BattleID, r.RoomID)
	return affectedOne(res, err, "update room "+r.RoomID+" of battle "+r.BattleID)
}

func (t *Tx) MixStreamPut(ctx context.Context, m store.MixStream) error {
	_, err := t.q.Exec(ctx, `INSERT INTO room_mix_streams (sdkappid, room_id, config, updated_at, resumes, resumed_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (sdkappid, room_id) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at,
			resumes = excluded.resumes, resumed_at = excluded.resumed_at`,
		int64(m.App), m.RoomID, nonNil(m.Config), ms(m.UpdatedAt), m.Resumes, ms(m.ResumedAt))
	if err != nil {
		return fmt.Errorf("put mix stream of room %s: %w", m.RoomID, err)
	}
	return nil
}
