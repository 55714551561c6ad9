package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/roomd/roomd/internal/store"
)

// Conformance of create_room, update_room_info and get_room_list.

func TestCreateRoom(t *testing.T) {
	e := startWithRoomCallbacks(t, "rooms")
	e.importAccounts("anchor1", "anchor2")
	infoGolden := func(id, golden string) func(t *testing.T, env envelope) {
		return func(t *testing.T, _ envelope) {
			e.golden(t, golden, normalizeReply(e.roomInfo(t, id).Raw))
		}
	}
	room := func(kv ...any) map[string]any {
		info := map[string]any{"RoomType": "Live"}
		for i := 0; i < len(kv); i += 2 {
			info[kv[i].(string)] = kv[i+1]
		}
		return map[string]any{"RoomInfo": info}
	}
	watch := []string{"gen-2024"}
	e.runCases(t, "create_room", watch, []confCase{
		// The three generations of the body Tencent's create_room pages have documented
		// (https://www.tencentcloud.com/document/product/647/63401 and its mirrors): 2024 with
		// MaxMemberCount/IsSeatEnabled, 2025 adding IsUnlimitedRoomEnabled and
		// SeatLayoutTemplateId, 2026 with SeatTemplate.
		{name: "2024 generation", body: room("RoomId", "gen-2024", "Owner_Account", "anchor1", "RoomName", "Old style",
			"MaxMemberCount", 300, "IsSeatEnabled", true, "TakeSeatMode", 2, "IsMessageDisabled", true, "CoverURL", "https://x/c.png",
			"Category", []int{1, 2}, "ActivityStatus", 3, "IsPublicVisible", false, "MaxSeatCount", 6),
			golden: "create_room_reply", check: infoGolden("gen-2024", "create_room_2024_info")},
		{name: "2025 generation", body: room("RoomId", "gen-2025", "Owner_Account", "anchor1", "TakeSeatMode", "ApplyToTake",
			"IsUnlimitedRoomEnabled", true, "SeatLayoutTemplateId", 600),
			check: infoGolden("gen-2025", "create_room_2025_info")},
		{name: "2026 generation", body: `{"RoomInfo": {"RoomId": "live-100", "RoomType": "Live", "SeatTemplate": "VideoDynamicGrid9Seats",
  "Owner_Account": "anchor1", "RoomName": "My live", "CoverURL": "https://example.com/c.png",
  "Category": [1, 2], "IsPublicVisible": true, "TakeSeatMode": "ApplyToTake",
  "IsUnlimitedRoomEnabled": true}}`, check: infoGolden("live-100", "create_room_2026_info")},
		{name: "2026 audio salon", body: room("RoomId", "salon", "SeatTemplate", "AudioSalon", "KeepOwnerOnSeat", false, "MaxSeatCount", 12),
			check: infoGolden("salon", "create_room_salon_info")},
		{name: "Manager's landscape spelling", body: room("RoomId", "landscape", "SeatTemplate", "VideoLandscape4Seat")},
		{name: "no owner: the calling admin", body: room("RoomId", "by-admin"), check: func(t *testing.T, _ envelope) {
			if !strings.Contains(string(e.roomInfo(t, "by-admin").Response), `"Owner_Account":"admin"`) {
				t.Error("owner is not the calling admin")
			}
		}},
		// Limits at and past the boundary.
		{name: "RoomId 48 bytes", body: room("RoomId", rep("i", 48))},
		{name: "RoomId 49 bytes", body: room("RoomId", rep("j", 49)), code: 100002},
		{name: "RoomName 100 bytes", body: room("RoomId", "name100", "RoomName", rep("n", 100))},
		{name: "RoomName 101 bytes", body: room("RoomId", "name101", "RoomName", rep("n", 101)), code: 100002},
		{name: "RoomName 100 bytes of CJK is 99 bytes", body: room("RoomId", "name-cjk", "RoomName", strings.Repeat("直", 33))},
		{name: "RoomName 34 CJK is 102 bytes", body: room("RoomId", "name-cjk2", "RoomName", strings.Repeat("直", 34)), code: 100002},
		{name: "CoverURL 200 bytes", body: room("RoomId", "cover200", "CoverURL", rep("c", 200))},
		{name: "CoverURL 201 bytes", body: room("RoomId", "cover201", "CoverURL", rep("c", 201)), code: 100002},
		{name: "Category 3 entries", body: room("RoomId", "cat3", "Category", []int{1, 2, 3})},
		{name: "Category 4 entries", body: room("RoomId", "cat4", "Category", []int{1, 2, 3, 4}), code: 100002},
		{name: "Notice 100 bytes", body: room("RoomId", "notice100", "Notice", rep("x", 100))},
		{name: "Notice 101 bytes", body: room("RoomId", "notice101", "Notice", rep("x", 101)), code: 100002},
		{name: "MaxMemberCount 0", body: room("RoomId", "members0", "MaxMemberCount", 0)},
		{name: "MaxMemberCount negative", body: room("RoomId", "members-1", "MaxMemberCount", -1), code: 100002},
		// Every other documented error.
		{name: "RoomId missing", body: room(), code: 100002},
		{name: "RoomType missing", body: `{"RoomInfo":{"RoomId":"no-type"}}`, code: 100002},
		{name: "RoomType Conference", body: room("RoomId", "conf", "RoomType", "Conference"), code: 100002},
		{name: "RoomInfo missing", body: `{"RoomId":"flat"}`, code: 100002},
		{name: "TakeSeatMode 3", body: room("RoomId", "tsm3", "TakeSeatMode", 3), code: 100002},
		{name: "TakeSeatMode unknown", body: room("RoomId", "tsm-x", "TakeSeatMode", "Sometimes"), code: 100002},
		{name: "SeatTemplate unknown", body: room("RoomId", "tpl-x", "SeatTemplate", "Stadium"), code: 100002},
		{name: "Category not integers", body: room("RoomId", "cat-s", "Category", []string{"a"}), code: 100002},
		{name: "owner not imported", body: room("RoomId", "ghost-room", "Owner_Account", "ghost"), code: 70107},
		{name: "owner not a string", body: room("RoomId", "num-owner", "Owner_Account", 7), code: 60015},
		{name: "body not JSON", body: `{"RoomInfo":`, code: 60003},
		{name: "same id, same owner", body: room("RoomId", "gen-2024", "Owner_Account", "anchor1"), code: 100010},
		{name: "same id, other owner", body: room("RoomId", "gen-2024", "Owner_Account", "anchor2"), code: 100003},
	})
	// The create callback of the oldest generation carries its fields.
	// Callbacks of different rooms may arrive in any order; pick the room's.
	cb := e.callbackWith(t, cmdCreate, `"RoomId":"gen-2024"`)
	e.golden(t, "create_room_2024_callback", renderCallbacks([]callbackRequest{cb}))
}

func TestUpdateRoomInfo(t *testing.T) {
	e := startWithRoomCallbacks(t, "rooms")
	e.importAccounts("anchor1")
	e.create(map[string]any{"RoomId": "u1", "Owner_Account": "anchor1", "TakeSeatMode": "ApplyToTake", "Category": []int{1},
		"CoverURL": "c0", "MaxMemberCount": 100, "CustomInfo": "ci", "Notice": "n0"})
	upd := func(kv ...any) map[string]any {
		info := map[string]any{"RoomId": "u1"}
		for i := 0; i < len(kv); i += 2 {
			info[kv[i].(string)] = kv[i+1]
		}
		return map[string]any{"RoomInfo": info}
	}
	infoGolden := func(golden string) func(t *testing.T, env envelope) {
		return func(t *testing.T, _ envelope) { e.golden(t, golden, normalizeReply(e.roomInfo(t, "u1").Raw)) }
	}
	wantCallbacks := func(n int) func(t *testing.T, env envelope) {
		return func(t *testing.T, _ envelope) {
			if got := len(e.events(cmdUpdate)); got != n {
				t.Errorf("%d update callbacks stored, want %d", got, n)
			}
		}
	}
	watch := []string{"u1"}
	e.runCases(t, "update_room_info", watch, []confCase{
		{name: "only RoomName changes", body: upd("RoomName", "new name"), golden: "update_room_info_reply", check: func(t *testing.T, env envelope) {
			infoGolden("update_room_info_name_only")(t, env)
			wantCallbacks(1)(t, env)
		}},
		{name: "every updatable field, TakeSeatMode as integer", body: upd("RoomName", "all", "MaxMemberCount", 500,
			"IsMessageDisabled", true, "CoverURL", rep("c", 200), "Category", []int{7, 8, 9}, "ActivityStatus", 2,
			"IsPublicVisible", false, "TakeSeatMode", 1, "Notice", rep("n", 100), "CustomInfo", `{"k":"v"}`,
			"IsUnlimitedRoomEnabled", true, "BackgroundURL", "https://x/bg.png"),
			check: func(t *testing.T, env envelope) {
				infoGolden("update_room_info_all_fields")(t, env)
				wantCallbacks(2)(t, env)
			}},
		{name: "TakeSeatMode as string", body: upd("TakeSeatMode", "ApplyToTake"), check: func(t *testing.T, env envelope) {
			if !strings.Contains(string(e.roomInfo(t, "u1").Response), `"TakeSeatMode":"ApplyToTake"`) {
				t.Error("TakeSeatMode not changed")
			}
			wantCallbacks(3)(t, env)
		}},
		{name: "only RoomId: nothing to change, no callback", body: upd(), check: wantCallbacks(3)},
		{name: "fields that are not updatable are ignored", body: upd("RoomType", "Conference", "SeatTemplate", "Karaoke", "MaxSeatCount", 99),
			check: func(t *testing.T, env envelope) {
				infoGolden("update_room_info_ignored")(t, env)
				wantCallbacks(3)(t, env)
			}},
		{name: "empty RoomName resets to the RoomId", body: upd("RoomName", ""), check: func(t *testing.T, env envelope) {
			if !strings.Contains(string(e.roomInfo(t, "u1").Response), `"RoomName":"u1"`) {
				t.Error("RoomName not reset to the RoomId")
			}
			wantCallbacks(4)(t, env)
		}},
		{name: "Category back to empty", body: upd("Category", []int{}), check: func(t *testing.T, env envelope) {
			if !strings.Contains(string(e.roomInfo(t, "u1").Response), `"Category":[]`) {
				t.Error("Category not emptied")
			}
		}},
		{name: "RoomName 100 bytes", body: upd("RoomName", rep("r", 100))},
		{name: "RoomName 101 bytes", body: upd("RoomName", rep("r", 101)), code: 100002},
		{name: "CoverURL 201 bytes", body: upd("CoverURL", rep("c", 201)), code: 100002},
		{name: "Category 4 entries", body: upd("Category", []int{1, 2, 3, 4}), code: 100002},
		{name: "Notice 101 bytes", body: upd("Notice", rep("n", 101)), code: 100002},
		{name: "Notice 101 bytes with a valid name", body: upd("RoomName", "fine", "Notice", rep("n", 101)), code: 100002},
		{name: "MaxMemberCount negative", body: upd("MaxMemberCount", -1), code: 100002},
		{name: "TakeSeatMode 3", body: upd("TakeSeatMode", 3), code: 100002},
		{name: "TakeSeatMode unknown", body: upd("TakeSeatMode", "Sometimes"), code: 100002},
		{name: "MaxMemberCount not a number", body: upd("MaxMemberCount", "many"), code: 100002},
		{name: "RoomId missing", body: `{"RoomInfo":{"RoomName":"x"}}`, code: 100002},
		{name: "RoomId 49 bytes", body: `{"RoomInfo":{"RoomId":"` + rep("i", 49) + `","RoomName":"x"}}`, code: 100002},
		{name: "RoomInfo missing", body: `{"RoomId":"u1","RoomName":"x"}`, code: 100002},
		{name: "room does not exist", body: `{"RoomInfo":{"RoomId":"nope","RoomName":"x"}}`, code: 100004},
		{name: "body not JSON", body: `{"RoomInfo":{`, code: 60003},
	})
	cbs := e.callbacksOf(t, cmdUpdate, 5)
	e.golden(t, "update_room_info_callbacks", renderCallbacks(cbs[:2]))
}

func TestGetRoomList(t *testing.T) {
	e := startWithRoomCallbacks(t, "rooms")
	// 25 public rooms with view counts 0..24 in a scrambled order, two hidden ones with the
	// highest counts, and one made hidden by update_room_info.
	views := map[string]int64{}
	for i := range 25 {
		id := fmt.Sprintf("l%02d", i)
		e.create(map[string]any{"RoomId": id})
		views[id] = int64((i * 7) % 25)
	}
	views["l03"] = views["l04"] // a tie: room id decides
	e.create(map[string]any{"RoomId": "hidden1", "IsPublicVisible": false})
	e.create(map[string]any{"RoomId": "hidden2", "IsPublicVisible": false})
	views["hidden1"], views["hidden2"] = 100, 101
	e.tx(func(ctx context.Context, tx store.Tx) error {
		for id, v := range views {
			if err := tx.RoomStatsIncr(ctx, testApp, id, store.StatViewers, v); err != nil {
				return err
			}
		}
		return nil
	})
	mustOK(t, e.call(svc+"update_room_info", `{"RoomInfo":{"RoomId":"l24","IsPublicVisible":false}}`))
	var want []string
	for id := range views {
		if !strings.HasPrefix(id, "hidden") && id != "l24" {
			want = append(want, id)
		}
	}
	sort.Slice(want, func(i, j int) bool {
		a, b := want[i], want[j]
		if views[a] != views[b] {
			return views[a] > views[b]
		}
		return a < b // same creation second
	})
	ascWant := slices.Clone(want)
	slices.Reverse(ascWant)

	type page struct {
		Next     string
		RoomList []struct {
			RoomId    string
			ViewCount int64
		}
	}
	list := func(t *testing.T, body any) page {
		t.Helper()
		env := mustOK(t, e.call(svc+"get_room_list", body))
		var p page
		if err := json.Unmarshal(env.Response, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	walk := func(t *testing.T, first string, count any, dir string) ([]string, []int) {
		t.Helper()
		var ids []string
		var sizes []int
		next := first
		for range 30 {
			body := map[string]any{"Next": next}
			if count != nil {
				body["Count"] = count
			}
			if dir != "" {
				body["SortDirection"] = dir
			}
			p := list(t, body)
			sizes = append(sizes, len(p.RoomList))
			for _, r := range p.RoomList {
				ids = append(ids, r.RoomId)
				if r.ViewCount != views[r.RoomId] {
					t.Errorf("%s ViewCount %d, want %d", r.RoomId, r.ViewCount, views[r.RoomId])
				}
			}
			if p.Next == "" {
				return ids, sizes
			}
			next = p.Next
		}
		t.Fatal("paging does not end")
		return nil, nil
	}
	for _, c := range []struct {
		name  string
		first string
		count any
		dir   string
		want  []string
		sizes []int
	}{
		{"default count from empty Next", "", nil, "", want, []int{20, 4}},
		{"Manager's Next 0", "0", nil, "", want, []int{20, 4}},
		{"Count 0 is the default", "", 0, "", want, []int{20, 4}},
		{"Count 5", "", 5, "", want, []int{5, 5, 5, 5, 4}},
		{"Count 20 (the maximum)", "", 20, "", want, []int{20, 4}},
		{"Count 21 is served as 20", "", 21, "", want, []int{20, 4}},
		{"Count 24: all in one page", "", 24, "", want, []int{20, 4}},
		{"Count 1", "", 1, "", want, slices.Repeat([]int{1}, 24)},
		{"ascend", "", 7, "ascend", ascWant, []int{7, 7, 7, 3}},
		{"descend named", "", 12, "descend", want, []int{12, 12}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ids, sizes := walk(t, c.first, c.count, c.dir)
			if !slices.Equal(ids, c.want) {
				t.Errorf("rooms %v\nwant  %v", ids, c.want)
			}
			if !slices.Equal(sizes, c.sizes) {
				t.Errorf("page sizes %v, want %v", sizes, c.sizes)
			}
		})
	}

	first := list(t, map[string]any{"Next": "", "Count": 2})
	ascFirst := list(t, map[string]any{"Next": "", "Count": 2, "SortDirection": "ascend"})
	tampered := []byte(first.Next)
	tampered[3] ^= 1
	e.runCases(t, "get_room_list", []string{"l00"}, []confCase{
		{name: "golden first page", body: `{"Next":"","Count":2}`, golden: "get_room_list_reply"},
		{name: "second page from the cursor", body: map[string]any{"Next": first.Next, "Count": 2}, check: func(t *testing.T, env envelope) {
			var p page
			json.Unmarshal(env.Response, &p)
			if len(p.RoomList) != 2 || p.RoomList[0].RoomId != want[2] {
				t.Errorf("second page %s", env.Response)
			}
		}},
		{name: "Count missing", body: `{"Next":""}`},
		{name: "Count negative", body: `{"Next":"","Count":-1}`, code: 100002},
		{name: "Count not a number", body: `{"Next":"","Count":"20"}`, code: 100002},
		{name: "Next not a string", body: `{"Next":0,"Count":20}`, code: 100002},
		{name: "Next tampered", body: map[string]any{"Next": string(tampered), "Count": 2}, code: 100002},
		{name: "Next made up", body: `{"Next":"abc","Count":2}`, code: 100002},
		{name: "Next is a room id", body: `{"Next":"l05","Count":2}`, code: 100002},
		{name: "Next of the other direction", body: map[string]any{"Next": ascFirst.Next, "Count": 2}, code: 100002},
		{name: "SortDirection unknown", body: `{"Next":"","SortDirection":"sideways"}`, code: 100002},
		{name: "body not JSON", body: `[]`, code: 60003},
	})

	// An app without public rooms answers an empty list, not null.
	e2 := startWithRoomCallbacks(t, "rooms")
	env := mustOK(t, e2.call(svc+"get_room_list", `{"Next":"","Count":20}`))
	if string(env.Response) != `{"Next":"","RoomList":[]}` {
		t.Errorf("empty list: %s", env.Response)
	}
}
