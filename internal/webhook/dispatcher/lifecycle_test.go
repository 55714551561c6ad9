package dispatcher

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/clock"
	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/webhook"
)

// syncBuffer is a log sink that tests may read while the dispatcher writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Start and Stop are idempotent; Stop before Start is allowed; Start after Stop says so.
func TestStartStopAreIdempotent(t *testing.T) {
	f, _ := newFixture(t, nil)
	ctx := context.Background()

	d := New(Options{Store: f.st, Configs: f.configs})
	for range 2 {
		if err := d.Start(ctx); err != nil {
			t.Fatalf("Start: %v", err)
		}
	}
	f.enqueue(t, d, 1, 1)
	f.waitTotal(t, 1)
	for range 2 {
		if err := d.Stop(ctx); err != nil {
			t.Fatalf("Stop: %v", err)
		}
	}
	if err := d.Start(ctx); !errors.Is(err, ErrStopped) {
		t.Errorf("Start after Stop = %v, want ErrStopped", err)
	}

	never := New(Options{Store: f.st, Configs: f.configs})
	if err := never.Stop(ctx); err != nil {
		t.Errorf("Stop before Start: %v", err)
	}
	if err := never.Start(ctx); !errors.Is(err, ErrStopped) {
		t.Errorf("Start after an early Stop = %v, want ErrStopped", err)
	}
}

// Stop cuts an attempt in flight short, with ErrStopped as the cause: the attempt is not
// recorded (the next start sends the event again) and nothing is logged as a failure.
// When Start's own context ends instead, the dispatcher stops too, and the log says why.
func TestStopIsToldApartFromFailure(t *testing.T) {
	entered := make(chan struct{}, 16)
	f, _ := newFixture(t, func(w http.ResponseWriter, r *http.Request) bool {
		// Read the body first: only then does the server notice that the client went away.
		io.Copy(io.Discard, r.Body)
		entered <- struct{}{}
		<-r.Context().Done() // a backend that hangs until the dispatcher gives up
		return false
	})
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	d := New(Options{Store: f.st, Configs: f.configs, Logger: logger})
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.enqueue(t, d, 1, 1)
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("no attempt started")
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.Stop(stopCtx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if s, err := f.st.EventStats(context.Background()); err != nil || s.Pending != 1 {
		t.Errorf("after Stop: %+v, %v; want the event still pending", s, err)
	}
	if atts, err := f.st.AttemptList(context.Background(), 1); err != nil || len(atts) != 0 {
		t.Errorf("attempts recorded for the attempt Stop cut short: %+v, %v", atts, err)
	}
	if out := logs.String(); strings.Contains(out, "level=ERROR") || strings.Contains(out, "level=WARN") {
		t.Errorf("Stop was logged as a failure:\n%s", out)
	}
	if s := d.Stats(); s.InFlight != 0 {
		t.Errorf("in flight after Stop: %+v", s)
	}

	// The same, but the context given to Start ends with a cause of its own.
	failure := errors.New("lost the lease")
	runCtx, cancelRun := context.WithCancelCause(context.Background())
	d2 := New(Options{Store: f.st, Configs: f.configs, Logger: logger})
	if err := d2.Start(runCtx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the restarted dispatcher did not send the event again")
	}
	cancelRun(failure)
	if err := d2.Stop(stopCtx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if out := logs.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, failure.Error()) {
		t.Errorf("the end of Start's context was not logged with its cause:\n%s", out)
	}
}

// With a manual clock that stands still, a failed attempt waits for its backoff timer and
// nothing else happens: no second attempt, however long the test waits in real time. The
// retry comes when the clock is moved past the backoff; Stop disarms the timers.
func TestStoppedClockDoesNotSpin(t *testing.T) {
	var attempts atomic.Int64
	f, _ := newFixture(t, func(w http.ResponseWriter, r *http.Request) bool {
		if attempts.Add(1) == 1 {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return false
		}
		return true
	})
	f.configs.Update(1, func(c *webhook.Config) {
		c.Retry = webhook.RetryPolicy{Enabled: true, MaxAttempts: 5, InitialBackoff: time.Second, MaxBackoff: time.Second}
	})
	// Ahead of the real clock, with which the fixture's outbox stamps new events as due.
	clk := clock.NewManual(time.Now().Add(time.Hour))
	d := New(Options{Store: f.st, Configs: f.configs, Clock: clk})
	run(t, d)
	f.enqueue(t, d, 1, 1)

	deadline := time.Now().Add(10 * time.Second)
	for {
		s, err := f.st.EventStats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if s.Retrying == 1 && d.Stats().InFlight == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("first attempt not recorded: %+v", s)
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // real time passes; the clock does not
	if n := attempts.Load(); n != 1 {
		t.Fatalf("%d attempts while the clock stood still, want 1", n)
	}

	clk.Advance(time.Second) // the backoff is at most InitialBackoff
	f.waitTotal(t, 1)
	if n := attempts.Load(); n != 2 {
		t.Errorf("%d attempts, want 2", n)
	}

	// A failing room leaves a backoff timer armed; Stop disarms it (and the loader's).
	attempts.Store(0)
	f.enqueue(t, d, 1, 1)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if s, _ := f.st.EventStats(context.Background()); s.Retrying == 1 && d.Stats().InFlight == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("second event did not fail")
		}
	}
	if err := d.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := clk.Waiting(); n != 0 {
		t.Errorf("%d timers armed after Stop, want 0", n)
	}
	clk.Advance(time.Hour)
	time.Sleep(50 * time.Millisecond)
	if n := attempts.Load(); n != 1 {
		t.Errorf("%d attempts after Stop and a clock move, want the 1 before Stop", n)
	}
}

// commitDuringRead is the real store, with a hook that runs once, after the first read
// of undelivered events and before its result is returned.
type commitDuringRead struct {
	store.Store
	once  sync.Once
	after func()
}

func (s *commitDuringRead) EventListUndelivered(ctx context.Context, p store.EventListParams) ([]store.Event, error) {
	evs, err := s.Store.EventListUndelivered(ctx, p)
	s.once.Do(s.after)
	return evs, err
}

// An event committed while the loader's start-up read is under way is told to the
// dispatcher while it is still behind, so Notify leaves it in the database. It is loaded
// at once, without waiting for the loader's next poll: on a clock that stands still there
// is none. (CI once lost a test's 64 events this way.)
func TestEventCommittedDuringStartUpReadIsLoaded(t *testing.T) {
	f, _ := newFixture(t, nil)
	clk := clock.NewManual(time.Now().Add(time.Hour)) // stands still: the loader never polls
	st := &commitDuringRead{Store: f.st}
	d := New(Options{Store: st, Configs: f.configs, Clock: clk})
	committed := make(chan error, 1)
	st.after = func() { // on the loader's goroutine: report, do not fail, from here
		ob := webhook.NewOutbox(f.configs, time.Now, d.Notify) // Notify runs while d is still behind
		committed <- f.st.Tx(context.Background(), func(tx store.Tx) error {
			_, err := ob.Enqueue(context.Background(), tx, webhook.Emit{App: 1, RoomID: "r0", Command: webhook.AfterChangeOwner,
				Body: map[string]any{"CallbackCommand": webhook.AfterChangeOwner, "RoomId": "r0"}})
			return err
		})
	}
	run(t, d)
	if err := <-committed; err != nil {
		t.Fatal(err)
	}
	f.waitTotal(t, 1)
}
