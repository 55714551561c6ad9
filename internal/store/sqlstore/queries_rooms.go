package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/roomd/roomd/internal/store"
)

// The queries of rooms (store.RoomReader, store.RoomWriter). Schema: migrations/0001_init.sql.

const roomColumns = `sdkappid, room_id, owner, created_at, view_count, public_visible, info`

func scanRoom(sc scanner) (store.Room, error) {
	var (
		rm      store.Room
		app     int64
		created int64
		public  int64
	)
	if err := sc.Scan(&app, &rm.RoomID, &rm.Owner, &created, &rm.ViewCount, &public, &rm.Info); err != nil {
		return store.Room{}, err
	}
	rm.App = uint64(app)
	rm.CreatedAt = fromMS(created)
	rm.PublicVisible = public != 0
	return rm, nil
}

func (r Reader) RoomGet(ctx context.Context, app uint64, roomID string) (store.Room, error) {
	return queryOne(ctx, r.q, "get room "+roomID, scanRoom, `SELECT `+roomColumns+` FROM rooms WHERE sdkappid = ? AND room_id = ?`, int64(app), roomID)
}

func (r Reader) RoomOwnerInfo(ctx context.Context, app uint64, roomID string) (store.Room, error) {
	rm := store.Room{App: app, RoomID: roomID}
	err := r.q.QueryRow(ctx, `SELECT owner, info FROM rooms WHERE sdkappid = ? AND room_id = ?`, int64(app), roomID).Scan(&rm.Owner, &rm.Info)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Room{}, store.ErrNotFound
	}
	if err != nil {
		return store.Room{}, fmt.Errorf("get owner of room %s: %w", roomID, err)
	}
	return rm, nil
}

func (r Reader) RoomCount(ctx context.Context, app uint64) (int, error) {
	var n int
	if err := r.q.QueryRow(ctx, `SELECT COUNT(*) FROM rooms WHERE sdkappid = ?`, int64(app)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count rooms: %w", err)
	}
	return n, nil
}

func (r Reader) RoomList(ctx context.Context, p store.RoomListParams) ([]store.Room, error) {
	q := `SELECT ` + roomColumns + ` FROM rooms WHERE sdkappid = ?`
	args := []any{int64(p.App)}
	if p.OnlyPublic {
		q += ` AND public_visible = 1`
	}
	if p.After != nil {
		if p.Ascending {
			q += ` AND (view_count > ? OR (view_count = ? AND (created_at < ? OR (created_at = ? AND room_id < ?))))`
		} else {
			q += ` AND (view_count < ? OR (view_count = ? AND (created_at > ? OR (created_at = ? AND room_id > ?))))`
		}
		a := p.After
		args = append(args, a.ViewCount, a.ViewCount, ms(a.CreatedAt), ms(a.CreatedAt), a.RoomID)
	}
	if p.Ascending {
		q += ` ORDER BY view_count, created_at DESC, room_id DESC LIMIT ?`
	} else {
		q += ` ORDER BY view_count DESC, created_at, room_id LIMIT ?`
	}
	args = append(args, p.Limit)
	return queryList(ctx, r.q, "list rooms", scanRoom, q, args...)
}

func (t *Tx) RoomInsert(ctx context.Context, r store.Room) error {
	_, err := t.execGuarded(ctx, `INSERT INTO rooms (`+roomColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		int64(r.App), r.RoomID, r.Owner, ms(r.CreatedAt), r.ViewCount, boolInt(r.PublicVisible), nonNil(r.Info))
	if t.isUniqueViolation(err) {
		return store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("insert room %s: %w", r.RoomID, err)
	}
	return nil
}

func (t *Tx) RoomUpdate(ctx context.Context, r store.Room) error {
	res, err := t.q.Exec(ctx, `UPDATE rooms SET owner = ?, created_at = ?, view_count = ?, public_visible = ?, info = ? WHERE sdkappid = ? AND room_id = ?`,
		r.Owner, ms(r.CreatedAt), r.ViewCount, boolInt(r.PublicVisible), nonNil(r.Info), int64(r.App), r.RoomID)
	return affectedOne(res, err, "update room "+r.RoomID)
}

func (t *Tx) RoomSetOwner(ctx context.Context, app uint64, roomID, owner string) error {
	res, err := t.q.Exec(ctx, `UPDATE rooms SET owner = ? WHERE sdkappid = ? AND room_id = ?`, owner, int64(app), roomID)
	return affectedOne(res, err, "set owner of room "+roomID)
}

func (t *Tx) RoomDelete(ctx context.Context, app uint64, roomID string) error {
	res, err := t.q.Exec(ctx, `DELETE FROM rooms WHERE sdkappid = ? AND room_id = ?`, int64(app), roomID)
	if err := affectedOne(res, err, "delete room "+roomID); err != nil {
		return err
	}
	return t.deleteRoomRows(ctx, app, roomID)
}

// deleteRoomRows empties a room's members, statistics and metadata
// (migrations/0002_members_stats_metadata.sql); RoomDelete calls it. The tables of
// migrations/0003_admins_sanctions_messages.sql are emptied by that migration's trigger.
func (t *Tx) deleteRoomRows(ctx context.Context, app uint64, roomID string) error {
	for _, table := range []string{"room_members", "room_stats", "room_metadata"} {
		if _, err := t.q.Exec(ctx, `DELETE FROM `+table+` WHERE sdkappid = ? AND room_id = ?`, int64(app), roomID); err != nil {
			return fmt.Errorf("delete %s of room %s: %w", table, roomID, err)
		}
	}
	return nil
}

func (t *Tx) RoomAddViews(ctx context.Context, app uint64, roomID string, n int64) error {
	res, err := t.q.Exec(ctx, `UPDATE rooms SET view_count = view_count + ? WHERE sdkappid = ? AND room_id = ?`, n, int64(app), roomID)
	return affectedOne(res, err, "add views to room "+roomID)
}
