package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/store"
)

// newEvent returns a pending event of app for room created at created.
func newEvent(a uint64, room, command string, created time.Time) store.Event {
	return store.Event{
		App: a, RoomID: room, Command: command,
		Body:     []byte(fmt.Sprintf(`{"CallbackCommand":%q,"RoomId":%q}`, command, room)),
		ClientIP: "203.0.113.7", Platform: "RESTAPI",
		CreatedAt: created, State: store.EventPending, NextAttemptAt: created,
	}
}

// insertEvents stores evs in one transaction, in order, and sets their ids.
func insertEvents(t *testing.T, s store.Store, evs ...*store.Event) {
	t.Helper()
	mustTx(t, s, func(tx store.Tx) error {
		for _, e := range evs {
			if err := tx.EventInsert(ctx(t), e); err != nil {
				return err
			}
		}
		return nil
	})
}

// settle moves an event to state with one recorded attempt, as the dispatcher does.
func settle(t *testing.T, s store.Store, e *store.Event, state store.EventState) {
	t.Helper()
	next := store.EventUpdate{State: state}
	switch state {
	case store.EventDelivered:
		next.DeliveredAt = e.CreatedAt.Add(time.Second)
	case store.EventRetrying:
		next.NextAttemptAt = e.CreatedAt.Add(time.Minute)
		next.LastError = "HTTP 503"
	case store.EventDead:
		next.LastError = "HTTP 500"
	}
	att := store.Attempt{EventID: e.ID, N: e.Attempts + 1, StartedAt: e.CreatedAt, Duration: time.Millisecond, URL: "https://cb"}
	mustTx(t, s, func(tx store.Tx) error { return tx.EventRecordAttempt(ctx(t), att, next) })
	e.State, e.Attempts = state, att.N
	e.NextAttemptAt, e.LastError, e.DeliveredAt = next.NextAttemptAt, next.LastError, next.DeliveredAt
}

func eventIDs(evs []store.Event) []int64 {
	out := make([]int64, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func testEvents(t *testing.T, h *Harness) {
	t.Run("InsertAssignsIncreasingIDs", func(t *testing.T) {
		s := h.Fresh(t)
		var evs []*store.Event
		for i := range 3 {
			e := newEvent(app, "r1", "Live.CallbackAfterCreateRoom", at(i))
			evs = append(evs, &e)
		}
		insertEvents(t, s, evs...) // several in one transaction
		for i := range 3 {
			e := newEvent(app, "r2", "Live.CallbackAfterDestroyRoom", at(10+i))
			insertEvents(t, s, &e) // one per transaction
			evs = append(evs, &e)
		}
		e := newEvent(other, "r1", "Live.CallbackAfterCreateRoom", at(20))
		insertEvents(t, s, &e) // ids are global, not per app
		evs = append(evs, &e)
		var prev int64
		for i, e := range evs {
			if e.ID <= prev {
				t.Errorf("event %d got id %d after id %d; ids must increase", i, e.ID, prev)
			}
			prev = e.ID
		}
	})

	t.Run("RolledBackEventIsGone", func(t *testing.T) {
		// An id handed out by a rolled-back transaction may be used again (no callback ever
		// carried it), but the rolled-back event itself must not exist.
		s := h.Fresh(t)
		a := newEvent(app, "r1", "A", at(0))
		insertEvents(t, s, &a)
		var rolled int64
		err := s.Tx(ctx(t), func(tx store.Tx) error {
			e := newEvent(app, "r1", "B", at(1))
			if err := tx.EventInsert(ctx(t), &e); err != nil {
				return err
			}
			rolled = e.ID
			return errBoom
		})
		wantErr(t, "Tx", err, errBoom)
		c := newEvent(app, "r1", "C", at(2))
		insertEvents(t, s, &c)
		if c.ID <= a.ID {
			t.Errorf("id %d after id %d", c.ID, a.ID)
		}
		if _, err := s.EventGet(ctx(t), rolled); c.ID != rolled && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("EventGet of a rolled-back event = %v, want ErrNotFound", err)
		}
	})

	t.Run("Get", func(t *testing.T) {
		s := h.Fresh(t)
		e := newEvent(app, "直播间", "Live.CallbackAfterCreateRoom", at(3))
		e.Body = []byte("{\"a\":\"\u00e9\",\"b\":[1,2]}\n")
		e.ClientIP, e.Platform = "", ""
		insertEvents(t, s, &e)
		got, err := s.EventGet(ctx(t), e.ID)
		wantErr(t, "EventGet", err, nil)
		equal(t, "event", got, e, normEvent)

		_, err = s.EventGet(ctx(t), e.ID+1000)
		wantErr(t, "EventGet of a missing id", err, store.ErrNotFound)
		_, err = s.EventGet(ctx(t), 0)
		wantErr(t, "EventGet(0)", err, store.ErrNotFound)
	})

	t.Run("ListUndelivered", func(t *testing.T) {
		s := h.Fresh(t)
		evs := make([]*store.Event, 7)
		for i := range evs {
			e := newEvent(app, fmt.Sprintf("r%d", i%2), "C", at(i))
			if i == 6 {
				e.App = other // undelivered events of every app are listed
			}
			evs[i] = &e
		}
		insertEvents(t, s, evs...)
		settle(t, s, evs[1], store.EventDelivered)
		settle(t, s, evs[3], store.EventDead)
		settle(t, s, evs[4], store.EventRetrying)
		want := []int64{evs[0].ID, evs[2].ID, evs[4].ID, evs[5].ID, evs[6].ID}

		got, err := s.EventListUndelivered(ctx(t), store.EventListParams{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(eventIDs(got), want) {
			t.Errorf("EventListUndelivered = %v, want %v (pending and retrying, id order)", eventIDs(got), want)
		}
		for _, g := range got {
			w := *evs[slices.IndexFunc(evs, func(e *store.Event) bool { return e.ID == g.ID })]
			equal(t, "undelivered event", g, w, normEvent)
		}

		for _, limit := range []int{1, 2, 3, 5} {
			var all []int64
			var after int64
			for range 10 {
				page, err := s.EventListUndelivered(ctx(t), store.EventListParams{AfterID: after, Limit: limit})
				if err != nil {
					t.Fatal(err)
				}
				if len(page) > limit {
					t.Fatalf("page of %d events, limit %d", len(page), limit)
				}
				if len(page) == 0 {
					break
				}
				all = append(all, eventIDs(page)...)
				after = page[len(page)-1].ID
			}
			if !slices.Equal(all, want) {
				t.Errorf("pages of %d = %v, want %v", limit, all, want)
			}
		}

		// AfterID need not be an undelivered event.
		got, err = s.EventListUndelivered(ctx(t), store.EventListParams{AfterID: evs[3].ID, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if w := want[2:]; !slices.Equal(eventIDs(got), w) {
			t.Errorf("after a dead event = %v, want %v", eventIDs(got), w)
		}
	})

	t.Run("RecordAttempt", func(t *testing.T) {
		s := h.Fresh(t)
		e := newEvent(app, "r1", "Live.CallbackAfterCreateRoom", at(0))
		insertEvents(t, s, &e)

		// A failed attempt: retrying, one attempt, next attempt time and error kept.
		a1 := store.Attempt{EventID: e.ID, N: 1, StartedAt: at(1), Duration: 1500*time.Millisecond + 123*time.Microsecond,
			URL: "https://cb.example/x?sign=1", StatusCode: 502, Response: "<html>bad gateway</html>", Error: "HTTP 502"}
		mustTx(t, s, func(tx store.Tx) error {
			return tx.EventRecordAttempt(ctx(t), a1, store.EventUpdate{State: store.EventRetrying, NextAttemptAt: at(10), LastError: "HTTP 502"})
		})
		got, err := s.EventGet(ctx(t), e.ID)
		wantErr(t, "EventGet", err, nil)
		want := e
		want.State, want.Attempts, want.NextAttemptAt, want.LastError = store.EventRetrying, 1, at(10), "HTTP 502"
		equal(t, "event after a failed attempt", got, want, normEvent)

		// A network error has no status and no response.
		a2 := store.Attempt{EventID: e.ID, N: 2, StartedAt: at(10), Duration: 2 * time.Second, URL: "https://cb.example/x?sign=2",
			Error: "dial tcp: connection refused"}
		mustTx(t, s, func(tx store.Tx) error {
			return tx.EventRecordAttempt(ctx(t), a2, store.EventUpdate{State: store.EventRetrying, NextAttemptAt: at(30), LastError: a2.Error})
		})

		// A successful attempt: delivered; the update replaces the error and next time.
		a3 := store.Attempt{EventID: e.ID, N: 3, StartedAt: at(30), Duration: 42 * time.Millisecond, URL: "https://cb.example/x?sign=3",
			StatusCode: 200, Response: `{"ActionStatus":"OK","ErrorCode":0}`}
		mustTx(t, s, func(tx store.Tx) error {
			return tx.EventRecordAttempt(ctx(t), a3, store.EventUpdate{State: store.EventDelivered, DeliveredAt: at(31)})
		})
		got, err = s.EventGet(ctx(t), e.ID)
		wantErr(t, "EventGet", err, nil)
		want = e
		want.State, want.Attempts, want.NextAttemptAt, want.DeliveredAt = store.EventDelivered, 3, time.Time{}, at(31)
		equal(t, "event after a successful attempt", got, want, normEvent)

		atts, err := s.AttemptList(ctx(t), e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(atts) != 3 {
			t.Fatalf("AttemptList returned %d attempts, want 3: %+v", len(atts), atts)
		}
		for i, w := range []store.Attempt{a1, a2, a3} {
			equal(t, fmt.Sprintf("attempt %d", i+1), atts[i], w, normAttempt)
		}
	})

	t.Run("RecordAttemptDead", func(t *testing.T) {
		s := h.Fresh(t)
		e := newEvent(app, "r1", "C", at(0))
		insertEvents(t, s, &e)
		att := store.Attempt{EventID: e.ID, N: 1, StartedAt: at(1), Duration: time.Second, URL: "https://cb", StatusCode: 500, Error: "HTTP 500"}
		mustTx(t, s, func(tx store.Tx) error {
			return tx.EventRecordAttempt(ctx(t), att, store.EventUpdate{State: store.EventDead, LastError: "HTTP 500"})
		})
		got, err := s.EventGet(ctx(t), e.ID)
		wantErr(t, "EventGet", err, nil)
		if got.State != store.EventDead || got.Attempts != 1 || got.LastError != "HTTP 500" {
			t.Errorf("dead event = %+v", got)
		}
	})

	t.Run("RecordAttemptMissingEvent", func(t *testing.T) {
		// ErrNotFound, and nothing is written even when fn goes on to commit.
		s := h.Fresh(t)
		e := newEvent(app, "r1", "C", at(0))
		insertEvents(t, s, &e)
		missing := e.ID + 100
		mustTx(t, s, func(tx store.Tx) error {
			err := tx.EventRecordAttempt(ctx(t), store.Attempt{EventID: missing, N: 1, StartedAt: at(1), URL: "https://cb"},
				store.EventUpdate{State: store.EventDelivered, DeliveredAt: at(1)})
			if !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("EventRecordAttempt of a missing event = %v, want ErrNotFound", err)
			}
			return nil
		})
		if atts, err := s.AttemptList(ctx(t), missing); err != nil || len(atts) != 0 {
			t.Errorf("AttemptList of the missing event = %+v, %v; want none", atts, err)
		}
		if _, err := s.EventGet(ctx(t), missing); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("EventGet of the missing event = %v", err)
		}
	})

	t.Run("RecordAttempts", func(t *testing.T) {
		// A group of 75 records (chunks of 64, 8, 2 and 1 rows) over delivered, retrying
		// and dead outcomes, one of them overwriting an attempt slot already written, reads
		// back as 75 EventRecordAttempt calls would.
		s := h.Fresh(t)
		evs := make([]store.Event, 75)
		ptrs := make([]*store.Event, len(evs))
		for i := range evs {
			evs[i] = newEvent(app, fmt.Sprintf("r%d", i%7), "C", at(0))
			ptrs[i] = &evs[i]
		}
		insertEvents(t, s, ptrs...)
		// Event 0's first attempt is already written (a record whose commit failed keeps
		// its number, and the next try overwrites it).
		mustTx(t, s, func(tx store.Tx) error {
			return tx.EventRecordAttempt(ctx(t), store.Attempt{EventID: evs[0].ID, N: 1, StartedAt: at(1), URL: "https://old"},
				store.EventUpdate{State: store.EventRetrying, NextAttemptAt: at(2), LastError: "old"})
		})
		recs := make([]store.AttemptRecord, len(evs))
		for i, e := range evs {
			a := store.Attempt{EventID: e.ID, N: 1, StartedAt: at(5 + i), Duration: time.Duration(i+1) * time.Millisecond,
				URL: fmt.Sprintf("https://cb/%d", i), RequestURL: fmt.Sprintf("https://cb/%d?SdkAppid=1", i), RequestHeaders: "Webhook-Id: x\n"}
			var next store.EventUpdate
			switch i % 3 {
			case 0:
				a.StatusCode, a.Response = 200, `{"ErrorCode":0}`
				next = store.EventUpdate{State: store.EventDelivered, DeliveredAt: at(6 + i)}
			case 1:
				a.StatusCode, a.Error = 503, "HTTP status 503"
				next = store.EventUpdate{State: store.EventRetrying, NextAttemptAt: at(100 + i), LastError: a.Error}
			default:
				a.Error = "dial tcp: connection refused"
				next = store.EventUpdate{State: store.EventDead, LastError: a.Error}
			}
			recs[i] = store.AttemptRecord{Attempt: a, Next: next}
		}
		mustTx(t, s, func(tx store.Tx) error { return tx.EventRecordAttempts(ctx(t), recs) })
		for i, r := range recs {
			got, err := s.EventGet(ctx(t), evs[i].ID)
			wantErr(t, "EventGet", err, nil)
			want := evs[i]
			want.State, want.Attempts, want.NextAttemptAt, want.LastError, want.DeliveredAt = r.Next.State, 1, r.Next.NextAttemptAt, r.Next.LastError, r.Next.DeliveredAt
			equal(t, fmt.Sprintf("event %d", i), got, want, normEvent)
			atts, err := s.AttemptList(ctx(t), evs[i].ID)
			if err != nil || len(atts) != 1 {
				t.Fatalf("AttemptList of event %d = %+v, %v; want one attempt", i, atts, err)
			}
			equal(t, fmt.Sprintf("attempt of event %d", i), atts[0], r.Attempt, normAttempt)
		}
		// The delivered and dead events count as finished for retention, as after
		// EventRecordAttempt.
		n, err := 0, error(nil)
		mustTx(t, s, func(tx store.Tx) error {
			n, err = tx.EventPrune(ctx(t), store.EventPruneParams{App: app, DeliveredBefore: at(1000), DeadBefore: at(1000), Limit: 1000})
			return err
		})
		if want := 50; n != want {
			t.Errorf("EventPrune after the group pruned %d events, want %d", n, want)
		}
	})

	t.Run("RecordAttemptsMissingEvent", func(t *testing.T) {
		// ErrNotFound when one event of the group is missing.
		s := h.Fresh(t)
		e1, e2 := newEvent(app, "r1", "C", at(0)), newEvent(app, "r2", "C", at(0))
		insertEvents(t, s, &e1, &e2)
		recs := []store.AttemptRecord{
			{Attempt: store.Attempt{EventID: e1.ID, N: 1, StartedAt: at(1), URL: "https://cb"}, Next: store.EventUpdate{State: store.EventDelivered, DeliveredAt: at(1)}},
			{Attempt: store.Attempt{EventID: e2.ID + 100, N: 1, StartedAt: at(1), URL: "https://cb"}, Next: store.EventUpdate{State: store.EventDelivered, DeliveredAt: at(1)}},
		}
		err := s.Tx(ctx(t), func(tx store.Tx) error { return tx.EventRecordAttempts(ctx(t), recs) })
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("EventRecordAttempts with a missing event = %v, want ErrNotFound", err)
		}
		if got, err := s.EventGet(ctx(t), e1.ID); err != nil || got.State != store.EventPending {
			t.Errorf("event of the failed group = %+v, %v; want it still pending", got, err)
		}
		if atts, err := s.AttemptList(ctx(t), e1.ID); err != nil || len(atts) != 0 {
			t.Errorf("attempts of the failed group = %+v, %v; want none", atts, err)
		}
		// One record of a missing event, alone.
		err = s.Tx(ctx(t), func(tx store.Tx) error { return tx.EventRecordAttempts(ctx(t), recs[1:]) })
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("EventRecordAttempts of a missing event = %v, want ErrNotFound", err)
		}
	})

	t.Run("RecordAttemptsSameEvent", func(t *testing.T) {
		// Two records of one event in one group: written in order, the later one last.
		s := h.Fresh(t)
		e := newEvent(app, "r1", "C", at(0))
		insertEvents(t, s, &e)
		recs := []store.AttemptRecord{
			{Attempt: store.Attempt{EventID: e.ID, N: 1, StartedAt: at(1), URL: "https://cb", Error: "HTTP status 503"},
				Next: store.EventUpdate{State: store.EventRetrying, NextAttemptAt: at(2), LastError: "HTTP status 503"}},
			{Attempt: store.Attempt{EventID: e.ID, N: 2, StartedAt: at(2), URL: "https://cb", StatusCode: 200},
				Next: store.EventUpdate{State: store.EventDelivered, DeliveredAt: at(3)}},
		}
		mustTx(t, s, func(tx store.Tx) error { return tx.EventRecordAttempts(ctx(t), recs) })
		got, err := s.EventGet(ctx(t), e.ID)
		if err != nil || got.State != store.EventDelivered || got.Attempts != 2 {
			t.Errorf("event = %+v, %v; want delivered after 2 attempts", got, err)
		}
		if atts, err := s.AttemptList(ctx(t), e.ID); err != nil || len(atts) != 2 {
			t.Errorf("attempts = %+v, %v; want 2", atts, err)
		}
	})

	t.Run("AttemptListOrder", func(t *testing.T) {
		s := h.Fresh(t)
		e1 := newEvent(app, "r1", "C", at(0))
		e2 := newEvent(app, "r1", "C", at(0))
		insertEvents(t, s, &e1, &e2)
		if atts, err := s.AttemptList(ctx(t), e1.ID); err != nil || len(atts) != 0 {
			t.Errorf("AttemptList of an event never attempted = %+v, %v", atts, err)
		}
		// Recorded out of order, in separate transactions, interleaved with another event:
		// listed by attempt number, the other event's attempts left out.
		for _, n := range []int{3, 1, 2} {
			mustTx(t, s, func(tx store.Tx) error {
				for _, id := range []int64{e1.ID, e2.ID} {
					a := store.Attempt{EventID: id, N: n, StartedAt: at(n), Duration: time.Duration(n) * time.Millisecond,
						URL: fmt.Sprintf("https://cb/%d/%d", id, n)}
					if err := tx.EventRecordAttempt(ctx(t), a, store.EventUpdate{State: store.EventRetrying, NextAttemptAt: at(n + 1)}); err != nil {
						return err
					}
				}
				return nil
			})
		}
		atts, err := s.AttemptList(ctx(t), e1.ID)
		if err != nil {
			t.Fatal(err)
		}
		var ns []int
		for _, a := range atts {
			ns = append(ns, a.N)
			if a.EventID != e1.ID || a.URL != fmt.Sprintf("https://cb/%d/%d", e1.ID, a.N) {
				t.Errorf("attempt %d = %+v", a.N, a)
			}
		}
		if !slices.Equal(ns, []int{1, 2, 3}) {
			t.Errorf("AttemptList numbers = %v, want [1 2 3]", ns)
		}
	})

	t.Run("List", func(t *testing.T) { testEventList(t, h) })
	t.Run("Stats", func(t *testing.T) { testEventStats(t, h) })
}

func testEventList(t *testing.T, h *Harness) {
	s := h.Fresh(t)
	// e[0..5] in app, e[6] in other.
	specs := []struct {
		a     uint64
		room  string
		sec   int
		state store.EventState
	}{
		{app, "r1", 0, store.EventPending},
		{app, "r2", 1, store.EventPending},
		{app, "r1", 2, store.EventDelivered},
		{app, "r1", 3, store.EventDead},
		{app, "r2", 4, store.EventRetrying},
		{app, "r1", 5, store.EventPending},
		{other, "r1", 6, store.EventPending},
	}
	e := make([]*store.Event, len(specs))
	for i, sp := range specs {
		ev := newEvent(sp.a, sp.room, "C", at(sp.sec))
		e[i] = &ev
	}
	insertEvents(t, s, e...)
	for i, sp := range specs {
		if sp.state != store.EventPending {
			settle(t, s, e[i], sp.state)
		}
	}
	ids := func(idx ...int) []int64 {
		out := make([]int64, len(idx))
		for i, j := range idx {
			out[i] = e[j].ID
		}
		return out
	}
	cases := []struct {
		name string
		q    store.EventQuery
		want []int64
	}{
		{"All", store.EventQuery{App: app, Limit: 100}, ids(5, 4, 3, 2, 1, 0)},
		{"Room", store.EventQuery{App: app, RoomID: "r1", Limit: 100}, ids(5, 3, 2, 0)},
		{"StatePending", store.EventQuery{App: app, State: store.EventPending, Limit: 100}, ids(5, 1, 0)},
		{"StateDelivered", store.EventQuery{App: app, State: store.EventDelivered, Limit: 100}, ids(2)},
		{"StateRetrying", store.EventQuery{App: app, State: store.EventRetrying, Limit: 100}, ids(4)},
		{"StateDead", store.EventQuery{App: app, State: store.EventDead, Limit: 100}, ids(3)},
		{"SinceInclusive", store.EventQuery{App: app, Since: at(3), Limit: 100}, ids(5, 4, 3)},
		{"SinceAfterAll", store.EventQuery{App: app, Since: at(60), Limit: 100}, nil},
		{"BeforeID", store.EventQuery{App: app, BeforeID: e[4].ID, Limit: 100}, ids(3, 2, 1, 0)},
		{"Limit", store.EventQuery{App: app, Limit: 2}, ids(5, 4)},
		{"Combined", store.EventQuery{App: app, RoomID: "r1", State: store.EventPending, Since: at(1), Limit: 100}, ids(5)},
		{"CombinedBefore", store.EventQuery{App: app, RoomID: "r1", BeforeID: e[3].ID, Limit: 1}, ids(2)},
		{"OtherApp", store.EventQuery{App: other, Limit: 100}, ids(6)},
		{"AppWithoutEvents", store.EventQuery{App: 7, Limit: 100}, nil},
		{"RoomWithoutEvents", store.EventQuery{App: app, RoomID: "r9", Limit: 100}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.EventList(ctx(t), c.q)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(eventIDs(got), c.want) {
				t.Errorf("EventList(%+v) = %v, want %v", c.q, eventIDs(got), c.want)
			}
		})
	}

	t.Run("Rows", func(t *testing.T) {
		got, err := s.EventList(ctx(t), store.EventQuery{App: app, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range got {
			w := *e[slices.IndexFunc(e, func(x *store.Event) bool { return x.ID == g.ID })]
			equal(t, "listed event", g, w, normEvent)
		}
	})

	t.Run("Paging", func(t *testing.T) {
		var all []int64
		var before int64
		for range 10 {
			page, err := s.EventList(ctx(t), store.EventQuery{App: app, BeforeID: before, Limit: 4})
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			all = append(all, eventIDs(page)...)
			before = page[len(page)-1].ID
		}
		if want := ids(5, 4, 3, 2, 1, 0); !slices.Equal(all, want) {
			t.Errorf("pages = %v, want %v", all, want)
		}
	})
}

func testEventStats(t *testing.T, h *Harness) {
	s := h.Fresh(t)
	st, err := s.EventStats(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if st != (store.EventStats{}) {
		t.Errorf("EventStats of an empty store = %+v, want all zero", st)
	}

	// The oldest event is delivered and the next one dead: the oldest undelivered event
	// is the third.
	specs := []struct {
		a     uint64
		sec   int
		state store.EventState
	}{
		{app, 0, store.EventDelivered},
		{app, 1, store.EventDead},
		{other, 2, store.EventRetrying},
		{app, 3, store.EventPending},
		{app, 4, store.EventRetrying},
		{other, 5, store.EventPending},
		{app, 6, store.EventPending},
		{app, 7, store.EventDelivered},
	}
	e := make([]*store.Event, len(specs))
	for i, sp := range specs {
		ev := newEvent(sp.a, "r", "C", at(sp.sec))
		e[i] = &ev
	}
	// Inserted newest first, so that the oldest undelivered event is not the lowest id.
	for i := len(e) - 1; i >= 0; i-- {
		insertEvents(t, s, e[i])
	}
	for i, sp := range specs {
		if sp.state != store.EventPending {
			settle(t, s, e[i], sp.state)
		}
	}
	check := func(want store.EventStats) {
		t.Helper()
		got, err := s.EventStats(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if got.Pending != want.Pending || got.Retrying != want.Retrying || got.Delivered != want.Delivered || got.Dead != want.Dead ||
			!sameTime(got.OldestUndelivered, want.OldestUndelivered) {
			t.Errorf("EventStats = %+v, want %+v", got, want)
		}
	}
	check(store.EventStats{Pending: 3, Retrying: 2, Delivered: 2, Dead: 1, OldestUndelivered: at(2)})

	settle(t, s, e[2], store.EventDelivered)
	check(store.EventStats{Pending: 3, Retrying: 1, Delivered: 3, Dead: 1, OldestUndelivered: at(3)})

	for _, i := range []int{3, 4, 5, 6} {
		settle(t, s, e[i], store.EventDead)
	}
	check(store.EventStats{Delivered: 3, Dead: 5})
}

func testEventInsertRecorded(t *testing.T, h *Harness) {
	s := h.Fresh(t)
	ev := store.Event{App: app, RoomID: "r1", Command: "Group.CallbackBeforeSendMsg", Body: []byte(`{}`), ClientIP: "127.0.0.1",
		Platform: "RESTAPI", CreatedAt: at(1), NextAttemptAt: at(1), State: store.EventDead, LastError: "timeout"}
	att := store.Attempt{N: 1, StartedAt: at(1), Duration: 2 * time.Second, URL: "http://x", Error: "timeout"}
	mustTx(t, s, func(tx store.Tx) error { return tx.EventInsertRecorded(ctx(t), &ev, &att) })
	if ev.ID == 0 || att.EventID != ev.ID || ev.Attempts != 1 {
		t.Fatalf("ids not set: event %d attempt of %d, Attempts %d", ev.ID, att.EventID, ev.Attempts)
	}
	got, err := s.EventGet(ctx(t), ev.ID)
	wantErr(t, "EventGet", err, nil)
	equal(t, "recorded event", got, ev, normEvent)
	atts, err := s.AttemptList(ctx(t), ev.ID)
	wantErr(t, "AttemptList", err, nil)
	if len(atts) != 1 {
		t.Fatalf("%d attempts", len(atts))
	}
	equal(t, "recorded attempt", atts[0], att, normAttempt)
	und, err := s.EventListUndelivered(ctx(t), store.EventListParams{Limit: 10})
	wantErr(t, "EventListUndelivered", err, nil)
	if len(und) != 0 {
		t.Errorf("a recorded event is undelivered: %+v", und)
	}
	for _, st := range []store.EventState{store.EventPending, store.EventRetrying} {
		e := ev
		e.State = st
		a := att
		if err := s.Tx(ctx(t), func(tx store.Tx) error { return tx.EventInsertRecorded(ctx(t), &e, &a) }); err == nil {
			t.Errorf("EventInsertRecorded accepted state %s", st)
		}
	}
}
