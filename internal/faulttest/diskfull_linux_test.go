package faulttest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the integrity check opens roomd's database
)

// mountTmpfs mounts a tmpfs of the given size (as mount -o size= takes it) on a new
// directory and unmounts it when the test ends. Where the machine does not allow mounting
// (no root, no CAP_SYS_ADMIN, a restricted container) it skips the test on a developer's
// machine, but fails it under CI (CI set in the environment): CI runs as root (see
// .ci/run), so a skip there would hide that the disk-full test never ran.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0755"); err != nil {
		msg := fmt.Sprintf("tmpfs could not be mounted on %s (%v): the disk-full test needs root or CAP_SYS_ADMIN", dir, err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg + "; under CI it must run (.ci/run runs the tests as root)")
		}
		t.Skip(msg)
	}
	// Registered before the roomd process, so it runs after the process is killed.
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Logf("unmount %s: %v; detaching it", dir, err)
			syscall.Unmount(dir, syscall.MNT_DETACH)
		}
	})
	return dir
}

// fill writes path until the file system is full and returns how much it wrote.
func fill(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatalf("create filler: %v", err)
	}
	defer f.Close()
	var n int64
	for _, chunk := range []int{256 << 10, 4 << 10, 512} {
		buf := make([]byte, chunk)
		for {
			m, err := f.Write(buf)
			n += int64(m)
			if errors.Is(err, syscall.ENOSPC) {
				break
			}
			if err != nil {
				t.Fatalf("write filler: %v", err)
			}
		}
	}
	return n
}

// TestDiskFull runs roomd on a small tmpfs and fills it while owner changes go on. Calls
// must fail with Tencent's internal-error code (100001 for the live APIs, 70500 for the
// account APIs), never hang and never crash the process; nothing may be half-written; and
// once space returns, service resumes: every OK'd change is there with its callback, the
// failed ones left no trace, new changes succeed and are delivered, also across a restart,
// and the database passes SQLite's integrity check.
func TestDiskFull(t *testing.T) { runDiskFull(t, 1, time.Second) }

// TestDiskFullLong is the full version: the disk fills up ten times, for 3 s each.
func TestDiskFullLong(t *testing.T) {
	if testing.Short() {
		t.Skip("long fault test; runs without -short")
	}
	runDiskFull(t, 10, 3*time.Second)
}

func runDiskFull(t *testing.T, cycles int, fullFor time.Duration) {
	// 64 MiB rather than a couple: under steady load roomd's WAL may grow to 32 MiB (the
	// store's walHardLimit) before a checkpoint lets it start over, so on a smaller disk
	// roomd's own WAL would fill it for good and there would be no space to give back.
	dir := mountTmpfs(t, "64m")
	rcv := newReceiver(t)
	rd := newRoomd(t, dir, procConfig{Apps: []appSpec{{ID: appA, Key: keyA, CallbackURL: rcv.URL(),
		InitialBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}}})
	rd.mustStart()
	c := newClient(t, appA, keyA)
	rooms := setupRooms(t, c, rd.URL(), "full", 4)
	// Import owners ahead: imports fail while the disk is full (the driver retries them).
	for _, l := range rooms {
		for l.imported < 10*importBlock {
			ids := make([]string, importBlock)
			for j := range ids {
				ids[j] = l.owner(l.imported + j)
			}
			c.importAccounts(t, rd.URL(), ids)
			l.imported += importBlock
		}
	}

	d := &loadDriver{c: c, base: rd.URL, rooms: rooms, gap: 5 * time.Millisecond}
	d.start()
	t.Cleanup(d.stop)
	if !waitFor(30*time.Second, 10*time.Millisecond, func() bool { return counts(rooms)[outcomeOK] >= 50 }) {
		t.Fatal("no progress before the disk filled up")
	}

	filler := filepath.Join(dir, "filler")
	for cycle := 1; cycle <= cycles; cycle++ {
		failedBefore := counts(rooms)[outcomeFailed]
		wrote := fill(t, filler)
		fullAt := time.Now()
		if !waitFor(60*time.Second, 20*time.Millisecond, func() bool { return counts(rooms)[outcomeFailed] >= failedBefore+20 }) {
			n := counts(rooms)
			t.Fatalf("cycle %d: disk full (filler of %d bytes) but after 60s only %d changes failed", cycle, wrote, n[outcomeFailed]-failedBefore)
		}
		firstFailures := time.Since(fullAt)
		// The other kinds of call while the disk is full: a read still answers (SQLite
		// reads need no free space, and the README promises that only writes fail), and an
		// account import fails with the account APIs' internal-error code.
		if owner, err := c.roomOwner(context.Background(), rd.URL(), rooms[0].Room); err != nil {
			t.Errorf("cycle %d: get_room_info while the disk is full: %v", cycle, err)
		} else if owner == "" {
			t.Errorf("cycle %d: get_room_info while the disk is full answered no owner", cycle)
		}
		env, err := c.call(context.Background(), rd.URL(), "im_open_login_svc/account_import", map[string]string{"UserID": "late_account"})
		switch {
		case err != nil:
			t.Errorf("cycle %d: account_import while the disk is full: %v", cycle, err)
		case !env.ok() && env.ErrorCode != 70500:
			t.Errorf("cycle %d: account_import while the disk is full: error %d (%s), want 70500", cycle, env.ErrorCode, env.ErrorInfo)
		}
		pause(context.Background(), fullFor-time.Since(fullAt))
		if !rd.alive() {
			t.Fatalf("cycle %d: roomd died while the disk was full", cycle)
		}

		// Space returns: changes succeed again.
		if err := os.Remove(filler); err != nil {
			t.Fatal(err)
		}
		freedAt := time.Now()
		okAtFree := counts(rooms)[outcomeOK]
		if !waitFor(60*time.Second, 20*time.Millisecond, func() bool { return counts(rooms)[outcomeOK] >= okAtFree+100 }) {
			t.Fatalf("cycle %d: service did not resume within 60s of freeing space (%d more OK'd)", cycle, counts(rooms)[outcomeOK]-okAtFree)
		}
		t.Logf("cycle %d: filled the disk with %d bytes; first failures after %s; %d changes failed in %s; service resumed %s after space returned; %s",
			cycle, wrote, firstFailures.Round(time.Millisecond), counts(rooms)[outcomeFailed]-failedBefore,
			freedAt.Sub(fullAt).Round(time.Millisecond), time.Since(freedAt).Round(time.Millisecond), dbSizes(dir))
	}
	d.stop()
	n := counts(rooms)
	t.Logf("%d changes OK'd, %d failed, %d without a reply", n[outcomeOK], n[outcomeFailed], n[outcomeUnknown])
	for _, l := range rooms {
		for _, ch := range l.snapshot() {
			switch {
			case ch.Outcome == outcomeUnknown:
				t.Errorf("%s change %d got no reply (%s): roomd hung or crashed", l.Room, ch.Seq, ch.Err)
			case ch.Outcome == outcomeFailed && ch.Code != 100001:
				t.Errorf("%s change %d failed with %d, want 100001 (internal error)", l.Room, ch.Seq, ch.Code)
			}
		}
	}

	final := finalOwners(t, c, rd.URL(), rooms)
	waitDelivered(t, rcv, rooms, final, 60*time.Second)
	dups := verify(t, rooms, rcv.all(), final)
	t.Logf("%d redeliveries with the same webhook-id", dups)

	// What was committed survives a kill -9 and restart, and the restarted process works.
	rd.kill()
	checkIntegrity(t, filepath.Join(dir, "roomd.db"))
	rd.mustStart()
	again := finalOwners(t, c, rd.URL(), rooms)
	for room, o := range final {
		if again[room] != o {
			t.Errorf("%s: owner %q before the restart, %q after", room, o, again[room])
		}
	}
	d2 := &loadDriver{c: c, base: rd.URL, rooms: rooms, gap: 5 * time.Millisecond}
	okBefore := counts(rooms)[outcomeOK]
	d2.start()
	t.Cleanup(d2.stop)
	if !waitFor(30*time.Second, 10*time.Millisecond, func() bool { return counts(rooms)[outcomeOK] >= okBefore+20 }) {
		t.Fatal("no progress after the restart")
	}
	d2.stop()
	final = finalOwners(t, c, rd.URL(), rooms)
	waitDelivered(t, rcv, rooms, final, 30*time.Second)
	verify(t, rooms, rcv.all(), final)
}

// dbSizes describes the sizes of the database files in dir.
func dbSizes(dir string) string {
	var parts []string
	for _, name := range []string{"roomd.db", "roomd.db-wal", "roomd.db-shm"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err == nil {
			parts = append(parts, fmt.Sprintf("%s %d KiB", name, fi.Size()>>10))
		}
	}
	return strings.Join(parts, ", ")
}

// checkIntegrity runs SQLite's integrity check on the database of a stopped roomd.
func checkIntegrity(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil {
		t.Fatalf("integrity check of %s: %v", path, err)
	}
	if res != "ok" {
		t.Fatalf("integrity check of %s: %s", path, res)
	}
}
