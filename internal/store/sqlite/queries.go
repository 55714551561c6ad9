package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/roomd/roomd/internal/store"
)

// Times are stored as Unix milliseconds; zero time is stored as 0.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}

func isUniqueViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// reader implements store.Reader over a querier.
type reader struct{ q querier }

func (r reader) AccountGet(ctx context.Context, app uint64, userID string) (store.Account, error) {
	a := store.Account{App: app, UserID: userID}
	var created int64
	err := r.q.queryRow(ctx, `SELECT nick, face_url, created_at FROM accounts WHERE sdkappid = ? AND user_id = ?`,
		int64(app), userID).Scan(&a.Nick, &a.FaceURL, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Account{}, store.ErrNotFound
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("get account %s: %w", userID, err)
	}
	a.CreatedAt = fromMS(created)
	return a, nil
}

func (r reader) AccountCount(ctx context.Context, app uint64) (int, error) {
	var n int
	if err := r.q.queryRow(ctx, `SELECT COUNT(*) FROM accounts WHERE sdkappid = ?`, int64(app)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count accounts: %w", err)
	}
	return n, nil
}

const roomColumns = `sdkappid, room_id, owner, created_at, view_count, public_visible, info`

func scanRoom(sc interface{ Scan(...any) error }) (store.Room, error) {
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

func (r reader) RoomGet(ctx context.Context, app uint64, roomID string) (store.Room, error) {
	rm, err := scanRoom(r.q.queryRow(ctx, `SELECT `+roomColumns+` FROM rooms WHERE sdkappid = ? AND room_id = ?`, int64(app), roomID))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Room{}, store.ErrNotFound
	}
	if err != nil {
		return store.Room{}, fmt.Errorf("get room %s: %w", roomID, err)
	}
	return rm, nil
}

func (r reader) RoomCount(ctx context.Context, app uint64) (int, error) {
	var n int
	if err := r.q.queryRow(ctx, `SELECT COUNT(*) FROM rooms WHERE sdkappid = ?`, int64(app)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count rooms: %w", err)
	}
	return n, nil
}

func (r reader) RoomList(ctx context.Context, p store.RoomListParams) ([]store.Room, error) {
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
	rows, err := r.q.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list rooms: %w", err)
	}
	defer rows.Close()
	var out []store.Room
	for rows.Next() {
		rm, err := scanRoom(rows)
		if err != nil {
			return nil, fmt.Errorf("list rooms: %w", err)
		}
		out = append(out, rm)
	}
	return out, rows.Err()
}

func (r reader) CallbackConfigGet(ctx context.Context, app uint64) (store.CallbackConfig, error) {
	c, err := scanCallbackConfig(r.q.queryRow(ctx, `SELECT sdkappid, url, commands, token, token_enabled, updated_at FROM callback_configs WHERE sdkappid = ?`, int64(app)))
	if errors.Is(err, sql.ErrNoRows) {
		return store.CallbackConfig{}, store.ErrNotFound
	}
	if err != nil {
		return store.CallbackConfig{}, fmt.Errorf("get callback config: %w", err)
	}
	return c, nil
}

func scanCallbackConfig(sc interface{ Scan(...any) error }) (store.CallbackConfig, error) {
	var (
		c        store.CallbackConfig
		app      int64
		commands string
		enabled  int64
		updated  int64
	)
	if err := sc.Scan(&app, &c.URL, &commands, &c.Token, &enabled, &updated); err != nil {
		return c, err
	}
	c.App = uint64(app)
	c.TokenEnabled = enabled != 0
	c.UpdatedAt = fromMS(updated)
	if err := json.Unmarshal([]byte(commands), &c.Commands); err != nil {
		return c, fmt.Errorf("decode command list: %w", err)
	}
	return c, nil
}

func (r reader) CallbackConfigList(ctx context.Context) ([]store.CallbackConfig, error) {
	rows, err := r.q.query(ctx, `SELECT sdkappid, url, commands, token, token_enabled, updated_at FROM callback_configs ORDER BY sdkappid`)
	if err != nil {
		return nil, fmt.Errorf("list callback configs: %w", err)
	}
	defer rows.Close()
	var out []store.CallbackConfig
	for rows.Next() {
		c, err := scanCallbackConfig(rows)
		if err != nil {
			return nil, fmt.Errorf("list callback configs: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

const eventColumns = `id, sdkappid, room_id, command, body, client_ip, platform, created_at, state, attempts, next_attempt_at, last_error, delivered_at`

func scanEvent(sc interface{ Scan(...any) error }) (store.Event, error) {
	var (
		e                        store.Event
		app                      int64
		created, next, delivered int64
		state                    string
	)
	if err := sc.Scan(&e.ID, &app, &e.RoomID, &e.Command, &e.Body, &e.ClientIP, &e.Platform, &created, &state, &e.Attempts, &next, &e.LastError, &delivered); err != nil {
		return store.Event{}, err
	}
	e.App = uint64(app)
	e.State = store.EventState(state)
	e.CreatedAt = fromMS(created)
	e.NextAttemptAt = fromMS(next)
	e.DeliveredAt = fromMS(delivered)
	return e, nil
}

func (r reader) EventGet(ctx context.Context, id int64) (store.Event, error) {
	e, err := scanEvent(r.q.queryRow(ctx, `SELECT `+eventColumns+` FROM events WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Event{}, store.ErrNotFound
	}
	if err != nil {
		return store.Event{}, fmt.Errorf("get event %d: %w", id, err)
	}
	return e, nil
}

func (r reader) events(ctx context.Context, q string, args ...any) ([]store.Event, error) {
	rows, err := r.q.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	var out []store.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func (r reader) EventListUndelivered(ctx context.Context, p store.EventListParams) ([]store.Event, error) {
	return r.events(ctx, `SELECT `+eventColumns+` FROM events WHERE state IN ('pending', 'retrying') AND id > ? ORDER BY id LIMIT ?`, p.AfterID, p.Limit)
}

func (r reader) EventList(ctx context.Context, p store.EventQuery) ([]store.Event, error) {
	q := `SELECT ` + eventColumns + ` FROM events WHERE sdkappid = ?`
	args := []any{int64(p.App)}
	if p.RoomID != "" {
		q += ` AND room_id = ?`
		args = append(args, p.RoomID)
	}
	if p.State != "" {
		q += ` AND state = ?`
		args = append(args, string(p.State))
	}
	if !p.Since.IsZero() {
		q += ` AND created_at >= ?`
		args = append(args, ms(p.Since))
	}
	if p.BeforeID > 0 {
		q += ` AND id < ?`
		args = append(args, p.BeforeID)
	}
	limit := p.Limit
	if limit <= 0 {
		limit = 100
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	return r.events(ctx, q, args...)
}

func (r reader) AttemptList(ctx context.Context, eventID int64) ([]store.Attempt, error) {
	rows, err := r.q.query(ctx, `SELECT n, started_at, duration_us, url, status_code, response, error FROM attempts WHERE event_id = ? ORDER BY n`, eventID)
	if err != nil {
		return nil, fmt.Errorf("list attempts: %w", err)
	}
	defer rows.Close()
	var out []store.Attempt
	for rows.Next() {
		a := store.Attempt{EventID: eventID}
		var started, dur int64
		if err := rows.Scan(&a.N, &started, &dur, &a.URL, &a.StatusCode, &a.Response, &a.Error); err != nil {
			return nil, fmt.Errorf("list attempts: %w", err)
		}
		a.StartedAt = fromMS(started)
		a.Duration = time.Duration(dur) * time.Microsecond
		out = append(out, a)
	}
	return out, rows.Err()
}

func (r reader) EventStats(ctx context.Context) (store.EventStats, error) {
	var s store.EventStats
	rows, err := r.q.query(ctx, `SELECT state, COUNT(*) FROM events GROUP BY state`)
	if err != nil {
		return s, fmt.Errorf("event stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var state string
		var n int64
		if err := rows.Scan(&state, &n); err != nil {
			return s, fmt.Errorf("event stats: %w", err)
		}
		switch store.EventState(state) {
		case store.EventPending:
			s.Pending = n
		case store.EventRetrying:
			s.Retrying = n
		case store.EventDelivered:
			s.Delivered = n
		case store.EventDead:
			s.Dead = n
		}
	}
	if err := rows.Err(); err != nil {
		return s, fmt.Errorf("event stats: %w", err)
	}
	var oldest sql.NullInt64
	if err := r.q.queryRow(ctx, `SELECT MIN(created_at) FROM events WHERE state IN ('pending', 'retrying')`).Scan(&oldest); err != nil {
		return s, fmt.Errorf("event stats: %w", err)
	}
	if oldest.Valid {
		s.OldestUndelivered = fromMS(oldest.Int64)
	}
	return s, nil
}

// tx implements store.Tx on the write connection.
type tx struct {
	reader
	hooks []func()
}

func (t *tx) AfterCommit(fn func()) { t.hooks = append(t.hooks, fn) }

func (t *tx) AccountUpsert(ctx context.Context, a store.Account) (bool, error) {
	res, err := t.q.exec(ctx, `INSERT INTO accounts (sdkappid, user_id, nick, face_url, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (sdkappid, user_id) DO NOTHING`, int64(a.App), a.UserID, a.Nick, a.FaceURL, ms(a.CreatedAt))
	if err != nil {
		return false, fmt.Errorf("import account %s: %w", a.UserID, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	if _, err := t.q.exec(ctx, `UPDATE accounts SET nick = ?, face_url = ? WHERE sdkappid = ? AND user_id = ?`,
		a.Nick, a.FaceURL, int64(a.App), a.UserID); err != nil {
		return false, fmt.Errorf("update account %s: %w", a.UserID, err)
	}
	return false, nil
}

func (t *tx) AccountDelete(ctx context.Context, app uint64, userID string) error {
	res, err := t.q.exec(ctx, `DELETE FROM accounts WHERE sdkappid = ? AND user_id = ?`, int64(app), userID)
	if err != nil {
		return fmt.Errorf("delete account %s: %w", userID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

func (t *tx) RoomInsert(ctx context.Context, r store.Room) error {
	_, err := t.q.exec(ctx, `INSERT INTO rooms (`+roomColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		int64(r.App), r.RoomID, r.Owner, ms(r.CreatedAt), r.ViewCount, boolInt(r.PublicVisible), nonNil(r.Info))
	if isUniqueViolation(err) {
		return store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("insert room %s: %w", r.RoomID, err)
	}
	return nil
}

func (t *tx) RoomUpdate(ctx context.Context, r store.Room) error {
	res, err := t.q.exec(ctx, `UPDATE rooms SET owner = ?, created_at = ?, view_count = ?, public_visible = ?, info = ? WHERE sdkappid = ? AND room_id = ?`,
		r.Owner, ms(r.CreatedAt), r.ViewCount, boolInt(r.PublicVisible), nonNil(r.Info), int64(r.App), r.RoomID)
	return affectedOne(res, err, "update room "+r.RoomID)
}

func (t *tx) RoomSetOwner(ctx context.Context, app uint64, roomID, owner string) error {
	res, err := t.q.exec(ctx, `UPDATE rooms SET owner = ? WHERE sdkappid = ? AND room_id = ?`, owner, int64(app), roomID)
	return affectedOne(res, err, "set owner of room "+roomID)
}

func (t *tx) RoomDelete(ctx context.Context, app uint64, roomID string) error {
	res, err := t.q.exec(ctx, `DELETE FROM rooms WHERE sdkappid = ? AND room_id = ?`, int64(app), roomID)
	if err := affectedOne(res, err, "delete room "+roomID); err != nil {
		return err
	}
	return t.deleteRoomExtras(ctx, app, roomID) // queries_roomextra.go
}

func affectedOne(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// nonNil turns a nil byte slice into an empty one: the driver binds nil as NULL, which a
// NOT NULL blob column refuses.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (t *tx) CallbackConfigPut(ctx context.Context, c store.CallbackConfig) error {
	cmds := c.Commands
	if cmds == nil {
		cmds = []string{}
	}
	b, err := json.Marshal(cmds)
	if err != nil {
		return err
	}
	_, err = t.q.exec(ctx, `INSERT INTO callback_configs (sdkappid, url, commands, token, token_enabled, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (sdkappid) DO UPDATE SET url = excluded.url, commands = excluded.commands, token = excluded.token,
		token_enabled = excluded.token_enabled, updated_at = excluded.updated_at`,
		int64(c.App), c.URL, string(b), c.Token, boolInt(c.TokenEnabled), ms(c.UpdatedAt))
	if err != nil {
		return fmt.Errorf("put callback config: %w", err)
	}
	return nil
}

func (t *tx) EventInsert(ctx context.Context, e *store.Event) error {
	if e.State == "" {
		e.State = store.EventPending
	}
	res, err := t.q.exec(ctx, `INSERT INTO events (sdkappid, room_id, command, body, client_ip, platform, created_at, state, attempts, next_attempt_at, last_error, delivered_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		int64(e.App), e.RoomID, e.Command, e.Body, e.ClientIP, e.Platform, ms(e.CreatedAt), string(e.State), e.Attempts,
		ms(e.NextAttemptAt), e.LastError, ms(e.DeliveredAt))
	if err != nil {
		return fmt.Errorf("insert event: %w", err)
	}
	e.ID, err = res.LastInsertId()
	return err
}

func (t *tx) EventRecordAttempt(ctx context.Context, a store.Attempt, next store.EventUpdate) error {
	// The event first: for a missing event nothing is written, not even the attempt.
	res, err := t.q.exec(ctx, `UPDATE events SET state = ?, attempts = ?, next_attempt_at = ?, last_error = ?, delivered_at = ? WHERE id = ?`,
		string(next.State), a.N, ms(next.NextAttemptAt), next.LastError, ms(next.DeliveredAt), a.EventID)
	if err := affectedOne(res, err, fmt.Sprintf("update event %d", a.EventID)); err != nil {
		return err
	}
	if _, err := t.q.exec(ctx, `INSERT INTO attempts (event_id, n, started_at, duration_us, url, status_code, response, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (event_id, n) DO UPDATE SET started_at = excluded.started_at, duration_us = excluded.duration_us, url = excluded.url,
		status_code = excluded.status_code, response = excluded.response, error = excluded.error`,
		a.EventID, a.N, ms(a.StartedAt), a.Duration.Microseconds(), a.URL, a.StatusCode, a.Response, a.Error); err != nil {
		return fmt.Errorf("record attempt %d of event %d: %w", a.N, a.EventID, err)
	}
	return nil
}
