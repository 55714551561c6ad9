package app_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// The room quota and its threshold callback, the per-API rate limits, and create_room's
// once-per-second rule.

func TestRoomQuotaThreshold(t *testing.T) {
	e := startWithRoomCallbacks(t, "rooms", withRoomQuota(10))
	thresholds := func() int { return len(e.events(cmdThreshold)) }
	// 6 of 10 rooms is under 70 %: no alert.
	for i := range 6 {
		e.create(map[string]any{"RoomId": fmt.Sprintf("q%d", i)})
	}
	if n := thresholds(); n != 0 {
		t.Fatalf("%d threshold callbacks below 70 %%", n)
	}
	// The 7th room reaches 70 %, and every creation above it alerts again.
	for i := 6; i < 10; i++ {
		e.create(map[string]any{"RoomId": fmt.Sprintf("q%d", i)})
		if n := thresholds(); n != i-5 {
			t.Fatalf("after room %d: %d threshold callbacks, want %d", i+1, n, i-5)
		}
	}
	e.runCases(t, "create_room", []string{"q0"}, []confCase{
		{name: "beyond the quota", body: `{"RoomInfo":{"RoomId":"q10","RoomType":"Live"}}`, code: 100007},
	})
	// Room ids are released with their room: after a destroy there is room for one more.
	mustOK(t, e.call(svc+"destroy_room", `{"RoomId":"q0"}`))
	e.create(map[string]any{"RoomId": "q10"})
	evs := e.events(cmdThreshold)
	if len(evs) != 5 || !strings.Contains(string(evs[4].Body), `"CurRoomCount":10,"MaxRoomCount":10`) {
		t.Errorf("threshold callbacks %d, last %s", len(evs), evs[len(evs)-1].Body)
	}
	// The callback of the 7th room follows that room's create callback (same ordering key).
	first := e.callbackWith(t, cmdThreshold, `"CurRoomCount":7`)
	e.golden(t, "room_threshold_callback", renderCallbacks([]callbackRequest{first}))
	var createAt, thresholdAt int = -1, -1
	for i, r := range e.rc.All() {
		if r.Command == cmdCreate && strings.Contains(string(r.Body), `"RoomId":"q6"`) {
			createAt = i
		}
		if r.Command == cmdThreshold && strings.Contains(string(r.Body), `"CurRoomCount":7`) {
			thresholdAt = i
		}
	}
	if createAt < 0 || thresholdAt < createAt {
		t.Errorf("create of q6 at %d, its threshold callback at %d", createAt, thresholdAt)
	}
}

func TestNoQuotaNoThreshold(t *testing.T) {
	e := startWithRoomCallbacks(t, "rooms")
	for i := range 12 {
		e.create(map[string]any{"RoomId": fmt.Sprintf("r%d", i)})
	}
	if n := len(e.events(cmdThreshold)); n != 0 {
		t.Errorf("%d threshold callbacks without a quota", n)
	}
}

func TestRateLimits(t *testing.T) {
	e := startWithRoomCallbacks(t, "rooms", withRateLimits(map[string]int{"live_engine_http_srv/get_robot": 2}))
	// The clock stands still, so every call falls in one window. An empty body is rejected
	// after the limiter counted the call, which keeps the test fast.
	for _, c := range []struct {
		api   string
		limit int
	}{
		{"get_room_list", 10},
		{"get_room_stats", 100},
		{"get_room_statistic", 100},
		{"add_robot", 100},
		{"del_robot", 100},
		{"get_robot", 2}, // the app's override
		{"update_room_info", 200},
		{"set_room_metadata", 200},
		{"get_room_metadata", 200},
		{"del_room_metadata", 200},
	} {
		t.Run(c.api, func(t *testing.T) {
			for i := range c.limit {
				if env := e.call(svc+c.api, `{}`); env.ErrorCode == 60007 {
					t.Fatalf("call %d of %d limited: %s", i+1, c.limit, env.Raw)
				}
			}
			mustFail(t, e.call(svc+c.api, `{}`), 60007)
		})
	}
	// The next second opens a new window.
	e.clk.Advance(time.Second)
	if env := e.call(svc+"get_room_list", `{}`); env.ErrorCode != 0 {
		t.Errorf("after a second: %s", env.Raw)
	}
}

func TestRateLimitsOff(t *testing.T) {
	e := startWithRoomCallbacks(t, "rooms") // the test apps run with rate_limit: {enabled: false}
	for i := range 30 {
		mustOK(t, e.call(svc+"get_room_list", `{}`))
		if i < 3 {
			mustOK(t, e.call(svc+"create_room", `{"RoomInfo":{"RoomId":"same","RoomType":"Live"}}`))
			mustOK(t, e.call(svc+"destroy_room", `{"RoomId":"same"}`))
		}
	}
}

func TestCreateSameRoomIDWithinASecond(t *testing.T) {
	e := startWithRoomCallbacks(t, "rooms", withRateLimits(nil))
	e.importAccounts("anchor1")
	create := `{"RoomInfo":{"RoomId":"r1","RoomType":"Live","Owner_Account":"anchor1"}}`
	mustOK(t, e.call(svc+"create_room", create))
	e.runCases(t, "create_room", []string{"r1"}, []confCase{
		{name: "again at once", body: create, code: 100012},
	})
	e.clk.Advance(999 * time.Millisecond)
	mustFail(t, e.call(svc+"create_room", create), 100012)
	e.clk.Advance(time.Millisecond)
	mustFail(t, e.call(svc+"create_room", create), 100010) // a second later: the room exists
	// Destroyed and created again within a second of the last creation.
	mustOK(t, e.call(svc+"destroy_room", `{"RoomId":"r1"}`))
	mustOK(t, e.call(svc+"create_room", create))
	mustOK(t, e.call(svc+"destroy_room", `{"RoomId":"r1"}`))
	e.runCases(t, "create_room", nil, []confCase{
		{name: "re-created within a second", body: create, code: 100012},
	})
	// Other room ids are not held.
	mustOK(t, e.call(svc+"create_room", `{"RoomInfo":{"RoomId":"r2","RoomType":"Live"}}`))
	// A failed creation does not hold its id.
	mustFail(t, e.call(svc+"create_room", `{"RoomInfo":{"RoomId":"r3","RoomType":"Live","Owner_Account":"ghost"}}`), 70107)
	mustOK(t, e.call(svc+"create_room", `{"RoomInfo":{"RoomId":"r3","RoomType":"Live"}}`))
}
