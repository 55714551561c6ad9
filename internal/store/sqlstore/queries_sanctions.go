package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/roomd/roomd/internal/store"
)

// The queries of room mutes and bans (store.SanctionReader, store.SanctionWriter). Schema:
// migrations/0003_admins_sanctions_messages.sql.

func (r Reader) MuteGet(ctx context.Context, app uint64, roomID, userID string, now time.Time) (store.Mute, error) {
	return queryOne(ctx, r.q, "get mute of "+userID+" in room "+roomID, func(row scanner) (store.Mute, error) {
		m := store.Mute{App: app, RoomID: roomID, UserID: userID}
		var until, created int64
		err := row.Scan(&until, &created)
		m.Until, m.CreatedAt = fromMS(until), fromMS(created)
		return m, err
	}, `SELECT muted_until, created_at FROM room_mutes WHERE sdkappid = ? AND room_id = ? AND user_id = ? AND muted_until > ?`,
		int64(app), roomID, userID, now.UnixMilli())
}

func (r Reader) MuteList(ctx context.Context, app uint64, roomID string, now time.Time) ([]store.Mute, error) {
	return queryList(ctx, r.q, "list mutes of room "+roomID, func(rows scanner) (store.Mute, error) {
		m := store.Mute{App: app, RoomID: roomID}
		var until, created int64
		err := rows.Scan(&m.UserID, &until, &created)
		m.Until, m.CreatedAt = fromMS(until), fromMS(created)
		return m, err
	}, `SELECT user_id, muted_until, created_at FROM room_mutes WHERE sdkappid = ? AND room_id = ? AND muted_until > ? ORDER BY user_id`,
		int64(app), roomID, now.UnixMilli())
}

func (r Reader) BanActive(ctx context.Context, app uint64, roomID, userID string, now time.Time) (bool, error) {
	var one int
	err := r.q.QueryRow(ctx, `SELECT 1 FROM room_bans WHERE sdkappid = ? AND room_id = ? AND user_id = ? AND banned_until > ?`,
		int64(app), roomID, userID, now.UnixMilli()).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check ban of %s in room %s: %w", userID, roomID, err)
	}
	return true, nil
}

func (r Reader) BanList(ctx context.Context, p store.BanListParams) ([]store.Ban, error) {
	return queryList(ctx, r.q, "list bans of room "+p.RoomID, func(rows scanner) (store.Ban, error) {
		b := store.Ban{App: p.App, RoomID: p.RoomID}
		var until, created int64
		err := rows.Scan(&b.UserID, &until, &b.Reason, &created)
		b.Until, b.CreatedAt = fromMS(until), fromMS(created)
		return b, err
	}, `SELECT user_id, banned_until, reason, created_at FROM room_bans
		WHERE sdkappid = ? AND room_id = ? AND banned_until > ? ORDER BY created_at, user_id LIMIT ? OFFSET ?`,
		int64(p.App), p.RoomID, p.Now.UnixMilli(), r.pageLimit(p.Limit), max(p.Offset, 0))
}

func (t *Tx) MutePut(ctx context.Context, m store.Mute) error {
	_, err := t.q.Exec(ctx, `INSERT INTO room_mutes (sdkappid, room_id, user_id, muted_until, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (sdkappid, room_id, user_id) DO UPDATE SET muted_until = excluded.muted_until, created_at = excluded.created_at`,
		int64(m.App), m.RoomID, m.UserID, ms(m.Until), ms(m.CreatedAt))
	if err != nil {
		return fmt.Errorf("mute %s in room %s: %w", m.UserID, m.RoomID, err)
	}
	return nil
}

func (t *Tx) MuteDelete(ctx context.Context, app uint64, roomID, userID string) (bool, error) {
	return t.deleteOne(ctx, `DELETE FROM room_mutes WHERE sdkappid = ? AND room_id = ? AND user_id = ?`, "unmute "+userID, app, roomID, userID)
}

func (t *Tx) BanPut(ctx context.Context, b store.Ban) error {
	_, err := t.q.Exec(ctx, `INSERT INTO room_bans (sdkappid, room_id, user_id, banned_until, reason, created_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (sdkappid, room_id, user_id) DO UPDATE SET banned_until = excluded.banned_until, reason = excluded.reason,
		created_at = excluded.created_at`,
		int64(b.App), b.RoomID, b.UserID, ms(b.Until), b.Reason, ms(b.CreatedAt))
	if err != nil {
		return fmt.Errorf("ban %s from room %s: %w", b.UserID, b.RoomID, err)
	}
	return nil
}

func (t *Tx) BanDelete(ctx context.Context, app uint64, roomID, userID string) (bool, error) {
	return t.deleteOne(ctx, `DELETE FROM room_bans WHERE sdkappid = ? AND room_id = ? AND user_id = ?`, "unban "+userID, app, roomID, userID)
}
