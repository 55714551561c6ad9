package sqlstore

import (
	"context"
	"fmt"

	"github.com/roomd/roomd/internal/store"
)

// The queries of room metadata (store.MetadataReader, store.MetadataWriter). Schema:
// migrations/0002_members_stats_metadata.sql.

func (r Reader) MetadataList(ctx context.Context, app uint64, roomID string, keys []string) ([]store.Metadata, error) {
	// A room holds at most a few keys, so the filter runs here rather than as an IN list
	// whose size (and prepared statement) would follow the request.
	var want map[string]bool
	if len(keys) > 0 {
		want = make(map[string]bool, len(keys))
		for _, k := range keys {
			want[k] = true
		}
	}
	all, err := queryList(ctx, r.q, "list metadata of room "+roomID, func(rows scanner) (m store.Metadata, err error) {
		err = rows.Scan(&m.Key, &m.Value)
		return m, err
	}, `SELECT key, value FROM room_metadata WHERE sdkappid = ? AND room_id = ? ORDER BY seq`, int64(app), roomID)
	if err != nil {
		return nil, err
	}
	out := []store.Metadata{} // an empty list, not null
	for _, m := range all {
		if want == nil || want[m.Key] {
			out = append(out, m)
		}
	}
	return out, nil
}

func (t *Tx) MetadataPut(ctx context.Context, app uint64, roomID string, items []store.Metadata) error {
	for _, m := range items {
		_, err := t.q.Exec(ctx, `INSERT INTO room_metadata (sdkappid, room_id, key, value, seq)
			VALUES (?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM room_metadata WHERE sdkappid = ? AND room_id = ?))
			ON CONFLICT (sdkappid, room_id, key) DO UPDATE SET value = excluded.value`,
			int64(app), roomID, m.Key, m.Value, int64(app), roomID)
		if err != nil {
			return fmt.Errorf("put metadata %q of room %s: %w", m.Key, roomID, err)
		}
	}
	return nil
}

func (t *Tx) MetadataDelete(ctx context.Context, app uint64, roomID string, keys []string) (int, error) {
	n := 0
	for _, k := range keys {
		res, err := t.q.Exec(ctx, `DELETE FROM room_metadata WHERE sdkappid = ? AND room_id = ? AND key = ?`, int64(app), roomID, k)
		if err != nil {
			return n, fmt.Errorf("delete metadata %q of room %s: %w", k, roomID, err)
		}
		c, _ := res.RowsAffected()
		n += int(c)
	}
	return n, nil
}
