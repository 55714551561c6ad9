package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The queries of room admins (store.AdminReader, store.AdminWriter). Schema:
// migrations/0003_admins_sanctions_messages.sql.

func (r Reader) AdminList(ctx context.Context, app uint64, roomID string) ([]string, error) {
	out, err := queryList(ctx, r.q, "list admins of room "+roomID, func(rows scanner) (u string, err error) {
		err = rows.Scan(&u)
		return u, err
	}, `SELECT user_id FROM room_admins WHERE sdkappid = ? AND room_id = ? ORDER BY seq`, int64(app), roomID)
	if out == nil && err == nil {
		out = []string{} // an empty list, not null
	}
	return out, err
}

func (r Reader) AdminIs(ctx context.Context, app uint64, roomID, userID string) (bool, error) {
	var one int
	err := r.q.QueryRow(ctx, `SELECT 1 FROM room_admins WHERE sdkappid = ? AND room_id = ? AND user_id = ?`, int64(app), roomID, userID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check admin %s of room %s: %w", userID, roomID, err)
	}
	return true, nil
}

func (t *Tx) AdminAdd(ctx context.Context, app uint64, roomID, userID string, at time.Time) (bool, error) {
	res, err := t.q.Exec(ctx, `INSERT INTO room_admins (sdkappid, room_id, user_id, created_at, seq)
		VALUES (?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM room_admins WHERE sdkappid = ? AND room_id = ?))
		ON CONFLICT (sdkappid, room_id, user_id) DO NOTHING`,
		int64(app), roomID, userID, ms(at), int64(app), roomID)
	if err != nil {
		return false, fmt.Errorf("add admin %s to room %s: %w", userID, roomID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

func (t *Tx) AdminRemove(ctx context.Context, app uint64, roomID, userID string) (bool, error) {
	return t.deleteOne(ctx, `DELETE FROM room_admins WHERE sdkappid = ? AND room_id = ? AND user_id = ?`, "remove admin "+userID, app, roomID, userID)
}
