package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/roomd/roomd/internal/store"
)

// statColumns maps each counter kept in room_stats to its column; StatViewers lives in
// rooms.view_count instead.
var statColumns = map[store.StatField]string{
	store.StatGiftsSent:         "total_gifts_sent",
	store.StatGiftCoins:         "total_gift_coins",
	store.StatUniqueGiftSenders: "total_unique_gift_senders",
	store.StatLikesReceived:     "total_likes_received",
	store.StatMsgCount:          "total_msg_count",
}

func (r reader) RoomStatsGet(ctx context.Context, app uint64, roomID string) (store.RoomStats, error) {
	var s store.RoomStats
	var gifts, coins, senders, likes, msgs sql.NullInt64
	err := r.q.queryRow(ctx, `SELECT r.view_count, s.total_gifts_sent, s.total_gift_coins, s.total_unique_gift_senders,
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

func (r reader) MetadataList(ctx context.Context, app uint64, roomID string, keys []string) ([]store.Metadata, error) {
	// A room holds at most a few keys, so the filter runs here rather than as an IN list
	// whose size (and prepared statement) would follow the request.
	var want map[string]bool
	if len(keys) > 0 {
		want = make(map[string]bool, len(keys))
		for _, k := range keys {
			want[k] = true
		}
	}
	rows, err := r.q.query(ctx, `SELECT key, value FROM room_metadata WHERE sdkappid = ? AND room_id = ? ORDER BY seq`, int64(app), roomID)
	if err != nil {
		return nil, fmt.Errorf("list metadata of room %s: %w", roomID, err)
	}
	defer rows.Close()
	out := []store.Metadata{}
	for rows.Next() {
		var m store.Metadata
		if err := rows.Scan(&m.Key, &m.Value); err != nil {
			return nil, fmt.Errorf("list metadata of room %s: %w", roomID, err)
		}
		if want == nil || want[m.Key] {
			out = append(out, m)
		}
	}
	return out, rows.Err()
}

func (t *tx) RoomStatsIncr(ctx context.Context, app uint64, roomID string, field store.StatField, delta int64) error {
	if field == store.StatViewers {
		res, err := t.q.exec(ctx, `UPDATE rooms SET view_count = view_count + ? WHERE sdkappid = ? AND room_id = ?`, delta, int64(app), roomID)
		return affectedOne(res, err, "count viewers of room "+roomID)
	}
	col, ok := statColumns[field]
	if !ok {
		return fmt.Errorf("room stats: unknown counter %d", field)
	}
	if _, err := t.RoomGet(ctx, app, roomID); err != nil {
		return err
	}
	_, err := t.q.exec(ctx, `INSERT INTO room_stats (sdkappid, room_id, `+col+`) VALUES (?, ?, ?)
		ON CONFLICT (sdkappid, room_id) DO UPDATE SET `+col+` = `+col+` + excluded.`+col, int64(app), roomID, delta)
	if err != nil {
		return fmt.Errorf("count %s of room %s: %w", col, roomID, err)
	}
	return nil
}

func (t *tx) MetadataPut(ctx context.Context, app uint64, roomID string, items []store.Metadata) error {
	for _, m := range items {
		_, err := t.q.exec(ctx, `INSERT INTO room_metadata (sdkappid, room_id, key, value, seq)
			VALUES (?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM room_metadata WHERE sdkappid = ? AND room_id = ?))
			ON CONFLICT (sdkappid, room_id, key) DO UPDATE SET value = excluded.value`,
			int64(app), roomID, m.Key, m.Value, int64(app), roomID)
		if err != nil {
			return fmt.Errorf("put metadata %q of room %s: %w", m.Key, roomID, err)
		}
	}
	return nil
}

func (t *tx) MetadataDelete(ctx context.Context, app uint64, roomID string, keys []string) (int, error) {
	n := 0
	for _, k := range keys {
		res, err := t.q.exec(ctx, `DELETE FROM room_metadata WHERE sdkappid = ? AND room_id = ? AND key = ?`, int64(app), roomID, k)
		if err != nil {
			return n, fmt.Errorf("delete metadata %q of room %s: %w", k, roomID, err)
		}
		c, _ := res.RowsAffected()
		n += int(c)
	}
	return n, nil
}

// deleteRoomExtras empties the part-A tables of a room; RoomDelete calls it.
func (t *tx) deleteRoomExtras(ctx context.Context, app uint64, roomID string) error {
	for _, table := range []string{"room_members", "room_stats", "room_metadata", "room_lost_members", "room_timers"} {
		if _, err := t.q.exec(ctx, `DELETE FROM `+table+` WHERE sdkappid = ? AND room_id = ?`, int64(app), roomID); err != nil {
			return fmt.Errorf("delete %s of room %s: %w", table, roomID, err)
		}
	}
	return nil
}
