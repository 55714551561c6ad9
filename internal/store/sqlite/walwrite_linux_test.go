//go:build linux && (amd64 || arm64)

package sqlite

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// openRaw opens path as the store's connections do (WAL, the given durability), with the
// WAL hooks installed, on one connection.
func openRaw(t *testing.T, path, durability string) *sql.DB {
	t.Helper()
	if err := installWALHooks(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn(path, durability))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, b BLOB NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	return db
}

func blob(id, n int) []byte { return bytes.Repeat([]byte{byte(id), byte(id >> 8), 0x5a}, n/3) }

// checkRows reads every row of t through a connection of its own (its own WAL descriptor,
// so only what reached the file counts) and compares them with want.
func checkRows(t *testing.T, path string, want map[int][]byte) {
	t.Helper()
	db, err := sql.Open("sqlite", dsn(path, DurabilityProcess))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ok string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check = %q, %v", ok, err)
	}
	rows, err := db.Query(`SELECT id, b FROM t`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id int
		var b []byte
		if err := rows.Scan(&id, &b); err != nil {
			t.Fatal(err)
		}
		if w, ok := want[id]; !ok || !bytes.Equal(b, w) {
			t.Fatalf("row %d: %d bytes, want %d (present %v)", id, len(b), len(w), ok)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != len(want) {
		t.Fatalf("%d rows, want %d", n, len(want))
	}
}

// TestWALCommitIsOneWrite: a commit of many pages holds its frames and writes them with one
// pwrite, and a connection of its own reads them back as soon as the commit returns.
func TestWALCommitIsOneWrite(t *testing.T) {
	for _, durability := range []string{DurabilityProcess, DurabilityPower} {
		t.Run(durability, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "w.db")
			db := openRaw(t, path, durability)
			want := map[int][]byte{}
			frames0, flushes0 := walHeldStats()
			tx, err := db.Begin()
			if err != nil {
				t.Fatal(err)
			}
			for id := range 200 {
				want[id] = blob(id, 1500)
				if _, err := tx.Exec(`INSERT INTO t (id, b) VALUES (?, ?)`, id, want[id]); err != nil {
					t.Fatal(err)
				}
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			frames, flushes := walHeldStats()
			if frames-frames0 < 70 || flushes-flushes0 != 1 {
				t.Errorf("commit of 200 rows of 1.5 KB: %d frames held, written in %d pwrites; want >= 70 frames in 1",
					frames-frames0, flushes-flushes0)
			}
			checkRows(t, path, want)
		})
	}
}

// TestWALSpillAndRollback: a transaction larger than the page cache spills frames to the WAL
// before it commits and reads them back, rewrites some in place, and one such transaction
// rolls back; the database stays intact and holds exactly the committed rows.
func TestWALSpillAndRollback(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.db")
	db := openRaw(t, path, DurabilityProcess)
	if _, err := db.Exec(`PRAGMA cache_size = 8`); err != nil {
		t.Fatal(err)
	}
	want := map[int][]byte{}
	write := func(from, to, size int, commit bool) {
		t.Helper()
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		staged := map[int][]byte{}
		for id := from; id < to; id++ {
			staged[id] = blob(id, size)
			if _, err := tx.Exec(`INSERT OR REPLACE INTO t (id, b) VALUES (?, ?)`, id, staged[id]); err != nil {
				t.Fatal(err)
			}
		}
		// Read every row back inside the transaction (pages spilled to the WAL among them),
		// then change every other one again (its frame is rewritten in place).
		var sum int
		if err := tx.QueryRow(`SELECT sum(length(b)) FROM t WHERE id >= ? AND id < ?`, from, to).Scan(&sum); err != nil {
			t.Fatal(err)
		}
		if sum != (to-from)*len(blob(0, size)) {
			t.Fatalf("inside the transaction: %d bytes, want %d", sum, (to-from)*len(blob(0, size)))
		}
		for id := from; id < to; id += 2 {
			staged[id] = blob(id+1, size/2)
			if _, err := tx.Exec(`UPDATE t SET b = ? WHERE id = ?`, staged[id], id); err != nil {
				t.Fatal(err)
			}
		}
		if !commit {
			if err := tx.Rollback(); err != nil {
				t.Fatal(err)
			}
			return
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		for id, b := range staged {
			want[id] = b
		}
	}
	write(0, 600, 3000, true)
	write(600, 1200, 3000, false)
	write(300, 900, 2000, true)
	checkRows(t, path, want)
	// A checkpoint copies the WAL into the database file; the rows stay the same.
	if _, err := db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	write(1000, 1100, 1000, true)
	checkRows(t, path, want)
}

// TestWALCommitsSurviveKill9: a child process commits rows one transaction at a time and
// reports each commit once it returns; killed with SIGKILL at a moment of its own, every
// reported row is in the database, and the database is intact.
func TestWALCommitsSurviveKill9(t *testing.T) {
	if path := os.Getenv("ROOMD_WAL_KILL_CHILD"); path != "" {
		walKillChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "w.db")
	openRaw(t, path, DurabilityProcess).Close()
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestWALCommitsSurviveKill9$")
		cmd.Env = append(os.Environ(), "ROOMD_WAL_KILL_CHILD="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		reported := 0
		sc := bufio.NewScanner(out)
		deadline := time.Now().Add(20 * time.Second)
		for sc.Scan() && time.Now().Before(deadline) {
			if n, err := strconv.Atoi(sc.Text()); err == nil {
				reported = n
			}
			if reported >= 150*(round+1) {
				break
			}
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if reported == 0 {
			t.Fatalf("round %d: the child reported no commit", round)
		}
		db, err := sql.Open("sqlite", dsn(path, DurabilityProcess))
		if err != nil {
			t.Fatal(err)
		}
		var ok string
		var have int
		if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
			t.Fatalf("round %d: integrity_check = %q, %v", round, ok, err)
		}
		if err := db.QueryRow(`SELECT count(*) FROM t WHERE id <= ? AND length(b) = 3000`, reported).Scan(&have); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if have != reported {
			t.Fatalf("round %d: %d of the %d reported commits survived kill -9", round, have, reported)
		}
	}
}

// walKillChild commits one 3 KB row per transaction, forever, and prints the id of each
// once its commit has returned.
func walKillChild(path string) {
	if err := installWALHooks(); err != nil {
		panic(err)
	}
	db, err := sql.Open("sqlite", dsn(path, DurabilityProcess))
	if err != nil {
		panic(err)
	}
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	var last int
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM t`).Scan(&last); err != nil {
		panic(err)
	}
	w := bufio.NewWriter(os.Stdout)
	for id := last + 1; ; id++ {
		if _, err := db.ExecContext(ctx, `INSERT INTO t (id, b) VALUES (?, ?)`, id, blob(id, 3000)); err != nil {
			panic(err)
		}
		fmt.Fprintln(w, id)
		w.Flush()
	}
}

// TestWALReadersSeeWholeCommits: while a writer commits transactions of many pages, each
// giving every row the transaction's number, readers on connections of their own (their
// own WAL descriptors) check every snapshot they take: all rows carry one number, and their
// contents are that number's. A reader that found a frame the writer still held would read
// an older or a torn page. Passive checkpoints let the writer restart the WAL now and then.
func TestWALReadersSeeWholeCommits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.db")
	db := openRaw(t, path, DurabilityProcess)
	const rows = 120
	content := func(gen, id int) []byte { return blob(gen*rows+id, 700+(gen*37+id)%900) }
	write := func(gen int) {
		t.Helper()
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		for id := range rows {
			if _, err := tx.Exec(`INSERT OR REPLACE INTO t (id, b) VALUES (?, ?)`, id, append([]byte{byte(gen), byte(gen >> 8)}, content(gen, id)...)); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	write(0)
	var stop atomic.Bool
	errs := make(chan error, 3)
	snapshot := func(r *sql.DB) (int, error) {
		tx, err := r.Begin()
		if err != nil {
			return 0, err
		}
		defer tx.Rollback()
		rs, err := tx.Query(`SELECT id, b FROM t ORDER BY id`)
		if err != nil {
			return 0, err
		}
		defer rs.Close()
		gen, n := -1, 0
		for rs.Next() {
			var id int
			var b []byte
			if err := rs.Scan(&id, &b); err != nil {
				return 0, err
			}
			g := int(b[0]) | int(b[1])<<8
			if gen < 0 {
				gen = g
			}
			if g != gen || !bytes.Equal(b[2:], content(gen, id)) {
				return 0, fmt.Errorf("row %d of generation %d in a snapshot of generation %d, or torn", id, g, gen)
			}
			n++
		}
		if err := rs.Err(); err != nil {
			return 0, err
		}
		if n != rows {
			return 0, fmt.Errorf("generation %d: %d rows, want %d", gen, n, rows)
		}
		return gen, nil
	}
	for range 3 {
		go func() {
			r, err := sql.Open("sqlite", dsn(path, DurabilityProcess))
			if err != nil {
				errs <- err
				return
			}
			defer r.Close()
			r.SetMaxOpenConns(1)
			last := 0
			for !stop.Load() {
				gen, err := snapshot(r)
				if err == nil && gen < last {
					err = fmt.Errorf("generation %d after %d", gen, last)
				}
				if err != nil {
					errs <- err
					return
				}
				last = gen
			}
			errs <- nil
		}()
	}
	for gen := 1; gen <= 150; gen++ {
		write(gen)
		if gen%25 == 0 {
			if _, err := db.Exec(`PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
				t.Fatal(err)
			}
		}
	}
	stop.Store(true)
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
