package postgres

import (
	"context"

	"github.com/jackc/pgx/v5/pgconn"
)

// keepHeapSQL has the server process allocate a 1 MiB text value and free it (only its
// length leaves the server).
const keepHeapSQL = "SELECT length(repeat('x', 1048576))"

// keepHeap runs keepHeapSQL on a new connection (pgconn.Config.AfterConnect), so that the
// server process keeps the memory its statements free instead of handing it back to the
// kernel after each one.
//
// A PostgreSQL backend built on glibc (Debian's, Ubuntu's, the official images) frees a
// statement's memory contexts when the statement ends; when that leaves more than malloc's
// trim threshold (128 KiB by default) free at the top of the heap, free shrinks the heap
// with brk, and the next statement grows it again and faults its pages back in. The
// writer's owner-change read scans eight indexes, and each index scan allocates about
// 27 KiB, so that statement alone crosses the threshold: depending on how the backend's
// heap happened to be laid out, it cost 72–145 µs instead of 11–12 µs, and the writer's
// throughput fell by half (docs/bench.md, issue 13, twelfth session). glibc raises both
// thresholds when a block it served with mmap is freed: to that block's size for mmap, and
// twice that for trimming. One 1 MiB value, allocated and freed once, therefore lets the
// backend keep up to 2 MiB of freed heap for the connection's life, and statements below
// 1 MiB reuse it. PostgreSQL has no setting for this (a GUC was proposed on
// pgsql-hackers in 2023, "Add GUC to tune glibc's malloc implementation", and returned
// with feedback). On a server built on another C library the statement is harmless.
func keepHeap(ctx context.Context, pc *pgconn.PgConn) error {
	return pc.Exec(ctx, keepHeapSQL).Close()
}
