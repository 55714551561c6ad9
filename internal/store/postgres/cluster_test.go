package postgres

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/store/storetest"
	"github.com/roomd/roomd/internal/testkit"
)

// The cluster tests give each case a database of its own (testkit.PostgresDatabase): what
// nodes share beyond tables, NOTIFY channels and advisory locks, is per database.

// openNodes opens n stores on one fresh database. With ROOMD_TEST_POSTGRES_NOLOCK set, their
// group transactions leave the write lock out: TestCluster/EventOrderTwoNodes must then fail,
// which shows that the lock is what keeps ids in commit order across processes.
func openNodes(t *testing.T, n int) []*Store {
	t.Helper()
	dsn := testkit.PostgresDatabase(t)
	out := make([]*Store, n)
	for i := range out {
		s, err := Open(t.Context(), Options{DSN: dsn})
		if err != nil {
			t.Fatal(err)
		}
		s.noLock = os.Getenv("ROOMD_TEST_POSTGRES_NOLOCK") != ""
		out[i] = s
	}
	return out
}

func TestCluster(t *testing.T) {
	storetest.Cluster(t, func(t *testing.T) (store.Store, store.Store) {
		s := openNodes(t, 2)
		return s[0], s[1]
	})
}

// A listener whose connection the server ends connects again, says so with Reconnected,
// and goes on hearing the commits of the other node.
func TestListenReconnects(t *testing.T) {
	s := openNodes(t, 2)
	for _, st := range s {
		t.Cleanup(func() { st.Close() })
	}
	a, b := s[0], s[1]
	notes := listen(t, a)
	next := func() store.Notification {
		t.Helper()
		return notes.next(10 * time.Second)
	}
	config := func(app uint64) {
		t.Helper()
		putConfig(t, b, app)
	}
	if n := next(); !n.Reconnected {
		t.Fatalf("first notification %+v, want Reconnected (listening)", n)
	}
	config(1)
	if n := next(); n != (store.Notification{Kind: store.NotifyConfig, App: 1}) {
		t.Fatalf("notification %+v, want config of app 1", n)
	}
	for round := range 2 {
		pid := a.listenPID.Load()
		if _, err := b.pool.Exec(t.Context(), "SELECT pg_terminate_backend($1)", pid); err != nil {
			t.Fatal(err)
		}
		if n := next(); !n.Reconnected {
			t.Fatalf("round %d: after the listener's backend was ended, notification %+v, want Reconnected", round, n)
		}
		if a.listenPID.Load() == pid {
			t.Fatalf("round %d: the listener did not connect again", round)
		}
		config(uint64(10 + round))
		if n := next(); n != (store.Notification{Kind: store.NotifyConfig, App: uint64(10 + round)}) {
			t.Fatalf("round %d: notification %+v, want config of app %d", round, n, 10+round)
		}
	}
}

// A node that stalls in the middle of a group transaction (as one cut off from the database
// would) holds the write lock only until the server ends its idle transaction: the other
// node's writes go on meanwhile, the stalled call fails, and its node writes again after.
func TestStalledWriterReleasesTheLock(t *testing.T) {
	dsn := testkit.PostgresDatabase(t)
	a, err := Open(t.Context(), Options{DSN: dsn + "&idle_in_transaction_session_timeout=300"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(t.Context(), Options{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	upsert := func(s *Store, user string) error {
		return s.Tx(t.Context(), func(tx store.Tx) error {
			_, err := tx.AccountUpsert(t.Context(), store.Account{App: 1, UserID: user, CreatedAt: time.UnixMilli(1)})
			return err
		})
	}
	stalled := make(chan error, 1)
	locked := make(chan struct{})
	go func() {
		stalled <- a.Tx(t.Context(), func(tx store.Tx) error {
			close(locked)
			if _, err := tx.AccountUpsert(t.Context(), store.Account{App: 1, UserID: "stalled", CreatedAt: time.UnixMilli(1)}); err != nil {
				return err
			}
			time.Sleep(3 * time.Second) // not database work: what a Tx fn must never do
			return nil
		})
	}()
	<-locked
	if err := upsert(b, "other"); err != nil {
		t.Fatalf("the other node's write: %v", err)
	}
	select {
	case err := <-stalled:
		t.Fatalf("the stalled call returned (%v) before the other node could write: it held the lock to its end", err)
	default:
	}
	if err := <-stalled; err == nil {
		t.Fatal("the stalled call committed, after the server ended its transaction")
	}
	if _, err := a.AccountGet(t.Context(), 1, "stalled"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the stalled call's write: %v, want ErrNotFound", err)
	}
	if err := upsert(a, "again"); err != nil {
		t.Fatalf("the stalled node's next write: %v", err)
	}
}

// Listen passes over the NotifyEvents and NotifyBroadcasts of its own store's writer (their
// after-commit hooks told of the events and broadcasts) and passes every other node's on. When the writer cannot learn
// whether a group committed (here: its connection is cut before the COMMIT round trip, so
// the send fails), Listen announces NotifyEvents itself at once, though it was waiting, and
// passes the writer's notifications on until the writer has a connection again.
func TestListenPassesOverOwnEvents(t *testing.T) {
	dsn := testkit.PostgresDatabase(t)
	proxy, proxied := testkit.ProxyPostgres(t, dsn)
	a, err := Open(t.Context(), Options{DSN: proxied})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if a.lcfg, err = pgx.ParseConfig(dsn); err != nil { // a's listener does not go through the proxy
		t.Fatal(err)
	}
	b, err := Open(t.Context(), Options{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })

	notes := listen(t, a)
	next := notes.next
	event := func(s *Store, cut func()) error {
		return s.Tx(t.Context(), func(tx store.Tx) error {
			e := store.Event{App: 1, RoomID: "r1", Command: "Live.CallbackAfterChangeOwner", Body: []byte(`{}`),
				CreatedAt: time.UnixMilli(1), State: store.EventPending, NextAttemptAt: time.UnixMilli(1)}
			if err := tx.EventInsert(t.Context(), &e); err != nil {
				return err
			}
			if cut != nil {
				cut()
			}
			return nil
		})
	}
	broadcast := func(s *Store) {
		t.Helper()
		if err := s.Tx(t.Context(), func(tx store.Tx) error {
			return tx.(store.ClusterTx).BroadcastInsert(t.Context(), &store.Broadcast{App: 1, RoomID: "r1", Origin: "n", Kind: "k", Body: []byte(`{}`)})
		}); err != nil {
			t.Fatal(err)
		}
	}
	config := func(app uint64) {
		t.Helper()
		putConfig(t, b, app)
	}
	if n := next(10 * time.Second); !n.Reconnected {
		t.Fatalf("first notification %+v, want Reconnected", n)
	}

	// Its own event and broadcast are passed over: the next notification is b's
	// configuration.
	if err := event(a, nil); err != nil {
		t.Fatal(err)
	}
	broadcast(a)
	config(1)
	if n := next(10 * time.Second); n != (store.Notification{Kind: store.NotifyConfig, App: 1}) {
		t.Fatalf("after an event and a broadcast of its own and a configuration of the other node's: %+v, want the configuration", n)
	}
	// The other node's event and broadcast are passed on.
	if err := event(b, nil); err != nil {
		t.Fatal(err)
	}
	if n := next(10 * time.Second); n != (store.Notification{Kind: store.NotifyEvents}) {
		t.Fatalf("after an event of the other node's: %+v, want NotifyEvents", n)
	}
	broadcast(b)
	if n := next(10 * time.Second); n != (store.Notification{Kind: store.NotifyBroadcasts}) {
		t.Fatalf("after a broadcast of the other node's: %+v, want NotifyBroadcasts", n)
	}

	// The COMMIT round trip fails: the outcome is unknown to the writer.
	time.Sleep(100 * time.Millisecond) // let the listener wait
	if err := event(a, proxy.CutReset); err == nil {
		t.Fatal("the call committed through a cut connection")
	}
	if n := next(listenIdle / 4); n != (store.Notification{Kind: store.NotifyEvents}) {
		t.Fatalf("after a commit of unknown outcome: %+v, want NotifyEvents at once", n)
	}
	if pid := a.writerPID.Load(); pid != 0 {
		t.Errorf("writerPID = %d after a commit of unknown outcome, want 0", pid)
	}
	proxy.Restore()
	if err := event(a, nil); err != nil {
		t.Fatal(err)
	}
	config(2)
	if n := next(10 * time.Second); n != (store.Notification{Kind: store.NotifyConfig, App: 2}) {
		t.Fatalf("after the writer connected again, an event of its own and a configuration: %+v, want the configuration", n)
	}
	select {
	case n := <-notes.c:
		t.Fatalf("unexpected notification %+v", n)
	default:
	}
}

// notes are the notifications a listener of a test heard.
type notes struct {
	t *testing.T
	c chan store.Notification
}

// listen runs s.Listen until the test ends, and checks that it then returns
// context.Canceled.
func listen(t *testing.T, s *Store) *notes {
	n := &notes{t: t, c: make(chan store.Notification, 100)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Listen(ctx, func(note store.Notification) { n.c <- note }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Listen = %v, want context.Canceled", err)
		}
	})
	return n
}

// next returns the next notification, failing the test when none comes within d.
func (n *notes) next(d time.Duration) store.Notification {
	n.t.Helper()
	select {
	case note := <-n.c:
		return note
	case <-time.After(d):
		n.t.Fatalf("no notification within %s", d)
		return store.Notification{}
	}
}

// putConfig writes a callback configuration of app through s.
func putConfig(t *testing.T, s *Store, app uint64) {
	t.Helper()
	if err := s.Tx(t.Context(), func(tx store.Tx) error {
		return tx.CallbackConfigPut(t.Context(), store.CallbackConfig{App: app, URL: "http://127.0.0.1:1/cb"})
	}); err != nil {
		t.Fatal(err)
	}
}
