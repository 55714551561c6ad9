package storetest

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/roomd/roomd/internal/store"
)

// testEventOrder pins the invariant the dispatcher's loader relies on (see
// store.Tx.EventInsert): event ids are assigned in commit order. While concurrent Tx calls
// insert events (some of them failing and rolled back), readers check that
//
//   - a Tx that returned before another was called has only smaller ids;
//   - no event appears in EventListUndelivered with an id below one already seen there;
//   - a reader that pages with a cursor (AfterID = the highest id it has seen), as the
//     dispatcher's loader does, misses no committed event;
//   - nothing a failed Tx inserted is ever visible.
//
// The SQLite driver keeps the invariant because it has one writer. The PostgreSQL driver
// keeps it, across several processes on one database too, by serializing the group
// transactions of every process under one lock taken before their first insert (a plain
// sequence would not do: values are taken before commit, by concurrent transactions, and
// commit in any order). Cluster runs the same case with writers on two stores of one
// database (eventOrder).
func testEventOrder(t *testing.T, h *Harness) {
	s := h.Fresh(t)
	eventOrder(t, []store.Store{s}, s)
}

// eventOrder runs the EventOrder case: the writers spread over the stores of writers (each
// writer goroutine uses writers[w%len(writers)]), the readers read s.
func eventOrder(t *testing.T, writeStores []store.Store, s store.Store) {
	c := t.Context()
	const (
		writers   = 8
		perWriter = 40
	)
	created := base

	// call is one Tx call: when it started and returned on a shared counter, and the ids
	// and tags it inserted.
	type call struct {
		start, end int64
		ids        []int64
		afters     []int64 // store.Event.After of each event
		failed     bool
		tags       []string
	}
	var (
		seq      atomic.Int64
		mu       sync.Mutex
		calls    []call
		failTags = map[string]bool{}
		errFail  = errors.New("storetest: this call fails on purpose")
	)

	var readErr atomic.Value // first violation seen by a reader
	report := func(format string, args ...any) { readErr.CompareAndSwap(nil, fmt.Sprintf(format, args...)) }
	stop := make(chan struct{})
	var readers sync.WaitGroup

	// The full reader: every undelivered event, again and again.
	seenMax := int64(0)
	seen := map[int64]bool{}
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			evs, err := s.EventListUndelivered(c, store.EventListParams{Limit: writers * perWriter * 4})
			if err != nil {
				report("EventListUndelivered: %v", err)
				return
			}
			prevMax := seenMax
			for i, e := range evs {
				if i > 0 && e.ID <= evs[i-1].ID {
					report("EventListUndelivered out of id order: %d after %d", e.ID, evs[i-1].ID)
				}
				if !seen[e.ID] && e.ID < prevMax {
					report("event %d appeared after event %d had been seen: ids are not in commit order", e.ID, prevMax)
				}
				seen[e.ID] = true
				seenMax = max(seenMax, e.ID)
			}
		}
	})

	// The cursor reader: pages as the dispatcher's loader does.
	paged := map[int64]string{}
	cursor := int64(0)
	page := func() error {
		for {
			evs, err := s.EventListUndelivered(c, store.EventListParams{AfterID: cursor, Limit: 7})
			if err != nil {
				return err
			}
			for _, e := range evs {
				paged[e.ID] = string(e.Body)
				cursor = e.ID
			}
			if len(evs) < 7 {
				return nil
			}
		}
	}
	readers.Go(func() {
		if err := untilClosed(stop, page); err != nil {
			report("EventListUndelivered with a cursor: %v", err)
		}
	})

	var writersWG sync.WaitGroup
	for w := range writers {
		writersWG.Go(func() {
			for i := range perWriter {
				fail := i%5 == 4
				n := 1 + (w+i)%3 // one to three events per call
				var cl call
				cl.failed = fail
				cl.start = seq.Add(1)
				err := writeStores[w%len(writeStores)].Tx(c, func(tx store.Tx) error {
					cl.ids, cl.afters, cl.tags = cl.ids[:0], cl.afters[:0], cl.tags[:0] // a driver may run fn again
					for k := range n {
						tag := fmt.Sprintf("w%d-c%d-e%d", w, i, k)
						e := store.Event{App: app, RoomID: fmt.Sprintf("order-%d", w), Command: "Live.CallbackAfterChangeOwner",
							Body:      []byte(fmt.Sprintf(`{"Tag":%q}`, tag)),
							CreatedAt: created, State: store.EventPending, NextAttemptAt: created}
						if err := tx.EventInsert(c, &e); err != nil {
							return err
						}
						cl.ids = append(cl.ids, e.ID)
						cl.afters = append(cl.afters, e.After)
						cl.tags = append(cl.tags, tag)
					}
					if fail {
						return errFail
					}
					return nil
				})
				cl.end = seq.Add(1)
				if fail != errors.Is(err, errFail) || (!fail && err != nil) {
					report("Tx of writer %d, call %d: %v", w, i, err)
				}
				mu.Lock()
				calls = append(calls, cl)
				if fail {
					for _, tag := range cl.tags {
						failTags[tag] = true
					}
				}
				mu.Unlock()
			}
		})
	}
	writersWG.Wait()
	close(stop)
	readers.Wait()
	if v := readErr.Load(); v != nil {
		t.Fatal(v)
	}

	// After the writers: the cursor reader catches up and must then hold every committed
	// event, none of the failed ones.
	if err := page(); err != nil {
		t.Fatal(err)
	}
	committed := map[int64]string{}
	var afters []eventAfter
	rolledBack := map[int64]bool{}
	for _, cl := range calls {
		if cl.failed {
			for _, id := range cl.ids {
				rolledBack[id] = true
			}
			continue
		}
		for k, id := range cl.ids {
			afters = append(afters, eventAfter{id, cl.afters[k]})
		}
		for i := 1; i < len(cl.ids); i++ {
			if cl.ids[i] <= cl.ids[i-1] {
				t.Errorf("ids within one Tx not increasing: %v", cl.ids)
			}
		}
		for k, id := range cl.ids {
			committed[id] = cl.tags[k]
		}
	}
	if len(paged) != len(committed) {
		t.Errorf("the cursor reader saw %d events, %d were committed: paging by id skipped events", len(paged), len(committed))
	}
	for id, tag := range committed {
		body, ok := paged[id]
		if !ok {
			t.Errorf("event %d (%s) committed but never seen by the cursor reader", id, tag)
			continue
		}
		if want := fmt.Sprintf(`{"Tag":%q}`, tag); body != want {
			t.Errorf("event %d: body %s, want %s", id, body, want)
		}
	}
	for id, body := range paged {
		if _, ok := committed[id]; !ok {
			t.Errorf("event %d (%s) visible but not committed by any successful Tx", id, body)
		}
	}

	checkAfters(t, afters, rolledBack)

	// A call that returned before another began has the smaller ids.
	for _, a := range calls {
		if a.failed || len(a.ids) == 0 {
			continue
		}
		for _, b := range calls {
			if b.failed || len(b.ids) == 0 || a.end >= b.start {
				continue
			}
			if a.ids[len(a.ids)-1] >= b.ids[0] {
				t.Fatalf("a Tx that committed first got id %d, a later one got %d: ids are not in commit order", a.ids[len(a.ids)-1], b.ids[0])
			}
		}
	}
}

// eventAfter is a committed event's id and its store.Event.After.
type eventAfter struct{ id, after int64 }

// checkAfters checks the After of every committed event that has one: it is below the
// event's id, and it is the id of the committed event before it, or the id above that of an
// event of a failed call (the writer's previous event in a transaction, rolled back since).
func checkAfters(t *testing.T, committed []eventAfter, rolledBack map[int64]bool) {
	t.Helper()
	slices.SortFunc(committed, func(a, b eventAfter) int { return cmp.Compare(a.id, b.id) })
	for i, e := range committed {
		if e.after == 0 {
			continue // not known
		}
		if e.after >= e.id {
			t.Errorf("event %d: After %d is not below its id", e.id, e.after)
		}
		if i > 0 {
			prev := committed[i-1].id
			if e.after != prev && !(e.after > prev && rolledBack[e.after]) {
				t.Errorf("event %d: After %d, but the event committed before it is %d", e.id, e.after, prev)
			}
		}
	}
}

// untilClosed runs fn again and again until stop is closed or fn fails, and returns fn's
// error (nil when stop was closed).
func untilClosed(stop <-chan struct{}, fn func() error) error {
	for {
		select {
		case <-stop:
			return nil
		default:
		}
		if err := fn(); err != nil {
			return err
		}
	}
}
