package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/roomd/roomd/internal/store"
)

// The queries of room admins, mutes, bans, message history and recorded Before-callbacks
// (store.PeopleReader, store.PeopleWriter). Schema: migrations/0003_people_messages.sql.

func (r reader) AdminList(ctx context.Context, app uint64, roomID string) ([]string, error) {
	out, err := queryList(ctx, r.q, "list admins of room "+roomID, func(rows *sql.Rows) (u string, err error) {
		err = rows.Scan(&u)
		return u, err
	}, `SELECT user_id FROM room_admins WHERE sdkappid = ? AND room_id = ? ORDER BY seq`, int64(app), roomID)
	if out == nil && err == nil {
		out = []string{} // an empty list, not null
	}
	return out, err
}

func (r reader) AdminIs(ctx context.Context, app uint64, roomID, userID string) (bool, error) {
	var one int
	err := r.q.queryRow(ctx, `SELECT 1 FROM room_admins WHERE sdkappid = ? AND room_id = ? AND user_id = ?`, int64(app), roomID, userID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check admin %s of room %s: %w", userID, roomID, err)
	}
	return true, nil
}

func (r reader) MuteGet(ctx context.Context, app uint64, roomID, userID string, now time.Time) (store.Mute, error) {
	m := store.Mute{App: app, RoomID: roomID, UserID: userID}
	var until, created int64
	err := r.q.queryRow(ctx, `SELECT muted_until, created_at FROM room_mutes WHERE sdkappid = ? AND room_id = ? AND user_id = ? AND muted_until > ?`,
		int64(app), roomID, userID, now.UnixMilli()).Scan(&until, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Mute{}, store.ErrNotFound
	}
	if err != nil {
		return store.Mute{}, fmt.Errorf("get mute of %s in room %s: %w", userID, roomID, err)
	}
	m.Until, m.CreatedAt = fromMS(until), fromMS(created)
	return m, nil
}

func (r reader) MuteList(ctx context.Context, app uint64, roomID string, now time.Time) ([]store.Mute, error) {
	return queryList(ctx, r.q, "list mutes of room "+roomID, func(rows *sql.Rows) (store.Mute, error) {
		m := store.Mute{App: app, RoomID: roomID}
		var until, created int64
		err := rows.Scan(&m.UserID, &until, &created)
		m.Until, m.CreatedAt = fromMS(until), fromMS(created)
		return m, err
	}, `SELECT user_id, muted_until, created_at FROM room_mutes WHERE sdkappid = ? AND room_id = ? AND muted_until > ? ORDER BY user_id`,
		int64(app), roomID, now.UnixMilli())
}

func (r reader) BanActive(ctx context.Context, app uint64, roomID, userID string, now time.Time) (bool, error) {
	var one int
	err := r.q.queryRow(ctx, `SELECT 1 FROM room_bans WHERE sdkappid = ? AND room_id = ? AND user_id = ? AND banned_until > ?`,
		int64(app), roomID, userID, now.UnixMilli()).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check ban of %s in room %s: %w", userID, roomID, err)
	}
	return true, nil
}

func (r reader) BanList(ctx context.Context, p store.BanListParams) ([]store.Ban, error) {
	return queryList(ctx, r.q, "list bans of room "+p.RoomID, func(rows *sql.Rows) (store.Ban, error) {
		b := store.Ban{App: p.App, RoomID: p.RoomID}
		var until, created int64
		err := rows.Scan(&b.UserID, &until, &b.Reason, &created)
		b.Until, b.CreatedAt = fromMS(until), fromMS(created)
		return b, err
	}, `SELECT user_id, banned_until, reason, created_at FROM room_bans
		WHERE sdkappid = ? AND room_id = ? AND banned_until > ? ORDER BY created_at, user_id LIMIT ? OFFSET ?`,
		int64(p.App), p.RoomID, p.Now.UnixMilli(), pageLimit(p.Limit), max(p.Offset, 0))
}

func (r reader) MessageList(ctx context.Context, p store.MessageListParams) ([]store.Message, error) {
	return queryList(ctx, r.q, "list messages of room "+p.RoomID, func(rows *sql.Rows) (store.Message, error) {
		m := store.Message{App: p.App, RoomID: p.RoomID}
		var at, random int64
		var body string
		err := rows.Scan(&m.Seq, &m.Sender, &at, &body, &m.CloudCustomData, &random, &m.MsgID)
		m.Time = fromMS(at)
		m.Body = []byte(body)
		m.Random = uint32(random)
		return m, err
	}, `SELECT seq, sender, msg_time, msg_body, cloud_custom_data, random, msg_id FROM room_messages
		WHERE sdkappid = ? AND room_id = ? AND seq > ? ORDER BY seq LIMIT ?`, int64(p.App), p.RoomID, p.AfterSeq, pageLimit(p.Limit))
}

func (t *tx) AdminAdd(ctx context.Context, app uint64, roomID, userID string, at time.Time) (bool, error) {
	res, err := t.q.exec(ctx, `INSERT INTO room_admins (sdkappid, room_id, user_id, created_at, seq)
		VALUES (?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM room_admins WHERE sdkappid = ? AND room_id = ?))
		ON CONFLICT (sdkappid, room_id, user_id) DO NOTHING`,
		int64(app), roomID, userID, ms(at), int64(app), roomID)
	if err != nil {
		return false, fmt.Errorf("add admin %s to room %s: %w", userID, roomID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

func (t *tx) AdminRemove(ctx context.Context, app uint64, roomID, userID string) (bool, error) {
	return t.deleteOne(ctx, `DELETE FROM room_admins WHERE sdkappid = ? AND room_id = ? AND user_id = ?`, "remove admin "+userID, app, roomID, userID)
}

func (t *tx) deleteOne(ctx context.Context, q, what string, app uint64, roomID, userID string) (bool, error) {
	res, err := t.q.exec(ctx, q, int64(app), roomID, userID)
	if err != nil {
		return false, fmt.Errorf("%s in room %s: %w", what, roomID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

func (t *tx) MutePut(ctx context.Context, m store.Mute) error {
	_, err := t.q.exec(ctx, `INSERT INTO room_mutes (sdkappid, room_id, user_id, muted_until, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (sdkappid, room_id, user_id) DO UPDATE SET muted_until = excluded.muted_until, created_at = excluded.created_at`,
		int64(m.App), m.RoomID, m.UserID, ms(m.Until), ms(m.CreatedAt))
	if err != nil {
		return fmt.Errorf("mute %s in room %s: %w", m.UserID, m.RoomID, err)
	}
	return nil
}

func (t *tx) MuteDelete(ctx context.Context, app uint64, roomID, userID string) (bool, error) {
	return t.deleteOne(ctx, `DELETE FROM room_mutes WHERE sdkappid = ? AND room_id = ? AND user_id = ?`, "unmute "+userID, app, roomID, userID)
}

func (t *tx) BanPut(ctx context.Context, b store.Ban) error {
	_, err := t.q.exec(ctx, `INSERT INTO room_bans (sdkappid, room_id, user_id, banned_until, reason, created_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (sdkappid, room_id, user_id) DO UPDATE SET banned_until = excluded.banned_until, reason = excluded.reason,
		created_at = excluded.created_at`,
		int64(b.App), b.RoomID, b.UserID, ms(b.Until), b.Reason, ms(b.CreatedAt))
	if err != nil {
		return fmt.Errorf("ban %s from room %s: %w", b.UserID, b.RoomID, err)
	}
	return nil
}

func (t *tx) BanDelete(ctx context.Context, app uint64, roomID, userID string) (bool, error) {
	return t.deleteOne(ctx, `DELETE FROM room_bans WHERE sdkappid = ? AND room_id = ? AND user_id = ?`, "unban "+userID, app, roomID, userID)
}

func (t *tx) MessageNextSeq(ctx context.Context, app uint64, roomID string) (int64, error) {
	var seq int64
	err := t.q.queryRow(ctx, `INSERT INTO room_msg_seq (sdkappid, room_id, last_seq) VALUES (?, ?, 1)
		ON CONFLICT (sdkappid, room_id) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq`, int64(app), roomID).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("next message sequence of room %s: %w", roomID, err)
	}
	return seq, nil
}

func (t *tx) MessageInsert(ctx context.Context, m store.Message) error {
	_, err := t.q.exec(ctx, `INSERT INTO room_messages (sdkappid, room_id, seq, sender, msg_time, msg_body, cloud_custom_data, random, msg_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		int64(m.App), m.RoomID, m.Seq, m.Sender, ms(m.Time), string(m.Body), m.CloudCustomData, int64(m.Random), m.MsgID)
	if isUniqueViolation(err) {
		return store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("store message %d of room %s: %w", m.Seq, m.RoomID, err)
	}
	return nil
}

func (t *tx) EventInsertRecorded(ctx context.Context, e *store.Event, a *store.Attempt) error {
	if e.State != store.EventDelivered && e.State != store.EventDead {
		return fmt.Errorf("record sent event: state %q is not final", e.State)
	}
	if a.N == 0 {
		a.N = 1
	}
	e.Attempts = a.N
	if err := t.EventInsert(ctx, e); err != nil {
		return err
	}
	a.EventID = e.ID
	if _, err := t.q.exec(ctx, `INSERT INTO attempts (event_id, n, started_at, duration_us, url, status_code, response, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		a.EventID, a.N, ms(a.StartedAt), a.Duration.Microseconds(), a.URL, a.StatusCode, a.Response, a.Error); err != nil {
		return fmt.Errorf("record attempt of event %d: %w", e.ID, err)
	}
	return nil
}
