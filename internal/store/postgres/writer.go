package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/store/sqlstore"
)

// writer is the store's only write connection, a native *pgx.Conn (no database/sql), and the
// sqlstore.Querier of every Tx call; only the writer goroutine uses it.
//
// # Pipelining
//
// A statement costs one round trip to the server when it runs alone, and the writer runs one
// group at a time, so round trips bound both the writer's CPU and its throughput. In
// pipelined mode (pipe), the writer therefore sends nothing until a result is needed:
//
//   - Exec queues its statement and returns at once, with a nil error and a sql.Result whose
//     RowsAffected sends the queue first when the count is not known yet.
//   - Query and QueryRow send the queue followed by their own statement in one round trip
//     (a pgx batch: one pipeline, one Sync).
//   - The group's BEGIN and write lock are queued with its first statement, and its NOTIFYs
//     and COMMIT go out with its last ones.
//
// An Exec that fails at the send has already told its caller that it succeeded, and the
// transaction is aborted: the writer records it (failed), and the group does not commit but
// is run again from the start without pipelining (runBatch), where every statement's error
// reaches its caller as it happens. A call that fails while nothing failed at a send saw
// every result it asked for exactly as the unpipelined run would have shown it, so its error
// stands. A send that fails for another reason than a statement's error (the connection
// died) fails every statement in it; that is handled as the unpipelined writer handles a
// lost connection, except at COMMIT (Store.commit).
//
// The arguments of a queued statement are encoded when it is sent: a caller must not change
// a slice it passed to Exec afterwards (the queries never do).
type writer struct {
	cfg  *pgx.ConnConfig
	conn *pgx.Conn
	// sendBuf is the buffer each batch is encoded into (cfg's frontend is its).
	sendBuf *sendBuffer
	// pipe is set while a group runs pipelined.
	pipe bool
	// batch holds the statements not sent yet and queued their results, in order.
	batch  *pgx.Batch
	queued []*execResult
	// failed is the error of a queued statement whose caller was told it succeeded, found
	// at a send since pipe was last set: the group must not commit.
	failed error
	// open is what a caller still reads the rows of (a batch or a query); the writer
	// closes it before its next statement.
	open interface{ Close() error }

	// ids are, per sequence, the ids taken in the current transaction and not used yet,
	// in order, and now is the transaction's now(); left is how many calls of the group
	// have not run yet, the current one included (what the next block of ids is for).
	// used is, per sequence, how many ids the current transaction used, and usedBefore
	// how many the previous one did; calls and callsBefore are their numbers of calls
	// (nextID, blockSizes).
	ids                map[string][]int64
	now                time.Time
	left               int
	used, usedBefore   map[string]int
	calls, callsBefore int
	// prefetch is the block of ids queued at the start of the group (prefetchIDs), and
	// blocksTaken counts the blocks taken when a sequence's ids ran out (takeIDs).
	prefetch    *execResult
	blocksTaken int
	// lastEvent is the id of the event that committed last before the transaction's next
	// event insert, 0 while unknown: the database's last event, as the transaction's first
	// block of event ids read it under the write lock, then the transaction's own last
	// event (store.Event.After).
	lastEvent int64

	// aheads are the reads sent ahead for a pipelined group's calls, by the call's index
	// in the group, nil for a call without one (readAhead); ahead is the running call's,
	// until the call reads it or writes; aheadHits counts the reads it answered.
	aheads     []*aheadRead
	ahead      *aheadRead
	aheadHits  int
	aheadRooms map[aheadRoom]bool
}

// The sequences the writer takes blocks of ids from, in the order nextID takes them.
const (
	eventsSeq     = "events_id_seq"
	broadcastsSeq = "broadcasts_id_seq"
)

var idSequences = [...]string{eventsSeq, broadcastsSeq}

// began starts what the writer knows of a transaction of calls calls, and forgets the
// previous one's, but how many ids of each sequence it used for how many calls.
func (w *writer) began(calls int) {
	if w.ids == nil {
		w.ids, w.used, w.usedBefore = map[string][]int64{}, map[string]int{}, map[string]int{}
	}
	for _, seq := range idSequences {
		w.ids[seq] = w.ids[seq][:0]
		w.usedBefore[seq], w.used[seq] = w.used[seq], 0
	}
	w.callsBefore, w.calls = w.calls, calls
	w.prefetch = nil
	w.lastEvent = 0
}

// nextID returns the next id of the sequence seq for the transaction, and its now(),
// taking a block of ids for the w.left calls still to run when none is left (blockSizes).
// The block is taken in the group's transaction, under the write lock, so its ids are in
// commit order across nodes as the sequence's own defaults would be; the ids a group does
// not use, or takes in a transaction that rolls back, are never used (a sequence has gaps
// anyway).
//
// The block costs one round trip, which carries the statements queued before it. The
// same round trip takes a block of every other sequence that the previous transaction
// took ids of and this one has none of yet: a group of room changes inserts events and
// broadcasts both, and this spares it the second round trip (the ids of a block taken
// for nothing are a gap).
func (w *writer) nextID(seq string) (int64, time.Time, error) {
	if w.ids == nil {
		w.began(0)
	}
	if w.prefetch != nil && !w.prefetch.done {
		w.flush() // a failure of the block fails the group, as any queued statement's does
	}
	if len(w.ids[seq]) == 0 {
		if err := w.takeIDs(seq); err != nil {
			return 0, time.Time{}, err
		}
	}
	ids := w.ids[seq]
	w.used[seq]++
	w.ids[seq] = ids[1:]
	return ids[0], w.now, nil
}

// takeIDs takes a block of ids of seq, and of the other sequences nextID takes along.
func (w *writer) takeIDs(seq string) error {
	var take []string
	for _, other := range idSequences {
		if other == seq || (w.usedBefore[other] > 0 && len(w.ids[other]) == 0) {
			take = append(take, other)
		}
	}
	w.blocksTaken++
	rows, err := w.Query(bg, idBlockQuery(take), w.blockSizes(take, w.left)...)
	if err != nil {
		return err
	}
	err = w.readIDs(take, rows)
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if err == nil && len(w.ids[seq]) == 0 {
		err = errors.New("no id")
	}
	if err != nil {
		w.dropIDs(take)
	}
	return err
}

// prefetchIDs queues, after a pipelined group's BEGIN and lock, a block of ids of every
// sequence the previous transaction took ids of, for n calls: the block then comes back
// with the group's first round trip rather than costing one of its own when the first
// call inserts an event (nextID waits for it). Its ids are a gap if no call uses them.
func (w *writer) prefetchIDs(n int) {
	var take []string
	for _, seq := range idSequences {
		if w.usedBefore[seq] > 0 {
			take = append(take, seq)
		}
	}
	if len(take) == 0 {
		return
	}
	w.prefetch = w.queue(true, idBlockQuery(take), w.blockSizes(take, n)...)
	w.prefetch.read = func(rows pgx.Rows) error { return w.readIDs(take, rows) }
}

// aheadRead is a call's first read, sent ahead of the call (readAhead).
type aheadRead struct {
	first store.FirstRead
	q     string // with PostgreSQL's placeholders
	args  []any
	res   *execResult
	rows  aheadRows
}

// readAhead queues, after a pipelined group's BEGIN and lock, the first read of each call
// whose footprint names one (sqlstore.ReadAhead), when every call before it in the group
// has a footprint and none names its room: the read then sees what it would have seen in
// the call's turn (store.Footprint), and it comes back with the group's first round trip
// instead of costing the call one of its own. A read that fails fails the group, which
// runs again unpipelined, without reads ahead.
func (w *writer) readAhead(batch []*txRequest) {
	w.aheads = w.aheads[:0]
	if w.aheadRooms == nil {
		w.aheadRooms = map[aheadRoom]bool{}
	}
	clear(w.aheadRooms)
	clean := true // every call so far has a footprint; aheadRooms holds the rooms they name
	for _, r := range batch {
		var a *aheadRead
		clean = clean && r.printed
		if q, args, ok := sqlstore.ReadAhead(r.print); ok && clean && !w.aheadRooms[aheadRoom{r.print.App, r.print.RoomID}] {
			a = &aheadRead{first: r.print.First, q: rebind(q), args: args}
			a.res = w.queue(true, a.q, args...)
			a.res.read = a.rows.fill
		}
		w.aheads = append(w.aheads, a)
		if clean && r.print.RoomID != "" {
			w.aheadRooms[aheadRoom{r.print.App, r.print.RoomID}] = true
		}
	}
}

// aheadRoom is the room a footprint names.
type aheadRoom struct {
	app  uint64
	room string
}

// readAheadRows answers a call's Query with the rows of its read sent ahead, after the
// round trip that carries it.
func (w *writer) readAheadRows(a *aheadRead) (sqlstore.Rows, error) {
	if !a.res.done {
		w.flush()
	}
	if a.res.err != nil {
		return nil, a.res.err
	}
	w.aheadHits++
	return &a.rows, nil
}

// sameArgs reports whether a and b are the same arguments, of the types a read sent ahead
// has (integers and strings).
func sameArgs(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		switch x := a[i].(type) {
		case int64:
			if y, ok := b[i].(int64); !ok || x != y {
				return false
			}
		case string:
			if y, ok := b[i].(string); !ok || x != y {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// aheadRows holds the rows of a read sent ahead, read at the send, as the sqlstore.Rows of
// the call's Query.
type aheadRows struct {
	typeMap *pgtype.Map
	fields  []pgconn.FieldDescription
	rows    [][][]byte
	next    int
}

// fill reads rows into r, copying each row's raw values.
func (r *aheadRows) fill(rows pgx.Rows) error {
	r.typeMap = rows.Conn().TypeMap()
	for rows.Next() {
		if r.fields == nil {
			r.fields = slices.Clone(rows.FieldDescriptions())
		}
		raw := rows.RawValues()
		n := 0
		for _, v := range raw {
			n += len(v)
		}
		buf := make([]byte, 0, n)
		row := make([][]byte, len(raw))
		for i, v := range raw {
			if v != nil { // NULL stays nil
				buf = append(buf, v...)
				row[i] = buf[len(buf)-len(v) : len(buf) : len(buf)]
			}
		}
		r.rows = append(r.rows, row)
	}
	return rows.Err()
}

func (r *aheadRows) Next() bool {
	if r.next >= len(r.rows) {
		return false
	}
	r.next++
	return true
}

func (r *aheadRows) Scan(dest ...any) error {
	if r.next == 0 || r.next > len(r.rows) {
		return errors.New("postgres: Scan without a row")
	}
	return pgx.ScanRow(r.typeMap, r.fields, r.rows[r.next-1], dest...)
}

func (r *aheadRows) Err() error   { return nil }
func (r *aheadRows) Close() error { r.next = len(r.rows); return nil }

// idBlockQuery is the statement that takes a block of ids of each of seqs (its arguments
// are the blocks' sizes, in the same order), with the transaction's now() and the last
// event's id (0 when there is none): a row per id of the largest block, NULL where a
// smaller block has none. The last event's id is an uncorrelated subquery, which
// PostgreSQL evaluates once (an InitPlan), one step back along the primary key; under
// the write lock it is the event that committed last (store.Event.After).
//
// The number of rows is a scalar subquery, not an expression of the arguments, so that
// PostgreSQL plans the statement once: with the arguments' values in view it would
// estimate the series' rows exactly in each custom plan, find the generic plan (which
// assumes 1,000 rows) dearer, and plan every run anew, which cost 110–190 µs of the
// server's CPU per block under load (docs/bench.md, issue 13, twelfth session).
func idBlockQuery(seqs []string) string {
	q, most := `SELECT `, `GREATEST(`
	for i, seq := range seqs {
		q += fmt.Sprintf(`CASE WHEN g <= $%d THEN nextval('%s') END, `, i+1, seq)
		most += fmt.Sprintf(`$%d::int, `, i+1)
	}
	return q + `now(), (SELECT COALESCE(max(id), 0) FROM events) FROM generate_series(1, (SELECT ` + most[:len(most)-2] + `))) g`
}

// maxIDsPerCall bounds the ids of one sequence a block takes per call, so that one call
// that used many (a large publish) does not make the next groups take many more than
// they use.
const maxIDsPerCall = 8

// blockSizes returns the sizes of the blocks of seqs to take for calls calls of a group:
// per call, as many ids as the previous transaction used per call (up to maxIDsPerCall),
// and at least one. A group of client owner changes inserts several broadcasts per call:
// a block of one per call would run out halfway and cost a round trip of its own. A block
// taken because one ran out holds at least as many as the transaction used so far, so a
// call that uses many ids takes a number of blocks that grows with the log of that.
func (w *writer) blockSizes(seqs []string, calls int) []any {
	calls = max(calls, 1)
	sizes := make([]any, len(seqs))
	for i, seq := range seqs {
		perCall := 1
		if w.callsBefore > 0 {
			perCall = min(max((w.usedBefore[seq]+w.callsBefore-1)/w.callsBefore, 1), maxIDsPerCall)
		}
		sizes[i] = int64(min(max(min(calls, maxBatch)*perCall, w.used[seq]), maxBatch*maxIDsPerCall))
	}
	return sizes
}

// readIDs adds the ids of seqs that rows of idBlockQuery carry to w.ids, in order, and
// sets w.now, and w.lastEvent while the transaction has inserted no event; after an error
// it forgets the ids of seqs.
func (w *writer) readIDs(seqs []string, rows interface {
	Next() bool
	Scan(...any) error
}) error {
	got := make([]pgtype.Int8, len(seqs))
	dest := make([]any, len(seqs)+2)
	for i := range got {
		dest[i] = &got[i]
	}
	var last int64
	dest[len(seqs)], dest[len(seqs)+1] = &w.now, &last
	if w.used[eventsSeq] == 0 {
		defer func() { w.lastEvent = last }()
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			w.dropIDs(seqs)
			return err
		}
		for i, seq := range seqs {
			if got[i].Valid {
				w.ids[seq] = append(w.ids[seq], got[i].Int64)
			}
		}
	}
	for _, seq := range seqs {
		slices.Sort(w.ids[seq])
	}
	return nil
}

// dropIDs forgets the ids of seqs that a failed block may have left.
func (w *writer) dropIDs(seqs []string) {
	for _, seq := range seqs {
		w.ids[seq] = w.ids[seq][:0]
	}
}

var _ sqlstore.Querier = (*writer)(nil)

// The writer's statements run without the caller's cancellation: pgx answers a context that
// ends during a statement by interrupting it, which may cost the connection and with it the
// other calls of the group; and a pipelined send carries the statements of several calls. A
// Tx fn does short database work only, so it runs to its end; a call whose context ended
// before it ran is not run at all (runBatch).
var bg = context.Background()

// execResult is the sql.Result of a statement the writer ran or queued; ctl statements of
// the writer's own (BEGIN, the lock, NOTIFY, COMMIT) have one too.
type execResult struct {
	w    *writer
	tag  pgconn.CommandTag
	err  error
	done bool
	// deferred is set when the statement's caller was told it succeeded before it was
	// sent (Exec in pipelined mode, the writer's own queued statements).
	deferred bool
	// read, when set, reads the statement's rows at the send (a queued query).
	read func(pgx.Rows) error
}

func (r *execResult) LastInsertId() (int64, error) {
	return 0, errors.New("postgres: LastInsertId is not supported")
}

// RowsAffected sends the writer's queue when the statement has not been sent yet.
func (r *execResult) RowsAffected() (int64, error) {
	if !r.done {
		r.w.flush()
	}
	if r.err != nil {
		return 0, r.err
	}
	return r.tag.RowsAffected(), nil
}

// queue adds a statement to the batch to send. A statement queued while a call runs is
// one of its writes: the call's read ahead no longer shows what it would read.
func (w *writer) queue(deferred bool, q string, args ...any) *execResult {
	w.ahead = nil
	if w.batch == nil {
		w.batch = &pgx.Batch{}
	}
	w.batch.Queue(q, args...)
	r := &execResult{w: w, deferred: deferred}
	w.queued = append(w.queued, r)
	return r
}

// closeOpen closes the rows a caller left open.
func (w *writer) closeOpen() {
	if w.open != nil {
		o := w.open
		w.open = nil
		o.Close()
	}
}

// discard drops the statements not sent yet; their results report err.
func (w *writer) discard(err error) {
	for _, r := range w.queued {
		r.err, r.done = err, true
	}
	w.queued = w.queued[:0]
	w.batch = nil
}

// send sends the queued statements in one round trip and reads their results, recording in
// failed a failure that a caller was not told of. It returns the batch's results still
// open, positioned after the queued statements, when the batch carries more statements than
// were queued (a query the caller reads next); the caller then closes them. first is the
// first queued statement that failed, with its error.
func (w *writer) send() (br pgx.BatchResults, first *execResult, err error) {
	w.closeOpen()
	b, queued := w.batch, w.queued
	w.batch, w.queued = nil, nil
	if b == nil || len(b.QueuedQueries) == 0 {
		return nil, nil, nil
	}
	w.sendBuf.lend(w.conn.PgConn().Frontend())
	br = w.conn.SendBatch(bg, b)
	for _, r := range queued {
		if r.read != nil {
			r.err = readQueued(br, r.read)
		} else {
			r.tag, r.err = br.Exec()
		}
		r.done = true
		if r.err != nil && first == nil {
			first, err = r, r.err
		}
	}
	if first != nil && first.deferred && w.pipe && w.failed == nil {
		w.failed = first.err
	}
	if len(b.QueuedQueries) == len(queued) || err != nil {
		cerr := br.Close()
		if err == nil {
			err = cerr
		}
		return nil, first, err
	}
	return br, nil, nil
}

// readQueued reads the rows of a queued query with read.
func readQueued(br pgx.BatchResults, read func(pgx.Rows) error) error {
	rows, err := br.Query()
	if err == nil {
		err = read(rows)
	}
	rows.Close()
	if err == nil {
		err = rows.Err()
	}
	return err
}

// flush sends the queued statements, if any.
func (w *writer) flush() error {
	_, _, err := w.send()
	return err
}

// ctl runs one of the writer's own statements (without arguments; several may be separated
// by semicolons) at once, after the queue.
func (w *writer) ctl(q string) error {
	if err := w.flush(); err != nil {
		return err
	}
	_, err := w.conn.Exec(bg, q)
	return err
}

// queueDeferred queues a statement of a pipelined group whose caller is told at once that
// it succeeded (Exec's pipelined path); after a failure found at a send, it returns that
// failure instead: the group will not commit.
func (w *writer) queueDeferred(q string, args []any) (sql.Result, error) {
	if w.failed != nil {
		return nil, w.failed
	}
	return w.queue(true, q, args...), nil
}

// rollback drops the queue and rolls the transaction back.
func (w *writer) rollback() {
	w.closeOpen()
	w.discard(errors.New("postgres: group rolled back"))
	if !w.conn.IsClosed() {
		w.conn.Exec(bg, "ROLLBACK")
	}
}

func (w *writer) Exec(_ context.Context, q string, args ...any) (sql.Result, error) {
	q = rebind(q)
	if w.pipe {
		return w.queueDeferred(q, args)
	}
	w.closeOpen()
	if len(w.queued) == 0 {
		tag, err := w.conn.Exec(bg, q, args...)
		if err != nil {
			return nil, err
		}
		return &execResult{w: w, tag: tag, done: true}, nil
	}
	r := w.queue(false, q, args...)
	w.flush()
	if r.err != nil {
		return nil, r.err
	}
	return r, nil
}

func (w *writer) Query(_ context.Context, q string, args ...any) (sqlstore.Rows, error) {
	q = rebind(q)
	if w.pipe && w.failed != nil {
		return nil, w.failed
	}
	if a := w.ahead; a != nil && a.q == q && sameArgs(a.args, args) {
		w.ahead = nil
		return w.readAheadRows(a)
	}
	w.closeOpen()
	if len(w.queued) == 0 {
		rows, err := w.conn.Query(bg, q, args...)
		if err != nil {
			return nil, err
		}
		pr := &pgRows{Rows: rows, w: w}
		w.open = pr
		return pr, nil
	}
	if w.batch == nil {
		w.batch = &pgx.Batch{}
	}
	w.batch.Queue(q, args...)
	br, _, err := w.send()
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		br.Close()
		return nil, err
	}
	pr := &pgRows{Rows: rows, w: w, br: br}
	w.open = pr
	return pr, nil
}

func (w *writer) QueryRow(ctx context.Context, q string, args ...any) sqlstore.Row {
	rows, err := w.Query(ctx, q, args...)
	if err != nil {
		return errRow{err}
	}
	return pgRow{rows}
}

// pgRows is the sqlstore.Rows of a query on the writer; closing it closes the batch the
// query came in.
type pgRows struct {
	pgx.Rows
	w  *writer
	br pgx.BatchResults
}

func (r *pgRows) Close() error {
	r.Rows.Close()
	err := r.Rows.Err()
	if r.br != nil {
		if cerr := r.br.Close(); err == nil {
			err = cerr
		}
		r.br = nil
	}
	if r.w.open == r {
		r.w.open = nil
	}
	return err
}

// pgRow is the sqlstore.Row of QueryRow, as *sql.Row: no row is pgx.ErrNoRows, which
// matches sql.ErrNoRows.
type pgRow struct{ rows sqlstore.Rows }

func (r pgRow) Scan(dest ...any) error {
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	return r.rows.Close()
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// execGuarded runs a statement that may fail with a unique violation inside a savepoint of
// its own: in PostgreSQL a failed statement aborts the whole transaction, and the store
// contract keeps the transaction usable after an ErrConflict. The savepoint, the statement
// and the release go out with the writer's queue in one round trip; after a failure the
// rollback to the savepoint runs at once, pipelined or not. (Queued instead, it left the
// transaction aborted until the next send, and pgx prepares a statement it has not seen
// before that send's batch: such a statement, queued after the conflict, failed to prepare
// and the whole group ran again, unpipelined; TestWriterPipelinedFailure caught it in about
// one run in fifteen.)
func (w *writer) execGuarded(q string, args []any) (sql.Result, error) {
	if w.pipe && w.failed != nil {
		return nil, w.failed
	}
	w.queue(false, "SAVEPOINT g")
	r := w.queue(false, q, args...)
	w.queue(false, "RELEASE SAVEPOINT g")
	_, first, err := w.send()
	if err == nil {
		return r, nil
	}
	if first != r {
		// Something before the statement failed (the group then runs again if it was
		// pipelined), or the release did.
		return nil, err
	}
	if rerr := w.ctl("ROLLBACK TO SAVEPOINT g; RELEASE SAVEPOINT g"); rerr != nil {
		return nil, errors.Join(err, rerr)
	}
	return nil, err
}

// execGuardedRarely is execGuarded for an insert whose unique violation means its caller
// broke an invariant: pipelined, it is queued as Exec queues a statement (no savepoint, no
// round trip), and a violation makes the group run again unpipelined, where execGuarded
// runs it and its caller sees the conflict.
func (w *writer) execGuardedRarely(q string, args []any) (sql.Result, error) {
	if w.pipe {
		return w.queueDeferred(q, args)
	}
	return w.execGuarded(q, args)
}

// execOne runs an UPDATE that changes at most one row and reports whether it changed one.
// Pipelined, it queues the statement wrapped so that it fails when no row changed
// (oneRow) and reports true at once: the failure makes the group run again unpipelined,
// where the statement runs at once and its count answers.
func (w *writer) execOne(q string, args []any) (bool, error) {
	if w.pipe {
		_, err := w.queueDeferred(oneRow(q), args)
		return err == nil, err
	}
	res, err := w.Exec(bg, q, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// oneRows caches oneRow's results by query text.
var oneRows sync.Map

// oneRow wraps an UPDATE (with PostgreSQL's placeholders) into a statement that fails
// with division_by_zero when the UPDATE changed no row; a failed statement aborts the
// transaction, so nothing after it commits.
func oneRow(q string) string {
	if v, ok := oneRows.Load(q); ok {
		return v.(string)
	}
	v, _ := oneRows.LoadOrStore(q, "WITH changed AS ("+q+" RETURNING 1) SELECT 1 / COUNT(*) FROM changed")
	return v.(string)
}

// commit sends the queue, a NOTIFY on channel for each payload, and COMMIT, in one round
// trip. retry reports that the transaction certainly did not commit because a statement
// the server refused (one a caller was told had succeeded) aborted it: the group may run
// again. Any other error leaves the outcome unknown.
func (w *writer) commit(channel string, payloads []string) (retry bool, err error) {
	if w.failed != nil {
		return true, w.failed
	}
	for _, p := range payloads {
		w.queue(true, "SELECT pg_notify($1, $2)", channel, p)
	}
	c := w.queue(false, "COMMIT")
	_, first, err := w.send()
	if err != nil {
		var pe *pgconn.PgError
		return first != nil && first != c && errors.As(first.err, &pe), err
	}
	if c.tag.String() != "COMMIT" {
		// The server rolled the transaction back (it was aborted); nothing committed.
		return true, fmt.Errorf("commit ended in %s", c.tag)
	}
	return false, nil
}
