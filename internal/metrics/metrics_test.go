package metrics

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/store"
	"github.com/roomd/roomd/internal/webhook/dispatcher"
)

// TestObserveRESTCountsEachChild checks that ObserveREST, which keeps the counters it has
// used, counts every call under its own api and code, from concurrent callers.
func TestObserveRESTCountsEachChild(t *testing.T) {
	m := New(func() dispatcher.Stats { return dispatcher.Stats{} },
		func(context.Context) (store.EventStats, error) { return store.EventStats{}, nil }, time.Now)
	calls := []struct {
		api  string
		code int
	}{{"live_engine_http_srv/change_room_owner", 0}, {"live_engine_http_srv/change_room_owner", 100004}, {"unknown", 60009}, {"live_engine_http_srv/create_room", 0}}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				for _, c := range calls {
					m.ObserveREST(c.api, c.code, time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	families, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "roomd_rest_requests_total" {
			continue
		}
		for _, mt := range f.GetMetric() {
			var api, code string
			for _, l := range mt.GetLabel() {
				switch l.GetName() {
				case "api":
					api = l.GetValue()
				case "code":
					code = l.GetValue()
				}
			}
			got[api+" "+code] = mt.GetCounter().GetValue()
		}
	}
	if len(got) != len(calls) {
		t.Errorf("children %v, want one per call shape", got)
	}
	for _, c := range calls {
		if n := got[c.api+" "+strconv.Itoa(c.code)]; n != 400 {
			t.Errorf("%s %d: counted %v, want 400", c.api, c.code, n)
		}
	}
}
