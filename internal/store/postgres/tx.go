package postgres

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/store/sqlstore"
)

// pgTx is the store.Tx of one Tx call: the shared queries (sqlstore.Tx) on the writer's
// connection, plus what the call wrote that the other nodes must hear of at commit, and the
// cluster's writes (store.ClusterTx).
type pgTx struct {
	*sqlstore.Tx
	// events is set when the call inserted outbox events or made them pending again;
	// broadcasts when it inserted broadcasts; configs lists the apps whose callback
	// configuration it wrote.
	events, broadcasts bool
	configs            []uint64
}

var _ store.ClusterTx = (*pgTx)(nil)

func (s *Store) newTx() *pgTx { return &pgTx{Tx: sqlstore.NewTx(s.w, dialect)} }

// EventInsert inserts e and sets e.After (writer.lastEvent).
func (t *pgTx) EventInsert(ctx context.Context, e *store.Event) error {
	if err := t.Tx.EventInsert(ctx, e); err != nil {
		return err
	}
	t.inserted(e)
	t.events = true
	return nil
}

// EventInsertRecorded inserts e with its attempt, and sets e.After as EventInsert does.
func (t *pgTx) EventInsertRecorded(ctx context.Context, e *store.Event, a *store.Attempt) error {
	if err := t.Tx.EventInsertRecorded(ctx, e, a); err != nil {
		return err
	}
	t.inserted(e)
	return nil
}

// inserted sets the After of e, just inserted, and makes e the writer's last event.
func (t *pgTx) inserted(e *store.Event) {
	w := t.Querier().(*writer)
	e.After, w.lastEvent = w.lastEvent, e.ID
}

func (t *pgTx) EventRequeue(ctx context.Context, id int64, at time.Time) (store.Event, error) {
	e, err := t.Tx.EventRequeue(ctx, id, at)
	if err == nil {
		t.events = true
	}
	return e, err
}

func (t *pgTx) CallbackConfigPut(ctx context.Context, c store.CallbackConfig) error {
	if err := t.Tx.CallbackConfigPut(ctx, c); err != nil {
		return err
	}
	if !slices.Contains(t.configs, c.App) {
		t.configs = append(t.configs, c.App)
	}
	return nil
}

// RoomInsertOwned answers from the checks that the writer read ahead for the call, with
// its group's first round trip, and queues the insert (sqlstore.RoomInsertOwnedChecked),
// when the call's footprint named them (store.ReadRoomInsert); otherwise it runs the one
// statement in a savepoint of its own, a round trip.
func (t *pgTx) RoomInsertOwned(ctx context.Context, r store.Room) error {
	if a := t.Querier().(*writer).ahead; a != nil && a.first == store.ReadRoomInsert {
		return t.Tx.RoomInsertOwnedChecked(ctx, r)
	}
	return t.Tx.RoomInsertOwned(ctx, r)
}

// BroadcastInsert implements store.ClusterTx. A zero b.CreatedAt is set to the database's
// clock (the transaction's now()).
//
// The id is taken from a block of ids the writer takes from the broadcasts' sequence in
// the group's transaction, under writeLock, one block for the rest of the group's calls
// (writer.nextID), so the insert itself needs no result and is queued (writer.go).
func (t *pgTx) BroadcastInsert(ctx context.Context, b *store.Broadcast) error {
	w := t.Querier().(*writer)
	id, now, err := w.nextID(broadcastsSeq)
	if err != nil {
		return fmt.Errorf("insert broadcast of room %s: take an id: %w", b.RoomID, err)
	}
	created := now
	if !b.CreatedAt.IsZero() {
		// As stored: pgx sends microseconds.
		created = b.CreatedAt.Truncate(time.Microsecond).Local()
	}
	body := b.Body
	if body == nil {
		body = []byte{}
	}
	if _, err := w.Exec(ctx, `INSERT INTO broadcasts (id, sdkappid, room_id, origin, kind, body, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		id, int64(b.App), b.RoomID, b.Origin, b.Kind, body, created); err != nil {
		return fmt.Errorf("insert broadcast of room %s: %w", b.RoomID, err)
	}
	b.ID, b.CreatedAt = id, created
	t.broadcasts = true
	return nil
}

// Notification payloads: the kind's name, and for store.NotifyConfig the app after a colon
// ("config:1400000000").
func payload(kind store.NotificationKind, app uint64) string {
	if kind == store.NotifyConfig {
		return string(kind) + ":" + strconv.FormatUint(app, 10)
	}
	return string(kind)
}

// parsePayload reads a payload written by payload; ok is false for one it does not know.
func parsePayload(p string) (n store.Notification, ok bool) {
	kind, app, hasApp := strings.Cut(p, ":")
	switch store.NotificationKind(kind) {
	case store.NotifyEvents, store.NotifyBroadcasts:
		return store.Notification{Kind: store.NotificationKind(kind)}, !hasApp
	case store.NotifyConfig:
		v, err := strconv.ParseUint(app, 10, 64)
		return store.Notification{Kind: store.NotifyConfig, App: v}, hasApp && err == nil
	}
	return store.Notification{}, false
}

// payloads returns the NOTIFY payloads of a group transaction: one for each kind that the
// calls of the group which commit (txs[i] != nil) announce. The writer sends them with
// pg_notify just before COMMIT (writer.commit): a NOTIFY is delivered at commit, and not at
// all when the transaction rolls back.
func payloads(txs []*pgTx) []string {
	var events, broadcasts bool
	var configs []uint64
	for _, t := range txs {
		if t == nil {
			continue
		}
		events = events || t.events
		broadcasts = broadcasts || t.broadcasts
		for _, app := range t.configs {
			if !slices.Contains(configs, app) {
				configs = append(configs, app)
			}
		}
	}
	var out []string
	if events {
		out = append(out, payload(store.NotifyEvents, 0))
	}
	if broadcasts {
		out = append(out, payload(store.NotifyBroadcasts, 0))
	}
	for _, app := range configs {
		out = append(out, payload(store.NotifyConfig, app))
	}
	return out
}
