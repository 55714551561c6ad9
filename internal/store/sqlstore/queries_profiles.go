package sqlstore

import (
	"context"
	"fmt"

	"github.com/roomd/roomd/internal/store"
)

// The queries of account profiles (store.ProfileReader, store.ProfileWriter). Schema:
// migrations/0001_init.sql (nick and face URL) and migrations/0008_profiles_follows.sql.

func (r Reader) ProfileTagList(ctx context.Context, app uint64, userID string) ([]store.ProfileTag, error) {
	return queryList(ctx, r.q, "list profile of "+userID, func(rows scanner) (store.ProfileTag, error) {
		var p store.ProfileTag
		var v string
		err := rows.Scan(&p.Tag, &v)
		p.Value = []byte(v)
		return p, err
	}, `SELECT tag, value FROM profile_tags WHERE sdkappid = ? AND user_id = ? ORDER BY tag`, int64(app), userID)
}

func (t *Tx) AccountProfileUpdate(ctx context.Context, p store.AccountProfileUpdate) error {
	res, err := t.q.Exec(ctx, `UPDATE accounts SET nick = COALESCE(?, nick), face_url = COALESCE(?, face_url)
		WHERE sdkappid = ? AND user_id = ?`, p.Nick, p.FaceURL, int64(p.App), p.UserID)
	return affectedOne(res, err, "update profile of "+p.UserID)
}

func (t *Tx) ProfileTagSet(ctx context.Context, app uint64, userID string, tags []store.ProfileTag) error {
	for _, p := range tags {
		if _, err := t.q.Exec(ctx, `INSERT INTO profile_tags (sdkappid, user_id, tag, value) VALUES (?, ?, ?, ?)
			ON CONFLICT (sdkappid, user_id, tag) DO UPDATE SET value = excluded.value`,
			int64(app), userID, p.Tag, string(p.Value)); err != nil {
			return fmt.Errorf("set profile %s of %s: %w", p.Tag, userID, err)
		}
	}
	return nil
}
