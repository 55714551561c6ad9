package sqlstore

import (
	"context"
	"fmt"

	"github.com/roomd/roomd/internal/store"
)

// The queries of imported accounts (store.AccountReader, store.AccountWriter). Schema:
// migrations/0001_init.sql.

func (r Reader) AccountGet(ctx context.Context, app uint64, userID string) (store.Account, error) {
	return queryOne(ctx, r.q, "get account "+userID, func(row scanner) (store.Account, error) {
		a := store.Account{App: app, UserID: userID}
		var created int64
		err := row.Scan(&a.Nick, &a.FaceURL, &created)
		a.CreatedAt = fromMS(created)
		return a, err
	}, `SELECT nick, face_url, created_at FROM accounts WHERE sdkappid = ? AND user_id = ?`, int64(app), userID)
}

func (r Reader) AccountCount(ctx context.Context, app uint64) (int, error) {
	var n int
	if err := r.q.QueryRow(ctx, `SELECT COUNT(*) FROM accounts WHERE sdkappid = ?`, int64(app)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count accounts: %w", err)
	}
	return n, nil
}

func (t *Tx) AccountUpsert(ctx context.Context, a store.Account) (bool, error) {
	res, err := t.q.Exec(ctx, `INSERT INTO accounts (sdkappid, user_id, nick, face_url, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (sdkappid, user_id) DO NOTHING`, int64(a.App), a.UserID, a.Nick, a.FaceURL, ms(a.CreatedAt))
	if err != nil {
		return false, fmt.Errorf("import account %s: %w", a.UserID, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	if _, err := t.q.Exec(ctx, `UPDATE accounts SET nick = ?, face_url = ? WHERE sdkappid = ? AND user_id = ?`,
		a.Nick, a.FaceURL, int64(a.App), a.UserID); err != nil {
		return false, fmt.Errorf("update account %s: %w", a.UserID, err)
	}
	return false, nil
}

func (t *Tx) AccountDelete(ctx context.Context, app uint64, userID string) error {
	res, err := t.q.Exec(ctx, `DELETE FROM accounts WHERE sdkappid = ? AND user_id = ?`, int64(app), userID)
	if err != nil {
		return fmt.Errorf("delete account %s: %w", userID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}
