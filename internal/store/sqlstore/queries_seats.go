package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/roomd/roomd/internal/store"
)

// The queries of seats and seat applications (store.SeatReader, store.SeatWriter).
// Schema: migrations/0005_seats.sql.

func (r Reader) SeatList(ctx context.Context, app uint64, roomID string) ([]store.Seat, error) {
	return queryList(ctx, r.q, "list seats of room "+roomID, func(rows scanner) (store.Seat, error) {
		s := store.Seat{App: app, RoomID: roomID}
		var locked, video, audio int64
		err := rows.Scan(&s.Index, &s.UserID, &locked, &video, &audio)
		s.Locked, s.VideoLocked, s.AudioLocked = locked != 0, video != 0, audio != 0
		return s, err
	}, `SELECT seat_index, user_id, locked, video_locked, audio_locked FROM room_seats
		WHERE sdkappid = ? AND room_id = ? ORDER BY seat_index`, int64(app), roomID)
}

const seatRequestColumns = `sdkappid, room_id, request_id, user_id, seat_index, created_at, expires_at`

func scanSeatRequest(row scanner) (store.SeatRequest, error) {
	var r store.SeatRequest
	var app, created, expires int64
	err := row.Scan(&app, &r.RoomID, &r.ID, &r.UserID, &r.Index, &created, &expires)
	r.App, r.CreatedAt, r.ExpiresAt = uint64(app), fromMS(created), fromMS(expires)
	return r, err
}

func (r Reader) SeatRequestGet(ctx context.Context, app uint64, roomID, requestID string) (store.SeatRequest, error) {
	return queryOne(ctx, r.q, "get seat request "+requestID+" of room "+roomID, scanSeatRequest,
		`SELECT `+seatRequestColumns+` FROM room_seat_requests WHERE sdkappid = ? AND room_id = ? AND request_id = ?`,
		int64(app), roomID, requestID)
}

func (r Reader) SeatRequestList(ctx context.Context, app uint64, roomID string) ([]store.SeatRequest, error) {
	return queryList(ctx, r.q, "list seat requests of room "+roomID, scanSeatRequest,
		`SELECT `+seatRequestColumns+` FROM room_seat_requests WHERE sdkappid = ? AND room_id = ?
		ORDER BY created_at, request_id`, int64(app), roomID)
}

func (r Reader) SeatRequestListDue(ctx context.Context, t time.Time, limit int) ([]store.SeatRequest, error) {
	return queryList(ctx, r.q, "list due seat requests", scanSeatRequest,
		`SELECT `+seatRequestColumns+` FROM room_seat_requests WHERE expires_at > 0 AND expires_at <= ?
		ORDER BY expires_at, sdkappid, room_id, request_id LIMIT ?`, ms(t), r.pageLimit(limit))
}

func (t *Tx) SeatPut(ctx context.Context, s store.Seat) error {
	if s.IsDefault() {
		if _, err := t.q.Exec(ctx, `DELETE FROM room_seats WHERE sdkappid = ? AND room_id = ? AND seat_index = ?`,
			int64(s.App), s.RoomID, s.Index); err != nil {
			return fmt.Errorf("clear seat %d of room %s: %w", s.Index, s.RoomID, err)
		}
		return nil
	}
	// The service keeps a user on one seat (it reads the seats first), so the unique index
	// refuses this only when that rule was broken: a rare conflict.
	_, err := t.execGuardedRarely(ctx, `INSERT INTO room_seats (sdkappid, room_id, seat_index, user_id, locked, video_locked, audio_locked)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (sdkappid, room_id, seat_index) DO UPDATE SET user_id = excluded.user_id, locked = excluded.locked,
			video_locked = excluded.video_locked, audio_locked = excluded.audio_locked`,
		int64(s.App), s.RoomID, s.Index, s.UserID, boolInt(s.Locked), boolInt(s.VideoLocked), boolInt(s.AudioLocked))
	if t.isUniqueViolation(err) {
		return store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("put seat %d of room %s: %w", s.Index, s.RoomID, err)
	}
	return nil
}

func (t *Tx) SeatRequestPut(ctx context.Context, r store.SeatRequest) error {
	_, err := t.execGuarded(ctx, `INSERT INTO room_seat_requests (`+seatRequestColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		int64(r.App), r.RoomID, r.ID, r.UserID, r.Index, ms(r.CreatedAt), ms(r.ExpiresAt))
	if t.isUniqueViolation(err) {
		return store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("put seat request %s of room %s: %w", r.ID, r.RoomID, err)
	}
	return nil
}

func (t *Tx) SeatRequestDelete(ctx context.Context, app uint64, roomID, requestID string) (bool, error) {
	res, err := t.q.Exec(ctx, `DELETE FROM room_seat_requests WHERE sdkappid = ? AND room_id = ? AND request_id = ?`,
		int64(app), roomID, requestID)
	if err != nil {
		return false, fmt.Errorf("delete seat request %s of room %s: %w", requestID, roomID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
