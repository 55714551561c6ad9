package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/roomd/roomd/internal/store"
)

// The queries of the outbox and its delivery log (store.EventReader, store.EventWriter).
// Schema: migrations/0001_init.sql.

const eventColumns = `id, sdkappid, room_id, command, body, client_ip, platform, created_at, state, attempts, next_attempt_at, last_error, delivered_at`

func scanEvent(sc scanner) (store.Event, error) {
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

func (r Reader) EventGet(ctx context.Context, id int64) (store.Event, error) {
	return queryOne(ctx, r.q, fmt.Sprintf("get event %d", id), scanEvent, `SELECT `+eventColumns+` FROM events WHERE id = ?`, id)
}

func (r Reader) events(ctx context.Context, q string, args ...any) ([]store.Event, error) {
	return queryList(ctx, r.q, "list events", scanEvent, q, args...)
}

func (r Reader) EventListUndelivered(ctx context.Context, p store.EventListParams) ([]store.Event, error) {
	return r.events(ctx, `SELECT `+eventColumns+` FROM events WHERE state IN ('pending', 'retrying') AND id > ? ORDER BY id LIMIT ?`, p.AfterID, p.Limit)
}

func (r Reader) EventList(ctx context.Context, p store.EventQuery) ([]store.Event, error) {
	q := `SELECT ` + eventColumns + ` FROM events WHERE sdkappid = ?`
	args := []any{int64(p.App)}
	if p.RoomID != "" {
		q += ` AND room_id = ?`
		args = append(args, p.RoomID)
	}
	if p.Command != "" {
		q += ` AND command = ?`
		args = append(args, p.Command)
	}
	if p.State != "" {
		q += ` AND state = ?`
		args = append(args, string(p.State))
	}
	if !p.Since.IsZero() {
		q += ` AND created_at >= ?`
		args = append(args, ms(p.Since))
	}
	if !p.Until.IsZero() {
		q += ` AND created_at < ?`
		args = append(args, ms(p.Until))
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

func (r Reader) AttemptList(ctx context.Context, eventID int64) ([]store.Attempt, error) {
	return queryList(ctx, r.q, "list attempts", func(rows scanner) (store.Attempt, error) {
		a := store.Attempt{EventID: eventID}
		var started, dur int64
		err := rows.Scan(&a.N, &started, &dur, &a.URL, &a.StatusCode, &a.Response, &a.Error, &a.RequestURL, &a.RequestHeaders)
		a.StartedAt = fromMS(started)
		a.Duration = time.Duration(dur) * time.Microsecond
		return a, err
	}, `SELECT n, started_at, duration_us, url, status_code, response, error, request_url, request_headers FROM attempts WHERE event_id = ? ORDER BY n`, eventID)
}

func (r Reader) AttemptHistogram(ctx context.Context, p store.AttemptHistogramParams) ([]store.AttemptBucket, error) {
	bucket := p.Bucket.Milliseconds()
	if bucket < 1000 {
		bucket = 1000
	}
	return queryList(ctx, r.q, "attempt histogram", func(rows scanner) (store.AttemptBucket, error) {
		var b store.AttemptBucket
		var start int64
		err := rows.Scan(&start, &b.Succeeded, &b.Failed)
		b.Start = fromMS(start)
		return b, err
	}, `SELECT (a.started_at / ?) * ? AS bucket, COUNT(*) FILTER (WHERE a.error = ''), COUNT(*) FILTER (WHERE a.error <> '')
		FROM attempts a JOIN events e ON e.id = a.event_id
		WHERE a.started_at >= ? AND e.sdkappid = ?
		GROUP BY bucket ORDER BY bucket`, bucket, bucket, ms(p.Since), int64(p.App))
}

func (r Reader) EventAppStats(ctx context.Context, app uint64) (store.EventStats, error) {
	return r.eventStats(ctx, ` WHERE sdkappid = ?`, ` AND sdkappid = ?`, int64(app))
}

func (r Reader) EventStats(ctx context.Context) (store.EventStats, error) {
	return r.eventStats(ctx, "", "")
}

// eventStats counts events per state; where and and restrict the counts and the oldest
// undelivered event to the rows args select.
func (r Reader) eventStats(ctx context.Context, where, and string, args ...any) (store.EventStats, error) {
	type stateCount struct {
		state store.EventState
		n     int64
	}
	var s store.EventStats
	counts, err := queryList(ctx, r.q, "event stats", func(rows scanner) (c stateCount, err error) {
		err = rows.Scan(&c.state, &c.n)
		return c, err
	}, `SELECT state, COUNT(*) FROM events`+where+` GROUP BY state`, args...)
	if err != nil {
		return s, err
	}
	for _, c := range counts {
		switch c.state {
		case store.EventPending:
			s.Pending = c.n
		case store.EventRetrying:
			s.Retrying = c.n
		case store.EventDelivered:
			s.Delivered = c.n
		case store.EventDead:
			s.Dead = c.n
		}
	}
	var oldest sql.NullInt64
	if err := r.q.QueryRow(ctx, `SELECT MIN(created_at) FROM events WHERE state IN ('pending', 'retrying')`+and, args...).Scan(&oldest); err != nil {
		return s, fmt.Errorf("event stats: %w", err)
	}
	if oldest.Valid {
		s.OldestUndelivered = fromMS(oldest.Int64)
	}
	return s, nil
}

// finishedAt is the finished_at column of an event in state: when a delivered or dead
// event finished (see store.EventWriter.EventPrune), 0 for an unfinished one. end is the end
// of the event's last attempt, or its creation when it has none.
func finishedAt(state store.EventState, delivered, end time.Time) int64 {
	switch state {
	case store.EventDelivered:
		if !delivered.IsZero() {
			return ms(delivered)
		}
		return ms(end)
	case store.EventDead:
		return ms(end)
	}
	return 0
}

func (t *Tx) EventInsert(ctx context.Context, e *store.Event) error {
	if e.State == "" {
		e.State = store.EventPending
	}
	return t.insertEvent(ctx, e, finishedAt(e.State, e.DeliveredAt, e.CreatedAt))
}

// insertedEventColumns are the columns an event's insert writes, besides its id.
const insertedEventColumns = `sdkappid, room_id, command, body, client_ip, platform, created_at, state, attempts, next_attempt_at, last_error, delivered_at, finished_at`

const (
	insertEventSQL       = `INSERT INTO events (` + insertedEventColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	insertEventWithIDSQL = `INSERT INTO events (id, ` + insertedEventColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// newEventColumns are the columns the insert of a new event (pending, never attempted)
// writes, besides its id: the others keep their defaults (no attempts, no error, not
// delivered, not finished), and the state is a literal. Almost every event is such an
// event (the outbox's), and each bound argument costs the SQLite driver a call and, for
// text, a copy into C memory: the short insert cost about a third less than the full one.
const newEventColumns = `sdkappid, room_id, command, body, client_ip, platform, created_at, next_attempt_at, state`

const (
	insertNewEventSQL       = `INSERT INTO events (` + newEventColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending')`
	insertNewEventWithIDSQL = `INSERT INTO events (id, ` + newEventColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')`
)

// isNewEvent reports whether e can be written with the short insert (newEventColumns).
func isNewEvent(e *store.Event, finished int64) bool {
	return e.State == store.EventPending && e.Attempts == 0 && e.LastError == "" && e.DeliveredAt.IsZero() && finished == 0
}

func (t *Tx) insertEvent(ctx context.Context, e *store.Event, finished int64) error {
	var (
		args      []any
		q, withID string
	)
	if isNewEvent(e, finished) {
		a := [...]any{nil, int64(e.App), e.RoomID, e.Command, nonNil(e.Body), e.ClientIP, e.Platform, ms(e.CreatedAt), ms(e.NextAttemptAt)}
		args, q, withID = a[:], insertNewEventSQL, insertNewEventWithIDSQL
	} else {
		a := [...]any{nil, int64(e.App), e.RoomID, e.Command, nonNil(e.Body), e.ClientIP, e.Platform, ms(e.CreatedAt), string(e.State), e.Attempts,
			ms(e.NextAttemptAt), e.LastError, ms(e.DeliveredAt), finished}
		args, q, withID = a[:], insertEventSQL, insertEventWithIDSQL
	}
	var err error
	switch {
	case t.d.NextEventID != nil:
		// The id first, then an insert whose result nobody needs (Dialect.NextEventID).
		var id int64
		if id, err = t.d.NextEventID(t.q); err == nil {
			args[0] = id
			if _, err = t.q.Exec(ctx, withID, args...); err == nil {
				e.ID = id
			}
		}
	case t.d.LastInsertID:
		// One event per statement, on the transaction's connection: the last inserted
		// rowid is this event's id (the id column is the rowid; see Dialect.LastInsertID).
		var res sql.Result
		if res, err = t.q.Exec(ctx, q, args[1:]...); err == nil {
			e.ID, err = res.LastInsertId()
		}
	default:
		err = t.q.QueryRow(ctx, q+` RETURNING id`, args[1:]...).Scan(&e.ID)
	}
	if err != nil {
		return fmt.Errorf("insert event: %w", err)
	}
	return nil
}

func (t *Tx) EventRecordAttempt(ctx context.Context, a store.Attempt, next store.EventUpdate) error {
	// The event first: for a missing event nothing is written, not even the attempt.
	if err := t.updateEvent(ctx, &a, &next); err != nil {
		return err
	}
	if _, err := t.q.Exec(ctx, insertAttemptsSQL(1), appendAttemptArgs(make([]any, 0, attemptCols), &a)...); err != nil {
		return fmt.Errorf("record attempt %d of event %d: %w", a.N, a.EventID, err)
	}
	return nil
}

// updateEvent writes the event's state after attempt a; ErrNotFound when it is missing.
// A delivery, the common outcome, is written by a statement with its constant values as
// literals: 4 bound arguments instead of 7, two of them text, which the SQLite driver copies
// into C memory for each statement.
func (t *Tx) updateEvent(ctx context.Context, a *store.Attempt, next *store.EventUpdate) error {
	finished := finishedAt(next.State, next.DeliveredAt, a.StartedAt.Add(a.Duration))
	var (
		found bool
		err   error
	)
	if next.State == store.EventDelivered && next.NextAttemptAt.IsZero() && next.LastError == "" {
		found, err = t.execOne(ctx, `UPDATE events SET state = 'delivered', attempts = ?, next_attempt_at = 0, last_error = '', delivered_at = ?, finished_at = ? WHERE id = ?`,
			a.N, ms(next.DeliveredAt), finished, a.EventID)
	} else {
		found, err = t.execOne(ctx, `UPDATE events SET state = ?, attempts = ?, next_attempt_at = ?, last_error = ?, delivered_at = ?, finished_at = ? WHERE id = ?`,
			string(next.State), a.N, ms(next.NextAttemptAt), next.LastError, ms(next.DeliveredAt), finished, a.EventID)
	}
	if err != nil {
		return fmt.Errorf("update event %d: %w", a.EventID, err)
	}
	if !found {
		return store.ErrNotFound
	}
	return nil
}

// EventRecordAttempts writes each event's new state with its own UPDATE, as
// EventRecordAttempt does, and the attempts of up to maxRecordChunk records with one
// multi-row INSERT, in chunks of a power of two rows so that a few statement texts serve
// every group size. (A multi-row UPDATE … FROM (VALUES …) was measured too: on SQLite it
// materializes the join into an ephemeral table and journals the statement, and cost more
// per record than one UPDATE by rowid per event.)
func (t *Tx) EventRecordAttempts(ctx context.Context, recs []store.AttemptRecord) error {
	if len(recs) == 1 || !distinctEvents(recs) {
		// Two records of one event would be two rows of one INSERT for the same event:
		// written one by one, the later one wins, as it should.
		for _, r := range recs {
			if err := t.EventRecordAttempt(ctx, r.Attempt, r.Next); err != nil {
				return err
			}
		}
		return nil
	}
	// The events first: for a missing event nothing of its record is written (the caller
	// rolls the call back).
	for i := range recs {
		if err := t.updateEvent(ctx, &recs[i].Attempt, &recs[i].Next); err != nil {
			return err
		}
	}
	for len(recs) > 0 {
		n := maxRecordChunk
		for n > len(recs) {
			n /= 2
		}
		// A fresh slice per statement: a driver may queue a statement and encode its
		// arguments later (the PostgreSQL writer's pipeline), so a slice given to Exec is
		// never changed afterwards.
		args := make([]any, 0, n*attemptCols)
		for i := range recs[:n] {
			args = appendAttemptArgs(args, &recs[i].Attempt)
		}
		if _, err := t.q.Exec(ctx, insertAttemptsSQL(n), args...); err != nil {
			return fmt.Errorf("record %d attempts: %w", n, err)
		}
		recs = recs[n:]
	}
	return nil
}

// distinctEvents reports whether no two records are of the same event.
func distinctEvents(recs []store.AttemptRecord) bool {
	ids := make([]int64, len(recs))
	for i, r := range recs {
		ids[i] = r.Attempt.EventID
	}
	slices.Sort(ids)
	for i := 1; i < len(ids); i++ {
		if ids[i] == ids[i-1] {
			return false
		}
	}
	return true
}

// maxRecordChunk is the most attempts one INSERT of EventRecordAttempts writes: 64 rows of
// 10 parameters stay far below either engine's limit of bound parameters.
const maxRecordChunk = 64

// attemptCols is the number of parameters of one attempt row.
const attemptCols = 10

const attemptValues = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// upsertAttempt is the conflict clause of an attempt's INSERT: an attempt whose record
// failed keeps its number, and the next try overwrites its slot.
const upsertAttempt = ` ON CONFLICT (event_id, n) DO UPDATE SET started_at = excluded.started_at, duration_us = excluded.duration_us, url = excluded.url,
		status_code = excluded.status_code, response = excluded.response, error = excluded.error,
		request_url = excluded.request_url, request_headers = excluded.request_headers`

const insertAttemptHead = `INSERT INTO attempts (event_id, n, started_at, duration_us, url, status_code, response, error, request_url, request_headers) VALUES `

// insertAttemptsSQLs holds the INSERTs of 1, 2, 4, … maxRecordChunk attempts, by log2 of
// the count.
var insertAttemptsSQLs = sync.OnceValue(func() []string {
	var out []string
	for n := 1; n <= maxRecordChunk; n *= 2 {
		out = append(out, insertAttemptHead+strings.Repeat(attemptValues+", ", n-1)+attemptValues+upsertAttempt)
	}
	return out
})

// insertAttemptsSQL returns the INSERT of n attempts; n is a power of two.
func insertAttemptsSQL(n int) string { return insertAttemptsSQLs()[bits.Len(uint(n))-1] }

func appendAttemptArgs(args []any, a *store.Attempt) []any {
	return append(args, a.EventID, a.N, ms(a.StartedAt), a.Duration.Microseconds(), a.URL, a.StatusCode, a.Response, a.Error, a.RequestURL, a.RequestHeaders)
}

func (t *Tx) EventInsertRecorded(ctx context.Context, e *store.Event, a *store.Attempt) error {
	if e.State != store.EventDelivered && e.State != store.EventDead {
		return fmt.Errorf("record sent event: state %q is not final", e.State)
	}
	if a.N == 0 {
		a.N = 1
	}
	e.Attempts = a.N
	if err := t.insertEvent(ctx, e, finishedAt(e.State, e.DeliveredAt, a.StartedAt.Add(a.Duration))); err != nil {
		return err
	}
	a.EventID = e.ID
	if _, err := t.q.Exec(ctx, `INSERT INTO attempts (event_id, n, started_at, duration_us, url, status_code, response, error, request_url, request_headers) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.EventID, a.N, ms(a.StartedAt), a.Duration.Microseconds(), a.URL, a.StatusCode, a.Response, a.Error, a.RequestURL, a.RequestHeaders); err != nil {
		return fmt.Errorf("record attempt of event %d: %w", e.ID, err)
	}
	return nil
}

func (t *Tx) EventRequeue(ctx context.Context, id int64, at time.Time) (store.Event, error) {
	e, err := t.EventGet(ctx, id)
	if err != nil {
		return store.Event{}, err
	}
	if e.State != store.EventDelivered && e.State != store.EventDead {
		return store.Event{}, fmt.Errorf("%w: event %d is %s", store.ErrConflict, id, e.State)
	}
	if _, err := t.q.Exec(ctx, `UPDATE events SET state = 'pending', next_attempt_at = ?, delivered_at = 0, finished_at = 0 WHERE id = ?`, ms(at), id); err != nil {
		return store.Event{}, fmt.Errorf("requeue event %d: %w", id, err)
	}
	e.State, e.NextAttemptAt, e.DeliveredAt = store.EventPending, at, time.Time{}
	return e, nil
}

// pruneSelect picks the events of one app and one final state that finished before a
// cutoff, oldest finish first, from the partial index events_finished. "state IN (…)"
// repeats the index's condition so that the planner may use it; a finished event whose
// finished_at is 0 (it cannot be written by this driver, but a row from an older version
// might have one) counts from its creation.
const pruneSelect = `SELECT id FROM events WHERE sdkappid = ?1 AND state IN ('delivered', 'dead') AND state = ?2
	AND finished_at < ?3 AND (finished_at > 0 OR created_at < ?3) ORDER BY finished_at, id LIMIT ?4`

func (t *Tx) EventPrune(ctx context.Context, p store.EventPruneParams) (int, error) {
	if p.Limit <= 0 {
		return 0, fmt.Errorf("prune events of app %d: limit %d is not positive", p.App, p.Limit)
	}
	total := 0
	for _, c := range []struct {
		state  store.EventState
		before time.Time
	}{{store.EventDelivered, p.DeliveredBefore}, {store.EventDead, p.DeadBefore}} {
		if c.before.IsZero() || total >= p.Limit {
			continue
		}
		args := []any{int64(p.App), string(c.state), ms(c.before), p.Limit - total}
		// Attempts first, then their events: both statements select the same rows, since
		// nothing else writes in between (one transaction).
		if _, err := t.q.Exec(ctx, `DELETE FROM attempts WHERE event_id IN (`+pruneSelect+`)`, args...); err != nil {
			return total, fmt.Errorf("prune attempts of app %d: %w", p.App, err)
		}
		res, err := t.q.Exec(ctx, `DELETE FROM events WHERE id IN (`+pruneSelect+`)`, args...)
		if err != nil {
			return total, fmt.Errorf("prune events of app %d: %w", p.App, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("prune events of app %d: %w", p.App, err)
		}
		total += int(n)
	}
	return total, nil
}

// PruneSelect is the SELECT of the pruning query, for a driver's check of its query plan.
const PruneSelect = pruneSelect
