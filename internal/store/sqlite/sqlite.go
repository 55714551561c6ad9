// Package sqlite is the embedded default store driver, on modernc.org/sqlite (pure Go).
//
// One goroutine owns the only write connection and groups concurrent Store.Tx calls into one
// database transaction (group commit): while a commit is in progress, new calls queue up and
// the next transaction takes all of them, each inside its own savepoint. Reads use a separate
// pool of read-only connections; in WAL mode they never wait for the writer.
package sqlite

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
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/store/sqlstore"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// Durability levels, as in config.Store.Durability.
const (
	// DurabilityProcess commits with synchronous=NORMAL in WAL mode: a commit survives the
	// roomd process being killed (kill -9), but the last commits may be lost on power loss.
	DurabilityProcess = "process"
	// DurabilityPower commits with synchronous=FULL: every commit is fsynced and survives
	// power loss, at a higher cost per group commit.
	DurabilityPower = "power"
)

// maxBatch bounds how many Tx calls share one database transaction.
const maxBatch = 512

// ErrClosed is returned by Tx after Close.
var ErrClosed = errors.New("sqlite: store closed")

// Options configure Open.
type Options struct {
	// Path is the database file; its directory is created if missing.
	Path string
	// Durability is DurabilityProcess (default) or DurabilityPower.
	Durability string
	Logger     *slog.Logger
}

// Store is the SQLite implementation of store.Store.
type Store struct {
	sqlstore.Reader
	rdb *sql.DB
	// wq is the writer's connection (writer.go).
	wq       *connQuerier
	reqs     chan *txRequest
	quit     chan struct{}
	stopped  chan struct{}
	once     sync.Once
	closeErr error // of the first Close
	instance string
	log      *slog.Logger

	// batches and calls count group commits and the Tx calls they carried (GroupStats).
	batches, calls atomic.Uint64
	// ckpt checkpoints the WAL off the writer goroutine (checkpoint.go).
	ckpt *checkpointer
	// lastGroupFailed is set when a call of the last group failed; only the writer
	// goroutine touches it (see runOptimistic).
	lastGroupFailed bool
	// lazyWait is how long lazy calls wait for company, and companyCalls how many eager
	// calls make company (writeLoop); a test may change them before its first Tx.
	lazyWait     time.Duration
	companyCalls int
}

// GroupStats returns how many database transactions the writer has committed or rolled
// back and how many Tx calls they carried; calls/batches is the mean group size, which
// roomd bench reports.
func (s *Store) GroupStats() (batches, calls uint64) {
	return s.batches.Load(), s.calls.Load()
}

type txRequest struct {
	ctx  context.Context
	fn   func(store.Tx) error
	done chan error
	// lazy is store.LazyCommit(ctx): the call may wait for company (writeLoop).
	lazy bool
}

// lazyWait is the longest a group of lazy calls waits for another call to share its
// commit (store.WithLazyCommit).
const lazyWait = time.Millisecond

// companyCalls is how many eager calls the last group must have carried for lazy calls to
// wait for the next: a group of several means callers are queueing, and the next call is a
// fraction of a millisecond away. At a moderate rate (one eager call per group) a wait
// would mostly end on its timer, and each timer and the wake-up after it cost more than the
// commit it might save: at 1,000 owner changes/s, waiting after any eager call raised roomd's
// CPU per change by 14 % and the p99 reply → callback from 0.33 to 0.5 ms.
const companyCalls = 4

func dsn(path, durability string) string {
	sync := "NORMAL"
	if durability == DurabilityPower {
		sync = "FULL"
	}
	return path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(" + sync + ")"
}

// Open opens (creating if needed) the database at o.Path, applies pending migrations and
// starts the writer.
func Open(ctx context.Context, o Options) (*Store, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Durability == "" {
		o.Durability = DurabilityProcess
	}
	if o.Durability != DurabilityProcess && o.Durability != DurabilityPower {
		return nil, fmt.Errorf("sqlite: unknown durability %q", o.Durability)
	}
	if err := os.MkdirAll(filepath.Dir(o.Path), 0o755); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	// A commit's WAL frames are written with one pwrite (walwrite_linux.go); without the
	// hooks SQLite writes them itself, as safely.
	if err := installWALHooks(); err != nil {
		o.Logger.Warn("sqlite: WAL frames are written one pwrite per header and page", "err", err)
	}
	if _, err := Migrate(ctx, o.Path); err != nil {
		return nil, err
	}
	// The writer never checkpoints by itself: the checkpointer does (see checkpoint.go).
	// Its statement journals (the undo of one multi-row statement, such as the dispatcher's
	// INSERT of a group of attempts) stay in memory (temp_store 2) instead of in a temporary
	// file, whose writes were a third of that INSERT's cost; they are never part of what a
	// commit makes durable.
	wq, err := openWriter(dsn(o.Path, o.Durability) + "&_pragma=wal_autocheckpoint(0)&_pragma=temp_store(2)")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", o.Path, err)
	}
	rdb, err := sql.Open("sqlite", dsn(o.Path, o.Durability)+"&_pragma=query_only(1)")
	if err != nil {
		wq.close()
		return nil, fmt.Errorf("open %s: %w", o.Path, err)
	}
	rdb.SetMaxOpenConns(8)
	rdb.SetMaxIdleConns(8)
	s := &Store{
		rdb:     rdb,
		wq:      wq,
		reqs:    make(chan *txRequest, 4096),
		quit:    make(chan struct{}),
		stopped: make(chan struct{}),
		log:     o.Logger,

		lazyWait:     lazyWait,
		companyCalls: companyCalls,
	}
	s.Reader = sqlstore.NewReader(&dbQuerier{db: rdb}, dialect)
	if s.instance, err = s.loadInstance(ctx); err != nil {
		s.closeDBs()
		return nil, err
	}
	if s.ckpt, err = startCheckpointer(o.Path, o.Durability, o.Logger); err != nil {
		s.closeDBs()
		return nil, err
	}
	go s.writeLoop()
	return s, nil
}

// Migrate applies the embedded migrations that the database at path has not seen yet and
// returns the schema version it ends at.
func Migrate(ctx context.Context, path string) (int, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return 0, fmt.Errorf("create data directory: %w", err)
	}
	db, err := sql.Open("sqlite", dsn(path, DurabilityPower))
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var version int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return 0, fmt.Errorf("read schema version of %s: %w", path, err)
	}
	if version == 0 {
		if err := initAutoVacuum(ctx, db); err != nil {
			return 0, fmt.Errorf("migrate %s: %w", path, err)
		}
	}
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return 0, err
	}
	sort.Strings(files)
	for _, f := range files {
		n, err := strconv.Atoi(strings.SplitN(filepath.Base(f), "_", 2)[0])
		if err != nil {
			return 0, fmt.Errorf("migration %s: bad name", f)
		}
		if n <= version {
			continue
		}
		body, err := migrations.ReadFile(f)
		if err != nil {
			return 0, err
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return 0, fmt.Errorf("migration %s: %w", f, err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return 0, fmt.Errorf("migration %s: %w", f, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", n)); err != nil {
			tx.Rollback()
			return 0, fmt.Errorf("migration %s: %w", f, err)
		}
		if err := tx.Commit(); err != nil {
			return 0, fmt.Errorf("migration %s: %w", f, err)
		}
		version = n
	}
	return version, nil
}

func (s *Store) loadInstance(ctx context.Context) (string, error) {
	var id string
	err := s.wq.QueryRow(ctx, "SELECT value FROM meta WHERE key = 'instance_id'").Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("read instance id: %w", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	id = hex.EncodeToString(b)
	if _, err := s.wq.Exec(ctx, "INSERT INTO meta (key, value) VALUES ('instance_id', ?)", id); err != nil {
		return "", fmt.Errorf("write instance id: %w", err)
	}
	return id, nil
}

// Instance returns the random id created with this database; it keeps event ids of two
// databases apart in webhook-id headers.
func (s *Store) Instance() string { return s.instance }

// Tx implements store.Store. Concurrent calls are grouped into one transaction.
func (s *Store) Tx(ctx context.Context, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	req := &txRequest{ctx: ctx, fn: fn, done: make(chan error, 1), lazy: store.LazyCommit(ctx)}
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
		// The writer has stopped. It answers every request it took before it stops, so an
		// empty done means req reached the queue after the writer's last look at it.
		select {
		case err = <-req.done:
		default:
			return ErrClosed
		}
	}
	if p, ok := err.(*fnPanic); ok {
		panic(p.value) // on the caller's goroutine, where it can be recovered
	}
	return err
}

// fnPanic carries a panic of a Tx fn from the writer goroutine to the caller of Tx.
type fnPanic struct{ value any }

func (p *fnPanic) Error() string { return fmt.Sprintf("panic in transaction: %v", p.value) }

// callFn runs fn, turning a panic into a *fnPanic so that the writer survives it and the
// batch's other calls still commit.
func (s *Store) callFn(fn func(store.Tx) error, t *sqlstore.Tx) (err error) {
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
	// company is set while eager (not lazy) calls are arriving in numbers: the last group
	// had at least companyCalls of them.
	company := false
	wait := time.NewTimer(time.Hour)
	wait.Stop()
	for {
		select {
		case req := <-s.reqs:
			batch = append(batch[:0], req)
		case <-s.quit:
			// Close: commit the calls already queued, as Close promises; Tx admits no new
			// ones. A call that slips into the queue after the last look here is answered
			// with ErrClosed by Tx itself, once it sees the writer stopped.
			for {
				batch = batch[:0]
				s.fill(&batch)
				if len(batch) == 0 {
					return
				}
				s.runBatch(batch)
				clear(batch)
			}
		}
		// Let the callers that are already runnable queue their calls before the batch is
		// cut. A Tx call that finds the writer idle hands it the request directly and makes
		// it the next goroutine to run on that P, ahead of the callers the previous commit
		// woke up; without this yield most batches held one or two calls (measured: 5.5 calls
		// per commit with 64 concurrent callers on 2 CPUs). Gosched returns at once when
		// nothing else is runnable, so an idle server adds no latency.
		runtime.Gosched()
		s.fill(&batch)
		if company && eagerCalls(batch) == 0 {
			// Only lazy calls (the dispatcher's attempt records, arriving while the
			// callers are between calls), and eager calls have been queueing: wait a
			// little for the next eager one to share the commit. A group of lazy calls
			// alone cost a COMMIT and a second copy of the pages both touch (the events'
			// and attempts' last pages): about a third of the commits under a steady
			// load. Without queueing eager calls (a backlog being drained, a moderate
			// rate) nothing waits.
			wait.Reset(s.lazyWait)
			select {
			case req := <-s.reqs:
				wait.Stop()
				batch = append(batch, req)
				runtime.Gosched() // as above
				s.fill(&batch)
			case <-wait.C:
			case <-s.quit: // commit what is here; the next turn drains the queue
				wait.Stop()
			}
		}
		company = eagerCalls(batch) >= s.companyCalls
		s.runBatch(batch)
		clear(batch)
	}
}

// fill adds the calls waiting in the queue to batch, up to maxBatch.
func (s *Store) fill(batch *[]*txRequest) {
	for len(*batch) < maxBatch {
		select {
		case req := <-s.reqs:
			*batch = append(*batch, req)
		default:
			return
		}
	}
}

// eagerCalls counts the calls of batch that are not lazy.
func eagerCalls(batch []*txRequest) int {
	n := 0
	for _, r := range batch {
		if !r.lazy {
			n++
		}
	}
	return n
}

// runBatch commits a group of Tx calls in one transaction. Each call runs in a savepoint
// unless it is alone; a failing call is rolled back to its savepoint and the rest commit.
func (s *Store) runBatch(batch []*txRequest) {
	ctx := context.Background()
	s.batches.Add(1)
	s.calls.Add(uint64(len(batch)))
	results := make([]error, len(batch))
	txs := make([]*sqlstore.Tx, len(batch))
	finish := func() {
		for i, r := range batch {
			r.done <- results[i]
		}
	}
	failAll := func(err error) {
		s.wq.ctl(ctx, "ROLLBACK")
		for i := range results {
			if results[i] == nil {
				results[i] = err
			}
		}
		finish()
	}
	if len(batch) > 1 && !s.lastGroupFailed {
		if s.runOptimistic(batch, results, txs, finish, failAll) {
			return
		}
		clear(results)
		clear(txs)
	}
	if _, err := s.wq.ctl(ctx, "BEGIN IMMEDIATE"); err != nil {
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
			if _, err := s.wq.ctl(ctx, "SAVEPOINT b"); err != nil {
				failAll(fmt.Errorf("savepoint: %w", err))
				return
			}
		}
		t := sqlstore.NewTx(s.wq, dialect)
		err := s.callFn(r.fn, t)
		if err != nil {
			results[i] = err
			s.lastGroupFailed = true
			if single {
				s.wq.ctl(ctx, "ROLLBACK")
				finish()
				return
			}
			if _, rerr := s.wq.ctl(ctx, "ROLLBACK TO b"); rerr != nil {
				failAll(fmt.Errorf("rollback to savepoint after %v: %w", err, rerr))
				return
			}
		} else {
			txs[i] = t
		}
		if !single {
			if _, err := s.wq.ctl(ctx, "RELEASE b"); err != nil {
				failAll(fmt.Errorf("release savepoint: %w", err))
				return
			}
		}
	}
	if _, err := s.wq.ctl(ctx, "COMMIT"); err != nil {
		failAll(fmt.Errorf("commit: %w", err))
		return
	}
	walFull := s.ckpt.committed()
	for _, t := range txs {
		if t == nil {
			continue
		}
		for _, h := range t.Hooks() {
			h()
		}
	}
	finish()
	if walFull {
		// After the callers have their answers: the checkpoint is not part of their commit.
		s.checkpointInline(ctx)
	}
}

// runOptimistic commits a group without savepoints: most groups have no failing call, and
// the two savepoint statements per call were a fifth of the writer's statements. It runs
// the calls in one transaction and, if every one succeeds, commits, runs the hooks and
// answers the callers (it returns true). At the first failing call it rolls everything back
// and returns false with nothing answered; runBatch then runs the group again with a
// savepoint per call, which is safe because a Tx fn does database work only. After a group
// with a failing call the next group takes the savepoint path directly, so a workload with
// many failures does not pay twice.
func (s *Store) runOptimistic(batch []*txRequest, results []error, txs []*sqlstore.Tx, finish func(), failAll func(error)) bool {
	ctx := context.Background()
	if _, err := s.wq.ctl(ctx, "BEGIN IMMEDIATE"); err != nil {
		failAll(fmt.Errorf("begin: %w", err))
		return true
	}
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		t := sqlstore.NewTx(s.wq, dialect)
		if err := s.callFn(r.fn, t); err != nil {
			s.wq.ctl(ctx, "ROLLBACK")
			return false
		}
		txs[i] = t
	}
	if _, err := s.wq.ctl(ctx, "COMMIT"); err != nil {
		failAll(fmt.Errorf("commit: %w", err))
		return true
	}
	walFull := s.ckpt.committed()
	for _, t := range txs {
		if t != nil {
			for _, h := range t.Hooks() {
				h()
			}
		}
	}
	finish()
	if walFull {
		s.checkpointInline(ctx)
	}
	return true
}

// Close stops the store. The Tx calls already queued for the writer are committed (or
// rolled back, as their fns decide) and answered as usual; Tx calls made after Close
// return ErrClosed. Then the writer and the checkpointer stop and the database is closed.
// Calling Close again returns the first call's result.
func (s *Store) Close() error {
	s.once.Do(func() {
		close(s.quit)
		<-s.stopped
		s.closeErr = s.closeDBs()
	})
	return s.closeErr
}

func (s *Store) closeDBs() error {
	errC := s.ckpt.stop()
	errW := s.wq.close()
	return errors.Join(errC, errW, s.Reader.Querier().(*dbQuerier).close(), s.rdb.Close())
}

// dialect is what the shared queries (package sqlstore) need to know of SQLite. The
// queriers run statements caching prepared statements by query text.
var dialect = &sqlstore.Dialect{
	IsUniqueViolation: isUniqueViolation,
	NoLimit:           -1, // LIMIT -1
	LastInsertID:      true,
}

func isUniqueViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

var _ store.Store = (*Store)(nil)

// dbQuerier runs on the read pool; prepared statements are shared by all goroutines.
type dbQuerier struct {
	db    *sql.DB
	stmts sync.Map // query text -> *sql.Stmt
}

func (d *dbQuerier) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := d.stmts.Load(q); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := d.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if prev, loaded := d.stmts.LoadOrStore(q, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

func (d *dbQuerier) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st, err := d.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (d *dbQuerier) Query(ctx context.Context, q string, args ...any) (sqlstore.Rows, error) {
	st, err := d.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (d *dbQuerier) QueryRow(ctx context.Context, q string, args ...any) sqlstore.Row {
	st, err := d.stmt(ctx, q)
	if err != nil {
		return d.db.QueryRowContext(ctx, q, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

func (d *dbQuerier) close() error {
	d.stmts.Range(func(_, v any) bool {
		v.(*sql.Stmt).Close()
		return true
	})
	return nil
}
