package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/roomd/roomd/internal/store"
)

// The queries of room statistics counters (store.RoomStatsReader, store.RoomStatsWriter).
// Schema: migrations/0002_members_stats_metadata.sql; the viewer count is rooms.view_count.

// statColumns maps each counter kept in room_stats to its column; StatViewers lives in
// rooms.view_count instead.
var statColumns = map[store.StatField]string{
	store.StatGiftsSent:         "total_gifts_sent",
	store.StatGiftCoins:         "total_gift_coins",
	store.StatUniqueGiftSenders: "total_unique_gift_senders",
	store.StatLikesReceived:     "total_likes_received",
	store.StatMsgCount:          "total_msg_count",
}

func (r Reader) RoomStatsGet(ctx context.Context, app uint64, roomID string) (store.RoomStats, error) {
	var s store.RoomStats
	var gifts, coins, senders, likes, msgs sql.NullInt64
	err := r.q.QueryRow(ctx, `SELECT r.view_count, s.total_gifts_sent, s.total_gift_coins, s.total_unique_gift_senders,
		s.total_likes_received, s.total_msg_count
		FROM rooms r LEFT JOIN room_stats s ON s.sdkappid = r.sdkappid AND s.room_id = r.room_id
		WHERE r.sdkappid = ? AND r.room_id = ?`, int64(app), roomID).Scan(&s.TotalViewers, &gifts, &coins, &senders, &likes, &msgs)
	if errors.Is(err, sql.ErrNoRows) {
		return store.RoomStats{}, store.ErrNotFound
	}
	if err != nil {
		return store.RoomStats{}, fmt.Errorf("get stats of room %s: %w", roomID, err)
	}
	s.TotalGiftsSent, s.TotalGiftCoins, s.TotalUniqueGiftSenders = gifts.Int64, coins.Int64, senders.Int64
	s.TotalLikesReceived, s.TotalMsgCount = likes.Int64, msgs.Int64
	return s, nil
}

func (t *Tx) RoomStatsIncr(ctx context.Context, app uint64, roomID string, field store.StatField, delta int64) error {
	if field == store.StatViewers {
		res, err := t.q.Exec(ctx, `UPDATE rooms SET view_count = view_count + ? WHERE sdkappid = ? AND room_id = ?`, delta, int64(app), roomID)
		return affectedOne(res, err, "count viewers of room "+roomID)
	}
	col, ok := statColumns[field]
	if !ok {
		return fmt.Errorf("room stats: unknown counter %d", field)
	}
	if _, err := t.RoomGet(ctx, app, roomID); err != nil {
		return err
	}
	_, err := t.q.Exec(ctx, `INSERT INTO room_stats (sdkappid, room_id, `+col+`) VALUES (?, ?, ?)
		ON CONFLICT (sdkappid, room_id) DO UPDATE SET `+col+` = room_stats.`+col+` + excluded.`+col, int64(app), roomID, delta)
	if err != nil {
		return fmt.Errorf("count %s of room %s: %w", col, roomID, err)
	}
	return nil
}
