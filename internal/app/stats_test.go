package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/roomd/roomd/internal/store"
)

// Conformance of get_room_stats.

func TestGetRoomStats(t *testing.T) {
	e := startWithRoomCallbacks(t, "stats")
	e.create(map[string]any{"RoomId": "s1"})
	e.create(map[string]any{"RoomId": "s2"})
	for _, api := range []string{"get_room_stats", "get_room_statistic"} {
		t.Run(api, func(t *testing.T) {
			e.runCases(t, api, []string{"s1"}, []confCase{
				{name: "fresh room: all zero", body: `{"RoomId":"s2"}`, golden: "get_room_stats_zero"},
				{name: "RoomId missing", body: `{}`, code: 100002},
				{name: "RoomId 49 bytes", body: `{"RoomId":"` + rep("s", 49) + `"}`, code: 100002},
				{name: "RoomId not a string", body: `{"RoomId":1}`, code: 100002},
				{name: "room does not exist", body: `{"RoomId":"nope"}`, code: 100004},
				{name: "body not JSON", body: `RoomId=s1`, code: 60003},
			})
		})
	}
	// The counters: viewers are the room's ViewCount, the rest live in room_stats (fed by
	// messages, gifts and likes).
	e.tx(func(ctx context.Context, tx store.Tx) error {
		for f, d := range map[store.StatField]int64{store.StatViewers: 3, store.StatGiftsSent: 2, store.StatGiftCoins: 100,
			store.StatUniqueGiftSenders: 1, store.StatLikesReceived: 9, store.StatMsgCount: 5} {
			if err := tx.RoomStatsIncr(ctx, testApp, "s1", f, d); err != nil {
				return err
			}
		}
		return nil
	})
	a := mustOK(t, e.call(svc+"get_room_stats", `{"RoomId":"s1"}`))
	b := mustOK(t, e.call(svc+"get_room_statistic", `{"RoomId":"s1"}`))
	if string(a.Response) != string(b.Response) {
		t.Errorf("the alias answers differently: %s vs %s", a.Response, b.Response)
	}
	e.golden(t, "get_room_stats_counted", normalizeReply(a.Raw))
	if !strings.Contains(string(e.roomInfo(t, "s1").Response), `"ViewCount":3`) {
		t.Error("TotalViewers is not the room's ViewCount")
	}
	// destroy_room answers the same counters.
	env := mustOK(t, e.call(svc+"destroy_room", `{"RoomId":"s1"}`))
	if want := `{"Statistic":` + string(a.Response) + `}`; string(env.Response) != want {
		t.Errorf("destroy_room Response %s, want %s", env.Response, want)
	}
	// A room created again under the same id starts from zero.
	e.create(map[string]any{"RoomId": "s1"})
	env = mustOK(t, e.call(svc+"get_room_stats", `{"RoomId":"s1"}`))
	if !strings.Contains(string(env.Response), `"TotalMsgCount":0`) || !strings.Contains(string(env.Response), `"TotalViewers":0`) {
		t.Errorf("stats of a re-created room: %s", env.Response)
	}
}
