package app_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/roomd/roomd/internal/config"
)

// Conformance of the gift APIs: the configuration set, copy_default_gift_config, send_gift
// and get_gift_count, their rate limits, and the statistics gifts feed. Replies are pinned
// in testdata/gifts.

const (
	cmdBeforeSendGift = "Live.CallbackBeforeSendGift"
	cmdNotBlock       = "Live.CallbackBeforeCallBackNotBlock"
)

// giftSnapshot renders the app's whole gift configuration (get_gift_info_list) and, for
// each room, the room's part of the usual snapshot.
func (e *confEnv) giftSnapshot(rooms ...string) string {
	e.t.Helper()
	env := e.call(svc+"get_gift_info_list", `{}`)
	return fmt.Sprintf("gifts: %d %s\n%s", env.ErrorCode, env.Response, e.snapshot(rooms...))
}

// runGiftCases runs confCase rows against a gift API; a failing row must leave the gift
// configuration and the rooms' snapshots unchanged.
func (e *confEnv) runGiftCases(t *testing.T, api string, rooms []string, cases []confCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before string
			if c.code != 0 {
				before = e.giftSnapshot(rooms...)
			}
			env := e.call(svc+api, c.body)
			if c.code == 0 {
				mustOK(t, env)
			} else {
				mustFail(t, env, c.code)
				if after := e.giftSnapshot(rooms...); after != before {
					t.Errorf("rejected request changed state:\nbefore:\n%s\nafter:\n%s", before, after)
				}
			}
			if c.golden != "" {
				e.golden(t, c.golden, normalizeReply(env.Raw))
			}
			if c.check != nil {
				c.check(t, env)
			}
		})
	}
}

// startGifts starts roomd for the gift tests with the room callbacks switched on.
func startGifts(t *testing.T, opts ...serverOption) *confEnv {
	t.Helper()
	return startWithRoomCallbacks(t, "gifts", opts...)
}

func TestGiftConfiguration(t *testing.T) {
	e := startGifts(t)
	e.runGiftCases(t, "add_gift", nil, []confCase{
		{name: "all fields", golden: "add_gift", body: `{"GiftId":"rose","IconUrl":"https://x/rose.png","ResourceUrl":"https://x/rose.svga",
			"Coins":10,"Level":2,"ExtensionInfo":"{\"tag\":\"hot\"}","DefaultName":"Rose","DefaultDesc":"a red rose"}`},
		{name: "required fields only", body: `{"GiftId":"car","Coins":0,"DefaultName":"Car"}`},
		{name: "GiftId 20 bytes", body: `{"GiftId":"` + rep("g", 20) + `","Coins":1,"DefaultName":"G"}`},
		{name: "GiftId 21 bytes", body: `{"GiftId":"` + rep("g", 21) + `","Coins":1,"DefaultName":"G"}`, code: 100002},
		{name: "GiftId missing", body: `{"Coins":1,"DefaultName":"G"}`, code: 100002},
		{name: "GiftId taken", body: `{"GiftId":"rose","Coins":1,"DefaultName":"G"}`, code: 100002, golden: "add_gift_taken"},
		{name: "Coins missing", body: `{"GiftId":"x","DefaultName":"G"}`, code: 100002},
		{name: "Coins negative", body: `{"GiftId":"x","Coins":-1,"DefaultName":"G"}`, code: 100002},
		{name: "Coins a string", body: `{"GiftId":"x","Coins":"1","DefaultName":"G"}`, code: 100002},
		{name: "Coins 2^31", body: `{"GiftId":"x","Coins":2147483648,"DefaultName":"G"}`, code: 100002},
		{name: "DefaultName missing", body: `{"GiftId":"x","Coins":1}`, code: 100002},
		{name: "DefaultName 21 bytes", body: `{"GiftId":"x","Coins":1,"DefaultName":"` + rep("n", 21) + `"}`, code: 100002},
		{name: "DefaultDesc 21 bytes", body: `{"GiftId":"x","Coins":1,"DefaultName":"n","DefaultDesc":"` + rep("d", 21) + `"}`, code: 100002},
		{name: "IconUrl 201 bytes", body: `{"GiftId":"x","Coins":1,"DefaultName":"n","IconUrl":"` + rep("i", 201) + `"}`, code: 100002},
		{name: "ResourceUrl 201 bytes", body: `{"GiftId":"x","Coins":1,"DefaultName":"n","ResourceUrl":"` + rep("i", 201) + `"}`, code: 100002},
		{name: "ExtensionInfo not JSON", body: `{"GiftId":"x","Coins":1,"DefaultName":"n","ExtensionInfo":"{x"}`, code: 100002},
		{name: "ExtensionInfo 101 bytes", body: `{"GiftId":"x","Coins":1,"DefaultName":"n","ExtensionInfo":"\"` + rep("e", 99) + `\""}`, code: 100002},
		{name: "body not JSON", body: `GiftId=x`, code: 60003},
	})
	// The 16-gift limit.
	for i := 3; i < 16; i++ {
		mustOK(t, e.call(svc+"add_gift", fmt.Sprintf(`{"GiftId":"g%d","Coins":%d,"DefaultName":"G%d"}`, i, i, i)))
	}
	e.runGiftCases(t, "add_gift", nil, []confCase{
		{name: "17th gift", body: `{"GiftId":"g17","Coins":1,"DefaultName":"G"}`, code: 100002},
	})
	e.runGiftCases(t, "del_gift", nil, []confCase{
		{name: "delete", body: `{"GiftId":"g15"}`},
		{name: "again: nothing to delete", body: `{"GiftId":"g15"}`},
		{name: "GiftId missing", body: `{}`, code: 100002},
	})
	e.runGiftCases(t, "edit_gift", nil, []confCase{
		{name: "some fields", body: `{"GiftId":"car","Coins":500,"IconUrl":"https://x/car.png"}`},
		{name: "unknown gift", body: `{"GiftId":"nope","Coins":1}`, code: 102002, golden: "edit_gift_unknown"},
		{name: "DefaultName emptied", body: `{"GiftId":"car","DefaultName":""}`, code: 100002},
		{name: "Level negative", body: `{"GiftId":"car","Level":-1}`, code: 100002},
	})
	e.runGiftCases(t, "get_gift", nil, []confCase{
		{name: "rose", body: `{"GiftId":"rose"}`, golden: "get_gift"},
		{name: "edited car", body: `{"GiftId":"car"}`, golden: "get_gift_edited"},
		{name: "unknown gift", body: `{"GiftId":"nope"}`, code: 102002},
		{name: "GiftId missing", body: `{}`, code: 100002},
	})
	e.runGiftCases(t, "set_gift_language", nil, []confCase{
		{name: "zh-Hans", body: `{"GiftId":"rose","Language":"zh-Hans","Name":"玫瑰","Desc":"一朵红玫瑰"}`},
		{name: "en name only", body: `{"GiftId":"rose","Language":"en","Name":"Rose"}`},
		{name: "en desc later", body: `{"GiftId":"rose","Language":"en","Desc":"red"}`},
		{name: "first time without Name", body: `{"GiftId":"rose","Language":"zh-Hant","Desc":"x"}`, code: 100002},
		{name: "unknown language", body: `{"GiftId":"rose","Language":"fr","Name":"Rose"}`, code: 100002},
		{name: "Language missing", body: `{"GiftId":"rose","Name":"Rose"}`, code: 100002},
		{name: "Name 21 bytes", body: `{"GiftId":"rose","Language":"en","Name":"` + rep("n", 21) + `"}`, code: 100002},
		{name: "Desc 21 bytes", body: `{"GiftId":"rose","Language":"en","Desc":"` + rep("n", 21) + `"}`, code: 100002},
		{name: "unknown gift", body: `{"GiftId":"nope","Language":"en","Name":"x"}`, code: 102002},
	})
	e.runGiftCases(t, "get_gift_language", nil, []confCase{
		{name: "en", body: `{"GiftId":"rose","Language":"en"}`, golden: "get_gift_language"},
		{name: "never set: empty", body: `{"GiftId":"rose","Language":"zh-Hant"}`, golden: "get_gift_language_unset"},
		{name: "unknown gift", body: `{"GiftId":"nope","Language":"en"}`, code: 102002},
		{name: "unknown language", body: `{"GiftId":"rose","Language":"de"}`, code: 100002},
	})
	e.runGiftCases(t, "add_gift_category", nil, []confCase{
		{name: "hot", body: `{"CategoryId":"hot","DefaultName":"Hot","DefaultDesc":"` + rep("d", 60) + `","ExtensionInfo":"{\"order\":1}"}`},
		{name: "lux", body: `{"CategoryId":"lux","DefaultName":"Luxury"}`},
		{name: "taken", body: `{"CategoryId":"hot","DefaultName":"Hot"}`, code: 100002},
		{name: "DefaultName missing", body: `{"CategoryId":"x"}`, code: 100002},
		{name: "DefaultDesc 61 bytes", body: `{"CategoryId":"x","DefaultName":"X","DefaultDesc":"` + rep("d", 61) + `"}`, code: 100002},
		{name: "CategoryId 21 bytes", body: `{"CategoryId":"` + rep("c", 21) + `","DefaultName":"X"}`, code: 100002},
		{name: "third", body: `{"CategoryId":"fun","DefaultName":"Fun"}`},
		{name: "fourth: over 3", body: `{"CategoryId":"more","DefaultName":"More"}`, code: 100002},
	})
	e.runGiftCases(t, "edit_gift_category", nil, []confCase{
		{name: "rename", body: `{"CategoryId":"fun","DefaultName":"Funny","DefaultDesc":"ha"}`},
		{name: "unknown", body: `{"CategoryId":"nope","DefaultName":"X"}`, code: 100002},
	})
	e.runGiftCases(t, "del_gift_category", nil, []confCase{
		{name: "delete", body: `{"CategoryId":"fun"}`},
		{name: "again", body: `{"CategoryId":"fun"}`},
		{name: "CategoryId missing", body: `{}`, code: 100002},
	})
	e.runGiftCases(t, "get_gift_category", nil, []confCase{
		{name: "hot", body: `{"CategoryId":"hot"}`, golden: "get_gift_category"},
		{name: "deleted", body: `{"CategoryId":"fun"}`, code: 100002},
	})
	e.runGiftCases(t, "set_gift_category_language", nil, []confCase{
		{name: "zh-Hans", body: `{"CategoryId":"hot","Language":"zh-Hans","CategoryName":"热门","CategoryDesc":"大家都爱"}`},
		{name: "first time without name", body: `{"CategoryId":"hot","Language":"en","CategoryDesc":"x"}`, code: 100002},
		{name: "unknown category", body: `{"CategoryId":"nope","Language":"en","CategoryName":"x"}`, code: 100002},
	})
	e.runGiftCases(t, "get_gift_category_language", nil, []confCase{
		{name: "zh-Hans", body: `{"CategoryId":"hot","Language":"zh-Hans"}`, golden: "get_gift_category_language"},
		{name: "unknown category", body: `{"CategoryId":"nope","Language":"en"}`, code: 100002},
	})
	e.runGiftCases(t, "add_gift_category_relations", nil, []confCase{
		{name: "with unknown ids", body: `{"CategoryId":"hot","GiftIdList":["rose","nope","car","rose"]}`, golden: "add_gift_category_relations"},
		{name: "again, adds to existing", body: `{"CategoryId":"hot","GiftIdList":["g3"]}`},
		{name: "lux", body: `{"CategoryId":"lux","GiftIdList":["car"]}`},
		{name: "unknown category", body: `{"CategoryId":"nope","GiftIdList":["rose"]}`, code: 100002},
		{name: "GiftIdList missing", body: `{"CategoryId":"hot"}`, code: 100002},
		{name: "GiftIdList not strings", body: `{"CategoryId":"hot","GiftIdList":[1]}`, code: 100002},
	})
	e.runGiftCases(t, "del_gift_category_relations", nil, []confCase{
		{name: "detach", body: `{"CategoryId":"hot","GiftIdList":["g3","nope"]}`},
		{name: "GiftIdList empty", body: `{"CategoryId":"hot","GiftIdList":[]}`, code: 100002},
	})
	e.runGiftCases(t, "del_gift_language", nil, []confCase{
		{name: "zh-Hans", body: `{"GiftId":"rose","Language":"zh-Hans"}`},
		{name: "never set", body: `{"GiftId":"rose","Language":"zh-Hant"}`},
		{name: "unknown language", body: `{"GiftId":"rose","Language":"xx"}`, code: 100002},
	})
	e.runGiftCases(t, "del_gift_category_language", nil, []confCase{
		{name: "never set", body: `{"CategoryId":"hot","Language":"en"}`},
		{name: "Language missing", body: `{"CategoryId":"hot"}`, code: 100002},
	})
	// The whole configuration as the Manager reads it.
	list := mustOK(t, e.call(svc+"get_gift_info_list", `{}`))
	e.golden(t, "get_gift_info_list", normalizeReply(list.Raw))
	// copy_default_gift_config refuses an app that has a configuration.
	e.runGiftCases(t, "copy_default_gift_config", nil, []confCase{
		{name: "app already configured", body: `{}`, code: 100002, golden: "copy_default_gift_config_configured"},
	})
	// Deleting a gift takes it out of its categories and drops its languages.
	mustOK(t, e.call(svc+"del_gift", `{"GiftId":"rose"}`))
	after := string(mustOK(t, e.call(svc+"get_gift_info_list", `{}`)).Response)
	if strings.Contains(after, `"rose"`) || strings.Contains(after, "玫瑰") {
		t.Errorf("rose survives its deletion: %s", after)
	}
}

func TestCopyDefaultGiftConfig(t *testing.T) {
	e := startGifts(t)
	e.runGiftCases(t, "copy_default_gift_config", nil, []confCase{
		{name: "empty app", body: `{}`, golden: "copy_default_gift_config"},
		{name: "again", body: `{}`, code: 100002},
	})
	list := mustOK(t, e.call(svc+"get_gift_info_list", `{}`))
	e.golden(t, "default_gift_info_list", normalizeReply(list.Raw))
	r := response[struct {
		GiftList     []struct{ GiftId string }
		CategoryList []struct{ GiftIdList []string }
		TotalCount   int
	}](t, list)
	if r.TotalCount != 15 || len(r.GiftList) != 15 || len(r.CategoryList) != 3 {
		t.Errorf("default set: %d gifts (TotalCount %d), %d categories; want 15 and 3", len(r.GiftList), r.TotalCount, len(r.CategoryList))
	}
	// The set fills the limits: one more gift fits, no more category does.
	mustOK(t, e.call(svc+"add_gift", `{"GiftId":"extra","Coins":1,"DefaultName":"Extra"}`))
	mustFail(t, e.call(svc+"add_gift_category", `{"CategoryId":"extra","DefaultName":"Extra"}`), 100002)
}

func TestGiftRateLimits(t *testing.T) {
	e := startGifts(t, withRateLimits(map[string]int{"live_engine_http_srv/get_gift": 3}))
	// Every configuration API: 1 call per second, 100012 beyond (an empty body fails after
	// the limiter counted it).
	for _, api := range []string{"add_gift", "edit_gift", "del_gift", "get_gift_info_list", "set_gift_language", "get_gift_language",
		"del_gift_language", "add_gift_category", "edit_gift_category", "del_gift_category", "get_gift_category",
		"set_gift_category_language", "get_gift_category_language", "del_gift_category_language",
		"add_gift_category_relations", "del_gift_category_relations"} {
		t.Run(api, func(t *testing.T) {
			if env := e.call(svc+api, `{}`); env.ErrorCode == 100012 {
				t.Fatalf("first call limited: %s", env.Raw)
			}
			env := e.call(svc+api, `{}`)
			mustFail(t, env, 100012)
			if api == "add_gift" {
				e.golden(t, "add_gift_too_frequent", normalizeReply(env.Raw))
			}
		})
	}
	// The app's override.
	for range 3 {
		if env := e.call(svc+"get_gift", `{}`); env.ErrorCode == 100012 {
			t.Fatalf("get_gift limited under its override: %s", env.Raw)
		}
	}
	mustFail(t, e.call(svc+"get_gift", `{}`), 100012)
	// copy_default_gift_config: 1 per 10 seconds.
	mustOK(t, e.call(svc+"copy_default_gift_config", `{}`))
	e.clk.Advance(9999 * time.Millisecond)
	env := e.call(svc+"copy_default_gift_config", `{}`)
	mustFail(t, env, 100012)
	e.golden(t, "copy_default_gift_config_too_frequent", normalizeReply(env.Raw))
	e.clk.Advance(time.Millisecond)
	mustFail(t, e.call(svc+"copy_default_gift_config", `{}`), 100002) // allowed through: already configured
	// send_gift and get_gift_count: 200 per second.
	for _, api := range []string{"send_gift", "get_gift_count"} {
		for i := range 200 {
			if env := e.call(svc+api, `{}`); env.ErrorCode == 60007 {
				t.Fatalf("%s call %d limited", api, i+1)
			}
		}
		mustFail(t, e.call(svc+api, `{}`), 60007)
	}
}

// withGiftCallback switches Live.CallbackBeforeSendGift on with timeout; notBlock also
// switches on Live.CallbackBeforeCallBackNotBlock.
func withGiftCallback(timeout time.Duration, notBlock bool) serverOption {
	return func(c *config.Config) {
		cb := c.Apps[0].Callback
		cb.Commands = append(cb.Commands, cmdBeforeSendGift)
		if notBlock {
			cb.Commands = append(cb.Commands, cmdNotBlock)
		}
		cb.Timeout = timeout
	}
}

// giftRoom configures two gifts (rose 10 coins, car 1000), imports accounts and creates
// room r1 owned by anchor.
func (e *confEnv) giftRoom() {
	e.t.Helper()
	mustOK(e.t, e.call(svc+"add_gift", `{"GiftId":"rose","Coins":10,"DefaultName":"Rose","IconUrl":"https://x/rose.png"}`))
	mustOK(e.t, e.call(svc+"add_gift", `{"GiftId":"car","Coins":1000,"DefaultName":"Car"}`))
	e.importAccounts("anchor", "guest", "u1", "u2", "banned")
	e.createRoom("r1", "anchor")
	e.createRoom("r2", "anchor")
	mustOK(e.t, e.call(svc+"ban_member", `{"RoomId":"r1","MemberList_Account":["banned"],"Duration":60}`))
}

func TestSendGift(t *testing.T) {
	e := startGifts(t)
	e.giftRoom()
	count := func(want string) func(*testing.T, envelope) {
		return func(t *testing.T, env envelope) {
			if string(env.Response) != want {
				t.Errorf("Response %s, want %s", env.Response, want)
			}
		}
	}
	e.runGiftCases(t, "send_gift", []string{"r1"}, []confCase{
		{name: "one rose", body: `{"RoomId":"r1","GiftId":"rose","Count":1,"From_Account":"u1","ReceiverList_Account":["anchor"]}`, golden: "send_gift"},
		{name: "Count absent: 1", body: `{"RoomId":"r1","GiftId":"rose","From_Account":"u1","ReceiverList_Account":["anchor"]}`},
		{name: "3 cars to two receivers", body: `{"RoomId":"r1","GiftId":"car","Count":3,"From_Account":"u2","ReceiverList_Account":["anchor","guest","anchor"]}`},
		{name: "Count 10000", body: `{"RoomId":"r1","GiftId":"rose","Count":10000,"From_Account":"u2","ReceiverList_Account":["guest"]}`},
		{name: "Count 10001", body: `{"RoomId":"r1","GiftId":"rose","Count":10001,"From_Account":"u2","ReceiverList_Account":["guest"]}`, code: 100002},
		{name: "Count 0", body: `{"RoomId":"r1","GiftId":"rose","Count":0,"From_Account":"u2","ReceiverList_Account":["guest"]}`, code: 100002},
		{name: "unknown gift", body: `{"RoomId":"r1","GiftId":"nope","From_Account":"u1","ReceiverList_Account":["anchor"]}`, code: 102002, golden: "send_gift_unknown_gift"},
		{name: "unknown room", body: `{"RoomId":"nope","GiftId":"rose","From_Account":"u1","ReceiverList_Account":["anchor"]}`, code: 100004},
		{name: "RoomId missing", body: `{"GiftId":"rose","From_Account":"u1","ReceiverList_Account":["anchor"]}`, code: 100002},
		{name: "GiftId missing", body: `{"RoomId":"r1","From_Account":"u1","ReceiverList_Account":["anchor"]}`, code: 100002},
		{name: "From_Account missing", body: `{"RoomId":"r1","GiftId":"rose","ReceiverList_Account":["anchor"]}`, code: 100002},
		{name: "From_Account a number", body: `{"RoomId":"r1","GiftId":"rose","From_Account":1,"ReceiverList_Account":["anchor"]}`, code: 60015},
		{name: "sender not imported", body: `{"RoomId":"r1","GiftId":"rose","From_Account":"ghost","ReceiverList_Account":["anchor"]}`, code: 70107},
		{name: "receiver not imported", body: `{"RoomId":"r1","GiftId":"rose","From_Account":"u1","ReceiverList_Account":["ghost"]}`, code: 70107},
		{name: "receivers missing", body: `{"RoomId":"r1","GiftId":"rose","From_Account":"u1"}`, code: 100002},
		{name: "receivers empty", body: `{"RoomId":"r1","GiftId":"rose","From_Account":"u1","ReceiverList_Account":[]}`, code: 100002},
		{name: "banned sender", body: `{"RoomId":"r1","GiftId":"rose","From_Account":"banned","ReceiverList_Account":["anchor"]}`, code: 100006},
	})
	e.runGiftCases(t, "get_gift_count", []string{"r1"}, []confCase{
		{name: "anchor", body: `{"RoomId":"r1","From_Account":"anchor"}`, golden: "get_gift_count",
			check: count(`{"Sequence":4,"TotalCount":5,"TotalCoins":3020,"GiftSenderCount":2}`)},
		{name: "guest", body: `{"RoomId":"r1","From_Account":"guest"}`,
			check: count(`{"Sequence":4,"TotalCount":10003,"TotalCoins":103000,"GiftSenderCount":1}`)},
		{name: "nobody", body: `{"RoomId":"r1","From_Account":"u1"}`, check: count(`{"Sequence":4,"TotalCount":0,"TotalCoins":0,"GiftSenderCount":0}`)},
		{name: "other room", body: `{"RoomId":"r2","From_Account":"anchor"}`, check: count(`{"Sequence":0,"TotalCount":0,"TotalCoins":0,"GiftSenderCount":0}`)},
		{name: "unknown room", body: `{"RoomId":"nope","From_Account":"anchor"}`, code: 100004},
		{name: "From_Account missing", body: `{"RoomId":"r1"}`, code: 100002},
	})
	// The room's totals: 2 + 6 + 10000 gifts, 20 + 6000 + 100000 coins, 2 senders.
	stats := mustOK(t, e.call(svc+"get_room_stats", `{"RoomId":"r1"}`))
	e.golden(t, "get_room_stats_after_gifts", normalizeReply(stats.Raw))
	want := `"TotalGiftsSent":10008,"TotalGiftCoins":106020,"TotalUniqueGiftSenders":2`
	if !strings.Contains(string(stats.Response), want) {
		t.Errorf("stats %s, want %s", stats.Response, want)
	}
	// No After-callback exists for gifts: nothing was added to the outbox by them.
	for _, ev := range e.allEvents() {
		if strings.Contains(ev.Command, "Gift") {
			t.Errorf("gift event in the outbox: %s", ev.Command)
		}
	}
	// destroy_room answers the same totals, and so does its callback.
	env := mustOK(t, e.call(svc+"destroy_room", `{"RoomId":"r1"}`))
	if !strings.Contains(string(env.Response), want) {
		t.Errorf("destroy_room Statistic %s", env.Response)
	}
	cb := e.callbackWith(t, cmdDestroy, `"RoomId":"r1"`)
	if !strings.Contains(string(cb.Body), want) {
		t.Errorf("destroy callback %s", cb.Body)
	}
	// A room created again starts from zero.
	e.createRoom("r1", "anchor")
	mustOK(t, e.call(svc+"send_gift", `{"RoomId":"r1","GiftId":"rose","From_Account":"u1","ReceiverList_Account":["anchor"]}`))
	env = mustOK(t, e.call(svc+"get_gift_count", `{"RoomId":"r1","From_Account":"anchor"}`))
	if string(env.Response) != `{"Sequence":1,"TotalCount":1,"TotalCoins":10,"GiftSenderCount":1}` {
		t.Errorf("re-created room: %s", env.Response)
	}
}
