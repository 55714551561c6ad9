package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/roomd/roomd/internal/store"
)

// The store.Cluster methods. Nodes and leases (schema: migrations/0011_cluster.sql) are
// written outside the group transactions, on the read pool, each by one statement that
// compares expiries with the database's clock (now()); broadcasts are inserted inside the
// group transactions (pgTx.BroadcastInsert), so that their ids are in commit order, and read
// and pruned on the pool.

var _ store.Cluster = (*Store)(nil)

// interval turns a duration into the microseconds that "$n * interval '1 microsecond'"
// multiplies.
func interval(d time.Duration) int64 { return d.Microseconds() }

// NodeBeat implements store.Cluster. revived reports that the beat inserted node's row: the
// node is new, or its row was deleted (NodeClaimDead, NodeLeave) since its last beat. A row
// whose beat expired but that no node has claimed yet is renewed and revived is false:
// nothing of the node was recovered by another.
func (s *Store) NodeBeat(ctx context.Context, node string, ttl time.Duration) (revived bool, err error) {
	err = s.pool.QueryRow(ctx, `INSERT INTO nodes (id, started_at, expires_at)
		VALUES ($1, now(), now() + $2 * interval '1 microsecond')
		ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at
		RETURNING xmax = 0`, node, interval(ttl)).Scan(&revived)
	if err != nil {
		return false, fmt.Errorf("beat of node %s: %w", node, err)
	}
	return revived, nil
}

// NodeClaimDead implements store.Cluster. One DELETE finds and deletes the expired rows; of
// two nodes that claim at once, the second waits for the first's row locks and then finds
// the rows gone, so each dead node is returned to exactly one caller.
func (s *Store) NodeClaimDead(ctx context.Context, self string) ([]string, error) {
	rows, err := s.pool.Query(ctx, `DELETE FROM nodes WHERE expires_at < now() AND id <> $1 RETURNING id`, self)
	if err != nil {
		return nil, fmt.Errorf("claim dead nodes: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("claim dead nodes: %w", err)
	}
	return ids, nil
}

// NodeLeave implements store.Cluster: it deletes node's row and gives up every lease node
// holds, so that another node may take them at once.
func (s *Store) NodeLeave(ctx context.Context, node string) error {
	if _, err := s.pool.Exec(ctx, `WITH l AS (DELETE FROM leases WHERE node = $1)
		DELETE FROM nodes WHERE id = $1`, node); err != nil {
		return fmt.Errorf("leave of node %s: %w", node, err)
	}
	return nil
}

// NodeList implements store.Cluster: the nodes whose beat has not expired, by id.
func (s *Store) NodeList(ctx context.Context) ([]store.Node, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, started_at, expires_at FROM nodes WHERE expires_at >= now() ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	nodes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Node, error) {
		var n store.Node
		err := r.Scan(&n.ID, &n.StartedAt, &n.ExpiresAt)
		return n, err
	})
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	return nodes, nil
}

// LeaseHold implements store.Cluster with one upsert: the row is taken over only when it is
// node's already or has expired; INSERT … ON CONFLICT decides between concurrent takers.
func (s *Store) LeaseHold(ctx context.Context, name, node string, ttl time.Duration) (bool, error) {
	var holder string
	err := s.pool.QueryRow(ctx, `INSERT INTO leases (name, node, expires_at)
		VALUES ($1, $2, now() + $3 * interval '1 microsecond')
		ON CONFLICT (name) DO UPDATE SET node = excluded.node, expires_at = excluded.expires_at
		WHERE leases.node = excluded.node OR leases.expires_at < now()
		RETURNING node`, name, node, interval(ttl)).Scan(&holder)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("hold lease %s: %w", name, err)
	}
	return true, nil
}

// LeaseRelease implements store.Cluster.
func (s *Store) LeaseRelease(ctx context.Context, name, node string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM leases WHERE name = $1 AND node = $2`, name, node); err != nil {
		return fmt.Errorf("release lease %s: %w", name, err)
	}
	return nil
}

// BroadcastList implements store.Cluster.
func (s *Store) BroadcastList(ctx context.Context, after int64, limit int) ([]store.Broadcast, error) {
	var lim any // LIMIT NULL: no limit
	if limit > 0 {
		lim = limit
	}
	rows, err := s.pool.Query(ctx, `SELECT id, sdkappid, room_id, origin, kind, body, created_at FROM broadcasts
		WHERE id > $1 ORDER BY id LIMIT $2`, after, lim)
	if err != nil {
		return nil, fmt.Errorf("list broadcasts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Broadcast, error) {
		var b store.Broadcast
		var app int64
		err := r.Scan(&b.ID, &app, &b.RoomID, &b.Origin, &b.Kind, &b.Body, &b.CreatedAt)
		b.App = uint64(app)
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("list broadcasts: %w", err)
	}
	return out, nil
}

// BroadcastLast implements store.Cluster.
func (s *Store) BroadcastLast(ctx context.Context) (int64, error) {
	var id int64
	if err := s.pool.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM broadcasts`).Scan(&id); err != nil {
		return 0, fmt.Errorf("last broadcast: %w", err)
	}
	return id, nil
}

// BroadcastPrune implements store.Cluster, oldest first.
func (s *Store) BroadcastPrune(ctx context.Context, before time.Time, limit int) (int, error) {
	var lim any
	if limit > 0 {
		lim = limit
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM broadcasts WHERE id IN
		(SELECT id FROM broadcasts WHERE created_at < $1 ORDER BY id LIMIT $2)`, before, lim)
	if err != nil {
		return 0, fmt.Errorf("prune broadcasts: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// listenBackoff bounds the waits between two attempts to connect the listener.
const (
	listenBackoffMin = 100 * time.Millisecond
	listenBackoffMax = 5 * time.Second
	// listenIdle is how long the listener waits for a notification before it checks, with
	// a ping, that its connection still works (a partition leaves a connection that neither
	// delivers nor fails).
	listenIdle = 10 * time.Second
	// listenPing bounds that ping.
	listenPing = 5 * time.Second
)

// Listen implements store.Cluster on a connection of its own (not from the pool), LISTENing
// on the schema's channel. It calls fn with Reconnected set each time it listens on a new
// connection; when the connection fails it connects again, with a backoff from
// listenBackoffMin to listenBackoffMax. Payloads it does not know are skipped.
//
// It passes over the NotifyEvents and NotifyBroadcasts of this store's own writer, told by
// the backend pid that every notification carries (writerPID), since their after-commit
// hooks announced the events and pushed the broadcasts to this node's clients (a node's
// relay skips its own broadcasts anyway); after a commit whose outcome the writer could
// not learn, it announces NotifyEvents itself (commitUnknown). The payload is what every
// version sends, so nodes of different versions understand each other's notifications.
// This rests on the pid of the writer's backend not being given to its next connection's
// backend while a notification of the old one is still on its way; PostgreSQL's backends
// are processes, and Linux hands out pids in turn.
func (s *Store) Listen(ctx context.Context, fn func(store.Notification)) error {
	backoff := listenBackoffMin
	for attempt := 0; ; attempt++ {
		if attempt > 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		conn, err := s.listenConn(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.log.Warn("postgres_listen_connect_failed", "err", err, "retry_in", backoff)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, listenBackoffMax)
			continue
		}
		backoff = listenBackoffMin
		s.listenPID.Store(conn.PgConn().PID())
		if attempt > 0 {
			s.log.Info("postgres_listen_reconnected")
		}
		fn(store.Notification{Reconnected: true})
		err = s.receive(ctx, conn, fn)
		cctx, cancel := context.WithTimeout(context.Background(), listenPing)
		conn.Close(cctx)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.log.Warn("postgres_listen_lost", "err", err)
	}
}

// listenConn connects the listener and LISTENs on the channel.
func (s *Store) listenConn(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, s.lcfg.Copy())
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		conn.Close(context.Background())
		return nil, err
	}
	return conn, nil
}

// receive calls fn with each notification on conn until ctx ends or the connection fails.
func (s *Store) receive(ctx context.Context, conn *pgx.Conn, fn func(store.Notification)) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, listenIdle)
		var (
			n   *pgconn.Notification
			err error
		)
		if !s.watchListen(cancel) {
			n, err = conn.WaitForNotification(wctx)
		}
		missed := s.unwatchListen()
		cancel()
		if missed {
			fn(store.Notification{Kind: store.NotifyEvents})
			if n == nil && (err == nil || errors.Is(err, context.Canceled) && ctx.Err() == nil) {
				continue // the wait was ended for this, or not begun
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if !errors.Is(err, context.DeadlineExceeded) || conn.IsClosed() {
				return err
			}
			// Idle: check that the connection still answers.
			pctx, cancel := context.WithTimeout(ctx, listenPing)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return fmt.Errorf("ping: %w", err)
			}
			continue
		}
		if n.Channel != s.channel {
			continue
		}
		note, ok := parsePayload(n.Payload)
		if !ok {
			s.log.Debug("postgres_listen_unknown_payload", "payload", n.Payload)
			continue
		}
		if note.Kind != store.NotifyConfig && n.PID == s.writerPID.Load() {
			continue // this store's own events or broadcasts: their after-commit hooks told of them
		}
		fn(note)
	}
}

// watchListen registers cancel as the end of the listener's next wait, and reports whether
// the writer has missed events to announce (commitUnknown); the listener then does not wait.
func (s *Store) watchListen(cancel context.CancelFunc) (missed bool) {
	s.lmu.Lock()
	defer s.lmu.Unlock()
	s.listenCancel = cancel
	return s.missedEvents
}

// unwatchListen ends what watchListen began, and takes the writer's missed events.
func (s *Store) unwatchListen() (missed bool) {
	s.lmu.Lock()
	defer s.lmu.Unlock()
	missed, s.missedEvents, s.listenCancel = s.missedEvents, false, nil
	return missed
}

// commitUnknown is called by the writer goroutine when it could not learn whether a group
// committed: its connection failed after COMMIT was sent. The group's after-commit hooks did
// not run, so if it committed, nothing told of its events but its NotifyEvents, which Listen
// passes over when it comes from writerPID, and may have passed over already. So the writer
// forgets writerPID first (a notification that comes later is announced), then makes Listen
// announce NotifyEvents itself: it ends the listener's wait, or the listener finds
// missedEvents before its next one. Either way, the announcement comes after the failure,
// so after the commit, if there was one (the server commits before it answers COMMIT).
func (s *Store) commitUnknown() {
	s.writerPID.Store(0)
	s.lmu.Lock()
	s.missedEvents = true
	cancel := s.listenCancel
	s.lmu.Unlock()
	if cancel != nil {
		cancel()
	}
}
