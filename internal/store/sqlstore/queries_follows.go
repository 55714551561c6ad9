package sqlstore

import (
	"context"
	"fmt"

	"github.com/roomd/roomd/internal/store"
)

// The queries of follow relations (store.FollowReader, store.FollowWriter). Schema:
// migrations/0008_profiles_follows.sql.

func (r Reader) FollowIs(ctx context.Context, app uint64, from, to string) (bool, error) {
	var n int
	if err := r.q.QueryRow(ctx, `SELECT COUNT(*) FROM follows WHERE sdkappid = ? AND follower = ? AND followee = ?`,
		int64(app), from, to).Scan(&n); err != nil {
		return false, fmt.Errorf("check follow %s -> %s: %w", from, to, err)
	}
	return n > 0, nil
}

// followListSQL is the query of each kind of list: the other user and the relation's time.
var followListSQL = map[store.FollowKind]string{
	store.FollowKindFollowing: `SELECT followee AS u, created_at AS t FROM follows WHERE sdkappid = ?1 AND follower = ?2`,
	store.FollowKindFollowers: `SELECT follower AS u, created_at AS t FROM follows WHERE sdkappid = ?1 AND followee = ?2`,
	store.FollowKindMutual: `SELECT a.followee AS u, CASE WHEN a.created_at > b.created_at THEN a.created_at ELSE b.created_at END AS t FROM follows a
		JOIN follows b ON b.sdkappid = a.sdkappid AND b.follower = a.followee AND b.followee = a.follower
		WHERE a.sdkappid = ?1 AND a.follower = ?2`,
}

func (r Reader) FollowCount(ctx context.Context, app uint64, userID string, kind store.FollowKind) (int, error) {
	q, ok := followListSQL[kind]
	if !ok {
		return 0, fmt.Errorf("count follows of %s: unknown kind %d", userID, kind)
	}
	var n int
	if err := r.q.QueryRow(ctx, `SELECT COUNT(*) FROM (`+q+`) f`, int64(app), userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count follows of %s: %w", userID, err)
	}
	return n, nil
}

func (r Reader) FollowList(ctx context.Context, p store.FollowListParams) ([]store.FollowEntry, error) {
	q, ok := followListSQL[p.Kind]
	if !ok {
		return nil, fmt.Errorf("list follows of %s: unknown kind %d", p.UserID, p.Kind)
	}
	// Newest first, then by user id: a page continues after (since, user) of the last one.
	afterSince, afterUser, hasAfter := int64(0), "", 0
	if p.After != nil {
		afterSince, afterUser, hasAfter = ms(p.After.Since), p.After.UserID, 1
	}
	return queryList(ctx, r.q, "list follows of "+p.UserID, func(rows scanner) (store.FollowEntry, error) {
		var e store.FollowEntry
		var at int64
		err := rows.Scan(&e.UserID, &at)
		e.Since = fromMS(at)
		return e, err
	}, `SELECT u, t FROM (`+q+`) f
		WHERE ?3 = 0 OR t < ?4 OR (t = ?4 AND u > ?5)
		ORDER BY t DESC, u LIMIT ?6`, int64(p.App), p.UserID, hasAfter, afterSince, afterUser, r.pageLimit(p.Limit))
}

func (t *Tx) FollowInsert(ctx context.Context, f store.Follow) error {
	_, err := t.execGuarded(ctx, `INSERT INTO follows (sdkappid, follower, followee, created_at) VALUES (?, ?, ?, ?)`,
		int64(f.App), f.From, f.To, ms(f.CreatedAt))
	if t.isUniqueViolation(err) {
		return store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("follow %s -> %s: %w", f.From, f.To, err)
	}
	return nil
}

func (t *Tx) FollowDelete(ctx context.Context, app uint64, from, to string) error {
	res, err := t.q.Exec(ctx, `DELETE FROM follows WHERE sdkappid = ? AND follower = ? AND followee = ?`, int64(app), from, to)
	return affectedOne(res, err, fmt.Sprintf("unfollow %s -> %s", from, to))
}
