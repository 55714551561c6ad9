package postgres

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/roomd/roomd/internal/procstat"
	"github.com/roomd/roomd/internal/testkit"
)

// The server processes of roomd's connections keep the memory their statements free
// (keepHeap). A statement that holds eight 60 KiB values at once, run 40 times on a
// connection made as the writer's are and on a reader, faults its pages in about once; a
// server process that hands its heap back to the kernel after each statement (without
// keepHeap: 3,300 faults here, checked) faults most of them in again at every run. The
// faults are the server process's minor faults, read from /proc, so the test needs the
// PostgreSQL server on this machine (as .ci/run starts it).
func TestConnectionsKeepTheirHeap(t *testing.T) {
	s, err := Open(t.Context(), Options{DSN: testkit.PostgresSchema(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()

	// A connection made as the writer's are (its reconnections use the same configuration),
	// with a send buffer of its own, and one of the readers.
	wcfg := s.w.cfg.Copy()
	wcfg.BuildFrontend = (&sendBuffer{}).frontend
	writer, err := pgx.ConnectConfig(ctx, wcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close(ctx)
	reader, err := s.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Release()

	for _, c := range []struct {
		name string
		conn *pgx.Conn
	}{{"writer", writer}, {"reader", reader.Conn()}} {
		// Eight values of 60 KiB held at once (a sort keeps its rows): glibc serves each
		// from the heap (below its 128 KiB mmap threshold), and frees 480 KiB at the top of
		// the heap when the statement ends. random() keeps the planner from folding the
		// values into constants of the cached plan.
		const runs, allocSQL = 40, `SELECT count(*) FROM (SELECT repeat('x', 60000 + floor(random())::int) FROM generate_series(1, 8) ORDER BY 1) v`
		// A quarter of one run's 117 pages per run: a heap handed back faults most of them in
		// again at every run.
		const limit = runs * 8 * 60000 / 4096 / 4
		var pid int
		if err := c.conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
			t.Fatal(err)
		}
		before := minorFaults(t, pid)
		for range runs {
			if _, err := c.conn.Exec(ctx, allocSQL); err != nil {
				t.Fatal(err)
			}
		}
		if n := minorFaults(t, pid) - before; n > limit {
			t.Errorf("%s's server process: %d minor faults over %d runs; want at most %d (it hands its heap back after each statement)", c.name, n, runs, limit)
		}
	}
}

// minorFaults returns the minor page faults of process pid so far (/proc/pid/stat, field
// 10). Without the process in /proc (the server is on another machine or in another PID
// namespace) the test skips, unless CI is set.
func minorFaults(t *testing.T, pid int) int64 {
	t.Helper()
	st, err := procstat.Read(pid)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the PostgreSQL server process %d is not in /proc: %v", pid, err)
		}
		t.Skipf("the PostgreSQL server process %d is not in /proc (%v): the test needs the server on this machine", pid, err)
	}
	n, err := st.Int(10)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
