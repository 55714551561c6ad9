package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// WAL checkpoints run on their own goroutine and connection, not on the writer.
//
// With SQLite's default automatic checkpoint, the connection that commits copies the WAL
// back into the database file (and, at durability "process", fsyncs both files) inside
// the COMMIT that takes the WAL past 1,000 pages. That COMMIT is the writer's, so every
// caller of the group, and every call queued behind it, waited for the copy and its two
// fsyncs (docs/bench.md has the numbers). The checkpointer does the
// same PASSIVE checkpoint concurrently with the writer instead, once 4,000 frames are not
// yet copied (SQLite's default is 1,000: a checkpoint copies each page once however many
// frames of it the WAL holds, so waiting for more frames copies the hot pages — rooms,
// the tails of the events and attempts — fewer times; docs/bench.md); durability does not
// change (a checkpoint only copies pages that are already committed to the WAL, and it
// syncs exactly as the automatic one does).
//
// SQLite starts the WAL over only when a write transaction begins after a checkpoint
// that copied every frame. A concurrent checkpoint may never catch up with a writer that
// commits without pause, so the writer keeps the WAL bounded itself: once the WAL holds
// more than walHardLimit frames, the checkpointer leaves it alone and the writer runs one
// checkpoint inline, between two groups, as the automatic checkpoint would have; it copies
// only what the checkpointer has not copied yet. A mutex keeps the two from running at
// once (SQLite would answer the second one "busy"). The writer waits for that mutex only
// when the WAL has grown past twice the limit, which takes a checkpoint slowed down by a
// slow disk (fsync): then it stalls as every commit would have with SQLite's own
// checkpoint, and the WAL stays bounded.
const (
	// ckptPoll is the least time between two looks at the WAL.
	ckptPoll = 10 * time.Millisecond
	// ckptFrames is how many frames not yet copied to the database file start a
	// checkpoint: four times SQLite's default wal_autocheckpoint (16 MiB of 4 KiB pages).
	ckptFrames = 4000
	// walHardLimit is the WAL size, in frames (pages), beyond which the writer checkpoints
	// inline: 8,192 frames are 32 MiB with 4 KiB pages.
	walHardLimit = 8192
)

// checkpointer watches the WAL after commits (PRAGMA wal_checkpoint(NOOP) only reads the
// WAL's header) and runs a PASSIVE checkpoint on its own connection once ckptFrames frames
// wait to be copied.
type checkpointer struct {
	db   *sql.DB
	log  *slog.Logger
	wake chan struct{}
	quit chan struct{}
	done chan struct{}
	once sync.Once
	// frames is the WAL size, in frames, the last look reported; commits counts the
	// commits since, each of which added at least one frame.
	frames, commits atomic.Int64
	// threshold and hardLimit are ckptFrames and walHardLimit; tests lower them.
	threshold, hardLimit int64
	// mu is held while either connection checkpoints.
	mu sync.Mutex
}

func startCheckpointer(path, durability string, log *slog.Logger) (*checkpointer, error) {
	db, err := sql.Open("sqlite", dsn(path, durability))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	c := &checkpointer{db: db, log: log, wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{}),
		threshold: ckptFrames, hardLimit: walHardLimit}
	go c.loop()
	return c, nil
}

func (c *checkpointer) loop() {
	defer close(c.done)
	for {
		select {
		case <-c.quit:
			return
		case <-c.wake:
		}
		if c.estimate() > c.hardLimit {
			continue // the writer's turn (checkpointInline)
		}
		c.mu.Lock()
		for _, mode := range []string{"NOOP", "PASSIVE"} {
			var busy, frames, copied int64
			err := c.db.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &frames, &copied)
			if err != nil {
				c.log.Error("wal checkpoint", "mode", mode, "err", err)
				break
			}
			c.setFrames(frames)
			if frames-copied < c.threshold || frames > c.hardLimit {
				break // nothing to do yet, or the writer's turn
			}
		}
		c.mu.Unlock()
		select {
		case <-c.quit:
			return
		case <-time.After(ckptPoll):
		}
	}
}

// committed is called by the writer after each commit; it never blocks. It reports
// whether the WAL has grown past walHardLimit, in which case the writer should run
// checkpointInline.
func (c *checkpointer) committed() bool {
	c.commits.Add(1)
	if c.estimate() > c.hardLimit {
		// Leave the checkpointer asleep: its look at the WAL could keep the next write
		// transaction from starting the WAL over.
		return true
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return false
}

func (c *checkpointer) setFrames(n int64) {
	c.frames.Store(n)
	c.commits.Store(0)
}

// estimate is a lower bound of the WAL's size in frames.
func (c *checkpointer) estimate() int64 { return c.frames.Load() + c.commits.Load() }

// checkpointInline checkpoints on the writer's connection, between two groups, so that
// the next write transaction can start the WAL over.
func (s *Store) checkpointInline(ctx context.Context) {
	if s.ckpt.estimate() > 2*s.ckpt.hardLimit {
		s.ckpt.mu.Lock()
	} else if !s.ckpt.mu.TryLock() {
		return // the checkpointer is busy; try again after the next group
	}
	defer s.ckpt.mu.Unlock()
	var busy, frames, copied int64
	if err := s.wq.QueryRow(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied); err != nil {
		s.log.Error("wal checkpoint", "err", err)
		return
	}
	if busy == 0 && copied == frames {
		// Done: the next write transaction starts the WAL over. Until the checkpointer
		// looks again, assume it is empty.
		frames = 0
	}
	s.ckpt.setFrames(frames)
}

// stop ends the checkpointer and closes its connection; it is safe to call more than once
// and on nil.
func (c *checkpointer) stop() error {
	if c == nil {
		return nil
	}
	var err error
	c.once.Do(func() {
		close(c.quit)
		<-c.done
		err = c.db.Close()
	})
	return err
}
