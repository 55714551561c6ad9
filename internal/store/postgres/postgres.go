// Package postgres is the PostgreSQL store driver, on jackc/pgx/v5.
//
// It mirrors package sqlite, so that the invariants the domain relies on hold unchanged
// (docs/architecture.md, "The single-writer invariants"): in each process one goroutine owns
// the only write connection and groups concurrent Store.Tx calls into one database
// transaction (group commit), each call isolated by a savepoint when the group has to be run
// again after a failing call. AfterCommit hooks run in commit order on the writer goroutine.
// The write connection is a native pgx connection that runs each group pipelined: the
// statements whose results no caller needs yet go out with the next one that needs a result,
// or with the COMMIT (writer.go).
// Reads use a pgxpool of their own and see the last committed state (READ COMMITTED).
//
// # Several processes on one database
//
// Several roomd nodes may share one database (store.Cluster, docs/architecture.md, "Several
// nodes: the store"). Their writes are serialized cluster-wide: every group transaction takes
// one transaction-scoped advisory lock (writeLock, keyed by the schema) as its first
// statement, and holds it until it commits or rolls back. Sequence values (event and
// broadcast ids) are therefore taken in commit order across all nodes, which is the
// invariant of store.EventWriter.EventInsert: a reader that has seen id N never sees a lower
// id appear later. No deadlock can arise between roomd writers, since the lock is taken
// before any row lock. The price is that the nodes write one group at a time: several nodes
// add client capacity and availability, not write throughput (group commit amortizes the
// lock over every call of a group).
//
// A group transaction announces, at its commit, what other nodes must react to: it sends
// one NOTIFY per kind (store.NotifyEvents, store.NotifyBroadcasts, store.NotifyConfig per
// app) on the schema's channel when one of its calls that commits inserted outbox events or
// made them pending again, inserted broadcasts or wrote an app's callback configuration. A
// NOTIFY is transactional: a group that rolls back announces nothing. Store.Listen receives
// them on a connection of its own. The payload is the kind's name, "config:" followed by the
// app for store.NotifyConfig.
//
// Durability is PostgreSQL's: a commit survives whatever the server's synchronous_commit
// (and fsync) settings promise; the store.durability setting does not apply.
//
// A statement that fails inside a PostgreSQL transaction aborts the whole transaction, where
// SQLite only fails the statement. The store contract lets fn go on after an ErrConflict, so
// the inserts that may report ErrConflict run inside a savepoint of their own
// (writer.execGuarded).
package postgres

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// maxBatch bounds how many Tx calls share one database transaction.
const maxBatch = 512

// migrationLock is the key of the advisory lock Migrate holds while it migrates, so that two
// processes starting on one database do not apply a migration twice.
const migrationLock int64 = 0x726f6f6d64 // "roomd"

// writeLock is the first key of the transaction-scoped advisory lock every group transaction
// takes as its first statement (pg_advisory_xact_lock(writeLock, schema oid)), so that the
// write transactions of all the nodes on one schema are serialized and take their sequence
// values in commit order; see the package documentation. The second key, the oid of the
// store's schema, keeps two deployments in two schemas of one database apart.
const writeLock int32 = 0x726f6f6d // "room"

// writerIdleTimeout is the writer connection's idle_in_transaction_session_timeout, unless
// the DSN sets one: a group transaction holds writeLock, and so stalls the writes of every
// node, until it ends; when its node is cut off from the database in the middle of it, the
// server ends it after this long (a group is never idle for long otherwise: its calls do
// database work only).
const writerIdleTimeout = "10s"

// ErrClosed is returned by Tx after Close.
var ErrClosed = errors.New("postgres: store closed")

// Options configure Open.
type Options struct {
	// DSN is a PostgreSQL connection string (URL or key=value form).
	DSN    string
	Logger *slog.Logger
	// ReadConns bounds the read pool (default 8).
	ReadConns int32
}

// Store is the PostgreSQL implementation of store.Store.
type Store struct {
	sqlstore.Reader
	pool *pgxpool.Pool
	rdb  *sql.DB
	// w is the write connection (writer.go); only the writer goroutine uses it.
	w        *writer
	reqs     chan *txRequest
	quit     chan struct{}
	stopped  chan struct{}
	once     sync.Once
	closeErr error
	instance string
	log      *slog.Logger

	// lcfg connects the listener of Listen (a connection of its own, not from the pool).
	lcfg *pgx.ConnConfig
	// schemaOID is the oid of the store's schema (current_schema()); it keys writeLock and
	// names channel.
	schemaOID uint32
	// channel is the NOTIFY channel of the store's schema ("roomd_" and schemaOID).
	channel string
	// beginSQL starts a group transaction and takes writeLock in one round trip.
	beginSQL string
	// listenPID is the backend pid of the last connection Listen made (tests end it).
	listenPID atomic.Uint32
	// writerPID is the backend pid of the writer's connection, and 0 from a commit whose
	// outcome the writer could not learn until its next group (knowWriterPID): Listen
	// passes over the NotifyEvents and NotifyBroadcasts sent from writerPID (receive).
	writerPID atomic.Uint32
	// lmu guards missedEvents and listenCancel. After a commit whose outcome it could not
	// learn, the writer sets missedEvents and ends the listener's wait with listenCancel;
	// Listen then announces NotifyEvents itself (commitUnknown).
	lmu          sync.Mutex
	missedEvents bool
	listenCancel context.CancelFunc
	// noLock leaves writeLock out (tests only: it shows that the lock is what keeps ids in
	// commit order across processes).
	noLock bool

	batches, calls  atomic.Uint64
	lastGroupFailed bool // writer goroutine only
}

// GroupStats returns how many database transactions the writer has run and how many Tx
// calls they carried.
func (s *Store) GroupStats() (batches, calls uint64) {
	return s.batches.Load(), s.calls.Load()
}

type txRequest struct {
	ctx  context.Context
	fn   func(store.Tx) error
	done chan error
	// print is the call's footprint, when printed (store.WithFootprint).
	print   store.Footprint
	printed bool
}

// Open connects to the database at o.DSN, applies pending migrations and starts the writer.
func Open(ctx context.Context, o Options) (*Store, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ReadConns <= 0 {
		o.ReadConns = 8
	}
	if _, err := Migrate(ctx, o.DSN); err != nil {
		return nil, err
	}
	wcfg, err := pgx.ParseConfig(o.DSN)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse dsn: %w", err)
	}
	if _, ok := wcfg.RuntimeParams["idle_in_transaction_session_timeout"]; !ok {
		wcfg.RuntimeParams["idle_in_transaction_session_timeout"] = writerIdleTimeout
	}
	wcfg.AfterConnect = keepHeap
	sendBuf := &sendBuffer{}
	wcfg.BuildFrontend = sendBuf.frontend
	wconn, err := pgx.ConnectConfig(ctx, wcfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect writer: %w", err)
	}
	pcfg, err := pgxpool.ParseConfig(o.DSN)
	if err != nil {
		wconn.Close(ctx)
		return nil, fmt.Errorf("postgres: parse dsn: %w", err)
	}
	pcfg.MaxConns = o.ReadConns
	pcfg.ConnConfig.AfterConnect = keepHeap
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		wconn.Close(ctx)
		return nil, fmt.Errorf("postgres: connect readers: %w", err)
	}
	rdb := stdlib.OpenDBFromPool(pool)
	s := &Store{
		pool:    pool,
		rdb:     rdb,
		w:       &writer{cfg: wcfg, conn: wconn, sendBuf: sendBuf},
		reqs:    make(chan *txRequest, 4096),
		quit:    make(chan struct{}),
		stopped: make(chan struct{}),
		log:     o.Logger,
	}
	s.Reader = sqlstore.NewReader(&dbQuerier{db: rdb}, dialect)
	if s.instance, err = s.loadInstance(ctx); err != nil {
		s.closeDBs()
		return nil, err
	}
	if s.lcfg, err = pgx.ParseConfig(o.DSN); err != nil {
		s.closeDBs()
		return nil, fmt.Errorf("postgres: parse dsn: %w", err)
	}
	if err := pool.QueryRow(ctx, "SELECT oid FROM pg_namespace WHERE nspname = current_schema()").Scan(&s.schemaOID); err != nil {
		s.closeDBs()
		return nil, fmt.Errorf("postgres: read schema oid: %w", err)
	}
	s.channel = "roomd_" + strconv.FormatUint(uint64(s.schemaOID), 10)
	s.beginSQL = fmt.Sprintf("BEGIN; SELECT pg_advisory_xact_lock(%d, %d)", writeLock, int32(s.schemaOID))
	s.writerPID.Store(wconn.PgConn().PID())
	go s.writeLoop()
	return s, nil
}

// migrationFiles returns the embedded migrations in order, with their numbers.
func migrationFiles() ([]string, []int, error) {
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(files)
	nums := make([]int, len(files))
	for i, f := range files {
		n, err := strconv.Atoi(strings.SplitN(filepath.Base(f), "_", 2)[0])
		if err != nil {
			return nil, nil, fmt.Errorf("migration %s: bad name", f)
		}
		nums[i] = n
	}
	return files, nums, nil
}

// LatestSchema returns the schema version of the newest embedded migration.
func LatestSchema() int {
	_, nums, _ := migrationFiles()
	latest := 0
	for _, n := range nums {
		latest = max(latest, n)
	}
	return latest
}

// Migrate applies the embedded migrations that the database at dsn has not seen yet, under
// an advisory lock, and returns the schema version it ends at. The version is kept in the
// table schema_version.
func Migrate(ctx context.Context, dsn string) (int, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, fmt.Errorf("postgres: connect: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
		return 0, fmt.Errorf("postgres: take migration lock: %w", err)
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", migrationLock)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)`); err != nil {
		return 0, fmt.Errorf("postgres: create schema_version: %w", err)
	}
	var version int
	err = conn.QueryRow(ctx, "SELECT version FROM schema_version").Scan(&version)
	if errors.Is(err, pgx.ErrNoRows) {
		if _, err := conn.Exec(ctx, "INSERT INTO schema_version (version) VALUES (0)"); err != nil {
			return 0, fmt.Errorf("postgres: init schema_version: %w", err)
		}
	} else if err != nil {
		return 0, fmt.Errorf("postgres: read schema version: %w", err)
	}
	files, nums, err := migrationFiles()
	if err != nil {
		return 0, err
	}
	for i, f := range files {
		n := nums[i]
		if n <= version {
			continue
		}
		body, err := migrations.ReadFile(f)
		if err != nil {
			return 0, err
		}
		tx, err := conn.Begin(ctx)
		if err != nil {
			return 0, fmt.Errorf("migration %s: %w", f, err)
		}
		// The simple protocol runs a file of several statements in one round trip.
		if _, err := tx.Exec(ctx, string(body), pgx.QueryExecModeSimpleProtocol); err != nil {
			tx.Rollback(ctx)
			return 0, fmt.Errorf("migration %s: %w", f, err)
		}
		if _, err := tx.Exec(ctx, "UPDATE schema_version SET version = $1", n); err != nil {
			tx.Rollback(ctx)
			return 0, fmt.Errorf("migration %s: %w", f, err)
		}
		if err := tx.Commit(ctx); err != nil {
			return 0, fmt.Errorf("migration %s: %w", f, err)
		}
		version = n
	}
	return version, nil
}

// SchemaVersion reads the database's schema version through the read pool: a trivial read
// that also tells whether the store is reachable.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := s.rdb.QueryRowContext(ctx, "SELECT version FROM schema_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

func (s *Store) loadInstance(ctx context.Context) (string, error) {
	b := make([]byte, 6)
	rand.Read(b)
	// ON CONFLICT: two processes opening a new database at once agree on one id.
	if _, err := s.w.conn.Exec(ctx, "INSERT INTO meta (key, value) VALUES ('instance_id', $1) ON CONFLICT (key) DO NOTHING", hex.EncodeToString(b)); err != nil {
		return "", fmt.Errorf("write instance id: %w", err)
	}
	var id string
	if err := s.w.conn.QueryRow(ctx, "SELECT value FROM meta WHERE key = 'instance_id'").Scan(&id); err != nil {
		return "", fmt.Errorf("read instance id: %w", err)
	}
	return id, nil
}

// Instance returns the random id created with this database.
func (s *Store) Instance() string { return s.instance }

// Tx implements store.Store. Concurrent calls are grouped into one transaction.
func (s *Store) Tx(ctx context.Context, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	req := &txRequest{ctx: ctx, fn: fn, done: make(chan error, 1)}
	req.print, req.printed = store.FootprintOf(ctx)
	select {
	case <-s.quit:
		return ErrClosed
	default:
	}
	select {
	case s.reqs <- req:
	case <-s.quit:
		return ErrClosed
	}
	var err error
	select {
	case err = <-req.done:
	case <-s.stopped:
		select {
		case err = <-req.done:
		default:
			return ErrClosed
		}
	}
	if p, ok := err.(*fnPanic); ok {
		panic(p.value)
	}
	return err
}

// fnPanic carries a panic of a Tx fn from the writer goroutine to the caller of Tx.
type fnPanic struct{ value any }

func (p *fnPanic) Error() string { return fmt.Sprintf("panic in transaction: %v", p.value) }

func (s *Store) callFn(fn func(store.Tx) error, t *pgTx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic in transaction", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = &fnPanic{value: p}
		}
	}()
	return fn(t)
}

func (s *Store) writeLoop() {
	defer close(s.stopped)
	batch := make([]*txRequest, 0, maxBatch)
	for {
		select {
		case req := <-s.reqs:
			batch = append(batch[:0], req)
		case <-s.quit:
			for {
				batch = batch[:0]
			drain:
				for len(batch) < maxBatch {
					select {
					case req := <-s.reqs:
						batch = append(batch, req)
					default:
						break drain
					}
				}
				if len(batch) == 0 {
					return
				}
				s.runBatch(batch)
				clear(batch)
			}
		}
		runtime.Gosched() // as in package sqlite: let runnable callers queue up first
	fill:
		for len(batch) < maxBatch {
			select {
			case req := <-s.reqs:
				batch = append(batch, req)
			default:
				break fill
			}
		}
		s.runBatch(batch)
		clear(batch)
	}
}

// runBatch commits a group of Tx calls in one transaction. It first runs the group
// pipelined (writer.go) and without savepoints, as package sqlite's optimistic run does;
// when a call of a group of several fails, or a statement whose caller was told it had
// succeeded fails at a send, it runs the group again unpipelined with one savepoint per call
// (none for a group of one), so that only the failing call is undone and every statement's
// error reaches its caller as it happens. A group of one call that fails is not run again
// when nothing failed at a send: its call saw every result it asked for as the unpipelined
// run would have shown it, so its error stands.
func (s *Store) runBatch(batch []*txRequest) {
	ctx := context.Background()
	s.batches.Add(1)
	s.calls.Add(uint64(len(batch)))
	results := make([]error, len(batch))
	txs := make([]*pgTx, len(batch))
	finish := func() {
		for i, r := range batch {
			r.done <- results[i]
		}
	}
	failAll := func(err error) {
		s.w.rollback()
		for i := range results {
			if results[i] == nil {
				results[i] = err
			}
		}
		finish()
	}
	if !s.lastGroupFailed {
		if s.runPipelined(batch, results, txs, finish, failAll) {
			return
		}
		clear(results)
		clear(txs)
	}
	if err := s.begin(ctx, len(batch)); err != nil {
		failAll(fmt.Errorf("begin: %w", err))
		return
	}
	single := len(batch) == 1
	s.lastGroupFailed = false
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		if !single {
			if err := s.w.ctl("SAVEPOINT b"); err != nil {
				failAll(fmt.Errorf("savepoint: %w", err))
				return
			}
		}
		t := s.newTx()
		s.w.left = len(batch) - i
		err := s.callFn(r.fn, t)
		if err != nil {
			results[i] = err
			s.lastGroupFailed = true
			if single {
				s.w.rollback()
				finish()
				return
			}
			if rerr := s.w.ctl("ROLLBACK TO SAVEPOINT b"); rerr != nil {
				failAll(fmt.Errorf("rollback to savepoint after %v: %w", err, rerr))
				return
			}
		} else {
			txs[i] = t
		}
		if !single {
			if err := s.w.ctl("RELEASE SAVEPOINT b"); err != nil {
				failAll(fmt.Errorf("release savepoint: %w", err))
				return
			}
		}
	}
	if _, err := s.w.commit(s.channel, payloads(txs)); err != nil {
		s.commitUnknown()
		failAll(fmt.Errorf("commit: %w", err))
		return
	}
	runHooks(txs)
	finish()
}

// runPipelined runs a group pipelined and without savepoints. It returns false, with
// everything rolled back and nothing answered, when the group must run again: a call of a
// group of several failed, or a statement failed whose caller was told it had succeeded.
func (s *Store) runPipelined(batch []*txRequest, results []error, txs []*pgTx, finish func(), failAll func(error)) bool {
	w := s.w
	if !s.writerAlive() {
		if err := s.reconnect(context.Background()); err != nil {
			failAll(fmt.Errorf("begin: %w", err))
			return true
		}
	}
	s.knowWriterPID()
	w.pipe, w.failed = true, nil
	defer func() {
		w.pipe, w.failed, w.ahead = false, nil, nil
		clear(w.aheads)
	}()
	w.began(len(batch))
	// BEGIN and writeLock go out with the group's first statements. When they fail (the
	// connection is gone), the group runs again through begin, which reconnects.
	w.queue(true, "BEGIN")
	if !s.noLock {
		w.queue(true, "SELECT pg_advisory_xact_lock($1, $2)", writeLock, int32(s.schemaOID))
	}
	w.prefetchIDs(len(batch))
	w.readAhead(batch)
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		t := s.newTx()
		w.left = len(batch) - i
		w.ahead = w.aheads[i]
		err := s.callFn(r.fn, t)
		w.ahead = nil
		if err != nil {
			// The queue goes out with the ROLLBACK: a failure in it shows whether the call
			// saw what it asked for.
			rb := w.queue(false, "ROLLBACK")
			w.flush()
			if rb.err != nil {
				w.rollback()
			}
			if w.failed == nil && len(batch) == 1 {
				results[i] = err
				finish()
				return true
			}
			return false
		}
		txs[i] = t
	}
	retry, err := w.commit(s.channel, payloads(txs))
	if err != nil {
		if retry {
			w.rollback()
			return false
		}
		s.commitUnknown()
		failAll(fmt.Errorf("commit: %w", err))
		return true
	}
	runHooks(txs)
	finish()
	return true
}

// begin starts the writer's transaction, of calls calls, and takes writeLock (unpipelined).
// When the writer's connection is gone (the server restarted, or terminated the backend),
// it takes a new one first; a BEGIN that fails on a connection that looked alive is tried
// once more on a new connection, since nothing of the group has run yet.
func (s *Store) begin(ctx context.Context, calls int) error {
	s.w.began(calls)
	if !s.writerAlive() {
		if err := s.reconnect(ctx); err != nil {
			return err
		}
	}
	s.knowWriterPID()
	err := s.w.ctl(s.begin1())
	if err == nil || s.writerAlive() {
		return err
	}
	if rerr := s.reconnect(ctx); rerr != nil {
		return errors.Join(err, rerr)
	}
	return s.w.ctl(s.begin1())
}

// begin1 is the statement that begins a group transaction: BEGIN and, as the first statement
// of the transaction, writeLock.
func (s *Store) begin1() string {
	if s.noLock {
		return "BEGIN"
	}
	return s.beginSQL
}

// knowWriterPID sets writerPID again when a commit of unknown outcome cleared it (see
// commitUnknown) but the writer's connection is still open: the server answered the failed
// COMMIT round trip, so its outcome was final before commitUnknown made Listen announce it.
// A connection that failed is closed, and reconnect sets the new one's pid.
func (s *Store) knowWriterPID() {
	if s.writerPID.Load() == 0 && s.writerAlive() {
		s.writerPID.Store(s.w.conn.PgConn().PID())
	}
}

// writerAlive reports whether the writer's connection is still open, without a round trip.
func (s *Store) writerAlive() bool { return !s.w.conn.IsClosed() }

// reconnect replaces the writer's connection.
func (s *Store) reconnect(ctx context.Context) error {
	s.w.closeOpen()
	s.w.discard(errWriterClosed)
	s.w.conn.Close(ctx)
	c, err := pgx.ConnectConfig(ctx, s.w.cfg)
	if err != nil {
		return fmt.Errorf("reconnect writer: %w", err)
	}
	s.log.Warn("postgres_writer_reconnected")
	s.w.conn = c
	s.writerPID.Store(c.PgConn().PID())
	return nil
}

var errWriterClosed = errors.New("postgres: writer connection closed")

func runHooks(txs []*pgTx) {
	for _, t := range txs {
		if t == nil {
			continue
		}
		for _, h := range t.Hooks() {
			h()
		}
	}
}

// Close stops the store: the Tx calls already queued are committed and answered, later
// ones return ErrClosed; then the connections are closed. Calling Close again returns the
// first call's result.
func (s *Store) Close() error {
	s.once.Do(func() {
		close(s.quit)
		<-s.stopped
		s.closeErr = s.closeDBs()
	})
	return s.closeErr
}

func (s *Store) closeDBs() error {
	errW := s.w.conn.Close(context.Background())
	err := errors.Join(errW, s.rdb.Close())
	s.pool.Close()
	return err
}

// The queriers run statements written with SQLite's placeholders (? and ?N), which they
// rewrite to PostgreSQL's ($N); pgx caches the prepared statements per connection.

// dialect is what the shared queries (package sqlstore) need to know of PostgreSQL.
var dialect = &sqlstore.Dialect{
	IsUniqueViolation: isUniqueViolation,
	NoLimit:           nil, // LIMIT NULL
	ExecGuarded:       execGuarded,
	ExecGuardedRarely: execGuardedRarely,
	ExecOne:           execOne,
	NextEventID:       nextEventID,
}

// nextEventID is Dialect.NextEventID on the writer: an id from the block the group's
// transaction takes from the events' sequence (writer.nextID).
func nextEventID(q sqlstore.Querier) (int64, error) {
	w, ok := q.(*writer)
	if !ok {
		return 0, errors.New("an event is inserted only by the writer")
	}
	id, _, err := w.nextID(eventsSeq)
	return id, err
}

// isUniqueViolation reports whether err is PostgreSQL's unique_violation (SQLSTATE 23505).
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// execGuarded is Dialect.ExecGuarded on the writer (writer.execGuarded).
func execGuarded(_ context.Context, q sqlstore.Querier, query string, args ...any) (sql.Result, error) {
	return q.(*writer).execGuarded(rebind(query), args)
}

// execGuardedRarely is Dialect.ExecGuardedRarely on the writer (writer.execGuardedRarely).
func execGuardedRarely(_ context.Context, q sqlstore.Querier, query string, args ...any) (sql.Result, error) {
	return q.(*writer).execGuardedRarely(rebind(query), args)
}

// execOne is Dialect.ExecOne on the writer (writer.execOne).
func execOne(_ context.Context, q sqlstore.Querier, query string, args ...any) (bool, error) {
	return q.(*writer).execOne(rebind(query), args)
}

var _ store.Store = (*Store)(nil)

// dbQuerier runs on the read pool.
type dbQuerier struct{ db *sql.DB }

func (d *dbQuerier) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return d.db.ExecContext(ctx, rebind(q), args...)
}

func (d *dbQuerier) Query(ctx context.Context, q string, args ...any) (sqlstore.Rows, error) {
	return d.db.QueryContext(ctx, rebind(q), args...)
}

func (d *dbQuerier) QueryRow(ctx context.Context, q string, args ...any) sqlstore.Row {
	return d.db.QueryRowContext(ctx, rebind(q), args...)
}

// rebound caches rebind's results by query text.
var rebound sync.Map

// rebind rewrites the placeholders ? (numbered in order) and ?N of a query to $N, outside
// string literals.
func rebind(q string) string {
	if v, ok := rebound.Load(q); ok {
		return v.(string)
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n, inStr := 0, false
	for i := 0; i < len(q); i++ {
		ch := q[i]
		switch {
		case ch == '\'':
			inStr = !inStr
			b.WriteByte(ch)
		case ch == '?' && !inStr:
			j := i + 1
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			if j > i+1 {
				b.WriteByte('$')
				b.WriteString(q[i+1 : j])
				i = j - 1
			} else {
				n++
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(n))
			}
		default:
			b.WriteByte(ch)
		}
	}
	out := b.String()
	rebound.Store(q, out)
	return out
}
